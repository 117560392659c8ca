"""The shortlist in the approval card's thread: ranked advocates, why, their usage, and Ask buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.matching import Assessment, Grade, Policy
from bot.text import escape, truncate
from bot.vocabulary import Industry, ReferenceKind, RoleLevel, label_of
from modals.ids import Action
from modals.ids import Block as BlockId
from store.models import ReferenceRequest

PAGE_SIZE = 5
EXCLUDED_SHOWN = 5
GRADE_MARK = {
    Grade.EXCELLENT: ":large_green_circle:",
    Grade.GOOD: ":large_yellow_circle:",
    Grade.POOR: ":red_circle:",
}


def _short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


def usage_line(assessment: Assessment, *, policy: Policy, today: date) -> str:
    candidate = assessment.candidate
    usage = candidate.usage
    cap = policy.caps.get(candidate.tier, min(policy.caps.values()))
    parts = [f"{usage.this_quarter} of {cap} this quarter ({candidate.tier})"]
    if usage.last_asked:
        days = (today - usage.last_asked).days
        parts.append(f"last asked {days} day{'' if days == 1 else 's'} ago")
    else:
        parts.append("never asked")
    parts.append(f"{usage.total} ever")
    if assessment.next_eligible is None:
        parts.append("not eligible until CS clears it")
    elif assessment.next_eligible > today:
        parts.append(f"next eligible {_short_day(assessment.next_eligible)}")
    else:
        parts.append("eligible now")
    return " · ".join(parts)


def _who(assessment: Assessment) -> str:
    c = assessment.candidate
    title = f"{escape(c.title)}, " if c.title else ""
    return f"*{escape(c.name)}* — {title}{escape(c.company)}"


def _advocate_blocks(
    position: int,
    assessment: Assessment,
    *,
    request_id: int,
    page: int,
    policy: Policy,
    today: date,
    askable: bool,
) -> list[Block]:
    c = assessment.candidate
    headline = SectionBlock(
        block_id=f"{BlockId.SHORTLIST_ADVOCATE}_{c.advocate_id}",
        text=MarkdownTextObject(
            text=truncate(
                f"{position}. {_who(assessment)}\n{label_of(Industry, c.industry)} · {c.employees:,} employees · "
                f"{label_of(RoleLevel, c.role_level)} · {GRADE_MARK[assessment.grade]} *{assessment.grade.label}*",
                3000,
            )
        ),
    )
    if askable:
        headline.accessory = ButtonElement(
            text=truncate(f"Ask {c.name}", 75),
            action_id=Action.ASK,
            value=f"{request_id}:{c.advocate_id}:{page}",
        )
    reasons = " · ".join(f"{GRADE_MARK[d.grade]} {d.reason}" for d in assessment.dimensions)
    return [
        headline,
        ContextBlock(elements=[MarkdownTextObject(text=truncate(escape(reasons), 3000))]),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=truncate(":bar_chart: " + usage_line(assessment, policy=policy, today=today), 3000)
                )
            ]
        ),
    ]


def _excluded_blocks(assessment: Assessment) -> list[Block]:
    c = assessment.candidate
    why = "; ".join(e.reason for e in assessment.exclusions) or "a poor match: " + ", ".join(
        d.reason for d in assessment.dimensions if d.grade is Grade.POOR
    )
    return [
        SectionBlock(
            block_id=f"{BlockId.SHORTLIST_EXCLUDED}_{c.advocate_id}",
            text=MarkdownTextObject(text=truncate(f":no_entry: {_who(assessment)}\n{escape(why)}", 3000)),
        )
    ]


def build_shortlist(
    *,
    request: ReferenceRequest,
    ranked: Sequence[Assessment],
    page: int,
    policy: Policy,
    today: date,
    picked: str | None = None,
    closed: str | None = None,
) -> list[Block]:
    """One page of the shortlist. `picked` / `closed` say what already happened; then nobody can be asked."""
    eligible = [a for a in ranked if not a.excluded and a.grade is not Grade.POOR]
    # Protected advocates who would have fitted come first (best fit first), then the poor matches.
    others = sorted(
        (a for a in ranked if a.excluded or a.grade is Grade.POOR),
        key=lambda a: (not a.excluded, -a.grade, -a.score),
    )
    pages = max(1, -(-len(eligible) // PAGE_SIZE))
    page = min(max(page, 1), pages + (1 if page > pages and others else 0))
    askable = picked is None and closed is None
    wanted = (
        f"{label_of(ReferenceKind, request.wanted_kind)} · {label_of(Industry, request.wanted_industry)} · "
        f"{label_of(RoleLevel, request.wanted_role_level)} · {escape(request.wanted_use_case)}"
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(
                    f":mag: *Shortlist for #{request.id} · {escape(request.prospect_company)}* "
                    f"({len(eligible)} good match{'' if len(eligible) == 1 else 'es'}, page {page})\n{wanted}",
                    3000,
                )
            )
        )
    ]
    if picked:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(picked, 3000))]))
    if closed:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(closed, 3000))]))
    blocks.append(DividerBlock())

    if not eligible:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        ":warning: *No advocate reaches Good for this request.* Rather than burn a poor match, "
                        "tell the rep why and suggest another route (case study, recorded story)."
                    )
                )
            )
        )
        if askable:
            blocks.append(
                ActionsBlock(
                    block_id=BlockId.SHORTLIST_NO_MATCH,
                    elements=[
                        ButtonElement(
                            text="No good match — tell the rep",
                            action_id=Action.NO_MATCH,
                            value=str(request.id),
                            style="danger",
                            confirm=ConfirmObject(
                                title="Tell the rep there is no match?",
                                text="The rep gets the reasons below and the request closes.",
                                confirm="Tell the rep",
                                deny="Not yet",
                            ),
                        )
                    ],
                )
            )
    start = (page - 1) * PAGE_SIZE
    for position, assessment in enumerate(eligible[start : start + PAGE_SIZE], start=start + 1):
        blocks.extend(
            _advocate_blocks(
                position,
                assessment,
                request_id=request.id,
                page=page,
                policy=policy,
                today=today,
                askable=askable,
            )
        )
    if (page > 1 or not eligible) and others:
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Not eligible — and why*")))
        for assessment in others[:EXCLUDED_SHOWN]:
            blocks.extend(_excluded_blocks(assessment))

    nav: list[ButtonElement] = []
    if page > 1:
        nav.append(ButtonElement(text="◀ Back", action_id=Action.SHOW_MORE, value=f"{request.id}:{page - 1}"))
    if page < pages or (
        page == 1 and eligible
    ):  # page 1 may be ranked without the excluded: always offer more
        nav.append(
            ButtonElement(text="Show more ▶", action_id=Action.SHOW_MORE, value=f"{request.id}:{page + 1}")
        )
    if nav:
        blocks.append(ActionsBlock(block_id=BlockId.SHORTLIST_NAV, elements=nav))
    return blocks


def shortlist_text(request: ReferenceRequest) -> str:
    return f"Shortlist for request #{request.id} ({request.prospect_company})"
