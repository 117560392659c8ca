"""The App Home tab: a rep's requests and next steps, or CS's dashboard. Fixed shape: far below 100 blocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.reporting.dashboard import CsDashboard, RepRequest
from bot.reporting.metrics import Metric
from bot.reporting.rows import AdvocateRow
from bot.text import Mrkdwn, day, mention, money, mrkdwn, slack_date
from modals import kit
from modals.approval_card import cancel_button
from modals.wire import as_dict

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


def _mark(metric: Metric) -> str:
    """Met, not met, or nothing to say: no target, or too little data to judge (the line says how much)."""
    if metric.met is None:
        return ""
    return ":white_check_mark: " if metric.met else ":x: "


def _metric(metric: Metric) -> Mrkdwn:
    target = f" (target {metric.target})" if metric.has_target else ""
    basis = f"\n_{metric.basis_text}_" if metric.basis_text else ""
    return mrkdwn("{}*{}*\n{}{}{}", Mrkdwn(_mark(metric)), metric.name, metric.shown, target, basis)


def _advocate(row: AdvocateRow, today: date) -> Mrkdwn:
    if row.next_eligible is None:
        if row.care:
            eligible = "no date (see why)"
        elif row.advocate.status == "break":
            eligible = "after their break"
        else:
            eligible = "when their open ask ends"
    elif row.next_eligible <= today:
        eligible = "now"
    else:
        eligible = day(row.next_eligible)
    line = mrkdwn(
        "• *{}* ({}) — {} this quarter · {} ever · last {} · next eligible {} · success {} · sentiment {}",
        row.advocate.name,
        row.advocate.company,
        row.this_period,
        row.total,
        day(row.last_date) if row.last_date else "never",
        eligible,
        _pct(row.success_rate),
        "—" if row.advocate.sentiment is None else f"{row.advocate.sentiment:.0%}",
    )
    if row.care:
        line += mrkdwn("\n    _why: {}_", "; ".join(row.care))
    return line


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _lines(items: Sequence[Mrkdwn], empty: str) -> Mrkdwn:
    return Mrkdwn("\n").join(items) if items else Mrkdwn(empty)


def _queue(title: str, count: int, lines: list[Mrkdwn], empty: str) -> Block:
    return kit.section(mrkdwn("*{} ({})*\n", title, count) + _lines(lines, empty))


def build_cs_home(*, dashboard: CsDashboard) -> View:
    return View(type="home", blocks=[*_cs_top(dashboard), *_cs_body(dashboard)])


# Below "As of", the view depends only on the dashboard's parts, which bot/reporting/dashboard.py remembers between
# opens (the same objects until something is written or the queue's next time limit): built, and turned into the
# JSON Slack receives, once per set of parts. ~2 of a cached open's ~4 ms. A few bodies are kept, newest first: one
# process may serve more than one database (bench.home serves every size at once, the tests one per test).
_bodies: list[tuple[tuple[object, ...], list[dict[str, Any]]]] = []
_BODIES_KEPT = 4


def cs_home(*, dashboard: CsDashboard) -> dict[str, Any]:
    """build_cs_home as the JSON Slack receives (modals/wire.py), the body remembered for the same parts."""
    d = dashboard
    parts = (d.queue, d.program, d.pool, d.reps, d.industry_gaps, d.use_case_gaps)
    day_and_period = (d.generated_at.date(), d.period)
    kept = next(
        (
            body
            for body in list(_bodies)
            if body[0][0] == day_and_period and all(a is b for a, b in zip(body[0][1:], parts, strict=True))
        ),
        None,
    )
    if kept is None:
        kept = ((day_and_period, *parts), [as_dict(block) for block in _cs_body(d)])
        _bodies[:] = [kept, *_bodies[: _BODIES_KEPT - 1]]
    view = as_dict(View(type="home", blocks=_cs_top(d)))
    view["blocks"] = [*view["blocks"], *kept[1]]
    return view


def _cs_top(d: CsDashboard) -> list[Block]:
    return [
        kit.header("refdesk — reference program"),
        kit.context(
            mrkdwn(
                "As of {} · quarter {} · `/reference stats` for a summary, `/reference advocates` for the pool",
                slack_date(d.generated_at),
                d.period.label,
            )
        ),
    ]


def _cs_body(d: CsDashboard) -> list[Block]:
    q = d.queue
    today = d.generated_at.date()
    counts = q.counts
    return [
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
        *(
            kit.fields(*(_metric(m) for m in d.program[i : i + kit.FIELDS_MAX]))
            for i in range(0, len(d.program), kit.FIELDS_MAX)
        ),
        DividerBlock(),
        kit.header("Pool health"),
        kit.context(
            f"{d.pool.size} advocates · {d.pool.can_be_asked} can be asked today · "
            f"{d.pool.needing_care} need care · {d.pool.fatigued} fatigued · {d.pool.at_cap} at their quarterly cap"
        ),
        kit.section(
            Mrkdwn("*Needing care first*\n")
            + _lines(
                [_advocate(row, today) for row in d.pool.care],
                "_Nobody needs care: no fatigue, account trouble, low sentiment or unhappy feedback._",
            )
        ),
        kit.section(
            Mrkdwn("*Who can be asked next*\n")
            + _lines(
                [_advocate(row, today) for row in d.pool.soonest],
                "_The pool is empty: `refdesk advocates import FILE.csv`._",
            )
        ),
        DividerBlock(),
        kit.header("Reps · last 12 months"),
        kit.section(
            _lines(
                [
                    mrkdwn(
                        "• {} — {} request{}, approval {} of {}, {} reference{}, win rate {} of {}, quality {}",
                        mention(rep.rep_id),
                        rep.requests,
                        "" if rep.requests == 1 else "s",
                        _pct(rep.approval_rate),
                        rep.decided,
                        rep.references,
                        "" if rep.references == 1 else "s",
                        _pct(rep.win_rate),
                        rep.closed,
                        _pct(rep.quality),
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
