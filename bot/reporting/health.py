"""What CS's Home shows about the program's health: the queue, the pool's health, coverage gaps."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from bot.reporting.metrics import Period, eligible_now
from bot.reporting.rows import AdvocateRow, advocate_rows, pool_limits
from bot.rules.matching import (
    SENTIMENT_GOOD,
    Policy,
)
from bot.rules.vocabulary import AdvocateStatus, Industry
from store.models import (
    GIVEN,  # a reference given (or about to be): defined with the engagement statuses
    Advocate,
    Engagement,
    EngagementStatus,
    Nudge,
    NudgeStatus,
    ReferenceRequest,
    RequestStatus,
)
from store.pool import CANDIDATE_COLUMNS


@dataclass(frozen=True)
class PoolHealth:
    size: int
    can_be_asked: int
    fatigued: int
    at_cap: int
    needing_care: int
    care: list[AdvocateRow] = field(default_factory=list)  # those needing care, worst first
    soonest: list[AdvocateRow] = field(default_factory=list)  # the rest: who can be asked, and when


def pool_health(*, session: Session, today: date, policy: Policy, limit: int) -> PoolHealth:
    """The pool today: how many the shortlist could offer, and the advocates that need care, each with why.

    Limits are read for the whole pool from the last 360 days of usage; lifetime figures only for those shown.
    """
    pool = session.execute(
        select(*CANDIDATE_COLUMNS).where(Advocate.status != AdvocateStatus.RETIRED)
    ).all()
    limits = pool_limits(session=session, advocates=pool, policy=policy, today=today, every=True)

    def askable(a: Any) -> bool:
        eligible = limits[a.id][0]
        return (
            eligible is not None
            and eligible <= today
            and (a.sentiment is None or a.sentiment >= SENTIMENT_GOOD)
        )

    care = sorted(
        (a for a in pool if limits[a.id][1]),
        key=lambda a: (not a.account_trouble, -len(limits[a.id][1]), a.sentiment or 1.0, a.id),
    )
    rest = sorted(
        (a for a in pool if not limits[a.id][1]),
        key=lambda a: (limits[a.id][0] or date.max, a.name, a.id),
    )
    shown_care = [a.id for a in care[:limit]]
    shown_rest = [a.id for a in rest[: max(0, limit - len(shown_care))]]
    rows = {
        row.advocate.id: row
        for row in advocate_rows(
            session=session,
            period=Period.quarter(today),
            policy=policy,
            today=today,
            advocate_ids=shown_care + shown_rest,
        )
    }
    return PoolHealth(
        size=len(pool),
        can_be_asked=sum(1 for a in pool if askable(a)),
        fatigued=sum(1 for a in pool if any(reason.startswith("fatigue") for reason in limits[a.id][1])),
        at_cap=sum(1 for a in pool if limits[a.id][2]),
        needing_care=len(care),
        care=[rows[i] for i in shown_care],
        soonest=[rows[i] for i in shown_rest],
    )


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
