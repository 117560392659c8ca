"""What to measure (PROGRAM.md): one definition of each measure, in SQL, for caps, Home, stats, reports and charts.

A reference given is an engagement that is scheduled or held, dated by when it happened: the call for refdesk's
own, the date in the spreadsheet for imported history (which has no call). Every measure of a period counts
only what happened inside it, both ends bounded, so a past quarter's figures do not move when it is
regenerated later. A rate is judged against its target only when it rests on MIN_TO_JUDGE observations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.rules.matching import (
    Policy,
    next_quarter_start,
    quarter_start,
)
from bot.rules.vocabulary import AdvocateStatus
from store.models import (
    GIVEN,  # a reference given (or about to be): defined with the engagement statuses
    Advocate,
    Engagement,
    EngagementStatus,
    ReferenceRequest,
    RequestStatus,
    given_at,
    reference_at,  # when a reference happened: defined beside given_at, which its index reads
)

DECIDED = (RequestStatus.APPROVED, RequestStatus.DECLINED, RequestStatus.NO_MATCH)
# "No good match" closes an approved request without a reference: for the approval rate it is a decline.
APPROVED = (RequestStatus.APPROVED,)
SAID_YES = (EngagementStatus.ACCEPTED, EngagementStatus.SCHEDULED, EngagementStatus.HELD)
# Asks that got an answer, yes or no (an ask CS withdrew, or one still open, has none yet).
ANSWERED = (*SAID_YES, EngagementStatus.PASSED, EngagementStatus.EXPIRED)
SATISFIED = ("great", "fine")
CLOSED = ("won", "lost")
MIN_TO_JUDGE = 5  # observations before a rate is called met or not


def given_in(period: Period) -> Any:
    """A reference given in the period: its status is GIVEN and it happened inside the period (store.models.given_at,
    read as a range of the index on it)."""
    when = given_at()
    return and_(when >= period.start, when < period.end)


def deal_outcome() -> Any:
    """A reference's deal outcome: the rep reports it on the request; imported history carries it itself."""
    return func.coalesce(ReferenceRequest.outcome, Engagement.outcome)


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

    @classmethod
    def last_12_months(cls, today: date) -> Period:
        return cls(
            day_start(today - timedelta(days=364)), day_start(today + timedelta(days=1)), "last 12 months"
        )

    def previous(self) -> Period:
        return Period.quarter((self.start - timedelta(days=1)).date())

    def contains(self, instant: datetime | None) -> bool:
        return instant is not None and self.start <= instant < self.end


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None
    shown: str  # the value, formatted
    target: str  # "—": the program sets none
    met: bool | None  # None: no target, or not enough data to judge
    basis: int = 0  # how many observations the value rests on
    unit: str = ""  # what one observation is ("decision", "rating"); empty for plain counts

    @property
    def judged(self) -> bool:
        return self.met is not None

    @property
    def has_target(self) -> bool:
        return self.target != "—"

    @property
    def basis_text(self) -> str:
        """'4 decisions — too few to judge (5+)', or '' for a count."""
        if not self.unit:
            return ""
        text = f"{self.basis} {self.unit}{'' if self.basis == 1 else 's'}"
        if self.has_target and self.met is None and self.value is not None and self.basis < MIN_TO_JUDGE:
            text += f" — too few to judge ({MIN_TO_JUDGE}+)"
        return text


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _judge(value: float | None, basis: int, test: Any) -> bool | None:
    return None if value is None or basis < MIN_TO_JUDGE else bool(test(value))


def count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def as_of(period: Period, today: date) -> datetime:
    """The instant a period's pool is read at: its end, or the end of today while it is still running."""
    return min(period.end, day_start(today + timedelta(days=1)))


def in_pool_at(moment: datetime) -> Any:
    """In the program at `moment`: joined before it and not retired by then (a retirement is its last change)."""
    joined = case(
        (Advocate.joined_on.is_not(None), Advocate.joined_on < moment.date()),
        else_=Advocate.created_at < moment,
    )
    return and_(joined, or_(Advocate.status != AdvocateStatus.RETIRED, Advocate.updated_at >= moment))


