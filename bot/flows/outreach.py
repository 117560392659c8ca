"""Asking the advocate and scheduling the call (PROGRAM.md): each step a conditional update, nudges planned as rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import RefdeskError
from bot.flows import effects
from bot.rules import nudges
from store import lifecycle
from store.models import Advocate, Engagement, EngagementStatus, ReferenceRequest, RequestStatus

CALL_MINUTES = 20  # PROGRAM.md: the ask names 15–20 minutes
ASKING = (EngagementStatus.ASKED,)
UNDELIVERED = "ask never delivered"


class AlreadyEngaged(RefdeskError):
    def __init__(self, name: str, request_id: int) -> None:
        super().__init__(f"{name} was already asked for request #{request_id}: pick someone else.")


@dataclass(frozen=True)
class Step:
    """The result of trying to move an engagement on: `won` is False when it had already moved."""

    won: bool
    engagement: Engagement
    advocate: Advocate
    request: ReferenceRequest


def _step(session: Session, engagement_id: int, won: bool) -> Step:
    engagement = session.get(Engagement, engagement_id)
    session.refresh(engagement)
    request = session.get(ReferenceRequest, engagement.request_id)
    session.refresh(request)
    return Step(
        won=won,
        engagement=engagement,
        advocate=session.get(Advocate, engagement.advocate_id),
        request=request,
    )


def load(*, session: Session, engagement_id: int) -> Step | None:
    engagement = session.get(Engagement, engagement_id)
    if engagement is None or engagement.request_id is None:
        return None
    return _step(session, engagement_id, won=True)


def recipient_of(advocate: Advocate) -> str:
    """Who hears the advocate's messages: the advocate on Slack Connect, else their account's CS owner."""
    return advocate.slack_user_id or advocate.owner_slack_user_id or ""


def ask(
    *, session: Session, request: ReferenceRequest, advocate: Advocate, actor_id: str, now: datetime
) -> Step:
    """Open the one ask a request may have at a time, and plan its reminder and expiry."""
    won = lifecycle.transition_request(
        session=session,
        request_id=request.id,
        from_status=RequestStatus.APPROVED,
        to_status=RequestStatus.APPROVED,
        changes={"active_advocate_id": advocate.id},
        now=now,
        extra_condition=ReferenceRequest.active_advocate_id.is_(None),
    )
    if not won:
        session.refresh(request)
        current = lifecycle.open_engagement_for_request(session=session, request_id=request.id)
        if current is None:
            raise RefdeskError(
                f"Request #{request.id} is {request.status.replace('_', ' ')}: nobody can be asked."
            )
        return _step(session, current.id, won=False)
    undelivered = session.scalars(
        select(Engagement).where(
            Engagement.request_id == request.id,
            Engagement.advocate_id == advocate.id,
            Engagement.ended_reason == UNDELIVERED,
        )
    ).first()
    if undelivered is not None:
        # Asked again after an ask that never reached them: the same engagement opens afresh.
        undelivered.status, undelivered.ended_reason = EngagementStatus.ASKED, None
        undelivered.chosen_by, undelivered.asked_at = actor_id, now
        undelivered.prospect_key = request.prospect_key
        undelivered.ask_channel = undelivered.ask_ts = None
        undelivered.asked_via = recipient_of(advocate)
        session.flush()
        _asked(session, request, advocate, undelivered, actor_id, now)
        return _step(session, undelivered.id, won=True)
    engagement = Engagement(
        advocate_id=advocate.id,
        request_id=request.id,
        kind=request.wanted_kind,
        status=EngagementStatus.ASKED,
        **lifecycle.prospect_of(request),
        chosen_by=actor_id,
        asked_at=now,
        asked_via=recipient_of(advocate),
        call_minutes=CALL_MINUTES,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(engagement)
    except IntegrityError:
        raise AlreadyEngaged(advocate.name, request.id) from None
    _asked(session, request, advocate, engagement, actor_id, now)
    return _step(session, engagement.id, won=True)


def _asked(
    session: Session,
    request: ReferenceRequest,
    advocate: Advocate,
    engagement: Engagement,
    actor_id: str,
    now: datetime,
) -> None:
    """The ask goes out through the outbox; its reminder and lapse are planned when it is delivered."""
    effects.enqueue(
        session,
        effects.Fx.ASK,
        now=now,
        recipient=engagement.asked_via or "",
        request_id=request.id,
        engagement_id=engagement.id,
        payload={"actor": actor_id},
    )
    lifecycle.add_event(
        session=session,
        request_id=request.id,
        at=now,
        actor_id=actor_id,
        action="advocate_asked",
        detail={"advocate_id": advocate.id, "engagement_id": engagement.id},
    )


def record_ask_message(*, session: Session, engagement_id: int, channel: str, ts: str) -> None:
    engagement = session.get(Engagement, engagement_id)
    if engagement is not None:
        engagement.ask_channel, engagement.ask_ts = channel, ts


def free_request(session: Session, engagement: Engagement, now: datetime) -> None:
    """The request may ask someone else: its one open engagement has ended."""
    lifecycle.transition_request(
        session=session,
        request_id=engagement.request_id,
        from_status=RequestStatus.APPROVED,
        to_status=RequestStatus.APPROVED,
        changes={"active_advocate_id": None},
        now=now,
        extra_condition=ReferenceRequest.active_advocate_id == engagement.advocate_id,
    )


def _ended(session: Session, engagement: Engagement, *, actor_id: str, action: str, now: datetime) -> None:
    """The engagement ended: its nudges are cancelled, the request may ask someone else, the trail says why."""
    lifecycle.cancel_nudges(session=session, engagement_id=engagement.id)
    free_request(session, engagement, now)
    lifecycle.add_event(
        session=session,
        request_id=engagement.request_id,
        at=now,
        actor_id=actor_id,
        action=action,
        detail={"engagement_id": engagement.id},
    )


def _reply_seconds(engagement: Engagement, now: datetime) -> int | None:
    return int((now - engagement.asked_at).total_seconds()) if engagement.asked_at else None


def decline_ask(*, session: Session, engagement_id: int, actor_id: str, now: datetime) -> Step:
    """ "Not this time": only the pass is counted; the request is free for the next candidate."""
    engagement = session.get(Engagement, engagement_id)
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=ASKING,
        to_status=EngagementStatus.PASSED,
        changes={
            "answered_at": now,
            "reply_seconds": _reply_seconds(engagement, now),
            "ended_reason": "passed",
        },
    )
    if won:
        _ended(session, engagement, actor_id=actor_id, action="advocate_passed", now=now)
    return _step(session, engagement_id, won)


def propose_times(
    *,
    session: Session,
    engagement_id: int,
    times: list[datetime],
    call_format: str,
    actor_id: str,
    now: datetime,
) -> Step:
    """The advocate said yes (or offers new times on a reschedule); the rep picks one next."""
    engagement = session.get(Engagement, engagement_id)
    first_answer = engagement.status == EngagementStatus.ASKED
    changes: dict[str, object] = {
        "proposed_times": [t.isoformat() for t in times],
        "call_format": call_format,
        "call_at": None,
    }
    if first_answer:
        changes.update(answered_at=now, reply_seconds=_reply_seconds(engagement, now))
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=(EngagementStatus.ASKED, EngagementStatus.ACCEPTED, EngagementStatus.SCHEDULED),
        to_status=EngagementStatus.ACCEPTED,
        changes=changes,
    )
    if won:
        lifecycle.cancel_nudges(session=session, engagement_id=engagement_id)
        lifecycle.add_event(
            session=session,
            request_id=engagement.request_id,
            at=now,
            actor_id=actor_id,
            action="advocate_accepted" if first_answer else "call_rescheduling",
            detail={"engagement_id": engagement_id, "times": changes["proposed_times"]},
        )
    return _step(session, engagement_id, won)


def pick_time(
    *, session: Session, engagement_id: int, call_at: datetime, actor_id: str, now: datetime
) -> Step:
    """The rep's pick confirms the call; everything around it is planned."""
    engagement = session.get(Engagement, engagement_id)
    if call_at.isoformat() not in engagement.proposed_times:
        return _step(session, engagement_id, won=False)
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=(EngagementStatus.ACCEPTED,),
        to_status=EngagementStatus.SCHEDULED,
        changes={"call_at": call_at},
    )
    step = _step(session, engagement_id, won)
    if won:
        planned = nudges.call_plan(
            engagement_id=engagement_id,
            call_at=call_at,
            minutes=step.engagement.call_minutes or CALL_MINUTES,
            advocate=recipient_of(step.advocate),
            rep=step.request.rep_id,
            close_date=step.request.close_date,
            now=now,
        )
        lifecycle.plan_nudges(
            session=session, planned=planned, engagement_id=engagement_id, request_id=step.request.id, now=now
        )
        lifecycle.add_event(
            session=session,
            request_id=step.request.id,
            at=now,
            actor_id=actor_id,
            action="call_scheduled",
            detail={"engagement_id": engagement_id, "at": call_at.isoformat()},
        )
    return step


