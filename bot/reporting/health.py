"""What CS's Home shows about the program's health: the pool's health and coverage gaps (the queue: queue.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, Integer, String, and_, any_, bindparam, case, cast, false, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.reporting.metrics import Period, count_if, day_start, eligible_now
from bot.reporting.rows import NOT_GREAT_DAYS, AdvocateRow, advocate_rows, pool_limits
from bot.rules.matching import (
    SENTIMENT_GOOD,
    Policy,
)
from bot.rules.vocabulary import AdvocateStatus, Industry
from store.models import (
    COUNTED,
    OPEN,
    WRITTEN_KINDS,
    Advocate,
    AdvocateUsage,
    Engagement,
    EngagementStatus,
)
from store.pool import CANDIDATE_COLUMNS
from store.usage import quarter_before, quarter_of


@dataclass(frozen=True)
class PoolHealth:
    size: int
    can_be_asked: int
    fatigued: int
    at_cap: int
    needing_care: int
    care: list[AdvocateRow] = field(default_factory=list)  # those needing care, worst first
    soonest: list[AdvocateRow] = field(default_factory=list)  # the rest: who can be asked, and when


@dataclass(frozen=True)
class PoolPicks:
    """The pool's counts and whom it shows (ids), before their rows are read."""

    size: int
    can_be_asked: int
    fatigued: int
    at_cap: int
    needing_care: int
    care: list[int]
    soonest: list[int]


def pool_health(*, session: Session, today: date, policy: Policy, limit: int) -> PoolHealth:
    """The pool today: how many the shortlist could offer, and the advocates that need care, each with why.

    Counted in the database from the kept usage (store/usage.py) and the last 360 days' passes and reply times,
    with rows.pool_limits' definitions (tests/test_pool_health_sql.py checks they agree); lifetime figures and
    the reasons in words only for those shown.
    """
    picks = pool_picks(session=session, today=today, policy=policy, limit=limit)
    return pool_shown(session=session, picks=picks, today=today, policy=policy)


def pool_picks(
    *, session: Session, today: date, policy: Policy, limit: int, flags: RollingFlags | None = None
) -> PoolPicks:
    """pool_health's counts and the ids it shows: read from the advocates, their kept usage and what their last
    year of engagements says (`flags`, read here when not given; never from requests)."""
    if flags is None:
        flags = rolling_flags(session=session, today=today, policy=policy)
    facts = _pool_facts(today=today, policy=policy, flags=flags, dialect=session.get_bind().dialect.name)
    a = Advocate
    cares = facts.reasons > 0
    # One pass over the pool (the rolling usage is read once): the totals, and those needing care, worst first.
    found = session.execute(
        select(
            a.id,
            cares.label("cares"),
            func.count().over(),
            func.sum(case((facts.askable, 1), else_=0)).over(),
            func.sum(case((facts.fatigued, 1), else_=0)).over(),
            func.sum(case((facts.capped, 1), else_=0)).over(),
            func.sum(case((cares, 1), else_=0)).over(),
        )
        .select_from(facts.joined)
        .where(a.status != AdvocateStatus.RETIRED)
        .order_by(
            case((cares, 0), else_=1),
            a.account_trouble.desc(),
            facts.reasons.desc(),
            func.coalesce(func.nullif(a.sentiment, 0), 1.0),  # as `sentiment or 1.0`
            a.id,
        )
        .limit(max(limit, 1))
    ).all()
    size, can_be_asked, fatigued, at_cap, needing_care = (
        (int(n or 0) for n in found[0][2:]) if found else (0, 0, 0, 0, 0)
    )
    shown_care = [row.id for row in found[:limit] if row.cares]
    wanted = max(0, limit - len(shown_care))
    # The rest, soonest first: who can be asked today comes first (their next eligible day is today), by name.
    shown_rest = list(
        session.scalars(
            select(a.id)
            .select_from(facts.joined)
            .where(a.status != AdvocateStatus.RETIRED, facts.reasons == 0, facts.askable)
            .order_by(_by_code_point(session, a.name), a.id)
            .limit(wanted)
        )
    )
    if len(shown_rest) < wanted and size - needing_care > len(shown_rest):
        shown_rest = _soonest_later(session=session, today=today, policy=policy, wanted=wanted)
    return PoolPicks(size, can_be_asked, fatigued, at_cap, needing_care, shown_care, shown_rest)


