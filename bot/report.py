"""The quarterly report (PROGRAM.md "What to measure"): gathered in SQL, written as CSV, HTML or Slack text."""

from __future__ import annotations

import base64
import csv
import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bot.matching import Policy
from bot.metrics import (
    AdvocateRow,
    Metric,
    Period,
    RepRow,
    advocate_rows,
    day_start,
    given_in,
    period_counts,
    program_metrics,
    reference_at,
    rep_stats,
)
from bot.spreadsheet import neutralise
from bot.text import SECTION_TEXT_LIMIT, Mrkdwn, day, mrkdwn
from bot.vocabulary import Industry
from store.models import Engagement

UNKNOWN_INDUSTRY = "Unknown"
TOP_ADVOCATES = 10
TOP_REPS = 20

MonthCounts = tuple[str, dict[str, int]]  # ("2026-10", {industry label: references})
MonthRates = tuple[str, float | None, float | None]  # ("2026-10", approval rate, win rate)


@dataclass(frozen=True)
class Report:
    period: Period
    metrics: list[Metric]
    reps: list[RepRow]
    by_month: list[MonthCounts]
    rates_by_month: list[MonthRates]
    requests_by_month: list[tuple[str, int]]
    advocates: list[AdvocateRow]  # everyone in the pool during the period, or who gave a reference in it

    @property
    def top_advocates(self) -> list[AdvocateRow]:
        """Who gave the most references in the period (ties: more deals won, then the name)."""
        given = [row for row in self.advocates if row.this_period]
        given.sort(key=lambda row: (-row.this_period, -row.won, row.advocate.name, row.advocate.id))
        return given[:TOP_ADVOCATES]


@dataclass(frozen=True)
class _Month:
    label: str
    start: datetime
    end: datetime


def _months(period: Period) -> list[_Month]:
    months: list[_Month] = []
    start = period.start
    while start < period.end:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        end = min(day_start(following), period.end)
        months.append(_Month(f"{start:%Y-%m}", start, end))
        start = end
    return months


def _month_index(column: Any, months: list[_Month]) -> Any:
    """The index in `months` of the month `column` falls in (NULL outside them)."""
    return case(*[(and_(column >= m.start, column < m.end), i) for i, m in enumerate(months)], else_=None)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_INDUSTRY_LABELS = {industry.value: industry.label for industry in Industry}


def _industry_label(value: str | None) -> str:
    if not value:
        return UNKNOWN_INDUSTRY
    return _INDUSTRY_LABELS.get(value, value)


def references_by_month(*, session: Session, period: Period) -> list[MonthCounts]:
    """References given (metrics.given_in: live and imported alike) per month of `period`, by the prospect's industry."""
    e = Engagement
    months = _months(period)
    # Grouping over a subquery: PostgreSQL cannot match a CASE with bound parameters in SELECT and GROUP BY.
    calls = (
        select(_month_index(reference_at(), months).label("month"), e.prospect_industry.label("industry"))
        .where(given_in(period))
        .subquery()
    )
    rows = session.execute(
        select(calls.c.month, calls.c.industry, func.count()).group_by(calls.c.month, calls.c.industry)
    ).all()
    counts: list[dict[str, int]] = [{} for _ in months]
    for month, industry, references in rows:
        label = _industry_label(industry)
        counts[month][label] = counts[month].get(label, 0) + int(references)

    def biggest_first(item: tuple[str, int]) -> tuple[int, bool, str]:
        return -item[1], item[0] == UNKNOWN_INDUSTRY, item[0]

    return [(m.label, dict(sorted(counts[i].items(), key=biggest_first))) for i, m in enumerate(months)]


def rates_by_month(*, session: Session, period: Period, today: date) -> list[MonthRates]:
    """Per month: approval rate and win rate with a reference, by the program's own definitions."""
    rates: list[MonthRates] = []
    for m in _months(period):
        counts = period_counts(session=session, period=Period(m.start, m.end, m.label), today=today)
        rates.append(
            (m.label, _rate(counts.approved, counts.decided), _rate(counts.deals_won, counts.deals_closed))
        )
    return rates


