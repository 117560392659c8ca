"""The ask and the scheduling: Yes / Not this time, times, the rep's pick, reschedule and cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.delivery.calendar import invite
from bot.deps import deps_of
from bot.flows import effects, outreach, written
from bot.flows.audience import Brief
from bot.text import mention, mrkdwn
from handlers.engagements import (
    CANCEL_REFUSED,
    MOVE_REFUSED,
    PICK_REFUSED,
    TIMES_REFUSED,
    advocate_click,
    clicked_step,
    either_side,
    load_step,
    rep_side,
)
from handlers.errors import after_ack
from handlers.guard import refuse_unreadable
from handlers.replies import tell
from handlers.written import said_yes
from modals import kit
from modals import outreach as views
from modals.ids import Action, Callback, family
from modals.ids import Block as BlockId
from modals.rep_views import build_text_message
from store.models import EngagementStatus


def register(app: App) -> None:
    app.action(Action.ASK_YES)(after_ack(handle_ask_yes))
    app.action(Action.ASK_NO)(after_ack(handle_ask_no))
    app.view(Callback.TIMES_FORM)(after_ack(handle_times_submission))
    app.action(family(Action.PICK_TIME))(after_ack(handle_pick_time))
    app.action(Action.RESCHEDULE)(after_ack(handle_reschedule))
    app.action(Action.CANCEL_CALL)(after_ack(handle_cancel_call))


def handle_ask_yes(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = advocate_click(deps, client, body, respond)
    if step is None:
        return
    if written.is_written(step.engagement):
        said_yes(deps, client, body, respond, step)  # an email Q&A: no times, the questions instead
        return
    if step.engagement.status != EngagementStatus.ASKED:
        tell(client=client, body=body, respond=respond, text="This ask was already answered. Thank you!")
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_times_modal(
            brief=Brief.of(step.request, step.advocate, step.engagement), rescheduling=False
        ),
    )


def handle_ask_no(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    step = advocate_click(deps, client, body, respond)
    if step is None:
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        step = outreach.decline_ask(
            session=session, engagement_id=step.engagement.id, actor_id=user_id, now=now
        )
        if step.won:
            thanks = views.render_for("ask_passed", Brief.of(step.request, step.advocate, step.engagement))
            effects.update(
                session,
                now=now,
                text=kit.notification(thanks),
                blocks=build_text_message(thanks),
                engagement_id=step.engagement.id,
                request_id=step.request.id,
            )
            effects.say(
                session,
                now,
                step.request.id,
                ":leftwards_arrow_with_hook: *{}* said not this time. "
                "The shortlist below is up to date: ask the next candidate.",
                step.advocate.name,
            )
            effects.shortlist(session, now=now, request_id=step.request.id)
    if not step.won:
        tell(client=client, body=body, respond=respond, text="This ask was already answered. Thank you!")


def handle_times_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    now = deps.clock.now()
    parsed = views.parse_times(view["state"]["values"], now=now)
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    step = load_step(deps, views.engagement_id_of(view))
    if step is None or not either_side(deps, client, user_id, step):
        refused = TIMES_REFUSED if step else "This reference no longer exists: please close this form."
        ack(response_action="errors", errors={BlockId.TIME_1: refused})
        return
    times, call_format = parsed
    was_scheduled = step.engagement.status == EngagementStatus.SCHEDULED
    with deps.db.unit_of_work() as session:
        step = outreach.propose_times(
            session=session,
            engagement_id=step.engagement.id,
            times=times,
            call_format=call_format,
            actor_id=user_id,
            now=now,
        )
        if step.won:
            _times_proposed(session, step, was_scheduled, now)
    if not step.won:
        ack(response_action="errors", errors={BlockId.TIME_1: "This reference was cancelled or has ended."})
        return
    ack()


def _times_proposed(session: Session, step: outreach.Step, was_scheduled: bool, now: datetime) -> None:
    """The advocate's answer replaces the ask, the rep gets the times to pick from, CS's thread hears it."""
    request_id = step.request.id
    if not was_scheduled:
        answered = mrkdwn(
            ":white_check_mark: Thank you! I've passed your times to {}, "
            "who will confirm one with the prospect. You'll get an invite.",
            mention(step.request.rep_id),
        )
        effects.update(
            session,
            now=now,
            text=answered,
            blocks=build_text_message(answered),
            engagement_id=step.engagement.id,
            request_id=request_id,
        )
    # Rendered when sent: the buttons read the times in the rep's own zone, looked up off the ack path.
    effects.enqueue(
        session,
        effects.Fx.POST,
        now=now,
        recipient=step.request.rep_id,
        request_id=request_id,
        engagement_id=step.engagement.id,
        payload={"render": effects.TIMES_FOR_REP},
    )
    verb = "offered new times" if was_scheduled else "said yes"
    effects.say(
        session,
        now,
        request_id,
        ":white_check_mark: *{}* {}; {} is picking a time.",
        step.advocate.name,
        verb,
        mention(step.request.rep_id),
    )


def _picked_time(value: str) -> datetime | None:
    """A time button's value is "engagement id:ISO instant" (None when it is not)."""
    try:
        picked = datetime.fromisoformat(value.split(":", 1)[1])
    except (IndexError, ValueError):
        return None
    return picked if picked.tzinfo is not None else None


