"""After the call, the rep's side: the check-in with the prospect, a call that didn't happen, the deal's outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps, deps_of
from bot.flows import effects, followup, outreach
from bot.flows.audience import Brief
from bot.flows.records import RequestRecord
from bot.rules import learning
from bot.text import Mrkdwn, mention, money, mrkdwn
from handlers.engagements import (
    CHECKIN_REFUSED,
    NO_CALL_REFUSED,
    OUTCOME_REFUSED,
    clicked_step,
    load_step,
    rep_side,
    suggest_next_rung,
)
from handlers.errors import after_ack
from handlers.replies import tell
from modals import followup as views
from modals import kit
from modals.ids import Action, Callback, family
from modals.ids import Block as BlockId
from modals.outreach import render_for
from modals.rep_views import build_text_message

OUTCOME = family(Action.OUTCOME)


def register(app: App) -> None:
    app.action(Action.CHECKIN_LOG)(after_ack(handle_checkin_log))
    app.view(Callback.CHECKIN_FORM)(after_ack(handle_checkin_submission))
    app.action(Action.NO_CALL)(after_ack(handle_no_call))
    app.view(Callback.NO_CALL_FORM)(after_ack(handle_no_call_submission))
    app.action(OUTCOME)(after_ack(handle_outcome))
    app.view(Callback.OUTCOME_FORM)(after_ack(handle_outcome_submission))


def _replace_prompt(client: WebClient, body: dict[str, Any], text: str) -> None:
    """The prompt keeps its words and loses its buttons, so nobody answers it twice."""
    container = body.get("container") or {}
    if container.get("channel_id") and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=kit.notification(text),
            blocks=build_text_message(text),
        )


def handle_checkin_log(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = clicked_step(deps, client, body, respond, allowed=rep_side, refusal=CHECKIN_REFUSED)
    if step is None:
        return
    if step.engagement.checkin_at is not None:
        tell(client=client, body=body, respond=respond, text="The check-in is already logged. Thank you!")
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_checkin_modal(
            engagement_id=step.engagement.id, request=RequestRecord.of(step.request)
        ),
    )


def handle_checkin_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    answers = views.parse_checkin(view["state"]["values"])
    errors = {}
    if not answers["helpful"]:
        errors[BlockId.CHECKIN_HELPFUL] = "Please choose an answer."
    if not answers["concerns_addressed"]:
        errors[BlockId.CHECKIN_CONCERNS] = "Please choose an answer."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    user_id = body["user"]["id"]
    step = load_step(deps, views.engagement_of(view))
    if step is None or not rep_side(deps, client, user_id, step):
        ack(response_action="errors", errors={BlockId.CHECKIN_HELPFUL: CHECKIN_REFUSED})
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        step = followup.log_checkin(
            session=session, engagement_id=step.engagement.id, answers=answers, actor_id=user_id, now=now
        )
        if step.won:
            effects.say(
                session,
                now,
                step.request.id,
                ":speech_balloon: {} checked in with {}: helpful? *{}* · concerns addressed? *{}*{}",
                mention(user_id),
                step.request.prospect_company,
                answers["helpful"],
                answers["concerns_addressed"],
                _heard(answers),
            )
    ack()


def _heard(answers: dict[str, str]) -> Mrkdwn | str:
    """The check-in's own words (what they learned, suggestions), under its choices."""
    words = {k: v for k, v in answers.items() if k in ("learned", "suggestions")}
    what = learning.said_mrkdwn(words, learning.CHECKIN_QUESTIONS)
    return mrkdwn("\n{}", what) if what else ""


def handle_no_call(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = clicked_step(deps, client, body, respond, allowed=rep_side, refusal=NO_CALL_REFUSED)
    if step is None:
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_no_call_modal(
            engagement_id=step.engagement.id, request=RequestRecord.of(step.request)
        ),
    )


def handle_no_call_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    choice = views.choice(view["state"]["values"], BlockId.NO_CALL_CHOICE)
    if choice not in ("reschedule", "cancel"):
        ack(response_action="errors", errors={BlockId.NO_CALL_CHOICE: "Please choose one."})
        return
    user_id = body["user"]["id"]
    step = load_step(deps, views.engagement_of(view))
    if step is None or not rep_side(deps, client, user_id, step):
        ack(response_action="errors", errors={BlockId.NO_CALL_CHOICE: NO_CALL_REFUSED})
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        step = followup.call_did_not_happen(
            session=session,
            engagement_id=step.engagement.id,
            reschedule=choice == "reschedule",
            actor_id=user_id,
            now=now,
        )
        if step.won:
            _no_call(session, step, choice, user_id, now)
    if not step.won:
        ack(response_action="errors", errors={BlockId.NO_CALL_CHOICE: "This call was already changed."})
        return
    ack()


