"""The App Home tab: a rep's requests and next steps, or CS's dashboard. Fixed shape: far below 100 blocks."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.dashboard import CsDashboard, RepRequest
from bot.text import Mrkdwn, day, mention, money, mrkdwn, slack_date
from modals import kit
from modals.approval_card import cancel_button

REP_SHOWN = 20


def build_rep_home(*, requests: Sequence[RepRequest]) -> View:
    blocks: list[Block] = [
        kit.header("refdesk — customer references"),
        kit.section(
            "Need a customer to talk to your prospect? Type `/reference` in any channel. CS qualifies the "
            "request, finds the right advocate and walks everyone through the call."
        ),
        DividerBlock(),
    ]
    if not requests:
        blocks.append(kit.context("You have no requests yet."))
    else:
        blocks.append(kit.header("Your requests"))
    for item in requests[:REP_SHOWN]:
        r = item.request
        blocks.append(
            kit.section(
                mrkdwn(
                    "*#{} · {}* — {} ARR, filed {}\n{}",
                    r.id,
                    r.prospect_company,
                    money(r.deal_arr),
                    day(r.created_at),
                    item.next_step,
                ),
                accessory=cancel_button(r.id) if item.cancellable else None,
            )
        )
    return View(type="home", blocks=blocks)


def _mark(met: bool | None) -> str:
    return {True: ":white_check_mark:", False: ":x:", None: ":grey_question:"}[met]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _lines(items: Sequence[Mrkdwn], empty: str) -> Mrkdwn:
    return Mrkdwn("\n").join(items) if items else Mrkdwn(empty)


def _queue(title: str, count: int, lines: list[Mrkdwn], empty: str) -> Block:
    return kit.section(mrkdwn("*{} ({})*\n", title, count) + _lines(lines, empty))


def build_cs_home(*, dashboard: CsDashboard) -> View:
    d = dashboard
    q = d.queue
    counts = q.counts
    blocks: list[Block] = [
        kit.header("refdesk — reference program"),
        kit.context(
            mrkdwn(
                "As of {} · quarter {} · `/reference stats` for a summary, `/reference advocates` for the pool",
                slack_date(d.generated_at),
                d.period.label,
            )
        ),
        kit.header("Queue"),
        _queue(
            "Awaiting approval",
            counts["awaiting_approval"],
            [
                mrkdwn(
                    "• #{} {} — {}, {}, filed {}",
                    r.id,
                    r.prospect_company,
                    mention(r.rep_id),
                    money(r.deal_arr),
                    day(r.created_at),
                )
                for r in q.awaiting_approval
            ],
            "_Nothing waiting._",
        ),
        _queue(
            "Awaiting the advocate",
            counts["awaiting_advocate"],
            [
                mrkdwn("• #{} {} — {}, asked {}", r.id, r.prospect_company, a.name, day(e.asked_at))
                for e, a, r in q.awaiting_advocate
            ],
            "_Nobody to hear from._",
        ),
        _queue(
            "Scheduled",
            counts["scheduled"],
            [
                mrkdwn("• #{} {} × {} — {}", r.id, r.prospect_company, a.name, slack_date(e.call_at))
                for e, a, r in q.scheduled
                if e.call_at
            ],
            "_No calls coming up._",
        ),
        _queue(
            "Awaiting feedback",
            counts["awaiting_feedback"],
            [
                mrkdwn("• {} — call with {} on {}", a.name, r.prospect_company, day(e.call_at))
                for e, a, r in q.awaiting_feedback
                if e.call_at
            ],
            "_All feedback is in._",
        ),
        kit.section(
            Mrkdwn("*Overdue*\n") + _lines([mrkdwn("• {}", line) for line in q.overdue], "_Nothing overdue._")
        ),
        DividerBlock(),
        kit.header(f"Program health · {d.period.label}"),
        kit.fields(
            *(
                mrkdwn("{} *{}*\n{} (target {})", Mrkdwn(_mark(m.met)), m.name, m.shown, m.target)
                for m in d.program[: kit.FIELDS_MAX]
            )
        ),
        DividerBlock(),
        kit.header("Pool health"),
        kit.context(
            f"{d.pool.size} advocates · {d.pool.active} can be asked · {d.pool.fatigued} fatigued · "
            f"{d.pool.at_cap} at their quarterly cap"
        ),
        kit.section(
            Mrkdwn("*Needing care first* (fatigue, account trouble, low sentiment)\n")
            + _lines(
                [
                    mrkdwn(
                        "• {}*{}* ({}) — {} ever · {} this quarter · last {} · success {} · sentiment {}",
                        ":zzz: " if row.fatigued else "",
                        row.advocate.name,
                        row.advocate.company,
                        row.total,
                        row.this_quarter,
                        day(row.last_date) if row.last_date else "never",
                        _pct(row.success_rate),
                        "—" if row.advocate.sentiment is None else f"{row.advocate.sentiment:.0%}",
                    )
                    for row in d.pool.worst
                ],
                "_The pool is empty: `refdesk advocates import FILE.csv`._",
            )
        ),
        DividerBlock(),
        kit.header("Reps · last 12 months"),
        kit.section(
            _lines(
                [
                    mrkdwn(
                        "• {} — {} request{}, approval {}, {} with a reference, win rate {}",
                        mention(rep.rep_id),
                        rep.requests,
                        "" if rep.requests == 1 else "s",
                        _pct(rep.approval_rate),
                        rep.references,
                        _pct(rep.win_rate),
                    )
                    for rep in d.reps
                ],
                "_No requests yet._",
            )
        ),
        DividerBlock(),
        kit.header("Coverage gaps"),
        kit.section(
            mrkdwn(
                "*Industries with nobody who can be asked:* {}\n*Use cases with nobody who can be asked:* {}",
                ", ".join(d.industry_gaps) or "none",
                ", ".join(d.use_case_gaps[:30]) or "none",
            )
        ),
    ]
    return View(type="home", blocks=blocks)
