"""SQLAlchemy 2 models. Timestamps are timezone-aware UTC on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    event,
    func,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement, Grouping
from sqlalchemy.types import TypeDecorator

# A request's states are the program's words (builders show them, and builders never import the store).
from bot.rules.vocabulary import RequestStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


# Who may read a field (PROGRAM.md "Who sees what"), declared once on each column. ADVOCATE: shareable with the
# advocate (and, for the advocate's profile, with the prospect through the rep's prep). INTERNAL: the sales team
# and CS only. A column that declares nothing is internal. bot/flows/audience.py builds the advocate's view from these.
ADVOCATE = {"audience": "advocate"}
INTERNAL = {"audience": "internal"}


class ReferenceRequest(Base):
    """A rep's request for a customer reference: every field of PROGRAM.md's form, and its decision."""

    __tablename__ = "reference_requests"
    # A period's figures (bot.reporting.metrics) read requests by when they were filed, decided and closed: a
    # range of the period, not the whole history.
    __table_args__ = (
        Index("ix_reference_requests_created_at", "created_at"),
        Index("ix_reference_requests_decided_at", "decided_at"),
        Index("ix_reference_requests_outcome_at", "outcome_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=ADVOCATE)
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.PENDING, index=True, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(info=INTERNAL)
    updated_at: Mapped[datetime] = mapped_column(info=INTERNAL)
    # The view that submitted it: a redelivered submission finds it and stores nothing twice.
    source_view_id: Mapped[str] = mapped_column(String(40), unique=True, info=INTERNAL)
    requester_id: Mapped[str] = mapped_column(String(32), info=INTERNAL)
    rep_id: Mapped[str] = mapped_column(String(32), index=True, info=ADVOCATE)

    # Deal
    prospect_company: Mapped[str] = mapped_column(String(200), info=ADVOCATE)
    # Lower-cased, space-folded company name: how "the same prospect" is recognised.
    prospect_key: Mapped[str] = mapped_column(String(200), index=True, info=INTERNAL)
    prospect_industry: Mapped[str] = mapped_column(String(40), info=ADVOCATE)
    prospect_employees: Mapped[int] = mapped_column(Integer, info=ADVOCATE)
    prospect_revenue: Mapped[int | None] = mapped_column(BigInteger, info=INTERNAL)
    deal_arr: Mapped[int] = mapped_column(BigInteger, info=INTERNAL)
    close_date: Mapped[date] = mapped_column(Date, info=INTERNAL)
    deal_stage: Mapped[str] = mapped_column(String(40), info=INTERNAL)
    # Prospect contact
    contact_role: Mapped[str] = mapped_column(String(200), info=ADVOCATE)
    contact_name: Mapped[str | None] = mapped_column(
        String(200), info=ADVOCATE
    )  # optional; shared in the prep
    contact_concerns: Mapped[str] = mapped_column(Text, info=ADVOCATE)
    # Reference wanted
    wanted_industry: Mapped[str] = mapped_column(String(40), info=INTERNAL)
    wanted_size_band: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    wanted_role_level: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    # The function the reference should lead (bot.rules.vocabulary.Function); None: any.
    wanted_function: Mapped[str | None] = mapped_column(String(20), info=INTERNAL)
    wanted_use_case: Mapped[str] = mapped_column(String(300), info=ADVOCATE)
    wanted_kind: Mapped[str] = mapped_column(String(20), info=ADVOCATE)
    urgency: Mapped[str] = mapped_column(String(20), info=ADVOCATE)
    # The deal's id in the CRM, when the rep gives it: how engagements export and webhooks join the CRM's records.
    opportunity_id: Mapped[str | None] = mapped_column(String(64), index=True, info=INTERNAL)
    # The advocate CS picked and whose engagement is still open: one at a time per request.
    active_advocate_id: Mapped[int | None] = mapped_column(
        ForeignKey("advocates.id", name="fk_requests_active_advocate"), info=INTERNAL
    )
    # Geography, when it matters for the reference (matched case-insensitively).
    wanted_country: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    wanted_region: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    # Justification
    why_now: Mapped[str] = mapped_column(Text, info=INTERNAL)
    tried: Mapped[list[str]] = mapped_column(info=INTERNAL)
    goal: Mapped[str] = mapped_column(Text, info=INTERNAL)
    background: Mapped[str] = mapped_column(Text, default="", info=INTERNAL)
    prior_references: Mapped[int] = mapped_column(Integer, default=0, info=INTERNAL)

    # Where the approval card lives, for chat.update and the thread.
    card_channel: Mapped[str | None] = mapped_column(String(32), info=INTERNAL)
    card_ts: Mapped[str | None] = mapped_column(String(32), info=INTERNAL)
    # The decision
    decided_by: Mapped[str | None] = mapped_column(String(32), info=INTERNAL)
    decided_at: Mapped[datetime | None] = mapped_column(info=INTERNAL)
    decline_reason: Mapped[str | None] = mapped_column(String(40), info=INTERNAL)
    decline_note: Mapped[str | None] = mapped_column(Text, info=INTERNAL)
    # The deal's outcome, from the rep
    outcome: Mapped[str | None] = mapped_column(
        String(20), info=ADVOCATE
    )  # won / lost: every advocate hears it
    final_arr: Mapped[int | None] = mapped_column(BigInteger, info=INTERNAL)
    outcome_at: Mapped[datetime | None] = mapped_column(info=INTERNAL)
    outcome_by: Mapped[str | None] = mapped_column(String(32), info=INTERNAL)

    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="save-update", passive_deletes=True
    )


class RequestEvent(Base):
    """The audit trail: who did what to a request, and when. Rows are only ever added."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("reference_requests.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    request: Mapped[ReferenceRequest] = relationship(back_populates="events")


