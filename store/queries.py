"""Query functions: keyword-only, session first, typed returns; they never commit."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, String, and_, case, cast, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from store import usage as kept_usage
from store.models import (
    COUNTED,
    OPEN,
    WRITTEN_KINDS,
    Advocate,
    AdvocateUsage,
    Engagement,
    EngagementStatus,
    Nudge,
    NudgeStatus,
    ReferenceRequest,
    RequestEvent,
    RequestStatus,
)


def get_request(*, session: Session, request_id: int) -> ReferenceRequest | None:
    return session.get(ReferenceRequest, request_id)


def get_request_by_view(*, session: Session, view_id: str) -> ReferenceRequest | None:
    return session.scalars(select(ReferenceRequest).where(ReferenceRequest.source_view_id == view_id)).first()


def list_requests_for_user(*, session: Session, user_id: str, limit: int) -> list[ReferenceRequest]:
    """Requests the user owns as rep or filed, newest first."""
    statement = (
        select(ReferenceRequest)
        .where((ReferenceRequest.rep_id == user_id) | (ReferenceRequest.requester_id == user_id))
        .order_by(ReferenceRequest.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def count_approved_for_prospect(*, session: Session, prospect_key: str, exclude_id: int | None = None) -> int:
    """References the program already gave this prospect (approved requests)."""
    statement = select(func.count()).where(
        ReferenceRequest.prospect_key == prospect_key,
        ReferenceRequest.status == RequestStatus.APPROVED,
    )
    if exclude_id is not None:
        statement = statement.where(ReferenceRequest.id != exclude_id)
    return session.scalar(statement) or 0


def transition_request(
    *,
    session: Session,
    request_id: int,
    from_status: str,
    to_status: str,
    changes: dict[str, Any],
    now: datetime,
    extra_condition: Any = None,
) -> bool:
    """Move a request between statuses only if it is still in `from_status`; True when this call won."""
    statement = (
        update(ReferenceRequest)
        .where(ReferenceRequest.id == request_id, ReferenceRequest.status == from_status)
        .values(status=to_status, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if extra_condition is not None:
        statement = statement.where(extra_condition)
    return session.execute(statement).rowcount == 1


def add_event(
    *,
    session: Session,
    request_id: int,
    at: datetime,
    actor_id: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> RequestEvent:
    event = RequestEvent(request_id=request_id, at=at, actor_id=actor_id, action=action, detail=detail or {})
    session.add(event)
    return event


def list_events(*, session: Session, request_id: int) -> list[RequestEvent]:
    statement = select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)
    return list(session.scalars(statement))


def _like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fit_conditions(
    *, industries: Collection[str], min_employees: int, max_employees: int, strict: Any, today: date | None
) -> list[Any]:
    conditions: list[Any] = [
        # "not retired", said so an index on (status, industry, employees) can serve it
        Advocate.status.in_(("active", "break")),
        Advocate.industry.in_(list(industries)),
        Advocate.employees.between(min_employees, max_employees),
    ]
    if strict is not None:
        kinds = [cast(Advocate.kinds, String).like(f'%"{kind}"%') for kind in sorted(strict.kinds)]
        tags = cast(Advocate.use_cases, String)
        # The column holds JSON text: terms are matched as JSON writes them (non-ASCII as \\u escapes).
        terms = [
            tags.like(f"%{_like(json.dumps(t)[1:-1])}%", escape="\\") for t in sorted(strict.use_case_terms)
        ]
        terms.append(tags.like(f"%{_like(json.dumps(strict.use_case_text))}%", escape="\\"))
        conditions += [
            or_(*terms),
            Advocate.role_level.in_(sorted(strict.role_levels)),
            true()
            if strict.functions is None
            else or_(Advocate.function.is_(None), Advocate.function.in_(sorted(strict.functions))),
            or_(*kinds) if kinds else false(),
            or_(Advocate.sentiment.is_(None), Advocate.sentiment >= strict.min_sentiment),
            Advocate.account_trouble.is_(False),
            or_(Advocate.status == "active", and_(Advocate.status == "break", Advocate.break_until <= today)),
        ]
    return conditions


def fitting_advocates(
    *,
    session: Session,
    industries: Collection[str],
    min_employees: int,
    max_employees: int,
    strict: Any = None,
    today: date | None = None,
) -> list[Advocate]:
    """Advocates who could grade better than Poor on industry and size; retired ones are gone for good.

    `strict` (a matching.Prefilter) also drops everyone the rules would exclude or grade Poor whatever
    their history: wrong role level, unwilling, low sentiment, on a break, account trouble.
    """
    conditions = _fit_conditions(
        industries=industries,
        min_employees=min_employees,
        max_employees=max_employees,
        strict=strict,
        today=today,
    )
    return list(session.scalars(select(Advocate).where(*conditions)))


@dataclass(frozen=True)
class UsageWindow:
    """The instants the usage aggregates are counted from."""

    quarter_start: datetime
    previous_quarter_start: datetime
    year_start: datetime
    since_90: datetime
    since_180: datetime
    since_360: datetime


def _usage_columns(*, window: UsageWindow, prospect_key: str, request_id: int | None) -> list[Any]:
    e = Engagement
    # Written pieces (quotes, case studies, logos, reviews) are their own ledger: no cap, rest or gap.
    spoken = e.kind.is_(None) | e.kind.not_in(sorted(WRITTEN_KINDS))
    counted = e.status.in_([s.value for s in COUNTED]) & spoken
    passed = e.status == EngagementStatus.PASSED
    recent = e.asked_at >= window.since_180
    before = (e.asked_at >= window.since_360) & (e.asked_at < window.since_180)
    other_request = e.request_id.is_(None) | (e.request_id != (request_id or -1))

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        count(counted).label("total"),
        count(counted & (e.asked_at >= window.quarter_start)).label("this_quarter"),
        func.max(case((spoken, e.asked_at))).label("last_asked"),
        func.max(case((counted, func.coalesce(e.held_at, e.asked_at)))).label("last_used"),
        count(counted & (e.asked_at >= window.since_90)).label("recent_90d"),
        count(
            counted & (e.asked_at >= window.previous_quarter_start) & (e.asked_at < window.quarter_start)
        ).label("previous_quarter"),
        count(counted & (e.asked_at >= window.year_start)).label("this_year"),
        count(passed & recent).label("passes_recent"),
        count(passed & before).label("passes_before"),
        func.avg(case((recent, e.reply_seconds))).label("reply_recent"),
        func.avg(case((before, e.reply_seconds))).label("reply_before"),
        func.max(case((e.prospect_key == prospect_key, 1), else_=0)).label("asked_for_prospect"),
        func.max(case((e.status.in_([s.value for s in OPEN]) & other_request, 1), else_=0)).label("pending"),
    ]


def usage_by_advocate(
    *,
    session: Session,
    advocate_ids: Collection[int],
    window: UsageWindow,
    prospect_key: str,
    request_id: int | None,
) -> dict[int, Row[Any]]:
    """Every count the protection rules need, per advocate, in one aggregate query over engagements."""
    if not advocate_ids:
        return {}
    statement = (
        select(
            Engagement.advocate_id,
            *_usage_columns(window=window, prospect_key=prospect_key, request_id=request_id),
        )
        .where(Engagement.advocate_id.in_(list(advocate_ids)))
        .group_by(Engagement.advocate_id)
    )
    return {row.advocate_id: row for row in session.execute(statement)}


def usage_of_pool(
    *, session: Session, window: UsageWindow, advocate_ids: Collection[int] | None = None
) -> dict[int, Row[Any]]:
    """The usage aggregate for every advocate (or those given), over the last 360 days: every limit that can
    still stop an ask today lies inside them (totals are not read from it). Home's next eligible dates."""
    statement = (
        select(Engagement.advocate_id, *_usage_columns(window=window, prospect_key="", request_id=None))
        .where(Engagement.asked_at >= window.since_360)
        .group_by(Engagement.advocate_id)
    )
    if advocate_ids is not None:
        statement = statement.where(Engagement.advocate_id.in_(list(advocate_ids)))
    return {row.advocate_id: row for row in session.execute(statement)}