def requests_by_month(*, session: Session, period: Period, today: date) -> list[tuple[str, int]]:
    return [
        (
            m.label,
            period_counts(session=session, period=Period(m.start, m.end, m.label), today=today).requests,
        )
        for m in _months(period)
    ]


def build_report(*, session: Session, period: Period, policy: Policy, today: date) -> Report:
    return Report(
        period=period,
        metrics=program_metrics(session=session, period=period, policy=policy, today=today),
        reps=rep_stats(session=session, period=period, limit=None),
        by_month=references_by_month(session=session, period=period),
        rates_by_month=rates_by_month(session=session, period=period, today=today),
        requests_by_month=requests_by_month(session=session, period=period, today=today),
        advocates=advocate_rows(session=session, period=period, policy=policy, today=today),
    )


# Writers


def _number(value: float | None) -> str:
    """A machine-readable number: rates stay fractions (0.75), empty when there is no data."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0")


def _met_word(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "no")


class _SafeWriter:
    """csv.writer whose text cells a spreadsheet shows as text, never evaluates (names come from people)."""

    def __init__(self, sink: TextIO) -> None:
        self._writer = csv.writer(sink, lineterminator="\n")

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])


def write_csv(report: Report, sink: TextIO) -> None:
    """The program's figures: one row per measure or per month, rates as fractions, blank where no data."""
    writer = _SafeWriter(sink)
    writer.writerow(["section", "name", "value", "target", "met", "basis"])
    for metric in report.metrics:
        writer.writerow(
            ["metric", metric.name, _number(metric.value), metric.target, _met_word(metric.met), metric.basis]
        )
    for month, requests in report.requests_by_month:
        writer.writerow(["requests", month, requests, "", "", ""])
    for month, industries in report.by_month:
        for industry, references in industries.items():
            writer.writerow(["references", f"{month} {industry}", references, "", "", ""])
    for month, approval, win in report.rates_by_month:
        writer.writerow(["rates", f"{month} approval rate", _number(approval), "", "", ""])
        writer.writerow(["rates", f"{month} win rate", _number(win), "", "", ""])


REP_COLUMNS = [
    "rep_id", "requests", "approval_rate", "decided", "references", "win_rate", "closed_deals", "request_quality",
]  # fmt: skip


def write_reps_csv(report: Report, sink: TextIO) -> None:
    """One row per rep."""
    writer = _SafeWriter(sink)
    writer.writerow(REP_COLUMNS)
    for rep in report.reps:
        writer.writerow(
            [
                rep.rep_id, rep.requests, _number(rep.approval_rate), rep.decided, rep.references,
                _number(rep.win_rate), rep.closed, _number(rep.quality),
            ]
        )  # fmt: skip


ADVOCATE_COLUMNS = [
    "advocate_id", "name", "company", "status", "references_total", "references_this_quarter",
    "references_last_quarter", "last_reference", "next_eligible", "deals_won", "deals_closed", "success_rate",
    "sentiment", "covers", "needs_care",
]  # fmt: skip


def write_advocates_csv(report: Report, sink: TextIO) -> None:
    """One row per advocate in the pool during the period (or who gave a reference in it)."""
    writer = _SafeWriter(sink)
    writer.writerow(ADVOCATE_COLUMNS)
    for row in report.advocates:
        a = row.advocate
        writer.writerow(
            [
                a.id, a.name, a.company, a.status, row.total, row.this_period, row.previous_period,
                row.last_date.isoformat() if row.last_date else "",
                row.next_eligible.isoformat() if row.next_eligible else "",
                row.won, row.closed, _number(row.success_rate), _number(a.sentiment), row.covers,
                "; ".join(row.care),
            ]
        )  # fmt: skip


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _met_mark(met: bool | None) -> str:
    return "—" if met is None else ("✓" if met else "✗")


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1c1d;
       max-width: 1040px; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; min-width: 50%; }
