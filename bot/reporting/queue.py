"""CS's queue on Home: what waits for a decision, an advocate, a call or its feedback, and what is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import (
    GIVEN,
    Advocate,
    Engagement,
    EngagementStatus,
    Nudge,
    NudgeStatus,
    ReferenceRequest,
    RequestStatus,
)


@dataclass(frozen=True)
class Queue:
    awaiting_approval: list[ReferenceRequest]
    awaiting_advocate: list[tuple[Engagement, Advocate, ReferenceRequest]]
    scheduled: list[tuple[Engagement, Advocate, ReferenceRequest]]
    awaiting_feedback: list[tuple[Engagement, Advocate, ReferenceRequest]]
    overdue: list[str]
    counts: dict[str, int]
    # The first moment the clock alone changes what the queue shows (a call leaves "scheduled" two hours after
    # it starts, one enters "awaiting feedback" 48 hours after, a request turns overdue after 3 days); None: not
    # until something is written. Until then the same data shows the same queue.
    good_until: datetime | None = None


# How long after its time an item crosses each of the queue's time limits.
UPCOMING_FOR = timedelta(hours=2)
FEEDBACK_AFTER = timedelta(hours=48)
STALE_AFTER = timedelta(days=3)


def queue(*, session: Session, now: datetime, limit: int) -> Queue:
    r, e = ReferenceRequest, Engagement
    pending = r.status == RequestStatus.PENDING
    asked = e.status == EngagementStatus.ASKED
    scheduled = e.status == EngagementStatus.SCHEDULED
    upcoming = scheduled & (e.call_at >= now - UPCOMING_FOR)
    unrated = e.status.in_(GIVEN) & e.feedback_rating.is_(None)
    no_feedback = unrated & (e.call_at < now - FEEDBACK_AFTER)
    stale_pending = pending & (r.created_at < now - STALE_AFTER)
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
    # The earliest item still on the near side of each limit: it crosses at its time + the limit.
    crossings = [
        session.scalar(select(func.min(column)).where(condition))
        for column, condition in (
            (e.call_at, upcoming),
            (e.call_at, unrated & (e.call_at >= now - FEEDBACK_AFTER)),
            (r.created_at, pending & (r.created_at >= now - STALE_AFTER)),
        )
    ]
    after = (UPCOMING_FOR, FEEDBACK_AFTER, STALE_AFTER)
    due = [at + delay for at, delay in zip(crossings, after, strict=True) if at is not None]
    return Queue(
        awaiting_approval=list(session.scalars(select(r).where(pending).order_by(r.created_at).limit(limit))),
        awaiting_advocate=engagements(asked, e.asked_at),
        scheduled=engagements(upcoming, e.call_at),
        awaiting_feedback=engagements(no_feedback, e.call_at),
        overdue=overdue,
        counts=counts,
        good_until=min(due, default=None),
    )
