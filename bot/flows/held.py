"""A call counts as held once its thanks went out (unless the rep later says it didn't happen)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from bot.flows import followup
from bot.rules.nudges import NudgeKind
from store import usage as kept_usage
from store.models import Engagement, EngagementStatus, Nudge, NudgeStatus, RequestEvent


def mark_held(
    *,
    session: Session,
    engagement_ids: list[int],
    now: datetime,
    appreciation_threshold: int,
    cs_channel: str,
) -> int:
    """These calls were thanked: each scheduled one is held. In the caller's transaction, for a whole batch:
    the engagements, the advocates' kept usage, the audit events, and CS's appreciation prompts. Returns how
    many calls moved."""
    held = session.execute(
        update(Engagement)
        .where(Engagement.id.in_(engagement_ids), Engagement.status == EngagementStatus.SCHEDULED)
        .values(status=EngagementStatus.HELD, held_at=Engagement.call_at)
        .returning(Engagement.id, Engagement.advocate_id, Engagement.request_id)
        .execution_options(synchronize_session=False)
    ).all()
    kept_usage.refresh(session, {advocate_id for _, advocate_id, _ in held})
    # The audit events in one executemany (added one by one, SQLite inserted them a statement each).
    events = [
        {
            "request_id": request_id,
            "at": now,
            "actor_id": "refdesk",
            "action": "call_held",
            "detail": {"engagement_id": engagement_id, "advocate_id": advocate_id},
        }
        for engagement_id, advocate_id, request_id in sorted(held)
        if request_id is not None
    ]
    if events:
        session.execute(insert(RequestEvent), events)
    if held:
        followup.plan_appreciations(
            session=session,
            advocate_ids=sorted({advocate_id for _, advocate_id, _ in held}),
            threshold=appreciation_threshold,
            cs_channel=cs_channel,
            now=now,
        )
    return len(held)


def thanked_but_not_held(*, session: Session) -> list[int]:
    """Calls whose thanks was sent while they are still `scheduled`: a process died between sending a batch's
    thank-yous and recording the calls they hold (one query over the scheduled calls, which are few)."""
    return list(
        session.scalars(
            select(Engagement.id).where(
                Engagement.status == EngagementStatus.SCHEDULED,
                exists().where(
                    Nudge.engagement_id == Engagement.id,
                    Nudge.kind == NudgeKind.THANKS,
                    Nudge.status == NudgeStatus.SENT,
                ),
            )
        )
    )
