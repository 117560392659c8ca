"""The Decline modal: PROGRAM.md's reasons plus free text, which go back to the rep."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, RadioButtonsElement
from slack_sdk.models.views import View

from bot.rules.forms import DeclineForm, parse_id
from bot.rules.qualification import Flag, FlagCode
from bot.rules.vocabulary import DeclineReason
from bot.text import mrkdwn
from modals import kit
from modals.ids import VALUE, Block, Callback

NOTE_LIMIT = 1000

# The reason a qualification flag suggests, so the usual answer is one click away.
_SUGGESTED = {
    FlagCode.TOO_EARLY: DeclineReason.TOO_EARLY,
    FlagCode.BELOW_ARR: DeclineReason.TOO_SMALL,
    FlagCode.NOTHING_TRIED: DeclineReason.NOTHING_TRIED,
    FlagCode.ENOUGH_REFERENCES: DeclineReason.ENOUGH_REFERENCES,
}


def build_decline_modal(*, request_id: int, prospect_company: str, flags: list[Flag]) -> View:
    options = [kit.option(r.value, r.label) for r in DeclineReason]
    suggested = next((_SUGGESTED[f.code] for f in flags if f.code in _SUGGESTED), None)
    initial = next((o for o in options if suggested and o.value == suggested.value), None)
    return View(
        type="modal",
        callback_id=Callback.DECLINE_FORM,
        title="Decline request",
        submit="Decline",
        close="Back",
        private_metadata=json.dumps({"request_id": request_id}),
        blocks=[
            kit.section(
                mrkdwn(
                    "Declining *#{} · {}*. The rep gets your reason in a DM.", request_id, prospect_company
                )
            ),
            InputBlock(
                block_id=Block.DECLINE_REASON,
                label="Reason",
                element=RadioButtonsElement(action_id=VALUE, options=options, initial_option=initial),
            ),
            InputBlock(
                block_id=Block.DECLINE_NOTE,
                label="A note for the rep",
                optional=True,
                hint="Required when the reason is “Another reason”.",
                element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=NOTE_LIMIT),
            ),
        ],
    )


def decline_request_id(private_metadata: str) -> int | None:
    try:
        return parse_id(json.loads(private_metadata or "{}")["request_id"])
    except (ValueError, KeyError, TypeError):
        return None


def parse_decline_form(values: Mapping[str, Mapping[str, Any]]) -> DeclineForm | dict[str, str]:
    errors: dict[str, str] = {}
    selected = (values.get(Block.DECLINE_REASON, {}).get(VALUE) or {}).get("selected_option") or {}
    note = ((values.get(Block.DECLINE_NOTE, {}).get(VALUE) or {}).get("value") or "").strip()
    try:
        reason = DeclineReason(selected.get("value"))
    except ValueError:
        errors[Block.DECLINE_REASON] = "Please choose a reason."
        reason = None
    if reason == DeclineReason.OTHER and not note:
        errors[Block.DECLINE_NOTE] = "Please tell the rep the reason."
    if len(note) > NOTE_LIMIT:
        errors[Block.DECLINE_NOTE] = f"Please keep the note under {NOTE_LIMIT:,} characters."
    if errors or reason is None:
        return errors
    return DeclineForm(reason=reason.value, note=note)


def build_notice_modal(*, title: str, text: str) -> View:
    """A modal that only says something, for `response_action: update`."""
    return View(type="modal", title=kit.title(title), close="Close", blocks=[kit.section(text)])
