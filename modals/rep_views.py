"""What the rep sees: the DMs about a request, `/reference list`, and the Home tab."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.text import day, escape, money, render, truncate
from bot.vocabulary import DealStage, DeclineReason, Industry, ReferenceKind, RoleLevel, SizeBand, label_of
from modals.approval_card import cancel_button
from store.models import ReferenceRequest, RequestStatus

LIST_LIMIT = 20  # requests shown in /reference list (each takes two blocks; a message holds 50)

STATUS_LABEL = {
    RequestStatus.PENDING: ":hourglass_flowing_sand: Waiting for CS",
    RequestStatus.APPROVED: ":white_check_mark: Approved — CS is finding an advocate",
    RequestStatus.DECLINED: ":no_entry_sign: Declined",
    RequestStatus.CANCELLED: ":heavy_multiplication_x: Cancelled",
    RequestStatus.NO_MATCH: ":mag: Approved, but no advocate is a good match",
}


def build_text_message(text: str) -> list[Block]:
    """A message that is one piece of rendered text."""
    return [SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))]


def submitted_text(request: ReferenceRequest) -> str:
    return render(
        "request_submitted",
        r=request,
        stage=label_of(DealStage, request.deal_stage),
        kind=label_of(ReferenceKind, request.wanted_kind),
        industry=label_of(Industry, request.wanted_industry),
        size=label_of(SizeBand, request.wanted_size_band),
        role=label_of(RoleLevel, request.wanted_role_level),
    )


def build_submitted_message(*, request: ReferenceRequest) -> list[Block]:
    """The rep's receipt: summary, number, and Cancel while CS has not decided."""
    section = SectionBlock(text=MarkdownTextObject(text=submitted_text(request)))
    if request.status == RequestStatus.PENDING:
        section.accessory = cancel_button(request.id)
        return [section]
    return [
        section,
        ContextBlock(elements=[MarkdownTextObject(text=STATUS_LABEL[RequestStatus(request.status)])]),
    ]


def build_decision_message(*, request: ReferenceRequest) -> tuple[str, list[Block]]:
    """(notification text, blocks) telling the rep what CS decided."""
    if request.status == RequestStatus.APPROVED:
        text = render("request_approved", r=request)
    else:
        text = render(
            "request_declined", r=request, reason=label_of(DeclineReason, request.decline_reason or "")
        )
    summary = text.splitlines()[0]
    return summary, [SectionBlock(text=MarkdownTextObject(text=text))]


def _request_line(request: ReferenceRequest) -> str:
    status = STATUS_LABEL.get(RequestStatus(request.status), request.status)
    line = (
        f"*#{request.id} · {truncate(escape(request.prospect_company), 120)}* — {money(request.deal_arr)} ARR,"
        f" filed {day(request.created_at)}\n{status}"
    )
    if request.status == RequestStatus.DECLINED and request.decline_reason:
        line += f": {label_of(DeclineReason, request.decline_reason)}"
    return line


def _request_blocks(requests: Sequence[ReferenceRequest]) -> list[Block]:
    blocks: list[Block] = []
    for request in requests[:LIST_LIMIT]:
        section = SectionBlock(text=MarkdownTextObject(text=_request_line(request)))
        if request.status == RequestStatus.PENDING:
            section.accessory = cancel_button(request.id)
        blocks.append(section)
    return blocks


def build_request_list(*, requests: Sequence[ReferenceRequest]) -> list[Block]:
    """`/reference list`: the user's requests, newest first."""
    if not requests:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="You have no reference requests yet. Type `/reference` to file one."
                )
            )
        ]
    blocks: list[Block] = [HeaderBlock(text="Your reference requests")]
    blocks.extend(_request_blocks(requests))
    if len(requests) > LIST_LIMIT:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Showing the newest {LIST_LIMIT}. Older requests are on the refdesk Home tab."
                    )
                ]
            )
        )
    return blocks
