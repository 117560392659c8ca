"""What to measure (PROGRAM.md): the program's health, computed in SQL, for the Home tab and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from bot.matching import Policy, next_quarter_start, quarter_start
from bot.vocabulary import AdvocateStatus, Industry
from store.models import (
    COUNTED,
    Advocate,
    Engagement,
    EngagementStatus,
    Nudge,
    NudgeStatus,
    ReferenceRequest,
    RequestStatus,
)

GIVEN = (EngagementStatus.SCHEDULED, EngagementStatus.HELD)  # a reference given (or about to be)
DECIDED_YES = (RequestStatus.APPROVED, RequestStatus.NO_MATCH)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str

    @classmethod
    def quarter(cls, day: date) -> Period:
        start = quarter_start(day)
        return cls(
            day_start(start),
            day_start(next_quarter_start(start)),
            f"{start.year}Q{(start.month - 1) // 3 + 1}",
        )

    @classmethod
    def parse(cls, text: str) -> Period:
        """'2026Q4' → that quarter."""
        year, _, number = text.upper().partition("Q")
        if not (year.isdigit() and number in ("1", "2", "3", "4")):
            raise ValueError(f"{text!r} is not a quarter like 2026Q4")
        return cls.quarter(date(int(year), 3 * (int(number) - 1) + 1, 1))


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None
    shown: str  # the value, formatted
    target: str
    met: bool | None  # None: not enough data yet


def _pct(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def program_metrics(*, session: Session, period: Period, policy: Policy, today: date) -> list[Metric]:
    """PROGRAM.md's targets, each with its value for `period` and whether it is met."""
    r, e = ReferenceRequest, Engagement
    decided = session.execute(
        select(
            func.coalesce(func.sum(case((r.status.in_(DECIDED_YES), 1), else_=0)), 0),
            func.coalesce(func.sum(case((r.status == RequestStatus.DECLINED, 1), else_=0)), 0),
        ).where(r.decided_at >= period.start, r.decided_at < period.end)
    ).one()
    approvals, declines = int(decided[0]), int(decided[1])
    approval = _pct(approvals, approvals + declines)

    in_period = and_(e.call_at >= period.start, e.call_at < period.end, e.status.in_(GIVEN))
    references, advocates_used = session.execute(
        select(func.count(), func.count(func.distinct(e.advocate_id))).where(in_period)
    ).one()
    per_advocate = references / advocates_used if advocates_used else None

    waits = session.execute(
        select(e.call_at, r.created_at)
        .join(r, r.id == e.request_id)
        .where(in_period, e.request_id.is_not(None))
    ).all()
    days = [(call - created).total_seconds() / 86400 for call, created in waits]
    to_reference = sum(days) / len(days) if days else None

    ratings = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((e.feedback_rating.in_(("great", "fine")), 1), else_=0)), 0),
        ).where(e.feedback_at >= period.start, e.feedback_at < period.end, e.feedback_rating.is_not(None))
    ).one()
    advocate_satisfaction = _pct(int(ratings[1]), int(ratings[0]))

    checkins = session.scalars(
        select(e.checkin).where(e.checkin_at >= period.start, e.checkin_at < period.end)
    ).all()
    helpful = [c.get("helpful") for c in checkins if c.get("helpful")]
    prospect_satisfaction = _pct(sum(1 for h in helpful if h == "yes"), len(helpful))

    active = active_pool(session=session, today=today)

    outcomes = session.execute(
        select(func.count(), func.coalesce(func.sum(case((r.outcome == "won", 1), else_=0)), 0)).where(
            r.outcome.is_not(None), r.outcome_at >= period.start, r.outcome_at < period.end
        )
    ).one()
    close_rate = _pct(int(outcomes[1]), int(outcomes[0]))

    def between(value: float | None, low: float, high: float) -> bool | None:
        return None if value is None else low <= value <= high

    return [
        Metric("Approval rate", approval, _fmt_pct(approval), "60–80%", between(approval, 0.6, 0.8)),
        Metric(
            "Request to reference",
            to_reference,
            "—" if to_reference is None else f"{to_reference:.1f} days",
            "under 5 days",
            None if to_reference is None else to_reference < 5,
        ),
        Metric(
            "References per advocate",
            per_advocate,
            "—" if per_advocate is None else f"{per_advocate:.1f}",
            "2 or fewer a quarter",
            None if per_advocate is None else per_advocate <= 2,
        ),
        Metric(
            "Advocate satisfaction",
            advocate_satisfaction,
            _fmt_pct(advocate_satisfaction),
            "90%+",
            None if advocate_satisfaction is None else advocate_satisfaction >= 0.9,
        ),
        Metric(
            "Prospect satisfaction",
            prospect_satisfaction,
            _fmt_pct(prospect_satisfaction),
            "85%+",
            None if prospect_satisfaction is None else prospect_satisfaction >= 0.85,
        ),
        Metric("Active pool", float(active), str(active), "15+", active >= 15),
        Metric("References given", float(references), str(references), "—", None),
        Metric("Reference-to-close rate", close_rate, _fmt_pct(close_rate), "—", None),
    ]


