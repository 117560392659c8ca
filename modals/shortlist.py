"""The shortlist in the approval card's thread: ranked advocates, why, their usage, and Ask buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import Block, ButtonElement, DividerBlock

from bot.flows.records import RequestRecord
from bot.rules.matching import KIND_RULES, Assessment, Grade, Policy, big_deal_warning
from bot.rules.vocabulary import Industry, ReferenceKind, RoleLevel, label_of
from bot.text import Mrkdwn, mrkdwn
from modals import kit
from modals.ids import Action
from modals.ids import Block as BlockId
from modals.peer import log_button

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


def _who(assessment: Assessment) -> Mrkdwn:
    c = assessment.candidate
    title = mrkdwn("{}, ", c.title) if c.title else ""
    return mrkdwn("*{}* — {}{}", c.name, title, c.company)


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
    ask = (
        kit.button(f"Ask {c.name}", action_id=Action.ASK, value=f"{request_id}:{c.advocate_id}:{page}")
        if askable
        else None
    )
    headline = kit.section(
        mrkdwn(
            "{}. {}\n{} · {:,} employees · {} · {} *{}*",
            position,
            _who(assessment),
            label_of(Industry, c.industry),
            c.employees,
            label_of(RoleLevel, c.role_level),
            Mrkdwn(GRADE_MARK[assessment.grade]),
            assessment.grade.label,
        ),
        block_id=f"{BlockId.SHORTLIST_ADVOCATE}_{c.advocate_id}",
        accessory=ask,
    )
    reasons = Mrkdwn(" · ").join(
        mrkdwn("{} {}", Mrkdwn(GRADE_MARK[d.grade]), d.reason) for d in assessment.dimensions
    )
    return [
        headline,
        kit.context(reasons),
        kit.context(":bar_chart: " + usage_line(assessment, policy=policy, today=today)),
    ]


def _excluded_blocks(assessment: Assessment) -> list[Block]:
    c = assessment.candidate
    why = "; ".join(e.reason for e in assessment.exclusions) or "a poor match: " + ", ".join(
        d.reason for d in assessment.dimensions if d.grade is Grade.POOR
    )
    return [
        kit.section(
            mrkdwn(":no_entry: {}\n{}", _who(assessment), why),
            block_id=f"{BlockId.SHORTLIST_EXCLUDED}_{c.advocate_id}",
        )
    ]


def build_shortlist(
    *,
    request: RequestRecord,
    ranked: Sequence[Assessment],
    page: int,
    policy: Policy,
    today: date,
    picked: Mrkdwn | None = None,
    closed: Mrkdwn | None = None,
    good: int | None = None,
) -> list[Block]:
    """One page of the shortlist. `picked` / `closed` say what already happened; then nobody can be asked.

    `good`: how many good matches there are when `ranked` holds only the first page's (matching.first_page);
    None: `ranked` is everyone."""
    eligible = [a for a in ranked if not a.excluded and a.grade is not Grade.POOR]
    total = len(eligible) if good is None else good
    # Protected advocates who would have fitted come first (best fit first), then the poor matches.
    others = sorted(
        (a for a in ranked if a.excluded or a.grade is Grade.POOR),
        key=lambda a: (not a.excluded, -a.grade, -a.score),
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages + (1 if page > pages and others else 0))
    askable = picked is None and closed is None
    blocks: list[Block] = [
        kit.section(
            mrkdwn(
                ":mag: *Shortlist for #{} · {}* ({} good match{}, page {})\n{} · {} · {} · {}",
                request.id,
                request.prospect_company,
                total,
                "" if total == 1 else "es",
                page,
                label_of(ReferenceKind, request.wanted_kind),
                label_of(Industry, request.wanted_industry),
                label_of(RoleLevel, request.wanted_role_level),
                request.wanted_use_case,
            )
        )
    ]
    if warning := big_deal_warning(kind=request.wanted_kind, deal_arr=request.deal_arr, policy=policy):
        blocks.append(kit.context(mrkdwn(":warning: {}", warning)))
    if picked:
        blocks.append(kit.context(picked))
    if closed:
        blocks.append(kit.context(closed))
    blocks.append(DividerBlock())

    rule = KIND_RULES.get(request.wanted_kind)
    if rule is not None and not rule.brokered:
        blocks.append(
            kit.section(
                ":speech_balloon: *A peer conversation is logged, not brokered.* It happens on its own (an event, "
                "an intro): nobody is asked. Once it has happened, log who and when, so their usage stays true."
            )
        )
        if askable:
            blocks.append(log_button(request.id))
        return blocks
    if not eligible:
        blocks.append(
            kit.section(
                ":warning: *No advocate reaches Good for this request.* Rather than burn a poor match, "
                "tell the rep why and suggest another route (case study, recorded story)."
            )
        )
        if askable:
            blocks.append(
                kit.actions(
                    kit.button(
                        "No good match — tell the rep",
                        action_id=Action.NO_MATCH,
                        value=str(request.id),
                        style="danger",
                        confirm=kit.confirm(
                            title="Tell the rep there is no match?",
                            text="The rep gets the reasons below and the request closes.",
                            yes="Tell the rep",
                            no="Not yet",
                        ),
                    ),
                    block_id=BlockId.SHORTLIST_NO_MATCH,
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
        blocks.append(kit.section("*Not eligible — and why*"))
        for assessment in others[:EXCLUDED_SHOWN]:
            blocks.extend(_excluded_blocks(assessment))

    nav: list[ButtonElement] = []
    if page > 1:
        nav.append(kit.button("◀ Back", action_id=Action.SHOW_MORE, value=f"{request.id}:{page - 1}"))
    if page < pages or (
        page == 1 and eligible
    ):  # page 1 may be ranked without the excluded: always offer more
        nav.append(kit.button("Show more ▶", action_id=Action.SHOW_MORE, value=f"{request.id}:{page + 1}"))
    if nav:
        blocks.append(kit.actions(*nav, block_id=BlockId.SHORTLIST_NAV))
    return blocks


def shortlist_text(request: RequestRecord) -> Mrkdwn:
    return kit.notification(mrkdwn("Shortlist for request #{} ({})", request.id, request.prospect_company))
