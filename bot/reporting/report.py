"""The quarterly report (PROGRAM.md "What to measure"): gathered in SQL, written as CSV, HTML or Slack text."""

from __future__ import annotations

import base64
import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.exchange import crm
from bot.exchange.spreadsheet import neutralise
from bot.reporting.metrics import (
    MIN_TO_JUDGE,
    Metric,
    Period,
    day_start,
    given_in,
    period_counts,
    program_metrics,
    reference_at,
)
from bot.reporting.rows import AdvocateRow, RepRow, advocate_rows, rep_stats
from bot.rules.learning import CHECKIN_QUESTIONS, FEEDBACK_QUESTIONS, said
from bot.rules.matching import Policy
from bot.rules.vocabulary import Industry
from bot.text import SECTION_TEXT_LIMIT, Mrkdwn, day, mrkdwn
from store.models import Advocate, Engagement

UNKNOWN_INDUSTRY = "Unknown"
TOP_ADVOCATES = 10
TOP_REPS = 20

MonthCounts = tuple[str, dict[str, int]]  # ("2026-10", {industry label: references})
MonthRates = tuple[str, float | None, float | None]  # ("2026-10", approval rate, win rate)


@dataclass(frozen=True)
class Learned:
    """What one side said after one call: the advocate's feedback or the rep's check-in with the prospect."""

    day: str
    source: str  # "advocate feedback" / "prospect check-in"
    advocate: str
    prospect: str
    rating: str
    answers: list[tuple[str, str]]


RATING_WORDS = {"great": "great", "fine": "fine", "not_great": "not great"}


def learned_in(*, session: Session, period: Period) -> list[Learned]:
    """Every feedback and check-in that came in during the period, oldest first, in the askers' own words."""
    e = Engagement
    found: list[tuple[datetime, int, Learned]] = []
    rows = session.execute(
        select(e, Advocate.name)
        .join(Advocate, Advocate.id == e.advocate_id)
        .where(
            or_(
                and_(e.feedback_at >= period.start, e.feedback_at < period.end),
                and_(e.checkin_at >= period.start, e.checkin_at < period.end),
            )
        )
    ).all()
    for engagement, advocate in rows:
        if period.contains(engagement.feedback_at) and (engagement.feedback_rating or engagement.feedback):
            found.append(
                (
                    engagement.feedback_at,
                    engagement.id,
                    Learned(
                        day(engagement.feedback_at), "advocate feedback", advocate, engagement.prospect_company,
                        RATING_WORDS.get(engagement.feedback_rating or "", ""),
                        said(engagement.feedback, FEEDBACK_QUESTIONS),
                    ),
                )
            )  # fmt: skip
        if period.contains(engagement.checkin_at):
            found.append(
                (
                    engagement.checkin_at,
                    engagement.id,
                    Learned(
                        day(engagement.checkin_at), "prospect check-in (from the rep)", advocate,
                        engagement.prospect_company, "", said(engagement.checkin, CHECKIN_QUESTIONS),
                    ),
                )
            )  # fmt: skip
    found.sort(key=lambda item: (item[0], item[1]))
    return [item for _, _, item in found]


@dataclass(frozen=True)
class Report:
    period: Period
    metrics: list[Metric]
    reps: list[RepRow]
    by_month: list[MonthCounts]
    rates_by_month: list[MonthRates]
    requests_by_month: list[tuple[str, int]]
    advocates: list[AdvocateRow]  # everyone in the pool during the period, or who gave a reference in it
    learned: list[Learned] = field(default_factory=list)
    generated_on: date | None = None

    @property
    def top_advocates(self) -> list[AdvocateRow]:
        """Who gave the most references in the period (ties: more deals won, then the name)."""
        given = [row for row in self.advocates if row.this_period]
        given.sort(
            key=lambda row: (-row.this_period, -row.won_this_period, row.advocate.name, row.advocate.id)
        )
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
        metrics=[
            *program_metrics(session=session, period=period, policy=policy, today=today),
            *crm.comparison(session=session, period=period),
        ],
        reps=rep_stats(session=session, period=period, limit=None),
        by_month=references_by_month(session=session, period=period),
        rates_by_month=rates_by_month(session=session, period=period, today=today),
        requests_by_month=requests_by_month(session=session, period=period, today=today),
        advocates=advocate_rows(session=session, period=period, policy=policy, today=today),
        learned=learned_in(session=session, period=period),
        generated_on=today,
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


