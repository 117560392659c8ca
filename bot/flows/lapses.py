"""When time runs out or an ask can't reach its advocate: the ask ends uncounted or CS is told, in the outbox.

Each function is one unit of work's worth of meaning for a row the dispatcher holds; it returns whether the step
still applied (False: someone answered, moved or cancelled meanwhile, and nothing was written).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.flows import effects, outreach
from bot.text import day, mention, mrkdwn
from store.models import Advocate, Engagement, EngagementStatus, ReferenceRequest


def lapse_ask(*, session: Session, engagement_id: int, now: datetime) -> bool:
    """Four business days of silence: the ask lapses, CS hears it in the request's thread, with a fresh
    shortlist whose Ask buttons are live (both outbox rows, so a Slack failure is retried like any message)."""
    step = outreach.expire_ask(session=session, engagement_id=engagement_id, now=now)
    if step.won:
        effects.say(
            session,
            now,
            step.request.id,
            ":hourglass: *{}* didn't answer in 4 business days, so the ask lapsed "
            "(it doesn't count against them). Ask the next candidate from the shortlist below.",
            step.advocate.name,
        )
        effects.shortlist(session, now=now, request_id=step.request.id)
    return step.won


def checkin_missed(*, session: Session, engagement_id: int, request_id: int | None, now: datetime) -> bool:
    """The rep never logged the check-in, after the prompt and a reminder: CS hears it in the thread."""
    engagement = session.get(Engagement, engagement_id)
    request = session.get(ReferenceRequest, request_id) if request_id else None
    if (
        engagement is None
        or request is None
        or engagement.checkin_at is not None
        or engagement.status not in (EngagementStatus.SCHEDULED, EngagementStatus.HELD)
    ):
        return False
    advocate = session.get(Advocate, engagement.advocate_id)
    effects.say(
        session,
        now,
        request.id,
        ":speech_balloon: {} hasn't logged the check-in with {} after the call with {}{}, after "
        "a reminder. Could someone ask them how it went?",
        mention(request.rep_id),
        request.prospect_company,
        advocate.name if advocate else "the advocate",
        mrkdwn(" on {}", day(engagement.call_at)) if engagement.call_at else "",
    )
    return True


def ask_undeliverable(*, session: Session, engagement_id: int, reason: str, now: datetime) -> bool:
    """Slack refused the ask after every retry: nothing reached the advocate, so it ends uncounted and the
    shortlist is live again in CS's thread."""
    step = outreach.ask_undelivered(session=session, engagement_id=engagement_id, now=now)
    if step is None or not step.won:
        return False
    effects.say(
        session,
        now,
        step.request.id,
        ":warning: I couldn't deliver the ask to *{}* (Slack said `{}`), so nothing reached "
        "them and it doesn't count against them. The shortlist below is live again: "
        "ask them again or pick someone else.",
        step.advocate.name,
        reason,
    )
    effects.shortlist(session, now=now, request_id=step.request.id)
    return True
