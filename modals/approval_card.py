"""The approval card CS sees in its channel, before and after the decision."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ButtonElement, DividerBlock

from bot.flows.records import RequestRecord
from bot.rules.qualification import Flag
from bot.rules.vocabulary import (
    DealStage,
    DeclineReason,
    Industry,
    ReferenceKind,
    RequestStatus,
    RoleLevel,
    SizeBand,
    Tried,
    Urgency,
    label_of,
)
from bot.text import Mrkdwn, day, mention, money, mrkdwn, slack_date
from modals import kit
from modals.ids import Action
from modals.ids import Block as BlockId


def card_text(request: RequestRecord) -> Mrkdwn:
    """The notification text that goes with the card's blocks."""
    return kit.notification(
        mrkdwn(
            "Reference request #{}: {} ({} ARR) from {}",
            request.id,
            request.prospect_company,
            money(request.deal_arr),
            mention(request.rep_id),
        )
    )


def _facts(request: RequestRecord) -> list[Block]:
    tried = ", ".join(label_of(Tried, t) for t in request.tried) or "—"
    revenue = f" · revenue {money(request.prospect_revenue)}" if request.prospect_revenue else ""
    justification = mrkdwn(
        "*Why now:* {}\n*Already tried:* {}\n*Should achieve:* {}", request.why_now, tried, request.goal
    )
    if request.background:
        justification += mrkdwn("\n*Background:* {}", request.background)
    return [
        kit.header(f"#{request.id} · {request.prospect_company}"),
        kit.fields(
            mrkdwn("*Rep*\n{}", mention(request.rep_id)),
            mrkdwn(
                "*Deal*\n{} ARR · {} · closes {}",
                money(request.deal_arr),
                label_of(DealStage, request.deal_stage),
                day(request.close_date),
            ),
            mrkdwn(
                "*Prospect*\n{} · {:,} employees{}",
                label_of(Industry, request.prospect_industry),
                request.prospect_employees,
                revenue,
            ),
            mrkdwn("*Contact*\n{}", kit.safe(request.contact_role, 200)),
            mrkdwn(
                "*Wanted*\n{} · {} · {} · {}",
                label_of(ReferenceKind, request.wanted_kind),
                label_of(Industry, request.wanted_industry),
                label_of(SizeBand, request.wanted_size_band),
                label_of(RoleLevel, request.wanted_role_level),
            ),
            mrkdwn("*Urgency*\n{}", label_of(Urgency, request.urgency)),
        ),
        kit.section(
            kit.safe(
                mrkdwn("*Use case:* {}\n*Concerns:* {}", request.wanted_use_case, request.contact_concerns),
                kit.FIELD_LIMIT,
            )
        ),
        kit.section(kit.safe(justification, kit.FIELD_LIMIT)),
    ]


def _flags(flags: Sequence[Flag]) -> Block:
    if not flags:
        return kit.context(":large_green_circle: No qualification flags.")
    return kit.context(Mrkdwn("\n").join(mrkdwn(":warning: {}", flag.text) for flag in flags))


def _decision(request: RequestRecord) -> Mrkdwn:
    when = slack_date(request.decided_at) if request.decided_at else Mrkdwn("")
    by = mention(request.decided_by) if request.decided_by else Mrkdwn("CS")
    if request.status == RequestStatus.APPROVED:
        return mrkdwn(":white_check_mark: *Approved* by {} · {}", by, when)
    if request.status == RequestStatus.DECLINED:
        reason = label_of(DeclineReason, request.decline_reason or "")
        note = mrkdwn(" — “{}”", kit.safe(request.decline_note, 500)) if request.decline_note else ""
        return mrkdwn(":no_entry_sign: *Declined* by {} · {}\n*Reason:* {}{}", by, when, reason, note)
    if request.status == RequestStatus.NO_MATCH:
        return mrkdwn(":mag: *Approved, no good match* — the rep was told why by {} · {}", by, when)
    if request.status == RequestStatus.CANCELLED:
        return mrkdwn(":heavy_multiplication_x: *Cancelled* by {} · {}", by, when)
    return Mrkdwn("")


def build_approval_card(*, request: RequestRecord, flags: Sequence[Flag]) -> list[Block]:
    """The card: the request at a glance, its flags, and Approve / Decline while it is pending."""
    blocks = [*_facts(request), _flags(flags), DividerBlock()]
    if request.status == RequestStatus.PENDING:
        value = str(request.id)
        blocks.append(
            kit.actions(
                kit.button("Approve", action_id=Action.APPROVE, value=value, style="primary"),
                kit.button("Decline", action_id=Action.DECLINE, value=value, style="danger"),
                block_id=BlockId.CARD_ACTIONS,
            )
        )
    else:
        blocks.append(kit.section(_decision(request), block_id=BlockId.CARD_DECISION))
    return blocks


def cancel_button(request_id: int) -> ButtonElement:
    return kit.button(
        "Cancel request",
        action_id=Action.CANCEL,
        value=str(request_id),
        confirm=kit.confirm(
            title="Cancel this request?",
            text="CS will stop working on it. You can file a new one any time.",
            yes="Cancel it",
            no="Keep it",
        ),
    )
