"""The advocate pool as the spreadsheet a program already keeps: import (all or nothing) and export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from bot.exchange.cells import (
    LIST_SEPARATOR,
    ImportResult,
    Row,
    choice,
    ids_by_email,
    rows_with_progress,
    write,
)
from bot.exchange.csv_input import ImportRefused, RowError, decode, read_table, refuse
from bot.exchange.spreadsheet import neutralise
from bot.rules.forms import MAX_EMPLOYEES
from bot.rules.vocabulary import (
    AdvocateKind,
    AdvocateStatus,
    Function,
    Industry,
    RoleLevel,
    Tier,
)
from store.models import Advocate

ADVOCATE_COLUMNS = (
    "name", "email", "title", "role_level", "company", "industry", "employees", "region", "country",
    "use_cases", "kinds", "tier", "slack_user_id", "owner_slack_user_id", "status", "break_until",
    "account_trouble", "joined_on", "notes",
)  # fmt: skip
# The advocate's side, all optional: what they tell and what they agreed to. A file without one of these
# columns keeps what refdesk already has (a consent or a written yes recorded in Slack is never erased).
PROFILE_COLUMNS = ("story", "product_areas", "named_publicly", "logo_use", "private_only", "agreed_on")
# What the matcher reads beyond the basics, optional too: the function they lead (bot.rules.vocabulary.Function).
MATCH_COLUMNS = ("function",)
ALL_ADVOCATE_COLUMNS = ADVOCATE_COLUMNS + PROFILE_COLUMNS + MATCH_COLUMNS
OPTIONAL_ADVOCATE_COLUMNS = frozenset({"notes", "joined_on", *PROFILE_COLUMNS, *MATCH_COLUMNS})
STORY_LIMIT = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

__all__ = ["ImportRefused", "RowError"]  # with the functions below; both come from bot.exchange.csv_input


@dataclass(frozen=True)
class AdvocateRow:
    email: str
    values: dict[str, Any]


def check_advocate(
    cells: Mapping[str, str], *, line: int = 0, today: date | None = None, date_format: str | None = None
) -> tuple[AdvocateRow | None, list[RowError]]:
    """One advocate's cells (CSV row or modal) checked: the row, or the problems, each with its column.

    Given `today`, a row that contradicts itself is refused: active (or retired) with a break that has not
    ended, or joined in the future. No Slack member id is needed: an advocate known by email alone is
    looked up in Slack when asked.
    """
    errors: list[RowError] = []
    row = Row(line, dict(cells), errors, date_format)
    email = row.text("email", required=True, limit=254).casefold()
    if email and not _EMAIL.match(email):
        row.fail("email", f"{email!r} is not an email address")
    kinds = [choice(AdvocateKind, k) for k in row.items("kinds")]
    if not kinds:
        row.fail("kinds", "is empty: list what they agreed to, e.g. call;case_study")
    elif None in kinds:
        bad = [k for k in row.items("kinds") if choice(AdvocateKind, k) is None]
        row.fail(
            "kinds", f"{', '.join(map(repr, bad))} not one of {', '.join(k.value for k in AdvocateKind)}"
        )
    status = row.enum("status", [s.value for s in AdvocateStatus], default=AdvocateStatus.ACTIVE)
    break_until = row.day("break_until", required=status == AdvocateStatus.BREAK)
    slack_user_id = row.user_id("slack_user_id")
    owner = row.user_id("owner_slack_user_id")
    joined_on = row.day("joined_on")
    if today and status and status != AdvocateStatus.BREAK and break_until and break_until > today:
        row.fail(
            "break_until",
            f"{break_until.isoformat()} is in the future but status is {status}: "
            "set status to break, or clear break_until",
        )
    if today and joined_on and joined_on > today:
        row.fail("joined_on", f"{joined_on.isoformat()} is in the future")
    values = dict(
        name=row.text("name", required=True),
        title=row.text("title"),
        role_level=getattr(row.pick("role_level", RoleLevel), "value", None),
        company=row.text("company", required=True),
        industry=getattr(row.pick("industry", Industry), "value", None),
        employees=row.number("employees", maximum=MAX_EMPLOYEES),
        region=row.text("region", limit=80) or None,
        country=row.text("country", limit=80) or None,
        use_cases=[u.casefold() for u in row.items("use_cases")],
        kinds=[k.value for k in kinds if k is not None],
        tier=row.enum("tier", [t.value for t in Tier]),
        slack_user_id=slack_user_id,
        owner_slack_user_id=owner,
        status=status,
        break_until=break_until,
        account_trouble=row.flag("account_trouble"),
        joined_on=joined_on,
        notes=row.text("notes", limit=5000),
    )
    profile = dict(
        story=lambda: row.text("story", limit=STORY_LIMIT),
        product_areas=lambda: row.items("product_areas"),
        named_publicly=lambda: row.flag("named_publicly"),
        logo_use=lambda: row.flag("logo_use"),
        private_only=lambda: row.flag("private_only"),
        agreed_on=lambda: row.day("agreed_on"),
        function=lambda: (
            getattr(row.pick("function", Function), "value", None) if row.text("function") else None
        ),
    )
    values.update({column: read() for column, read in profile.items() if column in cells})
    if values.get("private_only") and (values.get("named_publicly") or values.get("logo_use")):
        row.fail("private_only", "is yes, so named_publicly and logo_use must be no")
    if today and values.get("agreed_on") and values["agreed_on"] > today:
        row.fail("agreed_on", f"{values['agreed_on'].isoformat()} is in the future")
    return (None if errors else AdvocateRow(email=email, values=values)), errors


def parse_advocates(
    source: TextIO,
    *,
    today: date | None = None,
    date_format: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[AdvocateRow]:
    """Every row checked; ImportRefused with all problems (the first MAX_REPORTED) when any row is bad."""
    table = read_table(source.read(), columns=ALL_ADVOCATE_COLUMNS, optional=OPTIONAL_ADVOCATE_COLUMNS)
    errors = list(table.errors)
    rows: list[AdvocateRow] = []
    seen: dict[str, int] = {}
    for line, cells in rows_with_progress(table.rows, progress):
        checked, problems = check_advocate(cells, line=line, today=today, date_format=date_format)
        errors.extend(problems)
        if checked is None:
            continue
        if checked.email in seen:
            errors.append(
                RowError(line, "email", f"{checked.email} is already on line {seen[checked.email]}")
            )
            continue
        seen[checked.email] = line
        rows.append(checked)
    if errors:
        raise refuse(errors)
    return rows


def import_advocates(
    *,
    session: Session,
    source: TextIO,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    date_format: str | None = None,
) -> ImportResult:
    """Upsert the file's advocates by email, in the caller's transaction: all of them or none.

    `progress` hears of every row twice: once checked, once written.
    """
    rows = parse_advocates(source, today=now.date(), date_format=date_format, progress=progress)
    ids = ids_by_email(session, [r.email for r in rows])
    new = [
        dict(email=r.email, created_at=now, updated_at=now, **r.values) for r in rows if r.email not in ids
    ]
    # Bound names may not be the columns' own in an UPDATE's SET: each value rides as "new_<column>".
    changed = [
        {"advocate_id": ids[r.email], **{f"new_{k}": v for k, v in (r.values | {"updated_at": now}).items()}}
        for r in rows
        if r.email in ids
    ]
    table = Advocate.__table__
    by_id = (
        update(table)
        .where(table.c.id == bindparam("advocate_id"))
        .values(
            {key[4:]: bindparam(key) for key in (changed[0] if changed else {}) if key.startswith("new_")}
        )
    )
    write(session, insert(table), new, progress)
    write(session, by_id, changed, progress)
    return ImportResult(created=len(new), updated=len(changed))


def export_advocates(*, session: Session, sink: TextIO) -> int:
    writer = csv.DictWriter(sink, fieldnames=ALL_ADVOCATE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for advocate in session.scalars(select(Advocate).order_by(Advocate.id)):
        row = {column: getattr(advocate, column) for column in ALL_ADVOCATE_COLUMNS}
        row["use_cases"] = LIST_SEPARATOR.join(advocate.use_cases)
        row["kinds"] = LIST_SEPARATOR.join(advocate.kinds)
        row["account_trouble"] = "yes" if advocate.account_trouble else "no"
        row["product_areas"] = LIST_SEPARATOR.join(advocate.product_areas or [])
        for column in ("named_publicly", "logo_use", "private_only"):
            row[column] = "yes" if row[column] else "no"
        for column in ("break_until", "joined_on", "agreed_on"):
            row[column] = row[column].isoformat() if row[column] else ""
        writer.writerow({k: "" if v is None else neutralise(v) for k, v in row.items()})
        count += 1
    return count


def read_text(data: bytes, encoding: str | None = None) -> TextIO:
    """CSV bytes as text: UTF-8 with or without BOM, UTF-16, or Windows-1252 (see bot.exchange.csv_input.decode)."""
    return io.StringIO(decode(data, encoding).text)
