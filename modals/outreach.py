"""What the advocate, their CS owner and the rep see while a reference is asked for and scheduled."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DateTimePickerElement,
    InputBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.flows.audience import Brief, CallBrief
from bot.rules.forms import parse_id
from bot.rules.vocabulary import ReferenceKind
from bot.text import TEMPLATES, Mrkdwn, link, mrkdwn, render, slack_date, truncate
from modals import kit
from modals.advocate_side import controls as advocate_controls
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId

FORMATS = (("video", "Video call"), ("call", "Phone call"))
MAX_AHEAD = timedelta(days=365)  # a call further out is a slip of the date picker, not a plan
TIME_BLOCKS = (BlockId.TIME_1, BlockId.TIME_2, BlockId.TIME_3)
MAX_TEXT = 3000

_ASK_WHAT = {
    ReferenceKind.CALL: "a short reference call",
    ReferenceKind.EMAIL: "answering a few of their questions in writing",
    ReferenceKind.SITE_VISIT: "hosting a short site visit",
    ReferenceKind.EXECUTIVE: "a short executive-to-executive conversation",
}


def _context(brief: Brief) -> dict[str, Any]:
    """What an advocate-facing template may print: the brief, and nothing it was not given."""
    return dict(
        r=brief.prospect,
        advocate=brief.advocate,
        call=brief.call,
        minutes=brief.call.minutes,
        ask_what=_ASK_WHAT.get(brief.prospect.wanted_kind, "a short reference conversation"),
        call_format=brief.call.how,
        when=brief.call.call_at,
        success=brief.success,
        features=brief.features,
        meeting=link(brief.call.meeting_link, "Join the call") if brief.call.meeting_link else None,
        call_day="",  # time words are the dispatcher's: it knows when the message is read, and where
    )


def render_for(template: str, brief: Brief, **extra: Any) -> Mrkdwn:
    """`template`, or its `_written` variant for an email Q&A when there is one (no call in its words)."""
    if brief.prospect.written and (TEMPLATES / f"{template}_written.j2").exists():
        template = f"{template}_written"
    return render(template, **{**_context(brief), **extra})


def answer_buttons(call: CallBrief, *, yes: str, no: str) -> ActionsBlock:
    value = str(call.id)
    return kit.actions(
        kit.button(yes, action_id=Action.ASK_YES, value=value, style="primary"),
        kit.button(no, action_id=Action.ASK_NO, value=value),
        block_id=BlockId.ASK_ANSWER,
    )


def build_ask(*, brief: Brief) -> tuple[Mrkdwn, list[Block]]:
    """The ask, to the advocate on Slack: everything PROGRAM.md says an ask names, and an easy no."""
    text = render_for("ask", brief)
    headline = (
        mrkdwn("Would you answer a few questions from {} in writing?", brief.prospect.prospect_company)
        if brief.prospect.written
        else mrkdwn("Would you talk to {} for {} minutes?", brief.prospect.prospect_company, brief.call.minutes)
    )
    return (
        headline,
        [
            kit.section(text),
            answer_buttons(brief.call, yes="Yes, happy to", no="Not this time"),
            advocate_controls(engagement_id=brief.call.id),
        ],
    )


def build_owner_draft(*, brief: Brief, email: str) -> tuple[Mrkdwn, list[Block]]:
    """For an advocate without Slack: their CS owner sends the email (to `email`) and records the answer."""
    draft = render_for("ask_email", brief)
    intro = mrkdwn(
        ":envelope: *Please ask {}* ({}, {}) for request #{}: they aren't on Slack, so here is a ready-to-send "
        "email. Record their answer with the buttons.",
        brief.advocate.name,
        email,
        brief.advocate.company,
        brief.prospect.id,
    )
    return (
        mrkdwn("Please ask {} for a reference (request #{})", brief.advocate.name, brief.prospect.id),
        [
            kit.section(intro),
            kit.section(Mrkdwn("```") + truncate(draft, MAX_TEXT - 10) + Mrkdwn("```")),
            answer_buttons(brief.call, yes="They said yes", no="They said no"),
        ],
    )


def build_times_modal(*, brief: Brief, rescheduling: bool) -> View:
    """The advocate (or their CS owner) offers times; the rep confirms one with the prospect."""
    intro = mrkdwn(
        "Offer up to three times for the {}-minute call with *{}*. The rep confirms one with the prospect.",
        brief.call.minutes,
        brief.prospect.prospect_company,
    )
    blocks: list[Block] = [kit.section(intro)]
    for number, block_id in enumerate(TIME_BLOCKS, start=1):
        blocks.append(
            InputBlock(
                block_id=block_id,
                label=f"Time {number}",
                optional=number > 1,
                element=DateTimePickerElement(action_id=VALUE),
            )
        )
    options = [kit.option(v, t) for v, t in FORMATS]
    chosen = next((o for o in options if o.value == brief.call.call_format), options[0])
    blocks.append(
        InputBlock(
            block_id=BlockId.CALL_FORMAT,
            label="How",
            element=StaticSelectElement(action_id=VALUE, options=options, initial_option=chosen),
        )
    )
    return View(
        type="modal",
        callback_id=Callback.TIMES_FORM,
        title="New times" if rescheduling else "Pick times",
        submit="Send to the rep",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"engagement_id": brief.call.id}),
    )


def parse_times(
    values: Mapping[str, Mapping[str, Any]], *, now: datetime
) -> tuple[list[datetime], str] | dict[str, str]:
    errors: dict[str, str] = {}
    times: list[datetime] = []
    for block_id in TIME_BLOCKS:
        raw = (values.get(block_id, {}).get(VALUE) or {}).get("selected_date_time")
        if raw is None:
            continue
        instant = datetime.fromtimestamp(int(raw), tz=UTC)
        if instant <= now:
            errors[block_id] = "This time has passed: please pick a time in the future."
        elif instant > now + MAX_AHEAD:
            errors[block_id] = "Please pick a time within the next year."
        elif instant in times:
            errors[block_id] = "This is the same as another time."
        else:
            times.append(instant)
    if not times and not errors:
        errors[BlockId.TIME_1] = "Please offer at least one time."
    call_format = ((values.get(BlockId.CALL_FORMAT, {}).get(VALUE) or {}).get("selected_option") or {}).get(
        "value"
    )
    if call_format not in dict(FORMATS):
        errors[BlockId.CALL_FORMAT] = "Please choose video or phone."
    return errors if errors else (sorted(times), call_format)


def engagement_id_of(view: Mapping[str, Any]) -> int | None:
    try:
        return parse_id(json.loads(view.get("private_metadata") or "{}")["engagement_id"])
    except (ValueError, KeyError, TypeError):
        return None


def time_label(instant: datetime, zone: ZoneInfo) -> str:
    """A button's words for a time (buttons are plain text: no Slack date token), in the reader's zone."""
    local = instant.astimezone(zone)
    return f"{local:%a %d %b, %H:%M} {local.tzname() or zone.key}"


def build_times_for_rep(*, brief: Brief, zone: ZoneInfo | None = None) -> tuple[Mrkdwn, list[Block]]:
    """The advocate's times for the rep to pick: each button labelled with its time in the rep's zone."""
    times = [datetime.fromisoformat(t) for t in brief.call.proposed_times]
    text = render_for("times_to_rep", brief, times=times)
    buttons = [
        kit.button(
            time_label(t, zone or ZoneInfo("UTC")),
            action_id=f"{Action.PICK_TIME}_{n}",  # distinct per button, as Slack requires; one listener
            value=f"{brief.call.id}:{t.isoformat()}",
            style="primary" if n == 1 else None,
        )
        for n, t in enumerate(times, start=1)
    ]
    return (
        mrkdwn(
            "{} said yes to a reference call with {}", brief.advocate.name, brief.prospect.prospect_company
        ),
        [kit.section(text), kit.actions(*buttons, block_id=BlockId.TIME_PICK)],
    )


def build_confirmation(*, brief: Brief) -> tuple[Mrkdwn, list[Block]]:
    """To both sides: the time, who meets whom, the agenda; Reschedule and Cancel."""
    text = render_for("confirmation", brief)
    value = str(brief.call.id)
    return (
        mrkdwn("Reference call confirmed: {} × {}", brief.advocate.name, brief.prospect.prospect_company),
        [
            kit.section(text),
            kit.actions(
                kit.button("Reschedule", action_id=Action.RESCHEDULE, value=value),
                kit.button(
                    "Add the meeting link" if not brief.call.meeting_link else "Change the meeting link",
                    action_id=Action.MEETING_LINK,
                    value=f"e{brief.call.id}",
                ),
                kit.button("Ask CS to join", action_id=Action.CS_JOIN, value=f"e{brief.call.id}"),
                kit.button(
                    "Cancel the call",
                    action_id=Action.CANCEL_CALL,
                    value=value,
                    style="danger",
                    confirm=kit.confirm(
                        title="Cancel this call?",
                        text="Everyone is told and nothing more is sent about it.",
                        yes="Cancel the call",
                        no="Keep it",
                    ),
                ),
                block_id=BlockId.CALL_ACTIONS,
            ),
        ],
    )


def build_status_line(text: str) -> list[Block]:
    return [kit.context(text)]


def when(instant: datetime) -> Mrkdwn:
    return slack_date(instant)
