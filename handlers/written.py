"""An email Q&A, the advocate's side: Yes, "Write my answers", and the answers modal's submission."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps, deps_of
from bot.flows import effects, outreach, written
from bot.flows.audience import Brief
from bot.text import mention, mrkdwn
from handlers.engagements import ADVOCATE_ONLY, advocate_click, advocate_side, load_step
from handlers.errors import after_ack
from handlers.replies import tell
from modals import kit
from modals import written as views
from modals.ids import Action, Callback
from store.models import EngagementStatus

ALREADY_SENT = "Your answers were already sent. Thank you!"
ENDED = "This reference was cancelled or has ended: there is nothing to answer any more."


def register(app: App) -> None:
    app.action(Action.WRITE_ANSWERS)(after_ack(handle_write_answers))
    app.view(Callback.ANSWERS_FORM)(after_ack(handle_answers_submission))


def said_yes(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, step: outreach.Step
) -> None:
    """Yes to an email Q&A (from handle_ask_yes, after its ack): recorded once, then the questions open."""
    if step.engagement.status == EngagementStatus.ASKED:
        now = deps.clock.now()
        with deps.db.unit_of_work() as session:
            step = written.accept(
                session=session, engagement_id=step.engagement.id, actor_id=body["user"]["id"], now=now
            )
            if step.won:
                _accepted(session, step, now)
    if step.engagement.status != EngagementStatus.ACCEPTED:
        said = ALREADY_SENT if step.engagement.status == EngagementStatus.HELD else ENDED
        tell(client=client, body=body, respond=respond, text=said)
        return
    # A second click (or the reminder's Yes) opens the questions again: nothing is recorded twice.
    brief = Brief.of(step.request, step.advocate, step.engagement)
    client.views_open(trigger_id=body["trigger_id"], view=views.build_answers_modal(brief=brief))


def _accepted(session: Session, step: outreach.Step, now: datetime) -> None:
    """The ask becomes "Write my answers"; the rep hears the yes (PROGRAM.md: only after it), CS's thread too."""
    brief = Brief.of(step.request, step.advocate, step.engagement)
    text, blocks = views.build_accepted(brief=brief, on_slack=bool(step.advocate.slack_user_id))
    effects.update(
        session,
        now=now,
        text=text,
        blocks=blocks,
        engagement_id=step.engagement.id,
        request_id=step.request.id,
    )
    effects.dm(
        session,
        now=now,
        users=[step.request.rep_id],
        text=mrkdwn(
            ":white_check_mark: *{}* ({}) said yes to answering {}'s questions in writing (request #{}). "
            "Their answers will come to you here, to pass on: no call to schedule.",
            step.advocate.name,
            step.advocate.company,
            step.request.prospect_company,
            step.request.id,
        ),
        request_id=step.request.id,
        engagement_id=step.engagement.id,
    )
    effects.say(
        session,
        now,
        step.request.id,
        ":white_check_mark: *{}* said yes to the email Q&A; their written answers go to {}.",
        step.advocate.name,
        mention(step.request.rep_id),
    )


def handle_write_answers(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = advocate_click(deps, client, body, respond)
    if step is None:
        return
    if step.engagement.status != EngagementStatus.ACCEPTED or not written.is_written(step.engagement):
        said = ALREADY_SENT if step.engagement.status == EngagementStatus.HELD else ENDED
        tell(client=client, body=body, respond=respond, text=said)
        return
    brief = Brief.of(step.request, step.advocate, step.engagement)
    client.views_open(trigger_id=body["trigger_id"], view=views.build_answers_modal(brief=brief))


def handle_answers_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    view_id = str(view.get("id") or "")
    step = load_step(deps, views.engagement_id_of(view))
    first = views.answer_block_id(1)
    if step is None or not advocate_side(deps, client, user_id, step):
        ack(response_action="errors", errors={first: ADVOCATE_ONLY if step else ENDED})
        return
    if step.engagement.source_view_id and step.engagement.source_view_id == view_id:
        ack()  # the same submission again (a double click, Slack's retry): it was sent once
        return
    brief = Brief.of(step.request, step.advocate, step.engagement)
    parsed = views.parse_answers(view["state"]["values"], brief.prospect.questions)
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        step = written.send_answers(
            session=session,
            engagement_id=step.engagement.id,
            answers=parsed,
            view_id=view_id,
            actor_id=user_id,
            appreciation_threshold=deps.settings.appreciation_threshold,
            cs_channel=deps.settings.cs_channel_id,
            now=now,
        )
        if step.won:
            _sent(session, step, parsed, now)
    if step.won or step.engagement.source_view_id == view_id:
        ack()
        return
    said = ALREADY_SENT if step.engagement.status == EngagementStatus.HELD else ENDED
    ack(response_action="errors", errors={first: said})


def _sent(session: Session, step: outreach.Step, answers: list[written.Answer], now: datetime) -> None:
    """The rep gets the answers to pass on; the ask's message says they went; CS's thread hears it."""
    request, advocate = step.request, step.advocate
    contact = (
        f"{request.contact_name}, their {request.contact_role}"
        if request.contact_name
        else request.contact_role
    )
    text, blocks = views.build_answers_for_rep(
        advocate=advocate.name,
        advocate_title=advocate.title,
        advocate_company=advocate.company,
        request_id=request.id,
        prospect=request.prospect_company,
        contact=contact,
        answers=answers,
    )
    effects.post(
        session,
        now=now,
        to=request.rep_id,
        text=kit.notification(text),
        blocks=blocks,
        request_id=request.id,
        engagement_id=step.engagement.id,
    )
    brief = Brief.of(request, advocate, step.engagement)
    sent_text, sent_blocks = views.build_sent(brief=brief)
    effects.update(
        session,
        now=now,
        text=sent_text,
        blocks=sent_blocks,
        engagement_id=step.engagement.id,
        request_id=request.id,
    )
    effects.say(
        session,
        now,
        request.id,
        ":memo: *{}* sent written answers to {} ({} of {} question{}): {} has them to pass on.",
        advocate.name,
        request.prospect_company,
        len(answers),
        len(brief.prospect.questions),
        "" if len(brief.prospect.questions) == 1 else "s",
        mention(request.rep_id),
    )
