"""A request and its engagements in the database: read, moved on only from the status expected, events, nudges."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store import usage as kept_usage
from store.models import (
    OPEN,
    Engagement,
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


def prospect_of(request: ReferenceRequest) -> dict[str, Any]:
    """The prospect's fields an engagement copies from its request: the history keeps who the reference was for
    (and the caps' same-prospect rule its key) whatever becomes of the request."""
    return {
        "prospect_company": request.prospect_company,
        "prospect_key": request.prospect_key,
        "prospect_industry": request.prospect_industry,
        "deal_arr": request.deal_arr,
    }


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