@dataclass(frozen=True)
class Counts:
    """The raw counts every program measure of a period is made of (what the plain-count test checks)."""

    requests: int
    approved: int
    decided: int
    asks_answered: int
    asks_yes: int
    approved_requests: int  # requests approved in the period (still approved: not closed for no match)
    completed: int  # ... of which a reference call was held
    references: int
    advocates_used: int
    # Request to reference, in days, for the period's references that came from a request.
    waits_days: list[float]
    ratings: int
    satisfied: int
    checkins: int  # check-ins that answered "was it helpful?"
    helpful: int
    pool: int
    pool_at_start: int
    retained: int
    deals_closed: int  # deals with a reference that closed in the period (refdesk and imported history)
    deals_won: int


def period_counts(*, session: Session, period: Period, today: date) -> Counts:
    return Counts(
        **activity_counts(session=session, period=period),
        **pool_counts(session=session, period=period, today=today),
    )


def activity_counts(*, session: Session, period: Period) -> dict[str, Any]:
    """The counts read from requests and engagements (each a range of the period); Counts' other fields are
    pool_counts'."""
    r, e = ReferenceRequest, Engagement
    start, end = period.start, period.end
    requests = session.scalar(select(func.count()).where(r.created_at >= start, r.created_at < end)) or 0
    approved, decided = session.execute(
        select(count_if(r.status.in_(APPROVED)), count_if(r.status.in_(DECIDED))).where(
            r.decided_at >= start, r.decided_at < end
        )
    ).one()
    asks_answered, asks_yes = session.execute(
        select(count_if(e.status.in_(ANSWERED)), count_if(e.status.in_(SAID_YES))).where(
            e.source != "import", e.asked_at >= start, e.asked_at < end
        )
    ).one()
    held = exists().where(e.request_id == r.id, e.status == EngagementStatus.HELD)
    approved_requests, completed = session.execute(
        select(func.count(), count_if(held)).where(
            r.status.in_(APPROVED), r.decided_at >= start, r.decided_at < end
        )
    ).one()
    references, advocates_used = session.execute(
        select(func.count(), func.count(func.distinct(e.advocate_id))).where(given_in(period))
    ).one()
    waits = session.execute(
        select(reference_at(), r.created_at)
        .select_from(e)
        .join(r, r.id == e.request_id)
        .where(given_in(period))
    ).all()
    waits_days = [(happened - created).total_seconds() / 86400 for happened, created in waits]
    ratings, satisfied = session.execute(
        select(func.count(), count_if(e.feedback_rating.in_(SATISFIED))).where(
            e.feedback_at >= start, e.feedback_at < end, e.feedback_rating.is_not(None)
        )
    ).one()
    answers = [
        (c or {}).get("helpful")
        for c in session.scalars(select(e.checkin).where(e.checkin_at >= start, e.checkin_at < end))
    ]
    answers = [a for a in answers if a]
    deals_closed, deals_won = _deals_with_reference(session=session, period=period)
    return dict(
        requests=int(requests),
        approved=int(approved),
        decided=int(decided),
        asks_answered=int(asks_answered),
        asks_yes=int(asks_yes),
        approved_requests=int(approved_requests),
        completed=int(completed),
        references=int(references),
        advocates_used=int(advocates_used),
        waits_days=waits_days,
        ratings=int(ratings),
        satisfied=int(satisfied),
        checkins=len(answers),
        helpful=sum(1 for a in answers if a == "yes"),
        deals_closed=deals_closed,
        deals_won=deals_won,
    )


def pool_counts(*, session: Session, period: Period, today: date) -> dict[str, int]:
    """The pool's counts of the period, read from the advocates alone."""
    start = period.start
    moment = as_of(period, today)
    # Breaks and account trouble are not kept as history: a running period counts who can be asked today,
    # a past one the members it ended with.
    active = (
        in_pool_at(moment) if moment < day_start(today) else and_(in_pool_at(moment), eligible_now(today))
    )
    pool, pool_at_start, retained = session.execute(
        select(
            count_if(active),
            count_if(in_pool_at(start)),
            count_if(and_(in_pool_at(start), in_pool_at(moment))),
        ).select_from(Advocate)
    ).one()
    return dict(pool=int(pool), pool_at_start=int(pool_at_start), retained=int(retained))