def handle_pick_time(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    step = clicked_step(deps, client, body, respond, allowed=rep_side, refusal=PICK_REFUSED)
    if step is None:
        return
    call_at = _picked_time(body["actions"][0].get("value") or "")
    if call_at is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    now = deps.clock.now()
    container = body.get("container") or {}
    with deps.db.unit_of_work() as session:
        step = outreach.pick_time(
            session=session, engagement_id=step.engagement.id, call_at=call_at, actor_id=user_id, now=now
        )
        if step.won:
            if container.get("channel_id") and container.get("message_ts"):
                effects.update(
                    session,
                    now=now,
                    channel=container["channel_id"],
                    ts=container["message_ts"],
                    text=mrkdwn("Confirmed: {}", views.when(call_at)),
                    blocks=views.build_status_line(
                        mrkdwn(":white_check_mark: You picked {}.", views.when(call_at))
                    ),
                    request_id=step.request.id,
                )
            confirm(session=session, step=step, now=now)
            effects.say(
                session,
                now,
                step.request.id,
                ":calendar: Call scheduled: *{}* × {}, {}.",
                step.advocate.name,
                step.request.prospect_company,
                views.when(call_at),
            )
    if not step.won:
        tell(
            client=client,
            body=body,
            respond=respond,
            text="That time is no longer open: the call was already confirmed, moved or cancelled.",
        )


def confirm(*, session: Session, step: outreach.Step, now: datetime) -> None:
    """Both sides get the confirmation, then the calendar invite in its thread (once the confirmation is in)."""
    brief = Brief.of(step.request, step.advocate, step.engagement)
    text, blocks = views.build_confirmation(brief=brief)
    ics = invite(brief=brief, now=now).decode()
    for user in dict.fromkeys([step.engagement.asked_via, step.request.rep_id]):
        effects.post(
            session,
            now=now,
            to=user,
            text=text,
            blocks=blocks,
            request_id=step.request.id,
            engagement_id=step.engagement.id,
            then={"ics": ics},
        )


def handle_reschedule(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    step = clicked_step(deps, client, body, respond, allowed=either_side, refusal=MOVE_REFUSED)
    if step is None:
        return
    if step.engagement.status not in (EngagementStatus.SCHEDULED, EngagementStatus.ACCEPTED):
        tell(
            client=client,
            body=body,
            respond=respond,
            text="This call can't be moved any more: it was cancelled or has happened.",
        )
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_times_modal(
            brief=Brief.of(step.request, step.advocate, step.engagement), rescheduling=True
        ),
    )


def handle_cancel_call(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    step = clicked_step(deps, client, body, respond, allowed=either_side, refusal=CANCEL_REFUSED)
    if step is None:
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        step = outreach.cancel_call(
            session=session, engagement_id=step.engagement.id, actor_id=user_id, now=now
        )
        if step.won:
            text = mrkdwn(
                ":heavy_multiplication_x: The reference call between *{}* and {} is cancelled (by {}). "
                "Nothing more will be sent about it.",
                step.advocate.name,
                step.request.prospect_company,
                mention(user_id),
            )
            for user in dict.fromkeys([step.engagement.asked_via, step.request.rep_id]):
                effects.post(session, now=now, to=user, text=text, request_id=step.request.id)
            effects.note(
                session, now=now, request_id=step.request.id, text=text + " The request can ask someone else."
            )
    if not step.won:
        tell(client=client, body=body, respond=respond, text="This call was already cancelled or has ended.")
