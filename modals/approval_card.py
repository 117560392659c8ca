"""The approval card CS sees in its channel, before and after the decision."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.qualification import Flag
from bot.text import day, escape, money, slack_date, truncate
from bot.vocabulary import (
    DealStage,
    DeclineReason,
    Industry,
    ReferenceKind,
    RoleLevel,
    SizeBand,
    Tried,
    Urgency,
    label_of,
)
from modals.ids import Action
from modals.ids import Block as BlockId
from store.models import ReferenceRequest, RequestStatus

FIELD_LIMIT = 2000  # a section field's text
HEADER_LIMIT = 150


def card_text(request: ReferenceRequest) -> str:
    """The notification text that goes with the card's blocks."""
    return (
        f"Reference request #{request.id}: {request.prospect_company} "
        f"({money(request.deal_arr)} ARR) from <@{request.rep_id}>"
    )


def _facts(request: ReferenceRequest) -> list[Block]:
    tried = ", ".join(label_of(Tried, t) for t in request.tried) or "—"
    revenue = f" · revenue {money(request.prospect_revenue)}" if request.prospect_revenue else ""
    return [
        HeaderBlock(text=truncate(f"#{request.id} · {request.prospect_company}", HEADER_LIMIT)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Rep*\n<@{request.rep_id}>"),
                MarkdownTextObject(
                    text=f"*Deal*\n{money(request.deal_arr)} ARR · {label_of(DealStage, request.deal_stage)}"
                    f" · closes {day(request.close_date)}"
                ),
                MarkdownTextObject(
                    text=f"*Prospect*\n{label_of(Industry, request.prospect_industry)} · "
                    f"{request.prospect_employees:,} employees{revenue}"
                ),
                MarkdownTextObject(text=f"*Contact*\n{truncate(escape(request.contact_role), 200)}"),
                MarkdownTextObject(
                    text=f"*Wanted*\n{label_of(ReferenceKind, request.wanted_kind)} · "
                    f"{label_of(Industry, request.wanted_industry)} · {label_of(SizeBand, request.wanted_size_band)}"
                    f" · {label_of(RoleLevel, request.wanted_role_level)}"
                ),
                MarkdownTextObject(text=f"*Urgency*\n{label_of(Urgency, request.urgency)}"),
            ]
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(
                    f"*Use case:* {escape(request.wanted_use_case)}\n"
                    f"*Concerns:* {escape(request.contact_concerns)}",
                    FIELD_LIMIT,
                )
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(
                    f"*Why now:* {escape(request.why_now)}\n*Already tried:* {tried}\n"
                    f"*Should achieve:* {escape(request.goal)}"
                    + (f"\n*Background:* {escape(request.background)}" if request.background else ""),
                    FIELD_LIMIT,
                )
            )
        ),
    ]


def _flags(flags: Sequence[Flag]) -> Block:
    if not flags:
        text = ":large_green_circle: No qualification flags."
    else:
        text = "\n".join(f":warning: {flag.text}" for flag in flags)
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, FIELD_LIMIT))])


def _decision(request: ReferenceRequest) -> str:
    when = slack_date(request.decided_at) if request.decided_at else ""
    if request.status == RequestStatus.APPROVED:
        return f":white_check_mark: *Approved* by <@{request.decided_by}> · {when}"
    if request.status == RequestStatus.DECLINED:
        reason = label_of(DeclineReason, request.decline_reason or "")
        note = f" — “{truncate(escape(request.decline_note), 500)}”" if request.decline_note else ""
        return f":no_entry_sign: *Declined* by <@{request.decided_by}> · {when}\n*Reason:* {reason}{note}"
    if request.status == RequestStatus.NO_MATCH:
        return f":mag: *Approved, no good match* — the rep was told why by <@{request.decided_by}> · {when}"
    if request.status == RequestStatus.CANCELLED:
        return f":heavy_multiplication_x: *Cancelled* by <@{request.decided_by}> · {when}"
    return ""


def build_approval_card(*, request: ReferenceRequest, flags: Sequence[Flag]) -> list[Block]:
    """The card: the request at a glance, its flags, and Approve / Decline while it is pending."""
    blocks = [*_facts(request), _flags(flags), DividerBlock()]
    if request.status == RequestStatus.PENDING:
        value = str(request.id)
        blocks.append(
            ActionsBlock(
                block_id=BlockId.CARD_ACTIONS,
                elements=[
                    ButtonElement(text="Approve", action_id=Action.APPROVE, value=value, style="primary"),
                    ButtonElement(
                        text="Decline",
                        action_id=Action.DECLINE,
                        value=value,
                        style="danger",
                    ),
                ],
            )
        )
    else:
        blocks.append(
            SectionBlock(block_id=BlockId.CARD_DECISION, text=MarkdownTextObject(text=_decision(request)))
        )
    return blocks


def cancel_button(request_id: int) -> ButtonElement:
    return ButtonElement(
        text="Cancel request",
        action_id=Action.CANCEL,
        value=str(request_id),
        confirm=ConfirmObject(
            title="Cancel this request?",
            text="CS will stop working on it. You can file a new one any time.",
            confirm="Cancel it",
            deny="Keep it",
        ),
    )
