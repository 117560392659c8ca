"""The advocate's own controls, the welcome's written yes, and the rep's meeting link.

Every answer reaches CS where they work: in the request's thread when there is one, else the CS channel;
and it is written on the advocate's pool entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot.deps import Deps, deps_of
from bot.flows import advocate_side, effects, outreach
from bot.flows.records import AdvocateRecord
from bot.rules.vocabulary import AdvocateKind, label_of
from bot.text import Mrkdwn, link, mention, mrkdwn, valid_link
from handlers.engagements import either_side, load_step
from handlers.errors import after_ack
from handlers.guard import refuse_unreadable
from handlers.replies import tell
from modals import advocate_side as views
from modals import kit
from modals.ids import Action, Callback
from modals.ids import Block as BlockId
from store.models import Advocate, EngagementStatus

log = logging.getLogger(__name__)
NOT_YOURS = "Only the advocate (or their account's CS owner, or CS) can change this."
GONE = "I can't find that advocate any more."


def register(app: App) -> None:
    app.action(Action.PAUSE_ME)(after_ack(handle_pause_click))
    app.view(Callback.PAUSE_FORM)(after_ack(handle_pause_submission))
    app.action(Action.HAPPY_TO_DO)(after_ack(handle_happy_click))
    app.view(Callback.HAPPY_FORM)(after_ack(handle_happy_submission))
    app.action(Action.CS_JOIN)(after_ack(handle_cs_join))
    app.action(Action.WRITTEN_YES)(after_ack(handle_written_yes))
    app.action(Action.MEETING_LINK)(after_ack(handle_meeting_link_click))
    app.view(Callback.MEETING_LINK_FORM)(after_ack(handle_meeting_link_submission))


# --- who may, and where CS hears it ----------------------------------------------------------------
def _theirs(deps: Deps, client: WebClient, user_id: str, advocate: Advocate) -> bool:
    own = {advocate.slack_user_id, advocate.owner_slack_user_id} - {None, ""}
    return user_id in own or deps.cs_team.is_cs(client, user_id)


def _load(deps: Deps, advocate_id: int | None) -> Advocate | None:
    if advocate_id is None:
        return None
    with deps.db.unit_of_work() as session:
        return session.get(Advocate, advocate_id)


def tell_cs(session: Session, *, deps: Deps, engagement_id: int | None, text: Mrkdwn) -> None:
    advocate_side.tell_cs(
        session,
        now=deps.clock.now(),
        cs_channel_id=deps.settings.cs_channel_id,
        engagement_id=engagement_id,
        text=text,
    )


def _clicked(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond
) -> tuple[Advocate, int | None] | None:
    """(advocate, engagement id or None) a control is about, when the clicker may act for that advocate."""
    parsed = views.parse_control(body["actions"][0].get("value"))
    if parsed is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return None
    kind, number = parsed
    engagement_id = number if kind == "e" else None
    if engagement_id is not None:
        step = load_step(deps, engagement_id)
        advocate = step.advocate if step else None
    else:
        advocate = _load(deps, number)
    if advocate is None:
        tell(client=client, body=body, respond=respond, text=GONE)
        return None
    if not _theirs(deps, client, body["user"]["id"], advocate):
        tell(client=client, body=body, respond=respond, text=NOT_YOURS)
        return None
    return advocate, engagement_id


def _open_for_clicked(
    deps: Deps,
    client: WebClient,
    body: dict[str, Any],
    respond: Respond,
    build: Callable[..., View],
) -> None:
    """A control that opens a form about the advocate: the form, when the clicker may act for them."""
    clicked = _clicked(deps, client, body, respond)
    if clicked is None:
        return
    advocate, engagement_id = clicked
    client.views_open(
        trigger_id=body["trigger_id"],
        view=build(advocate=AdvocateRecord.of(advocate), engagement_id=engagement_id),
    )


def _submitted_for(
    deps: Deps, ack: Ack, client: WebClient, user_id: str, view: dict[str, Any], block: str
) -> tuple[Advocate, int | None] | None:
    """(advocate, engagement id or None) a form was submitted about, when the submitter may act for them;
    else the refusal is acked on `block`."""
    advocate_id, engagement_id = views.metadata_of(view)
    advocate = _load(deps, advocate_id)
    if advocate is None or not _theirs(deps, client, user_id, advocate):
        ack(response_action="errors", errors={block: NOT_YOURS if advocate else GONE})
        return None
    return advocate, engagement_id


# --- Pause me until… -----------------------------------------------------------------------------
def handle_pause_click(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    _open_for_clicked(
        deps,
        client,
        body,
        respond,
        partial(views.build_pause_modal, today=deps.clock.now().date()),
    )


def handle_pause_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    values = view["state"]["values"]
    now = deps.clock.now()
    raw = views.state_of(values, BlockId.PAUSE_UNTIL).get("selected_date")
    try:
        until = date.fromisoformat(raw) if raw else None
    except ValueError:
        until = None
    problem = advocate_side.pause_problem(until, now.date())
    if problem:
        ack(response_action="errors", errors={BlockId.PAUSE_UNTIL: problem})
        return
    why = (views.state_of(values, BlockId.PAUSE_NOTE).get("value") or "").strip()[:300]
    submitted = _submitted_for(deps, ack, client, user_id, view, BlockId.PAUSE_UNTIL)
    if submitted is None:
        return
    advocate, engagement_id = submitted
    assert until is not None
    passed = False
    with deps.db.unit_of_work() as session:
        advocate, changed = advocate_side.pause(
            session=session, advocate_id=advocate.id, until=until, why=why, actor_id=user_id, now=now
        )
        name = advocate.name
        step = outreach.load(session=session, engagement_id=engagement_id) if engagement_id else None
        if step is not None and step.engagement.status == EngagementStatus.ASKED:
            # Pausing on an ask answers it: not this time, and the request may ask someone else.
            passed = outreach.decline_ask(
                session=session, engagement_id=step.engagement.id, actor_id=user_id, now=now
            ).won
            if passed:  # a fresh shortlist with live Ask buttons, through the outbox (bot/flows/effects.py)
                effects.shortlist(session, now=now, request_id=step.request.id)
        if changed or passed:  # already paused until that day: a retried submission tells nobody twice
            said = (
                mrkdwn(" (so not this time for this request: ask the next candidate)")
                if passed
                else Mrkdwn("")
            )
            why_text = mrkdwn(" — “{}”", why) if why else Mrkdwn("")
            tell_cs(
                session,
                deps=deps,
                engagement_id=engagement_id,
                text=mrkdwn(
                    ":palm_tree: *{}* paused themselves until {}{}{}.", name, _day(until), why_text, said
                ),
            )
    ack()
    if not changed and not passed:
        return
    client.chat_postMessage(
        channel=user_id,
        text=mrkdwn(
            ":palm_tree: Done: we won't ask you for anything until {}. Thank you for everything so far.",
            _day(until),
        ),
    )


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


# --- What I'm happy to do ------------------------------------------------------------------------
def handle_happy_click(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    _open_for_clicked(deps_of(context), client, body, respond, views.build_happy_modal)


def handle_happy_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    picked = [
        str(o.get("value"))
        for o in views.state_of(view["state"]["values"], BlockId.HAPPY_KINDS).get("selected_options") or []
    ]
    kinds = [k for k in picked if k in {c.value for c in AdvocateKind}]
    submitted = _submitted_for(deps, ack, client, user_id, view, BlockId.HAPPY_KINDS)
    if submitted is None:
        return
    advocate, engagement_id = submitted
    with deps.db.unit_of_work() as session:
        before, after = advocate_side.set_kinds(
            session=session, advocate_id=advocate.id, kinds=kinds, actor_id=user_id, now=deps.clock.now()
        )
        shown = ", ".join(label_of(AdvocateKind, k) for k in after) or "nothing for now"
        if before != after:
            tell_cs(
                session,
                deps=deps,
                engagement_id=engagement_id,
                text=mrkdwn(":memo: *{}* updated what they're happy to do: {}.", advocate.name, shown),
            )
    ack()
    client.chat_postMessage(
        channel=user_id,
        text=mrkdwn(":memo: Thank you: we'll only ask you for {}.", shown),
    )


# --- Ask CS to join ------------------------------------------------------------------------------
def handle_cs_join(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    clicked = _clicked(deps, client, body, respond)
    if clicked is None:
        return
    advocate, engagement_id = clicked
    if engagement_id is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    with deps.db.unit_of_work() as session:
        first = advocate_side.ask_cs_to_join(
            session=session, engagement_id=engagement_id, now=deps.clock.now()
        )
        owner = advocate.owner_slack_user_id
        if first:
            tell_cs(
                session,
                deps=deps,
                engagement_id=engagement_id,
                text=mrkdwn(
                    ":raised_hand: *{}* asked CS to join the call{}. Please add yourself to the invite.",
                    advocate.name,
                    mrkdwn(" ({}, their CS owner)", mention(owner)) if owner else Mrkdwn(""),
                ),
            )
    if not first:
        tell(
            client=client,
            body=body,
            respond=respond,
            text="CS already knows you'd like them on the call (or the call is over). Thank you!",
        )
        return
    tell(
        client=client,
        body=body,
        respond=respond,
        text=mrkdwn(
            ":raised_hand: Of course: CS will join the call{}.",
            mrkdwn(", {} will be in touch", mention(owner)) if owner else Mrkdwn(""),
        ),
    )


# --- The welcome's written yes -------------------------------------------------------------------
def handle_written_yes(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    clicked = _clicked(deps, client, body, respond)
    if clicked is None:
        return
    advocate, _ = clicked
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        first = advocate_side.record_written_yes(session=session, advocate_id=advocate.id, now=now)
        if first:
            tell_cs(
                session,
                deps=deps,
                engagement_id=None,
                text=mrkdwn(
                    ":handshake: *{}* ({}) said yes to the reference program in writing, on {}.",
                    advocate.name,
                    advocate.company,
                    _day(now.date()),
                ),
            )
    if not first:
        tell(client=client, body=body, respond=respond, text="We already have your yes. Thank you!")
        return
    tell(
        client=client,
        body=body,
        respond=respond,
        text=mrkdwn(":handshake: Thank you! Your yes is noted ({}).", _day(now.date())),
    )


def send_welcome(*, deps: Deps, client: WebClient, advocate_id: int) -> str | None:
    """The welcome DM, once per advocate: to them on Slack, else to their CS owner to pass on.

    Returns who got it, or None when it was sent before or nobody can receive it.
    """
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        advocate = session.get(Advocate, advocate_id)
        recipient = outreach.recipient_of(advocate) if advocate else ""
        if not recipient or not advocate_side.mark_welcomed(
            session=session, advocate_id=advocate_id, now=now
        ):
            return None
        cap = deps.policy.caps.get(advocate.tier, min(deps.policy.caps.values(), default=1))
        text, blocks = views.build_welcome(
            advocate=AdvocateRecord.of(advocate), cap=cap, min_days=deps.policy.min_days_between_asks
        )
        on_slack = bool(advocate.slack_user_id)
        if not on_slack:
            intro = mrkdwn(
                ":envelope: *For {} ({}), who isn't on Slack* — please pass this welcome on, and click "
                "*Yes, count me in* when they say yes:",
                advocate.name,
                advocate.company,
            )
            blocks = [kit.section(intro), *blocks]
        # Sent inside the unit of work: when Slack fails, the welcome is not marked sent and CS may retry.
        client.chat_postMessage(channel=recipient, text=text, blocks=blocks)
    return recipient


# --- The rep's meeting link ----------------------------------------------------------------------
def handle_meeting_link_click(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    parsed = views.parse_control(body["actions"][0].get("value"))
    step = load_step(deps, parsed[1]) if parsed and parsed[0] == "e" else None
    if step is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    if not either_side(deps, client, body["user"]["id"], step):
        tell(
            client=client,
            body=body,
            respond=respond,
            text="Only the rep, the advocate or CS can add the link.",
        )
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_meeting_link_modal(
            engagement_id=step.engagement.id,
            advocate_id=step.advocate.id,
            current=step.engagement.meeting_link,
        ),
    )


def handle_meeting_link_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    url = (views.state_of(view["state"]["values"], BlockId.MEETING_LINK).get("value") or "").strip()
    if not valid_link(url):
        ack(
            response_action="errors",
            errors={BlockId.MEETING_LINK: "Please paste the call's https:// link (no spaces)."},
        )
        return
    _, engagement_id = views.metadata_of(view)
    step = load_step(deps, engagement_id)
    if step is None or not either_side(deps, client, user_id, step):
        ack(
            response_action="errors",
            errors={BlockId.MEETING_LINK: "Only the rep, the advocate or CS can add it."},
        )
        return
    with deps.db.unit_of_work() as session:
        saved = advocate_side.set_meeting_link(session=session, engagement_id=step.engagement.id, url=url)
        if saved:  # the link and the messages that carry it commit together (bot/flows/effects.py)
            text = mrkdwn(
                ":link: Meeting link for the reference call with {}: {}",
                step.request.prospect_company,
                link(url, "join the call"),
            )
            for user in dict.fromkeys([step.engagement.asked_via, step.request.rep_id]):
                if user:
                    effects.post(session, now=deps.clock.now(), to=user, text=text)
            tell_cs(
                session,
                deps=deps,
                engagement_id=step.engagement.id,
                text=mrkdwn(":link: {} added the meeting link; both preps carry it.", mention(user_id)),
            )
    if not saved:
        with deps.db.unit_of_work() as session:
            current = outreach.load(session=session, engagement_id=step.engagement.id)
        if current is not None and current.engagement.meeting_link == url:
            ack()  # the same link again (a retried submission): everyone has it already
            return
        ack(response_action="errors", errors={BlockId.MEETING_LINK: "This call was cancelled or is over."})
        return
    ack()