def cancel_call(*, session: Session, engagement_id: int, actor_id: str, now: datetime) -> Step:
    """Called off before it happened: nothing more is sent, and the request may ask someone else."""
    engagement = session.get(Engagement, engagement_id)
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=(EngagementStatus.ASKED, EngagementStatus.ACCEPTED, EngagementStatus.SCHEDULED),
        to_status=EngagementStatus.CANCELLED,
        changes={"ended_reason": f"cancelled by {actor_id}"},
    )
    if won:
        _ended(session, engagement, actor_id=actor_id, action="call_cancelled", now=now)
    return _step(session, engagement_id, won)


def expire_ask(*, session: Session, engagement_id: int, now: datetime) -> Step:
    """Four business days of silence: the ask lapses, without counting against the advocate."""
    engagement = session.get(Engagement, engagement_id)
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=ASKING,
        to_status=EngagementStatus.EXPIRED,
        changes={"ended_reason": "no answer"},
    )
    if won:
        _ended(session, engagement, actor_id="refdesk", action="ask_expired", now=now)
    return _step(session, engagement_id, won)


def ask_undelivered(*, session: Session, engagement_id: int, now: datetime) -> Step | None:
    """The ask never reached the advocate after every retry: it ends, uncounted, and the request is free again."""
    engagement = session.get(Engagement, engagement_id)
    if engagement is None or engagement.request_id is None:
        return None
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=ASKING,
        to_status=EngagementStatus.CANCELLED,
        # Never reached them, so it was never an ask: no recency, no "already asked for this prospect".
        changes={"ended_reason": UNDELIVERED, "asked_at": None, "prospect_key": ""},
    )
    if won:
        _ended(session, engagement, actor_id="refdesk", action="ask_undelivered", now=now)
    return _step(session, engagement_id, won)