th, td { border: 1px solid #ddd; padding: 0.35rem 0.7rem; text-align: left; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.met-yes { color: #2e7d32; font-weight: bold; }
td.met-no { color: #c62828; font-weight: bold; }
p.empty { color: #666; font-style: italic; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
"""


def _table(headers: list[str], rows: list[list[str]], *, numeric: frozenset[int] = frozenset()) -> str:
    if not rows:
        return '<p class="empty">Nothing yet.</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            css = ' class="num"' if i in numeric else ""
            cells.append(f"<td{css}>{html.escape(cell)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _metrics_table(metrics: list[Metric]) -> str:
    rows = []
    for metric in metrics:
        css = "" if metric.met is None else f' class="met-{"yes" if metric.met else "no"}"'
        rows.append(
            f'<tr><td>{html.escape(metric.name)}</td><td class="num">{html.escape(metric.shown)}</td>'
            f"<td>{html.escape(metric.target)}</td><td{css}>{html.escape(_met_mark(metric.met))}</td></tr>"
        )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ("Metric", "Value", "Target", "Met"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_html(report: Report, sink: TextIO, *, chart_png: bytes | None) -> None:
    """One self-contained page: inline CSS, the chart as a data URI, every text escaped."""
    title = f"refdesk — reference program report {report.period.label}"
    first, last = report.period.start.date(), report.period.end.date() - timedelta(days=1)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(f'{day(first)} – {day(last)}')}</p>",
    ]
    if chart_png is not None:
        data = base64.b64encode(chart_png).decode("ascii")
        alt = f"References per month by industry, and approval and win rates, {report.period.label}"
        parts.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" width="1000">')
    parts += ["<h2>Program metrics</h2>", _metrics_table(report.metrics)]
    parts += [
        "<h2>References by month</h2>",
        _table(
            ["Month", "Industry", "References"],
            [
                [month, industry, str(n)]
                for month, industries in report.by_month
                for industry, n in industries.items()
            ],
            numeric=frozenset({2}),
        ),
        "<h2>Rates by month</h2>",
        _table(
            ["Month", "Approval rate", "Win rate"],
            [[month, _pct(approval), _pct(win)] for month, approval, win in report.rates_by_month],
            numeric=frozenset({1, 2}),
        ),
        "<h2>Top advocates</h2>",
        _table(
            ["Advocate", "References", "Deals won (to date)"],
            [[a.advocate.name, str(a.this_period), str(a.won)] for a in report.top_advocates],
            numeric=frozenset({1, 2}),
        ),
        "<h2>Reps</h2>",
        _table(
            ["Rep", "Requests", "Approval rate", "References", "Win rate", "Request quality"],
            [
                [
                    rep.rep_id,
                    str(rep.requests),
                    _pct(rep.approval_rate),
                    str(rep.references),
                    _pct(rep.win_rate),
                    _pct(rep.quality),
                ]
                for rep in report.reps[:TOP_REPS]
            ],
            numeric=frozenset({1, 2, 3, 4, 5}),
        ),
        "</body></html>",
    ]
    sink.write("\n".join(parts) + "\n")


MET = ":white_check_mark:"
NOT_MET = ":x:"
NO_DATA = ":grey_question:"
NO_TARGET = "•"  # a count with no target: a question mark would read as doubt about the number


def _stats_marker(metric: Metric) -> str:
    if metric.met is not None:
        return MET if metric.met else NOT_MET
    return NO_TARGET if metric.target == "—" else NO_DATA


def stats_text(report: Report) -> Mrkdwn:
    """Slack mrkdwn for `/reference stats`: one line per metric, then the top advocates; one section's worth."""
    lines = [mrkdwn("*Reference program — {}*", report.period.label)]
    for metric in report.metrics:
        target = "" if metric.target == "—" else f" (target {metric.target})"
        basis = f" · {metric.basis_text}" if metric.basis_text else ""
        lines.append(
            mrkdwn("{} {}: {}{}{}", Mrkdwn(_stats_marker(metric)), metric.name, metric.shown, target, basis)
        )
    head = Mrkdwn("\n").join(lines) + Mrkdwn("\nTop advocates: ")
    if not report.top_advocates:
        return head + "none yet"
    names: list[Mrkdwn] = []
    for advocate in report.top_advocates:
        won = f", {advocate.won} won" if advocate.won else ""
        entry = mrkdwn("{} ({}{})", advocate.advocate.name, advocate.this_period, won)
        if len(head) + len(", ".join([*names, entry])) + len(", …") > SECTION_TEXT_LIMIT - 1:
            names.append(Mrkdwn("…"))
            break
        names.append(entry)
    return head + Mrkdwn(", ").join(names)