def write_csv(report: Report, sink: TextIO, **_: Any) -> None:
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
    "rep_id", "rep_name", "requests", "approval_rate", "decided", "references", "win_rate", "closed_deals", "request_quality",
]  # fmt: skip


def write_reps_csv(report: Report, sink: TextIO, *, names: Callable[[str], str] | None = None) -> None:
    """One row per rep, named through Slack when `names` is given."""
    writer = _SafeWriter(sink)
    writer.writerow(REP_COLUMNS)
    for rep in report.reps:
        writer.writerow(
            [
                rep.rep_id, (names or str)(rep.rep_id), rep.requests, _number(rep.approval_rate), rep.decided, rep.references,
                _number(rep.win_rate), rep.closed, _number(rep.quality),
            ]
        )  # fmt: skip


ADVOCATE_COLUMNS = [
    "advocate_id", "name", "company", "status", "references_total", "references_this_quarter",
    "references_last_quarter", "last_reference", "next_eligible", "deals_won", "deals_closed", "success_rate",
    "sentiment", "covers", "needs_care",
]  # fmt: skip


def write_advocates_csv(report: Report, sink: TextIO, **_: Any) -> None:
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


def _html_environment() -> Environment:
    """HTML autoescaped: every name and word people typed comes out as text."""
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent.parent / "templates" / "html"),
        autoescape=select_autoescape(("html", "html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def write_html(
    report: Report, sink: TextIO, *, chart_png: bytes | None, names: Callable[[str], str] | None = None
) -> None:
    """One self-contained page from templates/html/report.html.j2: inline CSS, the chart as a data URI."""
    first, last = report.period.start.date(), report.period.end.date() - timedelta(days=1)
    rates = {month: (approval, win) for month, approval, win in report.rates_by_month}
    requests = dict(report.requests_by_month)
    months = [
        {
            "month": month,
            "requests": requests.get(month, 0),
            "references": sum(industries.values()),
            "industries": ", ".join(f"{industry} {n}" for industry, n in industries.items()) or "—",
            "approval": _pct(rates.get(month, (None, None))[0]),
            "win": _pct(rates.get(month, (None, None))[1]),
        }
        for month, industries in report.by_month
    ]
    page = (
        _html_environment()
        .get_template("report.html.j2")
        .render(
            title=f"refdesk — reference program report {report.period.label}",
            period=report.period.label,
            first=day(first),
            last=day(last),
            generated=day(report.generated_on) if report.generated_on else "",
            chart=base64.b64encode(chart_png).decode("ascii") if chart_png is not None else None,
            metrics=report.metrics,
            min_to_judge=MIN_TO_JUDGE,
            months=months,
            learned=report.learned,
            top=report.top_advocates,
            reps=report.reps[:TOP_REPS],
            care=[row for row in report.advocates if row.care],
            pct=_pct,
            name=names or (lambda user_id: user_id),
        )
    )
    sink.write(page if page.endswith("\n") else page + "\n")


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
        won = f", {advocate.won_this_period} won" if advocate.won_this_period else ""
        entry = mrkdwn("{} ({}{})", advocate.advocate.name, advocate.this_period, won)
        if len(head) + len(", ".join([*names, entry])) + len(", …") > SECTION_TEXT_LIMIT - 1:
            names.append(Mrkdwn("…"))
            break
        names.append(entry)
    return head + Mrkdwn(", ").join(names)


def slack_names(client: Any) -> Callable[[str], str]:
    """A member id → their name in Slack (users.info), each looked up once; the id when Slack cannot say."""
    known: dict[str, str] = {}

    def name(user_id: str) -> str:
        if user_id not in known:
            try:
                user = client.users_info(user=user_id)["user"]
                profile = user.get("profile") or {}
                known[user_id] = (
                    profile.get("real_name") or profile.get("display_name") or user.get("real_name")
                    or user.get("name") or user_id
                )  # fmt: skip
            except Exception:  # noqa: BLE001 - a report with an id beats no report
                known[user_id] = user_id
        return known[user_id]

    return name