CANDIDATE_COLUMNS = (
    Advocate.id, Advocate.name, Advocate.title, Advocate.role_level, Advocate.company, Advocate.industry,
    Advocate.employees, Advocate.region, Advocate.country, Advocate.use_cases, Advocate.kinds, Advocate.tier,
    Advocate.status, Advocate.break_until, Advocate.account_trouble, Advocate.sentiment, Advocate.joined_on,
    Advocate.function,
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The protection limits the store can apply itself (matching.py still checks every rule)."""

    caps: dict[str, int]
    asked_before: datetime  # the last ask must be earlier than this
    used_before: datetime  # the last reference must be earlier than this
    fatigue_threshold: int


def shortlistable(
    *,
    session: Session,
    industries: Collection[str],
    min_employees: int,
    max_employees: int,
    strict: Any,
    today: date,
    window: UsageWindow,
    limits: Limits,
    prospect_key: str,
    request_id: int | None,
) -> list[tuple[Row[Any], Any]]:
    """The advocates who could make the shortlist, protected ones left out, with their usage.

    Two statements whose cost does not grow with history: the pool's fit filters plus the kept counters
    (models.AdvocateUsage) decide who is left; then the rolling windows (90/180/360 days, the year) are counted
    from the survivors' last year of engagements only. Every value that changes the best plan is a filter on
    advocates, so the plan PostgreSQL caches for a prepared statement is the one it would choose anyway (the
    quarter arithmetic is done on the counters, not by scanning engagements by date).
    """
    fits = _fit_conditions(
        industries=industries,
        min_employees=min_employees,
        max_employees=max_employees,
        strict=strict,
        today=today,
    )
    u = AdvocateUsage
    quarter = window.quarter_start.date()
    previous = window.previous_quarter_start.date()
    this_quarter = case((u.quarter == quarter, u.quarter_count), else_=0)
    previous_quarter = case(
        (u.quarter == quarter, u.previous_count), (u.quarter == previous, u.quarter_count), else_=0
    )
    cap = case(
        *[(Advocate.tier == tier, limit) for tier, limit in limits.caps.items()],
        else_=min(limits.caps.values()),
    )
    e = Engagement
    same_prospect = select(e.id).where(e.advocate_id == Advocate.id, e.prospect_key == prospect_key)
    busy_elsewhere = select(e.id).where(
        e.advocate_id == Advocate.id,
        e.status.in_([s.value for s in OPEN]),
        e.request_id.is_(None) | (e.request_id != (request_id or -1)),
    )
    statement = (
        select(*CANDIDATE_COLUMNS, u.total, u.last_asked, u.last_used)
        .outerjoin(u, u.advocate_id == Advocate.id)
        .where(
            *fits,
            or_(u.advocate_id.is_(None), this_quarter < cap),
            or_(u.last_asked.is_(None), u.last_asked < limits.asked_before),
            or_(u.last_used.is_(None), u.last_used < limits.used_before),
            or_(u.advocate_id.is_(None), this_quarter <= limits.fatigue_threshold),
            or_(u.advocate_id.is_(None), previous_quarter <= limits.fatigue_threshold),
            ~same_prospect.exists(),
            or_(u.pending.is_(None), u.pending == 0, ~busy_elsewhere.exists()),
        )
    )
    # Plain rows, not ORM objects: only what ranking reads, and nothing to track.
    rows = list(session.execute(statement))
    windows = recent_usage(
        session=session,
        advocate_ids=[row.id for row in rows if row.total is not None],
        window=window,
        prospect_key=prospect_key,
        request_id=request_id,
    )
    found = []
    for row in rows:
        if row.total is None:
            found.append((row, None))
            continue
        recent = windows.get(row.id)
        found.append((row, KeptUsage.of(row, recent)))
    return found


@dataclass(frozen=True)
class KeptUsage:
    """An advocate's usage as ranking reads it: lifetime figures kept, rolling windows from the last year."""

    total: int
    this_quarter: int
    last_asked: datetime | None
    last_used: datetime | None
    recent_90d: int
    previous_quarter: int
    this_year: int
    passes_recent: int
    passes_before: int
    reply_recent: float | None
    reply_before: float | None
    asked_for_prospect: int
    pending: int

    @classmethod
    def of(cls, kept: Row[Any], recent: Row[Any] | None) -> KeptUsage:
        def get(name: str) -> Any:
            return getattr(recent, name) if recent is not None else None

        return cls(
            total=kept.total,
            this_quarter=get("this_quarter") or 0,
            last_asked=kept.last_asked,
            last_used=kept.last_used,
            recent_90d=get("recent_90d") or 0,
            previous_quarter=get("previous_quarter") or 0,
            this_year=get("this_year") or 0,
            passes_recent=get("passes_recent") or 0,
            passes_before=get("passes_before") or 0,
            reply_recent=get("reply_recent"),
            reply_before=get("reply_before"),
            asked_for_prospect=get("asked_for_prospect") or 0,
            pending=get("pending") or 0,
        )


def recent_usage(
    *,
    session: Session,
    advocate_ids: Collection[int],
    window: UsageWindow,
    prospect_key: str,
    request_id: int | None,
) -> dict[int, Row[Any]]:
    """The rolling windows' counts for these advocates, from their engagements since the oldest window's start."""
    if not advocate_ids:
        return {}
    since = min(window.since_360, window.year_start, window.previous_quarter_start)
    statement = (
        select(
            Engagement.advocate_id,
            *_usage_columns(window=window, prospect_key=prospect_key, request_id=request_id),
        )
        .where(Engagement.advocate_id.in_(list(advocate_ids)), Engagement.asked_at >= since)
        .group_by(Engagement.advocate_id)
    )
    return {row.advocate_id: row for row in session.execute(statement)}


def open_engagement_for_request(*, session: Session, request_id: int) -> Engagement | None:
    statement = select(Engagement).where(
        Engagement.request_id == request_id, Engagement.status.in_([s.value for s in OPEN])
    )
    return session.scalars(statement).first()


def plan_nudges(
    *,
    session: Session,
    planned: Iterable[Any],
    engagement_id: int | None,
    request_id: int | None,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Insert each planned nudge once; planning again moves a pending one to its new time."""
    for item in planned:
        existing = session.scalars(select(Nudge).where(Nudge.key == item.key)).first()
        if existing is None:
            session.add(
                Nudge(
                    key=item.key,
                    kind=item.kind,
                    recipient=item.recipient,
                    due_at=item.due_at,
                    engagement_id=engagement_id,
                    request_id=request_id,
                    created_at=now,
                    payload=payload or {},
                )
            )
        elif existing.status in (NudgeStatus.PENDING, NudgeStatus.CANCELLED):
            existing.due_at, existing.recipient, existing.status = (
                item.due_at,
                item.recipient,
                NudgeStatus.PENDING,
            )
    session.flush()


def cancel_nudges(*, session: Session, engagement_id: int, kinds: Collection[str] | None = None) -> int:
    """Cancel an engagement's nudges that have not gone out; returns how many."""
    statement = (
        update(Nudge)
        .where(Nudge.engagement_id == engagement_id, Nudge.status == NudgeStatus.PENDING)
        .values(status=NudgeStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if kinds is not None:
        statement = statement.where(Nudge.kind.in_(list(kinds)))
    return session.execute(statement).rowcount


def transition_engagement(
    *,
    session: Session,
    engagement_id: int,
    from_statuses: Collection[str],
    to_status: str,
    changes: dict[str, Any],
) -> bool:
    """Move an engagement on only from the statuses given; True when this call won."""
    statement = (
        update(Engagement)
        .where(Engagement.id == engagement_id, Engagement.status.in_(list(from_statuses)))
        .values(status=to_status, **changes)
        .execution_options(synchronize_session=False)
    )
    won = session.execute(statement).rowcount == 1
    if won:
        kept_usage.refresh_engagements(session, [engagement_id])
    return won