def pool_shown(*, session: Session, picks: PoolPicks, today: date, policy: Policy) -> PoolHealth:
    """The rows of the advocates picks shows (their history, deal outcomes included), with its counts."""
    rows = {
        row.advocate.id: row
        for row in advocate_rows(
            session=session,
            period=Period.quarter(today),
            policy=policy,
            today=today,
            advocate_ids=picks.care + picks.soonest,
        )
    }
    return PoolHealth(
        size=picks.size,
        can_be_asked=picks.can_be_asked,
        fatigued=picks.fatigued,
        at_cap=picks.at_cap,
        needing_care=picks.needing_care,
        care=[rows[i] for i in picks.care],
        soonest=[rows[i] for i in picks.soonest],
    )


def _by_code_point(session: Session, column: Any) -> Any:
    """Ordered as Python orders strings (PostgreSQL's default collation would not)."""
    return column.collate("C") if session.get_bind().dialect.name == "postgresql" else column


def _soonest_later(*, session: Session, today: date, policy: Policy, wanted: int) -> list[int]:
    """Fewer than `wanted` advocates can be asked today: the rest in order of their next eligible day, from
    rows.pool_limits over the pool (a small pool, or one nearly used up)."""
    pool = session.execute(select(*CANDIDATE_COLUMNS).where(Advocate.status != AdvocateStatus.RETIRED)).all()
    limits = pool_limits(session=session, advocates=pool, policy=policy, today=today, every=True)
    rest = sorted(
        (a for a in pool if not limits[a.id][1]),
        key=lambda a: (limits[a.id][0] or date.max, a.name, a.id),
    )
    return [a.id for a in rest[:wanted]]


@dataclass(frozen=True)
class RollingFlags:
    """What the last 360 days of engagements say about the pool (rows.pool_limits' rolling signals): the ids of
    the advocates passing more, answering slower, with an open ask, or at the yearly limit. Read from
    engagements alone (a few percent of the pool), so a change to the advocates does not read them again."""

    passing: tuple[int, ...]
    slower: tuple[int, ...]
    pending: tuple[int, ...]
    over_year: tuple[int, ...]


def rolling_flags(*, session: Session, today: date, policy: Policy) -> RollingFlags:
    from bot.flows.shortlist import usage_window

    e = Engagement
    window = usage_window(today)
    spoken = e.kind.is_(None) | e.kind.not_in(sorted(WRITTEN_KINDS))
    counted = e.status.in_([s.value for s in COUNTED]) & spoken
    recent = e.asked_at >= window.since_180
    passed = e.status == EngagementStatus.PASSED
    rolling = (
        select(
            e.advocate_id,
            count_if(passed & recent).label("passes_recent"),
            count_if(passed & ~recent).label("passes_before"),
            cast(func.avg(case((recent, e.reply_seconds))), Float).label("reply_recent"),
            cast(func.avg(case((~recent, e.reply_seconds))), Float).label("reply_before"),
            count_if(e.status.in_([s.value for s in OPEN])).label("pending"),
            # The kind is not in the covering index: read only when a yearly limit is set.
            *(
                [count_if(counted & (e.asked_at >= window.year_start)).label("this_year")]
                if policy.yearly_limit
                else []
            ),
        )
        .where(e.asked_at >= window.since_360)
        .group_by(e.advocate_id)
        .subquery()
    )
    r = rolling.c
    # fatigue_signals' rolling signals, one condition each
    passing = and_(r.passes_recent > r.passes_before, r.passes_recent >= 2)
    slower = and_(
        r.reply_recent.is_not(None),
        r.reply_before.is_not(None),
        r.reply_recent >= 24 * 3600,
        r.reply_recent > r.reply_before * policy.reply_slowdown,
    )
    pending = r.pending > 0
    over_year = r.this_year >= policy.yearly_limit if policy.yearly_limit else false()
    found: dict[str, list[int]] = {"passing": [], "slower": [], "pending": [], "over_year": []}
    signals = {"passing": passing, "slower": slower, "pending": pending, "over_year": over_year}
    for row in session.execute(
        select(r.advocate_id, *(case((c, 1), else_=0).label(n) for n, c in signals.items())).where(
            or_(*signals.values())
        )
    ):
        for name in signals:
            if getattr(row, name):
                found[name].append(row.advocate_id)
    return RollingFlags(**{name: tuple(sorted(ids)) for name, ids in found.items()})


