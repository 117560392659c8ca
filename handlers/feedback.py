"""After the call, the advocate's side: their rating, and "Tell us more" (a Not great reaches CS at once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps, deps_of
from bot.flows import effects, followup, outreach
from bot.flows.audience import Brief
from bot.rules import learning
from bot.text import mention, mrkdwn
from handlers.engagements import (
    ADVOCATE_ONLY,
    advocate_click,
    advocate_side,
    load_step,
    suggest_next_rung,
)
from handlers.errors import after_ack
from handlers.replies import tell
from modals import followup as views
from modals import kit
from modals.ids import Action, Callback, family
from modals.ids import Block as BlockId
from modals.rep_views import build_text_message

RATING = family(Action.FEEDBACK_RATE)


def register(app: App) -> None:
    app.action(RATING)(after_ack(handle_feedback_rating))
    app.action(Action.FEEDBACK_MORE)(after_ack(handle_feedback_more))
    app.view(Callback.FEEDBACK_FORM)(after_ack(handle_feedback_submission))


def _suggest_after_rating(deps: Deps, step: outreach.Step, rating: str) -> None:
    if rating == "great":
        why = mrkdwn("rated the call with {} *Great*", step.request.prospect_company)
        suggest_next_rung(deps, step.advocate.id, step.engagement.id, why)


def _after_rating(
    session: Session, step: outreach.Step, rating: str, now: datetime, answers: dict[str, str] | None = None
) -> None:
    """A "not great" call reaches CS's thread, in the rating's own transaction, with what was said."""
    if rating != "not_great":
        return
    owner = step.advocate.owner_slack_user_id
    what = learning.said_mrkdwn(answers, learning.FEEDBACK_QUESTIONS)
    effects.say(
        session,
        now,
        step.request.id,
        ":rotating_light: *{}* said the call with {} was *not great*. Please reach out to them{}.{}",
        step.advocate.name,
        step.request.prospect_company,
        mrkdwn(" ({})", mention(owner)) if owner else "",
        mrkdwn("\nWhat they said:\n{}", what) if what else "",
    )


def _told_us_more(session: Session, step: outreach.Step, answers: dict[str, str], now: datetime) -> None:
    """The advocate's "Tell us more" in the request's thread, where CS learns from it (same transaction)."""
    what = learning.said_mrkdwn(answers, learning.FEEDBACK_QUESTIONS)
    if what:
        effects.say(
            session,
            now,
            step.request.id,
            ":memo: *{}* told us more about the call with {}:\n{}",
            step.advocate.name,
            step.request.prospect_company,
            what,
        )


def handle_feedback_rating(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = advocate_click(deps, client, body, respond)
    if step is None:
        return
    rating = RATING.match(body["actions"][0]["action_id"]).group(1)
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        first, step = followup.rate(
            session=session, engagement_id=step.engagement.id, rating=rating, answers=None, now=now
        )
        if first:
            _after_rating(session, step, rating, now)
    if not first:
        tell(client=client, body=body, respond=respond, text="You already told us — thank you!")
        return
    _suggest_after_rating(deps, step, rating)
    thanks = mrkdwn(
        ":pray: Thank you! You said *{}*. If you have a minute, “Tell us more” helps us ask better.",
        views.RATING_LABELS[rating],
    )
    container = body.get("container") or {}
    if container.get("channel_id") and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=kit.notification(thanks),
            blocks=[*build_text_message(thanks), views.more_only(step.engagement.id)],
        )


def handle_feedback_more(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = advocate_click(deps, client, body, respond)
    if step is None:
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_feedback_modal(
            brief=Brief.of(step.request, step.advocate, step.engagement),
            rating=step.engagement.feedback_rating,
        ),
    )


def handle_feedback_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    parsed = views.parse_feedback(view["state"]["values"])
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    step = load_step(deps, views.engagement_of(view))
    if step is None or not advocate_side(deps, client, body["user"]["id"], step):
        ack(response_action="errors", errors={BlockId.FEEDBACK_RATING: ADVOCATE_ONLY})
        return
    rating, answers = parsed
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        first, step = followup.rate(
            session=session, engagement_id=step.engagement.id, rating=rating, answers=answers, now=now
        )
        if first:
            _after_rating(session, step, rating, now, answers)
        if answers and not (first and rating == "not_great"):  # a Not great alert already carries them
            _told_us_more(session, step, answers, now)
    ack()
    if first:
        _suggest_after_rating(deps, step, rating)
