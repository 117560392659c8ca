"""What the advocate can do themselves (Pause me until…, Ask CS to join, What I'm happy to do), the welcome
with its written yes, and the rep's meeting link: the buttons and the modals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.flows.audience import AdvocateBrief
from bot.flows.records import AdvocateRecord
from bot.rules.forms import parse_id
from bot.rules.vocabulary import AdvocateKind
from bot.text import Mrkdwn, mrkdwn, render
from modals import kit
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId


def control_value(*, advocate_id: int | None = None, engagement_id: int | None = None) -> str:
    """ "e12" for a control on a message about engagement 12, "a5" for one about advocate 5 alone."""
    return f"e{engagement_id}" if engagement_id else f"a{advocate_id}"


def controls(
    *,
    advocate_id: int | None = None,
    engagement_id: int | None = None,
    pause: bool = True,
    happy: bool = True,
    cs_join: bool = False,
) -> ActionsBlock:
    """The advocate's own buttons on a message to them: each reaches CS in the request's thread and the pool."""
    value = control_value(advocate_id=advocate_id, engagement_id=engagement_id)
    buttons = []
    if cs_join and engagement_id:
        buttons.append(kit.button("Ask CS to join", action_id=Action.CS_JOIN, value=value))
    if pause:
        buttons.append(kit.button("Pause me until…", action_id=Action.PAUSE_ME, value=value))
    if happy:
        buttons.append(kit.button("What I'm happy to do", action_id=Action.HAPPY_TO_DO, value=value))
    return kit.actions(*buttons, block_id=BlockId.ADVOCATE_CONTROLS)


def parse_control(raw: object) -> tuple[str, int] | None:
    """("e", engagement id) or ("a", advocate id) from a control's value; None when it is not ours."""
    text = str(raw if raw is not None else "")
    number = parse_id(text[1:]) if text[:1] in ("e", "a") else None
    return None if number is None else (text[0], number)


def _metadata(advocate_id: int | None, engagement_id: int | None) -> str:
    return json.dumps({"advocate_id": advocate_id, "engagement_id": engagement_id})


def metadata_of(view: Mapping[str, Any]) -> tuple[int | None, int | None]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
        return parse_id(loaded.get("advocate_id")), (
            parse_id(loaded["engagement_id"]) if loaded.get("engagement_id") else None
        )
    except (ValueError, TypeError, AttributeError):
        return None, None


def build_pause_modal(*, advocate: AdvocateRecord, engagement_id: int | None, today: date) -> View:
    return View(
        type="modal",
        callback_id=Callback.PAUSE_FORM,
        title="Pause me until…",
        submit="Pause",
        close="Cancel",
        private_metadata=_metadata(advocate.id, engagement_id),
        blocks=[
            kit.section(
                "Take a break from reference asks: we won't ask you anything until the date you pick. "
                "Thank you for everything so far."
            ),
            InputBlock(
                block_id=BlockId.PAUSE_UNTIL,
                label="Ask me again from",
                element=DatePickerElement(action_id=VALUE, placeholder="Pick a date"),
            ),
            InputBlock(
                block_id=BlockId.PAUSE_NOTE,
                label="Anything CS should know? (optional)",
                optional=True,
                element=PlainTextInputElement(action_id=VALUE, max_length=300),
            ),
        ],
    )


def build_happy_modal(*, advocate: AdvocateRecord, engagement_id: int | None) -> View:
    options = [kit.option(k.value, k.label) for k in AdvocateKind]
    return View(
        type="modal",
        callback_id=Callback.HAPPY_FORM,
        title="What I'm happy to do",
        submit="Save",
        close="Cancel",
        private_metadata=_metadata(advocate.id, engagement_id),
        blocks=[
            kit.section(
                "Tick what you're happy to be asked for. Not calls, but quotes are fine? Just say so here: "
                "we'll only ask for what you tick."
            ),
            InputBlock(
                block_id=BlockId.HAPPY_KINDS,
                label="I'm happy to do",
                optional=True,
                element=CheckboxesElement(
                    action_id=VALUE,
                    options=options,
                    initial_options=[o for o in options if o.value in advocate.kinds] or None,
                ),
            ),
        ],
    )


def build_meeting_link_modal(*, engagement_id: int, advocate_id: int, current: str | None) -> View:
    return View(
        type="modal",
        callback_id=Callback.MEETING_LINK_FORM,
        title="Meeting link",
        submit="Save",
        close="Cancel",
        private_metadata=_metadata(advocate_id, engagement_id),
        blocks=[
            kit.section("The link goes into both preps and the reminder, so nobody hunts for it."),
            InputBlock(
                block_id=BlockId.MEETING_LINK,
                label="Video call link (https://…)",
                element=PlainTextInputElement(
                    action_id=VALUE, initial_value=current or None, max_length=490, placeholder="https://"
                ),
            ),
        ],
    )


def state_of(values: Mapping[str, Mapping[str, Any]], block: str) -> dict[str, Any]:
    return dict(values.get(block, {}).get(VALUE) or {})


def build_welcome(*, advocate: AdvocateRecord, cap: int, min_days: int) -> tuple[Mrkdwn, list[Block]]:
    """The welcome DM: what the program is, what an ask looks like, the limits that protect them, a written yes."""
    text = render("welcome", advocate=AdvocateBrief.of(advocate), cap=cap, min_days=min_days)
    own = control_value(advocate_id=advocate.id)
    blocks: list[Block] = [
        kit.section(text),
        kit.actions(
            kit.button("Yes, count me in", action_id=Action.WRITTEN_YES, value=own, style="primary"),
            kit.button("What I'm happy to do", action_id=Action.HAPPY_TO_DO, value=own),
            kit.button("Pause me until…", action_id=Action.PAUSE_ME, value=own),
            block_id=BlockId.WELCOME_ACTIONS,
        ),
    ]
    return mrkdwn("Welcome to our customer reference program, {}", advocate.name), blocks