@event.listens_for(RequestEvent, "before_update")
@event.listens_for(RequestEvent, "before_delete")
def _append_only(mapper: Any, connection: Any, target: RequestEvent) -> None:
    raise ValueError("the audit trail is append-only")


class Advocate(Base):
    """A person at a customer account who agreed to act as a reference."""

    __tablename__ = "advocates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    email: Mapped[str] = mapped_column(String(254), unique=True, info=INTERNAL)
    name: Mapped[str] = mapped_column(String(200), info=ADVOCATE)
    title: Mapped[str] = mapped_column(String(200), default="", info=ADVOCATE)
    role_level: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    # The part of the business they lead (bot.rules.vocabulary.Function); None: not known.
    function: Mapped[str | None] = mapped_column(String(20), info=INTERNAL)
    company: Mapped[str] = mapped_column(String(200), info=ADVOCATE)
    industry: Mapped[str] = mapped_column(String(40), info=ADVOCATE)
    employees: Mapped[int] = mapped_column(Integer, info=ADVOCATE)
    region: Mapped[str | None] = mapped_column(String(80), info=ADVOCATE)
    country: Mapped[str | None] = mapped_column(String(80), info=ADVOCATE)
    use_cases: Mapped[list[str]] = mapped_column(info=ADVOCATE)
    kinds: Mapped[list[str]] = mapped_column(info=INTERNAL)
    tier: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), info=INTERNAL)
    # Given by email alone and looked up in Slack when first asked, without a match: the pool says so.
    slack_not_found_at: Mapped[datetime | None] = mapped_column(info=INTERNAL)
    # The advocate's CS owner: the person they call with questions (the prep names them).
    owner_slack_user_id: Mapped[str | None] = mapped_column(String(32), info=ADVOCATE)
    status: Mapped[str] = mapped_column(String(20), default="active", info=INTERNAL)
    break_until: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    account_trouble: Mapped[bool] = mapped_column(Boolean, default=False, info=INTERNAL)
    sentiment: Mapped[float | None] = mapped_column(Float, info=INTERNAL)
    notes: Mapped[str] = mapped_column(Text, default="", info=INTERNAL)
    joined_on: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(info=INTERNAL)
    updated_at: Mapped[datetime] = mapped_column(info=INTERNAL)
    # The advocate's own side (issue 12): their story and product areas feed the ask ("where you've had
    # success") and the prospect's prep; consent decides what may name them; the written yes and the
    # welcome make the relationship more than asks.
    story: Mapped[str] = mapped_column(Text, default="", info=ADVOCATE)
    product_areas: Mapped[list[str]] = mapped_column(default=list, info=ADVOCATE)
    named_publicly: Mapped[bool] = mapped_column(Boolean, default=False, info=INTERNAL)
    logo_use: Mapped[bool] = mapped_column(Boolean, default=False, info=INTERNAL)
    private_only: Mapped[bool] = mapped_column(Boolean, default=False, info=INTERNAL)
    agreed_on: Mapped[date | None] = mapped_column(Date, info=INTERNAL)  # the written yes, and its date
    welcomed_at: Mapped[datetime | None] = mapped_column(info=INTERNAL)
    appreciated_level: Mapped[int] = mapped_column(Integer, default=0, info=INTERNAL)

    __table_args__ = (
        Index("ix_advocates_fit", "status", "industry", "employees"),
        # Who can be asked today, counted and grouped by industry without reading whole rows.
        Index("ix_advocates_eligibility", "status", "account_trouble", "break_until", "industry"),
        # SQLite only: the shortlist's fit filters with the tag columns it matches, so an advocate whose role level,
        # kinds or use cases rule them out is passed over in the index, without reading their row (at 100k
        # advocates the shortlist's statement ~30% faster). PostgreSQL's json has no btree operator class, and
        # its plans read the pool otherwise.
        Index(
            "ix_advocates_fit_tags", "status", "industry", "employees", "role_level", "kinds", "use_cases"
        ).ddl_if(dialect="sqlite"),
    )


