"""A peer conversation is logged, not brokered (PROGRAM.md "Kinds of reference"): it happened on its own (an event,
an intro), so nobody is asked; CS or the rep records who and when, and it counts like any reference given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.flows import followup
from bot.rules import nudges
from bot.rules.vocabulary import AdvocateStatus, ReferenceKind
from store import lifecycle
from store.models import Advocate, Engagement, EngagementStatus, ReferenceRequest, RequestStatus

CHOICES_MAX = 100  # a static select's options (Slack's limit); a larger pool is searched instead
HAPPENED_AT = time(12, 0)  # a day, stored as its midday UTC (as `refdesk history import` stores dates)
SOURCE = "logged"


@dataclass(frozen=True)
class Logged:
    """The result of logging: `won` is False when the request already had its peer conversation logged."""

    won: bool
    request: ReferenceRequest
    advocate: Advocate
    engagement: Engagement


def is_peer(request: ReferenceRequest) -> bool:
    return request.wanted_kind == ReferenceKind.PEER


def _pool(session: Session) -> Any:
    return select(Advocate.id, Advocate.name, Advocate.company).where(
        Advocate.status != AdvocateStatus.RETIRED
    )


def pool_size(*, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_pool(session).subquery())) or 0


def choices(*, session: Session, query: str = "", limit: int = CHOICES_MAX) -> list[tuple[int, str]]:
    """Who the conversation may have been with: the pool but the retired, by name (`query`: name or company)."""
    statement = _pool(session)
    if query.strip():
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(Advocate.name).like(pattern), func.lower(Advocate.company).like(pattern))
        )
    rows = session.execute(statement.order_by(Advocate.name, Advocate.id).limit(limit)).all()
    return [(row.id, f"{row.name} — {row.company}") for row in rows]


def logged_for(*, session: Session, request_id: int) -> Engagement | None:
    return session.scalars(
        select(Engagement).where(
            Engagement.request_id == request_id,
            Engagement.kind == ReferenceKind.PEER,
            Engagement.status == EngagementStatus.HELD,
        )
    ).first()


def log(
    *,
    session: Session,
    request_id: int,
    advocate_id: int,
    on: date,
    note: str,
    view_id: str,
    actor_id: str,
    appreciation_threshold: int,
    cs_channel: str,
    now: datetime,
) -> Logged | None:
    """Record the conversation as a reference the advocate gave (kind peer, held on `on`): once per request, which
    it fulfils. None when the request or the advocate does not exist."""
    request = session.get(ReferenceRequest, request_id)
    advocate = session.get(Advocate, advocate_id)
    if request is None or advocate is None:
        return None
    won = lifecycle.transition_request(
        session=session,
        request_id=request_id,
        from_status=RequestStatus.APPROVED,
        to_status=RequestStatus.APPROVED,
        changes={"active_advocate_id": advocate.id},
        now=now,
        extra_condition=(ReferenceRequest.active_advocate_id.is_(None))
        & (ReferenceRequest.wanted_kind == ReferenceKind.PEER),
    )
    session.refresh(request)
    if not won:
        existing = logged_for(session=session, request_id=request_id)
        if existing is None:
            return None
        return Logged(False, request, session.get(Advocate, existing.advocate_id), existing)
    # Dated by the day it happened; today's midday may still be ahead, and a reference is never in the future.
    happened = min(datetime.combine(on, HAPPENED_AT, tzinfo=UTC), now)
    engagement = Engagement(
        advocate_id=advocate.id,
        request_id=request.id,
        kind=ReferenceKind.PEER,
        status=EngagementStatus.HELD,
        **lifecycle.prospect_of(request),
        asked_at=happened,  # it counts where any reference counts: the caps' ledger, the rest, the gap
        held_at=happened,
        chosen_by=actor_id,
        source=SOURCE,
        source_view_id=view_id[:40],
        created_at=now,
    )
    session.add(engagement)
    session.flush()  # store.usage keeps the advocate's counters in this transaction (its after_flush hook)
    lifecycle.add_event(
        session=session,
        request_id=request.id,
        at=now,
        actor_id=actor_id,
        action="peer_logged",
        detail={
            "engagement_id": engagement.id,
            "advocate_id": advocate.id,
            "on": on.isoformat(),
            "note": note,
        },
    )
    lifecycle.plan_nudges(
        session=session,
        planned=[
            nudges.outcome_plan(
                engagement_id=engagement.id, after=happened, rep=request.rep_id, close_date=request.close_date
            )
        ],
        engagement_id=engagement.id,
        request_id=request.id,
        now=now,
    )
    followup.plan_appreciations(
        session=session,
        advocate_ids=[advocate.id],
        threshold=appreciation_threshold,
        cs_channel=cs_channel,
        now=now,
    )
    return Logged(True, request, advocate, engagement)
