"""What the Home tab shows: a rep's requests with their next step; CS's queue and the program's health."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reporting import health, metrics
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
    if engagement.checkin_at is None and engagement.call_at is not None:  # no call (written, logged): no check-in
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
    queue: health.Queue
    program: list[metrics.Metric]
    pool: health.PoolHealth
    reps: list[RepRow]
    industry_gaps: list[str]
    use_case_gaps: list[str]
    generated_at: datetime


# The program's figures, the pool, the reps and the coverage gaps change only when something is written (or the
# day turns): remembered per process with the program's version (store/versions.py), which every change bumps in
# its own transaction, on any replica. An open reads that one counter; only the first open after a change
# rebuilds.
@dataclass(frozen=True)
class _Remembered:
    version: int
    today: date
    program: list[metrics.Metric]
    pool: health.PoolHealth
    reps: list[RepRow]
    industry_gaps: list[str]
    use_case_gaps: list[str]


_remembered: dict[str, _Remembered] = {}
_remembered_lock = threading.Lock()


def _program_figures(*, session: Session, now: datetime, policy: Policy) -> _Remembered:
    key = f"{session.get_bind().url}|{id(policy)}"
    today = now.date()
    current = versions.version(session)
    with _remembered_lock:
        cached = _remembered.get(key)
    if cached is not None and cached.version == current and cached.today == today:
        return cached
    period = metrics.Period.quarter(today)
    industries, use_cases = health.coverage_gaps(session=session, today=today)
    built = _Remembered(
        version=current,
        today=today,
        program=metrics.program_metrics(session=session, period=period, policy=policy, today=today),
        pool=health.pool_health(session=session, today=today, policy=policy, limit=POOL_SHOWN),
        reps=rep_stats(session=session, period=metrics.Period.last_12_months(today), limit=REPS_SHOWN),
        industry_gaps=industries,
        use_case_gaps=use_cases,
    )
    with _remembered_lock:
        _remembered[key] = built
    return built


# The queue moves with the data (the version) and with the clock (a request waiting over 3 days, a call 48 hours
# past): remembered for the minute it was read in, so its time limits are at most a minute late. Failed messages
# (the outbox, written outside the version) show within that minute too.
_queues: dict[str, tuple[int, datetime, health.Queue]] = {}


def _queue(*, session: Session, now: datetime, version: int) -> health.Queue:
    key = str(session.get_bind().url)
    minute = now.replace(second=0, microsecond=0)
    with _remembered_lock:
        cached = _queues.get(key)
    if cached is not None and cached[0] == version and cached[1] == minute:
        return cached[2]
    found = health.queue(session=session, now=now, limit=QUEUE_SHOWN)
    with _remembered_lock:
        _queues[key] = (version, minute, found)
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
