"""What the advocate, their CS owner and the rep see while a reference is asked for and scheduled."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.text import escape, render, slack_date, truncate
from bot.vocabulary import Industry, ReferenceKind, Urgency, label_of
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId
from store.models import Advocate, Engagement, ReferenceRequest

FORMATS = (("video", "Video call"), ("call", "Phone call"))
TIME_BLOCKS = (BlockId.TIME_1, BlockId.TIME_2, BlockId.TIME_3)
MAX_TEXT = 3000

_ASK_WHAT = {
    ReferenceKind.CALL: "a short reference call",
    ReferenceKind.EMAIL: "answering a few questions by email",
    ReferenceKind.SITE_VISIT: "hosting a short site visit",
    ReferenceKind.EXECUTIVE: "a short executive-to-executive conversation",
}


def _context(request: ReferenceRequest, advocate: Advocate, engagement: Engagement) -> dict[str, Any]:
    return dict(
        r=request,
        advocate=advocate,
        minutes=engagement.call_minutes or 20,
        industry=label_of(Industry, request.prospect_industry).lower(),
        advocate_industry=label_of(Industry, advocate.industry),
        urgency=label_of(Urgency, request.urgency),
        ask_what=_ASK_WHAT.get(request.wanted_kind, "a short reference conversation"),
        call_format=engagement.call_format or "call",
        when=engagement.call_at,
    )


def render_for(
    template: str, request: ReferenceRequest, advocate: Advocate, engagement: Engagement, **extra: Any
) -> str:
    return render(template, **{**_context(request, advocate, engagement), **extra})


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, MAX_TEXT)))


def _answer_buttons(engagement: Engagement, *, yes: str, no: str) -> ActionsBlock:
    value = str(engagement.id)
    return ActionsBlock(
        block_id=BlockId.ASK_ANSWER,
        elements=[
            ButtonElement(text=yes, action_id=Action.ASK_YES, value=value, style="primary"),
            ButtonElement(text=no, action_id=Action.ASK_NO, value=value),
        ],
    )


def build_ask(
    *, request: ReferenceRequest, advocate: Advocate, engagement: Engagement
) -> tuple[str, list[Block]]:
    """The ask, to the advocate on Slack: everything PROGRAM.md says an ask names, and an easy no."""
    text = render_for("ask", request, advocate, engagement)
    return (
        f"Would you talk to {request.prospect_company} for {engagement.call_minutes or 20} minutes?",
        [_section(text), _answer_buttons(engagement, yes="Yes, happy to", no="Not this time")],
    )


def build_owner_draft(
    *, request: ReferenceRequest, advocate: Advocate, engagement: Engagement
) -> tuple[str, list[Block]]:
    """For an advocate without Slack: their CS owner sends the email and records the answer."""
    email = render_for("ask_email", request, advocate, engagement)
    intro = (
        f":envelope: *Please ask {escape(advocate.name)}* ({escape(advocate.email)}, {escape(advocate.company)}) "
        f"for request #{request.id}: they aren't on Slack, so here is a ready-to-send email. "
        "Record their answer with the buttons."
    )
    return (
        f"Please ask {advocate.name} for a reference (request #{request.id})",
        [
            _section(intro),
            _section(f"```{truncate(email, MAX_TEXT - 10)}```"),
            _answer_buttons(engagement, yes="They said yes", no="They said no"),
        ],
    )


def build_times_modal(
    *, engagement: Engagement, advocate: Advocate, request: ReferenceRequest, rescheduling: bool
) -> View:
    intro = (
        f"Offer up to three times for the {engagement.call_minutes or 20}-minute call with "
        f"*{escape(request.prospect_company)}*. The rep confirms one with the prospect."
    )
    blocks: list[Block] = [_section(intro)]
    for number, block_id in enumerate(TIME_BLOCKS, start=1):
        blocks.append(
            InputBlock(
                block_id=block_id,
                label=f"Time {number}",
                optional=number > 1,
                element=DateTimePickerElement(action_id=VALUE),
            )
        )
    options = [Option(value=v, text=t) for v, t in FORMATS]
    chosen = next((o for o in options if o.value == engagement.call_format), options[0])
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
        private_metadata=json.dumps({"engagement_id": engagement.id}),
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
        return int(json.loads(view.get("private_metadata") or "{}")["engagement_id"])
    except (ValueError, KeyError, TypeError):
        return None


def build_times_for_rep(
    *, request: ReferenceRequest, advocate: Advocate, engagement: Engagement
) -> tuple[str, list[Block]]:
    times = [datetime.fromisoformat(t) for t in engagement.proposed_times]
    text = render_for("times_to_rep", request, advocate, engagement, times=times)
    buttons = [
        ButtonElement(
            text=f"Option {n}",
            action_id=f"{Action.PICK_TIME}_{n}",  # distinct per button, as Slack requires; one listener
            value=f"{engagement.id}:{t.isoformat()}",
            style="primary" if n == 1 else None,
        )
        for n, t in enumerate(times, start=1)
    ]
    return (
        f"{advocate.name} said yes to a reference call with {request.prospect_company}",
        [_section(text), ActionsBlock(block_id=BlockId.TIME_PICK, elements=buttons)],
    )


def build_confirmation(
    *, request: ReferenceRequest, advocate: Advocate, engagement: Engagement
) -> tuple[str, list[Block]]:
    text = render_for("confirmation", request, advocate, engagement)
    value = str(engagement.id)
    return (
        f"Reference call confirmed: {advocate.name} × {request.prospect_company}",
        [
            _section(text),
            ActionsBlock(
                block_id=BlockId.CALL_ACTIONS,
                elements=[
                    ButtonElement(text="Reschedule", action_id=Action.RESCHEDULE, value=value),
                    ButtonElement(
                        text="Cancel the call",
                        action_id=Action.CANCEL_CALL,
                        value=value,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Cancel this call?",
                            text="Everyone is told and nothing more is sent about it.",
                            confirm="Cancel the call",
                            deny="Keep it",
                        ),
                    ),
                ],
            ),
        ],
    )


def build_status_line(text: str) -> list[Block]:
    return [ContextBlock(elements=[MarkdownTextObject(text=truncate(text, MAX_TEXT))])]


def when(instant: datetime) -> str:
    return slack_date(instant)
