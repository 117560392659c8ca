"""The App Home tab: a rep's requests and next steps, or CS's dashboard. Fixed shape: far below 100 blocks."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.dashboard import CsDashboard, RepRequest
from bot.text import day, escape, money, slack_date, truncate
from modals.approval_card import cancel_button

FIELD_LIMIT = 2000
TEXT_LIMIT = 3000
REP_SHOWN = 20


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, TEXT_LIMIT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, TEXT_LIMIT))])


def build_rep_home(*, requests: Sequence[RepRequest]) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="refdesk — customer references"),
        _section(
            "Need a customer to talk to your prospect? Type `/reference` in any channel. CS qualifies the "
            "request, finds the right advocate and walks everyone through the call."
        ),
        DividerBlock(),
    ]
    if not requests:
        blocks.append(_context("You have no requests yet."))
    else:
        blocks.append(HeaderBlock(text="Your requests"))
    for item in requests[:REP_SHOWN]:
        r = item.request
        section = _section(
            f"*#{r.id} · {escape(r.prospect_company)}* — {money(r.deal_arr)} ARR, filed "
            f"{day(r.created_at)}\n{item.next_step}"
        )
        if item.cancellable:
            section.accessory = cancel_button(r.id)
        blocks.append(section)
    return View(type="home", blocks=blocks)


def _mark(met: bool | None) -> str:
    return {True: ":white_check_mark:", False: ":x:", None: ":grey_question:"}[met]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _lines(items: Sequence[str], empty: str) -> str:
    return "\n".join(items) if items else empty


def build_cs_home(*, dashboard: CsDashboard) -> View:
    d = dashboard
    q = d.queue
    counts = q.counts
    blocks: list[Block] = [
        HeaderBlock(text="refdesk — reference program"),
        _context(
            f"As of {slack_date(d.generated_at)} · quarter {d.period.label} · "
            "`/reference stats` for a summary, `/reference advocates` for the pool"
        ),
        HeaderBlock(text="Queue"),
        _section(
            f"*Awaiting approval ({counts['awaiting_approval']})*\n"
            + _lines(
                [
                    f"• #{r.id} {escape(r.prospect_company)} — <@{r.rep_id}>, {money(r.deal_arr)}, filed {day(r.created_at)}"
                    for r in q.awaiting_approval
                ],
                "_Nothing waiting._",
            )
        ),
        _section(
            f"*Awaiting the advocate ({counts['awaiting_advocate']})*\n"
            + _lines(
                [
                    f"• #{r.id} {escape(r.prospect_company)} — {escape(a.name)}, asked {day(e.asked_at)}"
                    for e, a, r in q.awaiting_advocate
                ],
                "_Nobody to hear from._",
            )
        ),
        _section(
            f"*Scheduled ({counts['scheduled']})*\n"
            + _lines(
                [
                    f"• #{r.id} {escape(r.prospect_company)} × {escape(a.name)} — {slack_date(e.call_at)}"
                    for e, a, r in q.scheduled
                    if e.call_at
                ],
                "_No calls coming up._",
            )
        ),
        _section(
            f"*Awaiting feedback ({counts['awaiting_feedback']})*\n"
            + _lines(
                [
                    f"• {escape(a.name)} — call with {escape(r.prospect_company)} on {day(e.call_at)}"
                    for e, a, r in q.awaiting_feedback
                    if e.call_at
                ],
                "_All feedback is in._",
            )
        ),
        _section("*Overdue*\n" + _lines([f"• {line}" for line in q.overdue], "_Nothing overdue._")),
        DividerBlock(),
        HeaderBlock(text=f"Program health · {d.period.label}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    text=truncate(f"{_mark(m.met)} *{m.name}*\n{m.shown} (target {m.target})", FIELD_LIMIT)
                )
                for m in d.program[:10]
            ]
        ),
        DividerBlock(),
        HeaderBlock(text="Pool health"),
        _context(
            f"{d.pool.size} advocates · {d.pool.active} can be asked · {d.pool.fatigued} fatigued · "
            f"{d.pool.at_cap} at their quarterly cap"
        ),
        _section(
            "*Needing care first* (fatigue, account trouble, low sentiment)\n"
            + _lines(
                [
                    f"• {':zzz: ' if row.fatigued else ''}*{escape(row.advocate.name)}* ({escape(row.advocate.company)}) — "
                    f"{row.total} ever · {row.this_quarter} this quarter · last "
                    f"{day(row.last_date) if row.last_date else 'never'} · success {_pct(row.success_rate)} · "
                    f"sentiment {'—' if row.advocate.sentiment is None else f'{row.advocate.sentiment:.0%}'}"
                    for row in d.pool.worst
                ],
                "_The pool is empty: `refdesk advocates import FILE.csv`._",
            )
        ),
        DividerBlock(),
        HeaderBlock(text="Reps · last 12 months"),
        _section(
            _lines(
                [
                    f"• <@{rep.rep_id}> — {rep.requests} request{'' if rep.requests == 1 else 's'}, approval "
                    f"{_pct(rep.approval_rate)}, {rep.references} with a reference, win rate {_pct(rep.win_rate)}"
                    for rep in d.reps
                ],
                "_No requests yet._",
            )
        ),
        DividerBlock(),
        HeaderBlock(text="Coverage gaps"),
        _section(
            "*Industries with nobody who can be asked:* "
            + (", ".join(d.industry_gaps) if d.industry_gaps else "none")
            + "\n*Use cases with nobody who can be asked:* "
            + (", ".join(escape(t) for t in d.use_case_gaps[:30]) if d.use_case_gaps else "none")
        ),
    ]
    return View(type="home", blocks=blocks)