def _no_call(session: Session, step: outreach.Step, choice: str, user_id: str, now: datetime) -> None:
    request_id = step.request.id
    if choice == "reschedule":
        text, blocks = views.build_new_times_request(
            brief=Brief.of(step.request, step.advocate, step.engagement)
        )
        effects.post(
            session, now=now, to=step.engagement.asked_via, text=text, blocks=blocks, request_id=request_id
        )
        effects.say(
            session,
            now,
            request_id,
            ":repeat: The call with *{}* didn't happen; {} asked them for new times.",
            step.advocate.name,
            mention(user_id),
        )
    else:
        effects.say(
            session,
            now,
            request_id,
            ":heavy_multiplication_x: The call with *{}* didn't happen and won't: cancelled by {}, "
            "not counted as a reference. The request can ask someone else.",
            step.advocate.name,
            mention(user_id),
        )


def handle_outcome(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    step = clicked_step(deps, client, body, respond, allowed=rep_side, refusal=OUTCOME_REFUSED)
    if step is None:
        return
    verdict = OUTCOME.match(body["actions"][0]["action_id"]).group(1)
    if step.request.outcome:
        tell(
            client=client,
            body=body,
            respond=respond,
            text=mrkdwn("The outcome is already recorded: {}. Thank you!", step.request.outcome),
        )
        return
    if verdict == "won":
        client.views_open(
            trigger_id=body["trigger_id"],
            view=views.build_outcome_modal(
                engagement_id=step.engagement.id, request=RequestRecord.of(step.request)
            ),
        )
        return
    if verdict == "not_yet":
        with deps.db.unit_of_work() as session:
            due = followup.ask_outcome_again(
                session=session, engagement_id=step.engagement.id, now=deps.clock.now()
            )
        _replace_prompt(client, body, mrkdwn(":hourglass: Noted — I'll ask again around {:%d %b}.", due))
        return
    record(deps=deps, step=step, outcome="lost", final_arr=None, actor_id=user_id)
    _replace_prompt(
        client,
        body,
        mrkdwn(":memo: Recorded: {} was lost. Thanks for telling us.", step.request.prospect_company),
    )


def handle_outcome_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    parsed = views.parse_arr(view["state"]["values"])
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    user_id = body["user"]["id"]
    step = load_step(deps, views.engagement_of(view))
    if step is None or not rep_side(deps, client, user_id, step):
        ack(response_action="errors", errors={BlockId.OUTCOME_ARR: OUTCOME_REFUSED})
        return
    ack()
    record(deps=deps, step=step, outcome="won", final_arr=parsed, actor_id=user_id)


def record(*, deps: Deps, step: outreach.Step, outcome: str, final_arr: int | None, actor_id: str) -> None:
    """Every advocate on the request hears the outcome; a big win alerts CS to send a gift."""
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        result = followup.record_outcome(
            session=session,
            request_id=step.request.id,
            outcome=outcome,
            final_arr=final_arr,
            actor_id=actor_id,
            now=now,
        )
        if result.won:
            _tell_outcome(session, deps, step, result, outcome, final_arr, actor_id, now)
    if result.won and outcome == "won":
        why = mrkdwn("helped {} sign", result.request.prospect_company)
        for advocate in result.advocates:
            suggest_next_rung(deps, advocate.id, step.engagement.id, why)


def _tell_outcome(
    session: Session,
    deps: Deps,
    step: outreach.Step,
    result: followup.Outcome,
    outcome: str,
    final_arr: int | None,
    actor_id: str,
    now: datetime,
) -> None:
    request_id = result.request.id
    for advocate in result.advocates:
        recipient = outreach.recipient_of(advocate)
        text = render_for(
            "deal_won" if outcome == "won" else "deal_lost",
            Brief.of(result.request, advocate, step.engagement),
        )
        if recipient:
            effects.post(
                session,
                now=now,
                to=recipient,
                text=kit.notification(text),
                blocks=build_text_message(text),
                request_id=request_id,
            )
    reporter = mention(actor_id)
    summary = (
        mrkdwn(
            ":trophy: *{} signed* ({} ARR), reported by {}.",
            result.request.prospect_company,
            money(final_arr),
            reporter,
        )
        if outcome == "won"
        else mrkdwn(":memo: {} was lost (reported by {}).", result.request.prospect_company, reporter)
    )
    effects.note(session, now=now, request_id=request_id, text=summary)
    if outcome == "won" and (final_arr or 0) >= deps.settings.big_win_arr:
        # Formal recognition names them: in public only with their consent.
        names = (
            ", ".join(
                a.name
                if a.named_publicly and not a.private_only
                else f"{a.name} (privately: no public naming)"
                for a in result.advocates
            )
            or "the advocate"
        )
        effects.post(
            session,
            now=now,
            to=deps.settings.cs_channel_id,
            text=mrkdwn(
                ":gift: A big win: {} signed for {} ARR. Please send {} a gift or formal recognition.",
                result.request.prospect_company,
                money(final_arr),
                names,
            ),
            request_id=request_id,
        )