def _one_of(ids: tuple[int, ...], dialect: str) -> Any:
    """Advocates.id among `ids`, as one parameter however many (an array on PostgreSQL, JSON on SQLite)."""
    if dialect == "postgresql":
        return Advocate.id == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(ids), type_=String)).table_valued("value")
    return Advocate.id.in_(select(listed.c.value))


@dataclass(frozen=True)
class _PoolFacts:
    joined: Any  # advocates and their kept usage
    reasons: Any  # how many reasons to care (rows.pool_limits' care list, counted)
    fatigued: Any
    capped: Any
    askable: Any  # next eligible today, and sentiment good enough


def _pool_facts(*, today: date, policy: Policy, flags: RollingFlags, dialect: str) -> _PoolFacts:
    """rows.pool_limits' per-advocate verdicts as SQL expressions. Every date limit is compared with a bound
    computed here (no date arithmetic in SQL), the quarter counts come from the kept counters (pinned to the
    quarter of the latest counted ask, so shifted to today as usage.Counters does), the rolling signals from
    `flags`."""
    a, u, e = Advocate, AdvocateUsage, Engagement
    quarter = quarter_of(today)
    this_quarter = case((u.quarter == quarter, u.quarter_count), else_=0)
    previous_quarter = case(
        (u.quarter == quarter, u.previous_count),
        (u.quarter == quarter_before(quarter), u.quarter_count),
        else_=0,
    )
    # A few rows, found by the date of their feedback.
    sad = a.id.in_(
        select(e.advocate_id).where(
            e.feedback_rating == "not_great",
            e.feedback_at >= day_start(today - timedelta(days=NOT_GREAT_DAYS)),
        )
    )
    joined = a.__table__.outerjoin(u, u.advocate_id == a.id)
    threshold = policy.fatigue_threshold
    # fatigue_signals, one condition per signal
    tired_now = this_quarter > threshold
    tired_before = previous_quarter > threshold
    passing = _one_of(flags.passing, dialect) if flags.passing else false()
    slower = _one_of(flags.slower, dialect) if flags.slower else false()
    trouble = a.account_trouble.is_(True)
    low = and_(a.sentiment.is_not(None), a.sentiment < SENTIMENT_GOOD)
    reasons = sum(
        case((condition, 1), else_=0)
        for condition in (tired_now, tired_before, passing, slower, trouble, low, sad)
    )
    smallest = min(policy.caps.values())
    cap = case(*((a.tier == tier, n) for tier, n in policy.caps.items()), else_=smallest)
    capped = this_quarter >= cap
    # next_eligible(...) <= today: no condition that ends only when people act, and every dated limit lifted.
    monday_bound = today - timedelta(days=14)
    monday_bound -= timedelta(days=monday_bound.weekday())
    askable = and_(
        ~trouble,
        *([~_one_of(flags.pending, dialect)] if flags.pending else []),
        ~passing,
        ~slower,
        or_(
            a.status == AdvocateStatus.ACTIVE,
            and_(a.status == AdvocateStatus.BREAK, a.break_until <= today),
        ),
        ~capped,
        this_quarter <= threshold,
        previous_quarter <= threshold,
        *([~_one_of(flags.over_year, dialect)] if flags.over_year else []),
        or_(
            u.last_asked.is_(None),
            and_(
                u.last_asked < day_start(today - timedelta(days=policy.min_days_between_asks - 1)),
                u.last_asked < day_start(monday_bound + timedelta(days=7)),
            ),
        ),
        or_(
            u.last_used.is_(None), u.last_used < day_start(today - timedelta(days=policy.recent_use_days - 1))
        ),
        or_(a.sentiment.is_(None), a.sentiment >= SENTIMENT_GOOD),
    )
    return _PoolFacts(
        joined=joined,
        reasons=reasons,
        fatigued=or_(tired_now, tired_before, passing, slower),
        capped=capped,
        askable=askable,
    )


def coverage_gaps(*, session: Session, today: date) -> tuple[list[str], list[str]]:
    """Industries, and use cases in the pool, with no advocate who could be asked today."""
    eligible = eligible_now(today)
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