def _deals_with_reference(*, session: Session, period: Period) -> tuple[int, int]:
    """(closed, won): refdesk deals whose outcome came in the period after a reference, and imported
    references of the period whose deal has an outcome."""
    r, e = ReferenceRequest, Engagement
    had = exists().where(e.request_id == r.id, e.status.in_(GIVEN))
    live = session.execute(
        select(func.count(), count_if(r.outcome == "won")).where(
            had, r.outcome.in_(CLOSED), r.outcome_at >= period.start, r.outcome_at < period.end
        )
    ).one()
    # Counted inside the period's references (the index on when they were given), not by request_id, which most
    # history lacks.
    imported_closed = e.request_id.is_(None) & e.outcome.in_(CLOSED)
    imported = session.execute(
        select(count_if(imported_closed), count_if(imported_closed & (e.outcome == "won"))).where(
            given_in(period)
        )
    ).one()
    return int(live[0]) + int(imported[0]), int(live[1]) + int(imported[1])


def program_metrics(
    *, session: Session, period: Period, policy: Policy | None = None, today: date
) -> list[Metric]:
    """PROGRAM.md's measures for `period`, each with its target where the program gives one."""
    return measures(period_counts(session=session, period=period, today=today))


def measures(c: Counts) -> list[Metric]:
    """The measures made of a period's counts."""
    approval = share(c.approved, c.decided)
    participation = share(c.asks_yes, c.asks_answered)
    completion = share(c.completed, c.approved_requests)
    to_reference = sum(c.waits_days) / len(c.waits_days) if c.waits_days else None
    per_advocate = c.references / c.advocates_used if c.advocates_used else None
    advocate_satisfaction = share(c.satisfied, c.ratings)
    prospect_satisfaction = share(c.helpful, c.checkins)
    retention = share(c.retained, c.pool_at_start)
    win_rate = share(c.deals_won, c.deals_closed)
    return [
        Metric("References given", float(c.references), str(c.references), "—", None),
        Metric("Requests", float(c.requests), str(c.requests), "—", None),
        Metric(
            "Approval rate", approval, _fmt_pct(approval), "60–80%",
            _judge(approval, c.decided, lambda v: 0.6 <= v <= 0.8), c.decided, "decision",
        ),
        Metric(
            "Participation (asks answered yes)", participation, _fmt_pct(participation), "—", None,
            c.asks_answered, "answered ask",
        ),
        Metric(
            "Completion (approved → call held)", completion, _fmt_pct(completion), "—", None,
            c.approved_requests, "approved request",
        ),
        Metric(
            "Request to reference",
            to_reference,
            "—" if to_reference is None else f"{to_reference:.1f} days",
            "under 5 days",
            _judge(to_reference, len(c.waits_days), lambda v: v < 5),
            len(c.waits_days),
            "reference",
        ),
        Metric(
            "References per advocate",
            per_advocate,
            "—" if per_advocate is None else f"{per_advocate:.1f}",
            "2 or fewer a quarter",
            None if per_advocate is None else per_advocate <= 2,
            c.advocates_used,
            "advocate",
        ),
        Metric(
            "Advocate satisfaction", advocate_satisfaction, _fmt_pct(advocate_satisfaction), "90%+",
            _judge(advocate_satisfaction, c.ratings, lambda v: v >= 0.9), c.ratings, "rating",
        ),
        Metric(
            "Prospect satisfaction", prospect_satisfaction, _fmt_pct(prospect_satisfaction), "85%+",
            _judge(prospect_satisfaction, c.checkins, lambda v: v >= 0.85), c.checkins, "check-in",
        ),
        Metric("Active pool", float(c.pool), str(c.pool), "15+", c.pool >= 15),
        Metric(
            "Pool retention", retention, _fmt_pct(retention), "—", None, c.pool_at_start, "advocate",
        ),
        Metric(
            "Win rate with a reference", win_rate, _fmt_pct(win_rate), "—", None, c.deals_closed, "closed deal",
        ),
    ]  # fmt: skip


def metric(metrics: list[Metric], name: str) -> Metric:
    return next(m for m in metrics if m.name == name)


def eligible_now(today: date) -> object:
    return and_(
        Advocate.account_trouble.is_(False),
        or_(
            Advocate.status == AdvocateStatus.ACTIVE,
            and_(Advocate.status == AdvocateStatus.BREAK, Advocate.break_until <= today),
        ),
    )
