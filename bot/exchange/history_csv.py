"""Past references from the program's spreadsheet, so caps, recency and success rates count from day one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any, TextIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.exchange.cells import ImportResult, Row, choice, ids_by_email, rows_with_progress, write
from bot.exchange.csv_input import RowError, read_table, refuse
from bot.flows.workflow import prospect_key
from bot.rules.vocabulary import (
    AdvocateKind,
    Industry,
    ReferenceKind,
)
from store import usage as kept_usage
from store.models import Engagement, EngagementStatus

HISTORY_COLUMNS = (
    "advocate_email",
    "date",
    "prospect_company",
    "prospect_industry",
    "kind",
    "outcome",
    "deal_arr",
)
OUTCOMES = ("won", "lost", "open")


def import_history(
    *,
    session: Session,
    source: TextIO,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    date_format: str | None = None,
) -> ImportResult:
    """Past references, so caps, recency and success rates count from day one. Re-importing adds nothing.

    `progress` hears of every row twice: once checked, once written.
    """
    table = read_table(
        source.read(),
        columns=HISTORY_COLUMNS,
        optional=frozenset({"outcome", "deal_arr", "prospect_industry"}),
    )
    errors = list(table.errors)
    parsed: list[tuple[str, dict[str, Any]]] = []
    for line, cells in rows_with_progress(table.rows, progress):
        row = Row(line, cells, errors, date_format)
        email = row.text("advocate_email", required=True, limit=254).casefold()
        when = row.day("date", required=True)
        if when and when > now.date():
            row.fail("date", f"{when.isoformat()} is in the future: history is references already given")
        raw_kind = row.text("kind")
        kind = choice(AdvocateKind, raw_kind) or choice(ReferenceKind, raw_kind)
        if kind is None:
            row.fail("kind", f"{raw_kind!r} is not a kind of reference (e.g. call, email, site_visit)")
        industry = row.text("prospect_industry")
        if industry and choice(Industry, industry) is None:
            row.fail(
                "prospect_industry", f"{industry!r} is not one of {', '.join(i.value for i in Industry)}"
            )
        values = dict(
            prospect_company=row.text("prospect_company", required=True),
            prospect_industry=getattr(choice(Industry, industry), "value", None) if industry else None,
            kind=getattr(kind, "value", None),
            outcome=row.enum("outcome", OUTCOMES, default="open"),
            deal_arr=row.number("deal_arr", required=False),
            when=when,
        )
        parsed.append((email, values | {"line": line}))
    advocates = ids_by_email(session, sorted({email for email, _ in parsed if email}))
    for email, values in parsed:
        if email and email not in advocates:
            errors.append(
                RowError(
                    values["line"], "advocate_email", f"{email} is not in the pool: import advocates first"
                )
            )
    if errors:
        raise refuse(errors)
    known = {
        (advocate_id, held_at.date() if held_at else None, key, kind)
        for advocate_id, held_at, key, kind in session.execute(
            select(
                Engagement.advocate_id, Engagement.held_at, Engagement.prospect_key, Engagement.kind
            ).where(Engagement.source == "import")
        )
    }
    new: list[dict[str, Any]] = []
    for email, values in parsed:
        held_at = datetime.combine(values["when"], time(12, 0), tzinfo=UTC)
        key = (advocates[email], values["when"], prospect_key(values["prospect_company"]), values["kind"])
        if key in known:
            continue
        known.add(key)
        new.append(
            dict(
                advocate_id=advocates[email],
                request_id=None,
                kind=values["kind"],
                status=EngagementStatus.HELD,
                prospect_company=values["prospect_company"],
                prospect_key=key[2],
                prospect_industry=values["prospect_industry"],
                deal_arr=values["deal_arr"],
                asked_at=held_at,
                held_at=held_at,
                outcome=None if values["outcome"] == "open" else values["outcome"],
                source="import",
                created_at=now,
            )
        )
    write(session, insert(Engagement.__table__), new, progress)
    kept_usage.refresh(session, {row["advocate_id"] for row in new})
    if progress:
        progress(len(parsed) - len(new))  # the rows already known are "written" too
    return ImportResult(created=len(new), updated=0, skipped=len(parsed) - len(new))