def _eligible_now(today: date) -> object:
    return and_(
        Advocate.account_trouble.is_(False),
        or_(
            Advocate.status == AdvocateStatus.ACTIVE,
            and_(Advocate.status == AdvocateStatus.BREAK, Advocate.break_until <= today),
        ),
    )


def active_pool(*, session: Session, today: date) -> int:
    return session.scalar(select(func.count()).select_from(Advocate).where(_eligible_now(today))) or 0


@dataclass(frozen=True)
class RepRow:
    rep_id: str
    requests: int
    approval_rate: float | None
    references: int
    win_rate: float | None  # won / with an outcome, among deals that had a reference


def rep_stats(*, session: Session, since: datetime, limit: int) -> list[RepRow]:
    r = ReferenceRequest
    had = select(Engagement.id).where(Engagement.request_id == r.id, Engagement.status.in_(GIVEN)).exists()
    rows = session.execute(
        select(
            r.rep_id,
            func.count(),
            func.sum(case((r.status.in_(DECIDED_YES), 1), else_=0)),
            func.sum(case((r.status == RequestStatus.DECLINED, 1), else_=0)),
            func.sum(case((had, 1), else_=0)),
            func.sum(case((had & (r.outcome == "won"), 1), else_=0)),
            func.sum(case((had & r.outcome.is_not(None), 1), else_=0)),
        )
        .where(r.created_at >= since)
        .group_by(r.rep_id)
        .order_by(func.count().desc(), r.rep_id)
        .limit(limit)
    ).all()
    return [
        RepRow(rep, int(total), _pct(int(yes), int(yes) + int(no)), int(refs), _pct(int(won), int(closed)))
        for rep, total, yes, no, refs, won, closed in rows
    ]


@dataclass(frozen=True)
class PoolRow:
    advocate: Advocate
    total: int
    this_quarter: int
    last_date: date | None
    success_rate: float | None
    fatigued: bool


@dataclass(frozen=True)
class PoolHealth:
    size: int
    active: int
    fatigued: int
    at_cap: int
    worst: list[PoolRow] = field(default_factory=list)


def pool_health(*, session: Session, today: date, policy: Policy, limit: int) -> PoolHealth:
    """The pool at a glance, and the advocates that most need care: fatigued, then account trouble, then the
    lowest sentiment.

    Only this quarter's and the last 90 days' engagements are aggregated (an index on asked_at finds
    them); lifetime figures are read for the few advocates shown.
    """
    e = Engagement
    counted = e.status.in_([s.value for s in COUNTED])
    q_start = day_start(quarter_start(today))
    since_90 = day_start(today - timedelta(days=90))
    recent = (
        select(
            e.advocate_id.label("advocate_id"),
            func.sum(case((e.asked_at >= q_start, 1), else_=0)).label("this_quarter"),
            func.sum(case((e.asked_at >= since_90, 1), else_=0)).label("recent"),
        )
        .where(counted, e.asked_at >= min(q_start, since_90))
        .group_by(e.advocate_id)
        # Without statistics SQLite prefers the status index and reads the whole history; the date range
        # is the selective part.
        .with_hint(e, "INDEXED BY ix_engagements_asked", dialect_name="sqlite")
        .subquery()
    )
    active_rows = session.execute(
        select(recent.c.advocate_id, recent.c.this_quarter, recent.c.recent, Advocate.tier)
        .join(Advocate, Advocate.id == recent.c.advocate_id)
        .where(Advocate.status != AdvocateStatus.RETIRED)
    ).all()
    quarter = {row.advocate_id: int(row.this_quarter or 0) for row in active_rows}
    tired = {row.advocate_id for row in active_rows if int(row.recent or 0) > policy.fatigue_threshold}
    smallest = min(policy.caps.values())
    capped = sum(
        1 for row in active_rows if int(row.this_quarter or 0) >= policy.caps.get(row.tier, smallest)
    )
    size = session.scalar(select(func.count()).select_from(Advocate)) or 0
    active = active_pool(session=session, today=today)

    order = (
        Advocate.account_trouble.desc(),
        case((Advocate.sentiment.is_(None), 1), else_=0),
        Advocate.sentiment.asc(),
        Advocate.id,
    )
    not_retired = Advocate.status != AdvocateStatus.RETIRED
    first = list(
        session.scalars(select(Advocate).where(Advocate.id.in_(tired)).order_by(*order).limit(limit))
    )
    rest = (
        list(
            session.scalars(
                select(Advocate)
                .where(not_retired, Advocate.id.not_in(tired))
                .order_by(*order)
                .limit(limit - len(first))
            )
        )
        if len(first) < limit
        else []
    )
    shown = [*first, *rest]
    lifetime = {
        row.advocate_id: row
        for row in session.execute(
            select(
                e.advocate_id,
                func.sum(case((counted, 1), else_=0)).label("total"),
                func.max(case((counted, func.coalesce(e.held_at, e.asked_at)))).label("last_used"),
                func.sum(case((e.outcome == "won", 1), else_=0)).label("won"),
                func.sum(case((e.outcome.is_not(None), 1), else_=0)).label("closed"),
            )
            .where(e.advocate_id.in_([a.id for a in shown]))
            .group_by(e.advocate_id)
        )
    }
    worst = []
    for advocate in shown:
        life = lifetime.get(advocate.id)
        worst.append(
            PoolRow(
                advocate,
                int(life.total or 0) if life else 0,
                quarter.get(advocate.id, 0),
                life.last_used.date() if life and life.last_used else None,
                _pct(int(life.won or 0), int(life.closed or 0)) if life else None,
                advocate.id in tired,
            )
        )
    return PoolHealth(size=int(size), active=int(active), fatigued=len(tired), at_cap=capped, worst=worst)


