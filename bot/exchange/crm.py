"""Data in and out of the CRM, tied to no vendor: opportunities in (CSV), engagements out (CSV keyed by the
opportunity id), and win rate and sales-cycle length with vs without a reference over every closed deal."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.exchange.cells import ImportResult, Row, rows_with_progress
from bot.exchange.csv_input import read_table, refuse
from bot.exchange.spreadsheet import neutralise
from bot.reporting.metrics import GIVEN, Metric, Period, reference_at
from store.models import Advocate, Engagement, Opportunity, ReferenceRequest

OPPORTUNITY_COLUMNS = ("id", "name", "created", "closed", "outcome", "arr", "had_reference")
OUTCOMES = ("won", "lost", "open")


def import_opportunities(
    *,
    session: Session,
    source: TextIO,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    date_format: str | None = None,
) -> ImportResult:
    """Every row or none: new ids are added, known ids updated (a CRM export is re-imported each month)."""
    table = read_table(source.read(), columns=OPPORTUNITY_COLUMNS, optional=frozenset({"closed", "arr"}))
    errors = list(table.errors)
    parsed: dict[str, dict[str, Any]] = {}
    for line, cells in rows_with_progress(table.rows, progress):
        row = Row(line, cells, errors, date_format)
        opportunity_id = row.text("id", required=True, limit=64)
        created = row.day("created", required=True)
        outcome = row.enum("outcome", OUTCOMES, default="open")
        closed = row.day("closed", required=outcome in ("won", "lost"))
        if created and closed and closed < created:
            row.fail("closed", f"{closed.isoformat()} is before created ({created.isoformat()})")
        if opportunity_id in parsed:
            row.fail("id", f"{opportunity_id!r} appears twice in the file")
        parsed[opportunity_id] = dict(
            id=opportunity_id,
            name=row.text("name", required=True),
            created_on=created,
            closed_on=closed,
            outcome=outcome,
            arr=row.number("arr", required=False),
            had_reference=row.flag("had_reference"),
            imported_at=now,
        )
    if errors:
        raise refuse(errors)
    known = {o.id: o for o in session.scalars(select(Opportunity).where(Opportunity.id.in_(list(parsed))))}
    for opportunity_id, values in parsed.items():
        if opportunity_id in known:
            for key, value in values.items():
                setattr(known[opportunity_id], key, value)
        else:
            session.add(Opportunity(**values))
    session.flush()
    return ImportResult(created=len(parsed) - len(known), updated=len(known), skipped=0)


@dataclass(frozen=True)
class Deal:
    won: bool
    cycle_days: int
    with_reference: bool


def closed_deals(*, session: Session, period: Period) -> list[Deal]:
    """CRM deals closed in `period`. A deal had a reference when the CRM says so, or when a refdesk request
    carrying its id had one given."""
    r, e, o = ReferenceRequest, Engagement, Opportunity
    given = exists().where(r.opportunity_id == o.id, e.request_id == r.id, e.status.in_(GIVEN))
    rows = session.execute(
        select(o.outcome, o.created_on, o.closed_on, o.had_reference, given).where(
            o.outcome.in_(("won", "lost")),
            o.closed_on >= period.start.date(),
            o.closed_on < period.end.date(),
        )
    )
    return [
        Deal(outcome == "won", (closed - created).days, bool(had) or bool(referenced))
        for outcome, created, closed, had, referenced in rows
    ]


def comparison(*, session: Session, period: Period) -> list[Metric]:
    """Win rate and sales cycle (won deals, created → closed) with vs without a reference."""
    deals = closed_deals(session=session, period=period)
    found = []
    for label, side in (("with", True), ("without", False)):
        mine = [d for d in deals if d.with_reference == side]
        won = [d for d in mine if d.won]
        rate = len(won) / len(mine) if mine else None
        cycle = sum(d.cycle_days for d in won) / len(won) if won else None
        found.append(
            Metric(
                f"CRM win rate {label} a reference", rate, "—" if rate is None else f"{rate:.0%}", "—", None,
                len(mine), "closed deal",
            )
        )  # fmt: skip
        found.append(
            Metric(
                f"CRM sales cycle {label} a reference", cycle, "—" if cycle is None else f"{cycle:.0f} days", "—",
                None, len(won), "won deal",
            )
        )  # fmt: skip
    return found


ENGAGEMENT_COLUMNS = [
    "opportunity_id", "request_id", "prospect_company", "rep_id", "advocate_name", "advocate_company", "kind",
    "status", "asked_at", "reference_date", "deal_outcome", "deal_arr",
]  # fmt: skip


def export_engagements(*, session: Session, sink: TextIO) -> int:
    """One row per engagement refdesk brokered, keyed by the request's CRM opportunity id (blank when unknown)."""
    r, e = ReferenceRequest, Engagement
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(ENGAGEMENT_COLUMNS)
    count = 0
    for row in session.execute(
        select(
            r.opportunity_id,
            r.id,
            r.prospect_company,
            r.rep_id,
            Advocate.name,
            Advocate.company,
            e.kind,
            e.status,
            e.asked_at,
            reference_at().label("happened"),
            r.outcome,
            r.deal_arr,
        )  # fmt: skip
        .select_from(e)
        .join(r, r.id == e.request_id)
        .join(Advocate, Advocate.id == e.advocate_id)
        .order_by(r.opportunity_id.is_(None), r.opportunity_id, r.id, e.id)
    ):
        cells = [
            row.opportunity_id or "", row.id, row.prospect_company, row.rep_id, row.name, row.company, row.kind,
            row.status, row.asked_at.isoformat() if row.asked_at else "",
            row.happened.date().isoformat() if row.happened and row.status in GIVEN else "",
            row.outcome or "", row.deal_arr,
        ]  # fmt: skip
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in cells])
        count += 1
    return count
