"""After the call: the feedback and check-in prompts' buttons and modals, and the outcome prompt."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    InputBlock,
    NumberInputElement,
    PlainTextInputElement,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from bot.flows.audience import Brief
from bot.flows.records import RequestRecord
from bot.rules.forms import parse_amount, parse_id
from bot.text import Mrkdwn, mrkdwn
from modals import kit
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId

RATING_LABELS = {"great": "Great", "fine": "Fine", "not_great": "Not great"}
YES_PARTLY_NO = (("yes", "Yes"), ("partly", "Partly"), ("no", "No"))
TEXT_LIMIT = 1000


def feedback_actions(engagement_id: int) -> ActionsBlock:
    value = str(engagement_id)
    buttons = [
        kit.button(label, action_id=f"{Action.FEEDBACK_RATE}_{rating}", value=value)
        for rating, label in RATING_LABELS.items()
    ]
    buttons.append(kit.button("Tell us more", action_id=Action.FEEDBACK_MORE, value=value))
    return kit.actions(*buttons, block_id=BlockId.FEEDBACK_ACTIONS)


def more_only(engagement_id: int) -> ActionsBlock:
    """After a rating: only the longer questions remain."""
    return kit.actions(
        kit.button("Tell us more", action_id=Action.FEEDBACK_MORE, value=str(engagement_id)),
        block_id=BlockId.FEEDBACK_ACTIONS,
    )


def build_new_times_request(*, brief: Brief) -> tuple[Mrkdwn, list[Any]]:
    """The call didn't happen: the advocate is asked, gently, for new times."""
    text = mrkdwn(
        ":repeat: The reference call with *{}* didn't happen after all. "
        "If you're still happy to talk, could you offer a few new times? If not, that's completely fine.",
        brief.prospect.prospect_company,
    )
    value = str(brief.call.id)
    return (
        Mrkdwn("Could you offer new times for the reference call?"),
        [
            kit.section(text),
            kit.actions(
                kit.button("Offer new times", action_id=Action.RESCHEDULE, value=value, style="primary"),
                kit.button("Not this time", action_id=Action.CANCEL_CALL, value=value),
                block_id=BlockId.CALL_ACTIONS,
            ),
        ],
    )


def checkin_actions(engagement_id: int) -> ActionsBlock:
    value = str(engagement_id)
    return kit.actions(
        kit.button("Log the check-in", action_id=Action.CHECKIN_LOG, value=value, style="primary"),
        kit.button("The call didn't happen", action_id=Action.NO_CALL, value=value),
        block_id=BlockId.CHECKIN_ACTIONS,
    )


def outcome_actions(engagement_id: int) -> ActionsBlock:
    value = str(engagement_id)
    return kit.actions(
        kit.button("Won", action_id=f"{Action.OUTCOME}_won", value=value, style="primary"),
        kit.button("Lost", action_id=f"{Action.OUTCOME}_lost", value=value),
        kit.button("Not yet", action_id=f"{Action.OUTCOME}_not_yet", value=value),
        block_id=BlockId.OUTCOME_ACTIONS,
    )


def _radio(
    block_id: str,
    label: str,
    options: tuple[tuple[str, str], ...],
    *,
    optional: bool = False,
    initial: str | None = None,
) -> InputBlock:
    choices = [kit.option(v, t) for v, t in options]
    chosen = next((o for o in choices if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=RadioButtonsElement(action_id=VALUE, options=choices, initial_option=chosen),
    )


def _text(block_id: str, label: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=TEXT_LIMIT),
    )


def _meta(engagement_id: int, **extra: Any) -> str:
    return json.dumps({"engagement_id": engagement_id, **extra})


def build_feedback_modal(*, brief: Brief, rating: str | None) -> View:
    """The advocate's "Tell us more" (PROGRAM.md's questions); `rating` is what they already clicked."""
    return View(
        type="modal",
        callback_id=Callback.FEEDBACK_FORM,
        title="How did it go?",
        submit="Send",
        close="Cancel",
        private_metadata=_meta(brief.call.id),
        blocks=[
            kit.section(
                mrkdwn(
                    "Your {} *{}*. Everything is optional except the first question; CS reads every answer.",
                    "written answers for" if brief.prospect.written else "call with",
                    brief.prospect.prospect_company,
                )
            ),
            _radio(BlockId.FEEDBACK_RATING, "How was it?", tuple(RATING_LABELS.items()), initial=rating),
            _radio(
                BlockId.FEEDBACK_MATCH,
                "Was the prospect a good match for your experience?",
                YES_PARTLY_NO,
                optional=True,
            ),
            _radio(BlockId.FEEDBACK_PREPARED, "Were you prepared enough?", YES_PARTLY_NO, optional=True),
            _text(BlockId.FEEDBACK_ASKED, "What did they ask?"),
            _text(BlockId.FEEDBACK_EXPERIENCE, "How was the experience for you?"),
            _text(BlockId.FEEDBACK_CHANGE, "What should we change?"),
        ],
    )


