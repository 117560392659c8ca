"""An email Q&A (PROGRAM.md "Kinds of reference": low effort, async): the advocate says yes and writes answers to
the prospect's key questions; nothing is scheduled. Each step a conditional update, its messages planned as rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.flows import followup, outreach
from bot.rules import nudges
from bot.rules.nudges import Planned
from bot.rules.questions import answered_in_writing, key_questions
from store import lifecycle
from store.models import Engagement, EngagementStatus


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str


def is_written(engagement: Engagement) -> bool:
    return answered_in_writing(engagement.kind)


def questions_of(step: outreach.Step) -> list[str]:
    """The prospect's key questions, from the request's concerns (shareable with the advocate)."""
    return key_questions(step.request.contact_concerns)


def accept(*, session: Session, engagement_id: int, actor_id: str, now: datetime) -> outreach.Step:
    """The advocate said yes: the ask's reminder and lapse stop, a reminder about the answers is planned."""
    engagement = session.get(Engagement, engagement_id)
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=outreach.ASKING,
        to_status=EngagementStatus.ACCEPTED,
        changes={
            "answered_at": now,
            "reply_seconds": int((now - engagement.asked_at).total_seconds())
            if engagement.asked_at
            else None,
        },
    )
    step = outreach._step(session, engagement_id, won)
    if won:
        _moved_on(
            session,
            step,
            planned=nudges.answers_plan(
                engagement_id=engagement_id, accepted_at=now, recipient=outreach.recipient_of(step.advocate)
            ),
            actor_id=actor_id,
            action="advocate_accepted",
            detail={"engagement_id": engagement_id, "written": True},
            now=now,
        )
    return step


def send_answers(
    *,
    session: Session,
    engagement_id: int,
    answers: list[Answer],
    view_id: str,
    actor_id: str,
    appreciation_threshold: int,
    cs_channel: str,
    now: datetime,
) -> outreach.Step:
    """The answers are in: the reference is given (held, dated now, so it counts where every held reference
    counts), the reminder stops, and the thanks, the feedback and the deal's outcome are planned."""
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=(EngagementStatus.ACCEPTED,),
        to_status=EngagementStatus.HELD,
        changes={
            "written_answers": [{"question": a.question, "answer": a.answer} for a in answers],
            "answers_at": now,
            "source_view_id": view_id[:40],
            "held_at": now,
        },
    )
    step = outreach._step(session, engagement_id, won)
    if not won:
        return step
    _moved_on(
        session,
        step,
        planned=nudges.written_plan(
            engagement_id=engagement_id,
            answered_at=now,
            advocate=outreach.recipient_of(step.advocate),
            rep=step.request.rep_id,
            close_date=step.request.close_date,
        ),
        actor_id=actor_id,
        action="answers_sent",
        detail={"engagement_id": engagement_id, "advocate_id": step.advocate.id, "answers": len(answers)},
        now=now,
    )
    followup.plan_appreciations(
        session=session,
        advocate_ids=[step.advocate.id],
        threshold=appreciation_threshold,
        cs_channel=cs_channel,
        now=now,
    )
    return step


def _moved_on(
    session: Session,
    step: outreach.Step,
    *,
    planned: list[Planned],
    actor_id: str,
    action: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """The engagement took a step: the last step's nudges give way to this one's, and the trail says so."""
    engagement_id = step.engagement.id
    lifecycle.cancel_nudges(session=session, engagement_id=engagement_id)
    lifecycle.plan_nudges(
        session=session, planned=planned, engagement_id=engagement_id, request_id=step.request.id, now=now
    )
    lifecycle.add_event(
        session=session, request_id=step.request.id, at=now, actor_id=actor_id, action=action, detail=detail
    )
