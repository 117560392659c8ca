"""What the Home tab shows: a rep's requests with their next step; CS's queue and the program's health."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reporting import health, metrics
from bot.reporting.queue import Queue, queue
from bot.reporting.rows import RepRow, rep_stats
from bot.rules.matching import Policy
from bot.rules.questions import answered_in_writing
from bot.rules.vocabulary import DeclineReason, label_of
from bot.text import Mrkdwn, day, mrkdwn, slack_date
from store import lifecycle, versions
from store.models import Advocate, Engagement, EngagementStatus, ReferenceRequest, RequestStatus

QUEUE_SHOWN = 5
POOL_SHOWN = 10
REPS_SHOWN = 10


@dataclass(frozen=True)
class RepRequest:
    request: ReferenceRequest
    next_step: Mrkdwn
    cancellable: bool


def next_step(
    request: ReferenceRequest, engagement: Engagement | None, advocate: Advocate | None, now: datetime
) -> Mrkdwn:
    """Where a request stands, said as what happens next."""
    return mrkdwn("{}", _next_step(request, engagement, advocate, now))


def _next_step(
    request: ReferenceRequest, engagement: Engagement | None, advocate: Advocate | None, now: datetime
) -> Mrkdwn | str:
    status = request.status
    if request.outcome == "won":
        return ":trophy: Won — thank you for telling us"
    if request.outcome == "lost":
        return ":memo: Lost — recorded"
    if status == RequestStatus.PENDING:
        return ":hourglass_flowing_sand: Waiting for CS to approve"
    if status == RequestStatus.DECLINED:
        return f":no_entry_sign: Declined: {label_of(DeclineReason, request.decline_reason)}"
    if status == RequestStatus.CANCELLED:
        return ":heavy_multiplication_x: Cancelled"
    if status == RequestStatus.NO_MATCH:
        return ":mag: No good match right now — CS sent you the reasons"
    name = advocate.name if advocate else "the advocate"
    if engagement is None or engagement.status in (
        EngagementStatus.PASSED,
        EngagementStatus.EXPIRED,
        EngagementStatus.CANCELLED,
    ):
        return ":mag: Approved — CS is choosing an advocate"
    if engagement.status == EngagementStatus.ASKED:
        return mrkdwn(":outbox_tray: Waiting for {} to answer", name)
    if engagement.status == EngagementStatus.ACCEPTED and answered_in_writing(engagement.kind):
        return mrkdwn(":pencil: {} said yes — their written answers will come to you in a DM", name)
    if engagement.status == EngagementStatus.ACCEPTED:
        return mrkdwn(":point_right: {} said yes — pick a time in your DMs", name)
    if engagement.status == EngagementStatus.SCHEDULED and engagement.call_at and engagement.call_at > now:
        return mrkdwn(":calendar: Call with {} {}", name, slack_date(engagement.call_at))
    if (
        engagement.checkin_at is None and engagement.call_at is not None
    ):  # no call (written, logged): no check-in
        return ":speech_balloon: Check in with the prospect and log how it went"
    return f":briefcase: Tell us the outcome when the deal closes (expected {day(request.close_date)})"


def rep_requests(*, session: Session, user_id: str, now: datetime, limit: int) -> list[RepRequest]:
    requests = lifecycle.list_requests_for_user(session=session, user_id=user_id, limit=limit)
    latest: dict[int, tuple[Engagement, Advocate]] = {}
    if requests:
        rows = session.execute(
            select(Engagement, Advocate)
            .join(Advocate, Advocate.id == Engagement.advocate_id)
            .where(Engagement.request_id.in_([r.id for r in requests]))
            .order_by(Engagement.id)
        ).all()
        latest = {e.request_id: (e, a) for e, a in rows}
    result = []
    for request in requests:
        engagement, advocate = latest.get(request.id, (None, None))
        result.append(
            RepRequest(
                request,
                next_step(request, engagement, advocate, now),
                request.status == RequestStatus.PENDING,
            )
        )
    return result


@dataclass(frozen=True)
class CsDashboard:
    period: metrics.Period
    queue: Queue
    program: list[metrics.Metric]
    pool: health.PoolHealth
    reps: list[RepRow]
    industry_gaps: list[str]
    use_case_gaps: list[str]
    generated_at: datetime


# The program's figures, the pool, the reps and the coverage gaps change only when something is written (or the
# day turns): remembered per process, each part with the versions of the groups of tables it reads
# (store/versions.py: every change bumps its groups' counters in its own transaction, on any replica). An open
# reads those counters (one query); the first open after a change rebuilds only the parts that read what changed:
# an advocate's sentiment re-reads the pool, not the quarter's activity; an approval re-reads the activity and
# the reps, not the pool.
_PARTS: dict[str, tuple[str, ...]] = {
    "activity": ("requests", "engagements"),  # metrics.activity_counts
    "pool_counts": ("advocates",),  # metrics.pool_counts
    # metrics.measures of the two above: the same list (the same objects) while they hold
    "program": ("requests", "engagements", "advocates"),
    # health.rolling_flags: the last year's engagements, read apart from the pool
    "rolling": ("engagements",),
    "picks": ("advocates", "engagements"),  # health.pool_picks
    "pool": ("advocates", "engagements", "requests"),  # health.pool_shown (deal outcomes are on requests)
    "reps": ("requests", "engagements"),
    "gaps": ("advocates",),
}


@dataclass(frozen=True)
class _Remembered:
    version: int
    today: date
    program: list[metrics.Metric]
    pool: health.PoolHealth
    reps: list[RepRow]
    industry_gaps: list[str]
    use_case_gaps: list[str]


_parts: dict[str, dict[str, tuple[tuple[Any, ...], Any]]] = {}
_remembered_lock = threading.Lock()


def _program_figures(*, session: Session, now: datetime, policy: Policy) -> _Remembered:
    key = f"{session.get_bind().url}|{id(policy)}"
    today = now.date()
    current = versions.versions_of(session)
    with _remembered_lock:
        kept = dict(_parts.get(key, {}))
    built: dict[str, Any] = {}

    def part(name: str, build: Callable[[], Any]) -> Any:
        stamp = (today, *(current[group] for group in _PARTS[name]))
        found = kept.get(name)
        if found is not None and found[0] == stamp:
            return found[1]
        value = build()
        built[name] = (stamp, value)
        return value

    period = metrics.Period.quarter(today)
    counts = metrics.Counts(
        **part("activity", lambda: metrics.activity_counts(session=session, period=period)),
        **part("pool_counts", lambda: metrics.pool_counts(session=session, period=period, today=today)),
    )
    flags = part("rolling", lambda: health.rolling_flags(session=session, today=today, policy=policy))
    picks = part(
        "picks",
        lambda: health.pool_picks(session=session, today=today, policy=policy, limit=POOL_SHOWN, flags=flags),
    )
    pool = part("pool", lambda: health.pool_shown(session=session, picks=picks, today=today, policy=policy))
    reps = part(
        "reps",
        lambda: rep_stats(session=session, period=metrics.Period.last_12_months(today), limit=REPS_SHOWN),
    )
    industries, use_cases = part("gaps", lambda: health.coverage_gaps(session=session, today=today))
    if built:
        with _remembered_lock:
            _parts.setdefault(key, {}).update(built)
    return _Remembered(
        version=current[versions.PROGRAM],
        today=today,
        program=part("program", lambda: metrics.measures(counts)),
        pool=pool,
        reps=reps,
        industry_gaps=industries,
        use_case_gaps=use_cases,
    )


# The queue moves with the data (the version: a message that could not be sent bumps it too) and with the clock
# (a request waiting over 3 days, a call 48 hours past): remembered until either moves it, the version or the
# first time limit one of its items crosses (Queue.good_until).
_queues: dict[str, tuple[int, datetime, Queue]] = {}


def _queue(*, session: Session, now: datetime, version: int) -> Queue:
    key = str(session.get_bind().url)
    with _remembered_lock:
        cached = _queues.get(key)
    if cached is not None:
        kept_version, read_at, kept = cached
        good_until = kept.good_until
        if kept_version == version and read_at <= now and (good_until is None or now < good_until):
            return kept
    found = queue(session=session, now=now, limit=QUEUE_SHOWN)
    with _remembered_lock:
        _queues[key] = (version, now, found)
    return found


def cs_dashboard(*, session: Session, now: datetime, policy: Policy) -> CsDashboard:
    figures = _program_figures(session=session, now=now, policy=policy)
    return CsDashboard(
        period=metrics.Period.quarter(now.date()),
        queue=_queue(session=session, now=now, version=figures.version),
        program=figures.program,
        pool=figures.pool,
        reps=figures.reps,
        industry_gaps=figures.industry_gaps,
        use_case_gaps=figures.use_case_gaps,
        generated_at=now,
    )