def build_checkin_modal(*, engagement_id: int, request: RequestRecord) -> View:
    return View(
        type="modal",
        callback_id=Callback.CHECKIN_FORM,
        title="Prospect check-in",
        submit="Log it",
        close="Cancel",
        private_metadata=_meta(engagement_id),
        blocks=[
            kit.section(mrkdwn("What did *{}* say about the reference call?", request.prospect_company)),
            _radio(BlockId.CHECKIN_HELPFUL, "Was it helpful?", YES_PARTLY_NO),
            _radio(BlockId.CHECKIN_CONCERNS, "Were their concerns addressed?", YES_PARTLY_NO),
            _text(BlockId.CHECKIN_LEARNED, "What did they learn?"),
            _text(BlockId.CHECKIN_SUGGESTIONS, "Suggestions for next time"),
        ],
    )


def build_no_call_modal(*, engagement_id: int, request: RequestRecord) -> View:
    return View(
        type="modal",
        callback_id=Callback.NO_CALL_FORM,
        title="The call didn't happen",
        submit="Save",
        close="Back",
        private_metadata=_meta(engagement_id),
        blocks=[
            _radio(
                BlockId.NO_CALL_CHOICE,
                "What now?",
                (
                    ("reschedule", "Reschedule: ask the advocate for new times"),
                    ("cancel", "Cancel: it won't happen (not counted as a reference)"),
                ),
            ),
        ],
    )


def build_outcome_modal(*, engagement_id: int, request: RequestRecord) -> View:
    return View(
        type="modal",
        callback_id=Callback.OUTCOME_FORM,
        title="Deal won",
        submit="Save",
        close="Cancel",
        private_metadata=_meta(engagement_id),
        blocks=[
            InputBlock(
                block_id=BlockId.OUTCOME_ARR,
                label="Final deal size (ARR, USD)",
                element=NumberInputElement(
                    action_id=VALUE,
                    is_decimal_allowed=False,
                    min_value="1",
                    initial_value=str(request.deal_arr),
                ),
            ),
        ],
    )


def engagement_of(view: Mapping[str, Any]) -> int | None:
    try:
        return parse_id(json.loads(view.get("private_metadata") or "{}")["engagement_id"])
    except (ValueError, KeyError, TypeError):
        return None


def _state(values: Mapping[str, Mapping[str, Any]], block_id: str) -> dict[str, Any]:
    return dict(values.get(block_id, {}).get(VALUE) or {})


def choice(values: Mapping[str, Mapping[str, Any]], block_id: str) -> str | None:
    return (_state(values, block_id).get("selected_option") or {}).get("value")


def text(values: Mapping[str, Mapping[str, Any]], block_id: str) -> str:
    return (_state(values, block_id).get("value") or "").strip()[:TEXT_LIMIT]


def parse_feedback(values: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, str]] | dict[str, str]:
    rating = choice(values, BlockId.FEEDBACK_RATING)
    if rating not in RATING_LABELS:
        return {BlockId.FEEDBACK_RATING: "Please choose Great, Fine or Not great."}
    answers = {
        "good_match": choice(values, BlockId.FEEDBACK_MATCH) or "",
        "prepared": choice(values, BlockId.FEEDBACK_PREPARED) or "",
        "asked": text(values, BlockId.FEEDBACK_ASKED),
        "experience": text(values, BlockId.FEEDBACK_EXPERIENCE),
        "change": text(values, BlockId.FEEDBACK_CHANGE),
    }
    return rating, {k: v for k, v in answers.items() if v}


def parse_checkin(values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The answers; `errors` keys mark what is missing."""
    answers = {
        "helpful": choice(values, BlockId.CHECKIN_HELPFUL) or "",
        "concerns_addressed": choice(values, BlockId.CHECKIN_CONCERNS) or "",
        "learned": text(values, BlockId.CHECKIN_LEARNED),
        "suggestions": text(values, BlockId.CHECKIN_SUGGESTIONS),
    }
    return answers


def parse_arr(values: Mapping[str, Mapping[str, Any]]) -> int | dict[str, str]:
    amount = parse_amount(_state(values, BlockId.OUTCOME_ARR).get("value") or "")
    if isinstance(amount, str):
        return {BlockId.OUTCOME_ARR: f"{amount} Enter the final ARR, like 120000."}
    return amount