@dataclass(frozen=True)
class Queue:
    awaiting_approval: list[ReferenceRequest]
    awaiting_advocate: list[tuple[Engagement, Advocate, ReferenceRequest]]
    scheduled: list[tuple[Engagement, Advocate, ReferenceRequest]]
    awaiting_feedback: list[tuple[Engagement, Advocate, ReferenceRequest]]
    overdue: list[str]
    counts: dict[str, int]


def queue(*, session: Session, now: datetime, limit: int) -> Queue:
    r, e = ReferenceRequest, Engagement
    pending = r.status == RequestStatus.PENDING
    asked = e.status == EngagementStatus.ASKED
    upcoming = (e.status == EngagementStatus.SCHEDULED) & (e.call_at >= now - timedelta(hours=2))
    no_feedback = e.status.in_(GIVEN) & e.feedback_rating.is_(None) & (e.call_at < now - timedelta(hours=48))
    stale_pending = pending & (r.created_at < now - timedelta(days=3))
    failed = Nudge.status == NudgeStatus.FAILED

    def count(model: type, condition: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(condition)) or 0

    def engagements(condition: object, order: object) -> list[tuple[Engagement, Advocate, ReferenceRequest]]:
        statement = (
            select(e, Advocate, r)
            .join(Advocate, Advocate.id == e.advocate_id)
            .join(r, r.id == e.request_id)
            .where(condition)
            .order_by(order)
            .limit(limit)
        )
        return [tuple(row) for row in session.execute(statement)]

    counts = {
        "awaiting_approval": count(r, pending),
        "awaiting_advocate": count(e, asked),
        "scheduled": count(e, upcoming),
        "awaiting_feedback": count(e, no_feedback),
        "stale_pending": count(r, stale_pending),
        "failed_messages": count(Nudge, failed),
    }
    overdue = []
    if counts["stale_pending"]:
        overdue.append(f"{counts['stale_pending']} request(s) waiting for a decision for more than 3 days")
    if counts["failed_messages"]:
        overdue.append(f"{counts['failed_messages']} scheduled message(s) could not be sent")
    return Queue(
        awaiting_approval=list(session.scalars(select(r).where(pending).order_by(r.created_at).limit(limit))),
        awaiting_advocate=engagements(asked, e.asked_at),
        scheduled=engagements(upcoming, e.call_at),
        awaiting_feedback=engagements(no_feedback, e.call_at),
        overdue=overdue,
        counts=counts,
    )


def coverage_gaps(*, session: Session, today: date) -> tuple[list[str], list[str]]:
    """Industries, and use cases in the pool, with no advocate who could be asked today."""
    eligible = _eligible_now(today)
    covered = set(session.scalars(select(Advocate.industry).where(eligible).distinct()))
    industries = [i.label for i in Industry if i.value not in covered and i is not Industry.OTHER]
    # Distinct tag lists, as text: pools repeat the same few combinations, so this reads far fewer rows.
    tags: dict[str, bool] = {}
    for raw, ok in session.execute(
        select(cast(Advocate.use_cases, String), eligible)
        .where(Advocate.status != AdvocateStatus.RETIRED)
        .distinct()
    ):
        for tag in json.loads(raw or "[]"):
            tags[tag] = tags.get(tag, False) or bool(ok)
    return industries, sorted(tag for tag, ok in tags.items() if not ok)