class EngagementStatus(StrEnum):
    ASKED = "asked"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    HELD = "held"
    PASSED = "passed"  # "not this time"
    EXPIRED = "expired"  # no answer in time
    CANCELLED = "cancelled"


# Engagements that count as a reference given (caps, recency, totals).
COUNTED = (
    EngagementStatus.ASKED,
    EngagementStatus.ACCEPTED,
    EngagementStatus.SCHEDULED,
    EngagementStatus.HELD,
)
# Written pieces (PROGRAM.md "Not every activity is a call": quotes, case studies, logo use, reviews) are their
# own ledger: they never count against the quarterly caps, the 30-day rest or the gap between asks.
WRITTEN_KINDS = frozenset({"quote", "case_study", "logo", "review"})
# A reference given (or about to be): PROGRAM.md's measure, dated by when it happened (bot.reporting.metrics.reference_at).
GIVEN = (EngagementStatus.SCHEDULED, EngagementStatus.HELD)
# Engagements that tie the advocate up until they end.
OPEN = (
    EngagementStatus.ASKED,
    EngagementStatus.ACCEPTED,
    EngagementStatus.SCHEDULED,
)


class Engagement(Base):
    """One reference an advocate was asked for or gave: from refdesk, or imported history."""

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=ADVOCATE)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("reference_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    prospect_company: Mapped[str] = mapped_column(String(200), default="")
    prospect_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    prospect_industry: Mapped[str | None] = mapped_column(String(40))
    deal_arr: Mapped[int | None] = mapped_column(BigInteger)
    asked_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    reply_seconds: Mapped[int | None] = mapped_column(Integer)
    held_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    chosen_by: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(20), default="refdesk")
    created_at: Mapped[datetime]
    # Outreach and scheduling (refdesk engagements only)
    asked_via: Mapped[str | None] = mapped_column(String(32))  # the advocate's Slack id, or their CS owner's
    ask_channel: Mapped[str | None] = mapped_column(String(32))
    ask_ts: Mapped[str | None] = mapped_column(String(32))
    proposed_times: Mapped[list[str]] = mapped_column(
        default=list, info=ADVOCATE
    )  # ISO instants the advocate offered
    call_at: Mapped[datetime | None] = mapped_column(info=ADVOCATE)
    call_format: Mapped[str | None] = mapped_column(String(20), info=ADVOCATE)  # call / video
    call_minutes: Mapped[int | None] = mapped_column(Integer, info=ADVOCATE)
    meeting_link: Mapped[str | None] = mapped_column(
        String(500), info=ADVOCATE
    )  # the rep adds it with the time
    cs_join_asked_at: Mapped[datetime | None]  # the advocate asked CS to join the call
    ended_reason: Mapped[str | None] = mapped_column(String(200))
    # After the call
    feedback_rating: Mapped[str | None] = mapped_column(String(20))  # great / fine / not_great
    feedback: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the "Tell us more" answers
    feedback_at: Mapped[datetime | None]
    checkin: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the rep's check-in with the prospect
    checkin_at: Mapped[datetime | None]
    # An email Q&A (bot.rules.matching.KIND_RULES: not scheduled): the advocate's written answers, each
    # {"question", "answer"}, written for the prospect and delivered to the rep, and when.
    written_answers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(), info=ADVOCATE)
    answers_at: Mapped[datetime | None]
    # The modal view that recorded it (written answers, a logged peer conversation): the same submission
    # redelivered finds it and changes nothing twice.
    source_view_id: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        UniqueConstraint("request_id", "advocate_id", name="uq_engagements_request_advocate"),
        # An advocate's engagements by date with every column their kept usage is recomputed from (store.usage,
        # on every change to them) and the per-advocate aggregate reads, so neither visits the table.
        Index(
            "ix_engagements_recent",
            "advocate_id",
            "asked_at",
            "status",
            "kind",
            "held_at",
            "prospect_key",
            "request_id",
            "reply_seconds",
        ),
        # The advocate and status probes (busy elsewhere) and the usage aggregate; the aggregate also reads `kind`,
        # which is not here, so that one visits the table (the shortlist reads ix_engagements_recent instead).
        Index(
            "ix_engagements_usage",
            "advocate_id",
            "status",
            "asked_at",
            "held_at",
            "prospect_key",
            "request_id",
            "reply_seconds",
        ),
        # The dashboard's recent activity, queue and period metrics.
        # (source: a period's answered asks count refdesk's own, read from the index alone)
        Index("ix_engagements_asked", "asked_at", "status", "advocate_id", "source"),
        Index("ix_engagements_status_call", "status", "call_at"),
        Index("ix_engagements_feedback_at", "feedback_at"),
        Index("ix_engagements_checkin_at", "checkin_at"),
    )


