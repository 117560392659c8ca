"""What the rep sees: the DMs about a request, `/reference list`, and the Home tab."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.flows.records import RequestRecord
from bot.rules.vocabulary import (
    DealStage,
    DeclineReason,
    Industry,
    ReferenceKind,
    RequestStatus,
    RoleLevel,
    SizeBand,
    label_of,
)
from bot.text import Mrkdwn, day, money, mrkdwn, render
from modals import kit
from modals.approval_card import cancel_button
from modals.peer import log_button

LIST_LIMIT = 20  # requests shown in /reference list (each takes two blocks; a message holds 50)

STATUS_LABEL = {
    RequestStatus.PENDING: ":hourglass_flowing_sand: Waiting for CS",
    RequestStatus.APPROVED: ":white_check_mark: Approved — CS is finding an advocate",
    RequestStatus.DECLINED: ":no_entry_sign: Declined",
    RequestStatus.CANCELLED: ":heavy_multiplication_x: Cancelled",
    RequestStatus.NO_MATCH: ":mag: Approved, but no advocate is a good match",
}


def build_text_message(text: str) -> list[Block]:
    """A message that is one piece of text (escaped unless it is `Mrkdwn`)."""
    return kit.text_message(text)


def submitted_text(request: RequestRecord) -> Mrkdwn:
    return render(
        "request_submitted",
        r=request,
        stage=label_of(DealStage, request.deal_stage),
        kind=label_of(ReferenceKind, request.wanted_kind),
        industry=label_of(Industry, request.wanted_industry),
        size=label_of(SizeBand, request.wanted_size_band),
        role=label_of(RoleLevel, request.wanted_role_level),
    )


def build_submitted_message(*, request: RequestRecord) -> list[Block]:
    """The rep's receipt: summary, number, and Cancel while CS has not decided."""
    if request.status == RequestStatus.PENDING:
        return [kit.section(submitted_text(request), accessory=cancel_button(request.id))]
    return [kit.section(submitted_text(request)), kit.context(STATUS_LABEL[RequestStatus(request.status)])]


def build_decision_message(*, request: RequestRecord) -> tuple[Mrkdwn, list[Block]]:
    """(notification text, blocks) telling the rep what CS decided."""
    if request.status == RequestStatus.APPROVED and request.wanted_kind == ReferenceKind.PEER:
        text = render("request_approved_peer", r=request)
        return kit.notification(text), [*kit.text_message(text), log_button(request.id)]
    if request.status == RequestStatus.APPROVED:
        text = render("request_approved", r=request)
    else:
        text = render(
            "request_declined", r=request, reason=label_of(DeclineReason, request.decline_reason or "")
        )
    return kit.notification(text), kit.text_message(text)


def _request_line(request: RequestRecord) -> Mrkdwn:
    status = STATUS_LABEL.get(RequestStatus(request.status), request.status)
    line = mrkdwn(
        "*#{} · {}* — {} ARR, filed {}\n{}",
        request.id,
        kit.safe(request.prospect_company, 120),
        money(request.deal_arr),
        day(request.created_at),
        status,
    )
    if request.status == RequestStatus.DECLINED and request.decline_reason:
        line += f": {label_of(DeclineReason, request.decline_reason)}"
    return line


def _request_blocks(requests: Sequence[RequestRecord]) -> list[Block]:
    return [
        kit.section(
            _request_line(request),
            accessory=cancel_button(request.id) if request.status == RequestStatus.PENDING else None,
        )
        for request in requests[:LIST_LIMIT]
    ]


def build_request_list(*, requests: Sequence[RequestRecord]) -> list[Block]:
    """`/reference list`: the user's requests, newest first."""
    if not requests:
        return [kit.section("You have no reference requests yet. Type `/reference` to file one.")]
    blocks: list[Block] = [kit.header("Your reference requests")]
    blocks.extend(_request_blocks(requests))
    if len(requests) > LIST_LIMIT:
        blocks.append(
            kit.context(f"Showing the newest {LIST_LIMIT}. Older requests are on the refdesk Home tab.")
        )
    return blocks