def reference_at() -> ColumnElement[datetime]:
    """When a reference happened: the call, or the imported history's date."""
    return func.coalesce(Engagement.call_at, Engagement.held_at)


def given_at() -> ColumnElement[datetime]:
    """When a reference was given: for an engagement whose status is GIVEN, when it happened (the call, or the
    imported history's date); NULL for any other (bot.reporting.metrics.given_in reads a period of it). The
    statuses are written as constants, so that it is the very expression ix_engagements_given indexes."""
    given = Engagement.status.in_([literal_column(f"'{status.value}'") for status in GIVEN])
    return case((given, reference_at()))


# A period's references given, read as a range of the period with the columns its figures count, whatever the
# length of the history before it. Led by the expression: only the queries that name it are drawn to it.
Index(
    "ix_engagements_given",
    Grouping(given_at()),  # in parentheses: PostgreSQL's index expressions need them
    Engagement.advocate_id,
    Engagement.request_id,
    Engagement.outcome,
)


class AdvocateUsage(Base):
    """What the limits read per advocate, kept by store.usage in the transaction of every change to their
    engagements (so it never disagrees with them); `refdesk doctor` recomputes it from history and repairs drift.

    Quarter counts are pinned to the quarter of the advocate's latest counted ask (`quarter`), not to "today":
    read at any later date they shift (a quarter later the count is last quarter's), so nothing goes stale when
    the calendar turns and no clock is needed to keep them. The rolling windows (90/180/360 days, the year) are
    counted on read from `recent`, the dated events kept for them (store.usage.RECENT_DAYS), so the shortlist
    never reads engagements.
    """

    __tablename__ = "advocate_usage"

    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)  # counted asks, spoken kinds: the caps' ledger
    given: Mapped[int] = mapped_column(
        Integer, default=0
    )  # references given (bot.reporting.metrics.GIVEN), every kind
    last_asked: Mapped[datetime | None]  # the latest ask of a spoken kind, any outcome
    last_used: Mapped[datetime | None]  # the latest counted reference: held, or asked when not held yet
    pending: Mapped[int] = mapped_column(Integer, default=0)  # open engagements (asked, accepted, scheduled)
    quarter: Mapped[date | None] = mapped_column(Date)  # the quarter of the latest counted ask
    quarter_count: Mapped[int] = mapped_column(Integer, default=0)  # counted asks in `quarter`
    previous_count: Mapped[int] = mapped_column(Integer, default=0)  # counted asks in the quarter before it
    # The events the rolling windows count, as JSON: [[asked at (epoch seconds), counted 1/0, passed 1/0,
    # reply seconds or null], ...] for the asks of the RECENT_DAYS before the latest one (store.usage).
    recent: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")


class NudgeStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Nudge(Base):
    """A scheduled message (the outbox): sent once by whichever dispatcher claims it."""

    __tablename__ = "nudges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What makes it unique: planning the same message twice finds the existing row.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(32))
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("reference_requests.id"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=NudgeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Why a cancelled row was not sent (answered, moved, its moment passed): said, not silently dropped.
    reason: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # What a nudge not tied to one engagement is about (an advocate's quarter, a report's quarter).
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_nudges_due", "status", "due_at"),)


class Opportunity(Base):
    """A deal from the CRM (`refdesk opportunities import`): win rate and cycle length with vs without a reference
    cover deals refdesk never saw."""

    __tablename__ = "opportunities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the CRM's own id
    name: Mapped[str] = mapped_column(String(200))
    created_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))  # won / lost / open
    arr: Mapped[int | None] = mapped_column(BigInteger)
    had_reference: Mapped[bool] = mapped_column(Boolean)
    imported_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One audit event for one webhook URL (the outbox): written with the event, sent once by whoever claims it."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("request_events.id"))
    url: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default=NudgeStatus.PENDING)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("event_id", "url", name="uq_webhook_deliveries_event_url"),
        Index("ix_webhook_deliveries_due", "status", "due_at"),
    )


class CacheVersion(Base):
    """A counter bumped in the transaction of every change a cache depends on, so every replica sharing the
    database knows in one indexed read whether what it remembers is still true (store/versions.py)."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
