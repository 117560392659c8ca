"""The advocate pool as the spreadsheet a program already keeps: import (all or nothing) and export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any, TextIO

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bot.exchange.csv_input import ImportRefused, RowError, decode, parse_day, read_table, refuse
from bot.exchange.spreadsheet import neutralise
from bot.flows.workflow import prospect_key
from bot.rules.forms import MAX_AMOUNT, MAX_EMPLOYEES, parse_amount
from bot.rules.vocabulary import (
    AdvocateKind,
    AdvocateStatus,
    Choice,
    Function,
    Industry,
    ReferenceKind,
    RoleLevel,
    Tier,
)
from store import usage as kept_usage
from store.models import Advocate, Engagement, EngagementStatus

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
HISTORY_COLUMNS = (
    "advocate_email",
    "date",
    "prospect_company",
    "prospect_industry",
    "kind",
    "outcome",
    "deal_arr",
)
LIST_SEPARATOR = ";"
OUTCOMES = ("won", "lost", "open")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}
PROGRESS_EVERY = 250  # rows between two progress-bar updates
WRITE_BATCH = 1000  # rows per INSERT / UPDATE statement

__all__ = ["ImportRefused", "RowError"]  # with the functions below; both come from bot.exchange.csv_input


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skipped: int = 0


def _choice_key(raw: str) -> str:
    return raw.strip().casefold().replace("-", "_").replace(" ", "_")


@cache
def _choices_by_key(choices: type[Choice]) -> dict[str, Choice]:
    found: dict[str, Choice] = {}
    for choice in reversed(list(choices)):  # the first choice wins a key two of them share
        found[_choice_key(choice.label)] = choice
        found[choice.value.casefold()] = choice
    return found


def _choice(choices: type[Choice], raw: str) -> Choice | None:
    """A value by its stored value or its label, case-insensitively (looked up: imports read it per cell)."""
    return _choices_by_key(choices).get(_choice_key(raw))


class _Row:
    """One CSV row being checked; each getter records an error and returns None when the cell is bad."""

    def __init__(
        self, line: int, cells: dict[str, str], errors: list[RowError], date_format: str | None = None
    ) -> None:
        self.line, self.cells, self.errors, self.date_format = line, cells, errors, date_format

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))

    def text(self, column: str, *, required: bool = False, limit: int = 200) -> str:
        value = (self.cells.get(column) or "").strip()
        if "\x00" in value:
            self.fail(column, "contains a NUL character")
        elif required and not value:
            self.fail(column, "is empty")
        elif len(value) > limit:
            self.fail(column, f"is longer than {limit} characters")
        return value

    def pick(self, column: str, choices: type[Choice], *, default: Choice | None = None) -> Any:
        raw = self.text(column)
        if not raw and default is not None:
            return default
        found = _choice(choices, raw)
        if found is None:
            allowed = ", ".join(c.value for c in choices)
            self.fail(column, f"{raw!r} is not one of {allowed}" if raw else f"is empty (one of {allowed})")
        return found

    def enum(self, column: str, allowed: Iterable[str], *, default: str | None = None) -> str | None:
        raw = self.text(column).casefold()
        options = list(allowed)
        if not raw and default is not None:
            return default
        if raw not in options:
            self.fail(column, f"{raw!r} is not one of {', '.join(options)}" if raw else "is empty")
            return None
        return raw

    def number(self, column: str, *, required: bool = True, maximum: int = MAX_AMOUNT) -> int | None:
        raw = self.text(column)
        if not raw:
            if required:
                self.fail(column, "is empty")
            return None
        parsed = parse_amount(raw, maximum=maximum)
        if isinstance(parsed, str):
            self.fail(column, f"{raw!r} is not a positive whole number in digits, like 1200 or 1,200")
            return None
        return parsed

    def day(self, column: str, *, required: bool = False) -> date | None:
        raw = self.text(column)
        if not raw:
            if required:
                self.fail(column, "is empty (a date like 2026-03-31)")
            return None
        try:
            return parse_day(raw, self.date_format)
        except ValueError as error:
            self.fail(column, str(error))
            return None

    def flag(self, column: str) -> bool:
        raw = self.text(column).casefold()
        if raw in _TRUE:
            return True
        if raw not in _FALSE:
            self.fail(column, f"{raw!r} is not yes or no")
        return False

    def user_id(self, column: str) -> str | None:
        raw = self.text(column)
        if raw and not _USER_ID.match(raw):
            self.fail(column, f"{raw!r} is not a Slack member ID like U0123ABCD")
        return raw or None

    def items(self, column: str) -> list[str]:
        return [part.strip() for part in self.text(column, limit=2000).split(LIST_SEPARATOR) if part.strip()]


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
    row = _Row(line, dict(cells), errors, date_format)
    email = row.text("email", required=True, limit=254).casefold()
    if email and not _EMAIL.match(email):
        row.fail("email", f"{email!r} is not an email address")
    kinds = [_choice(AdvocateKind, k) for k in row.items("kinds")]
    if not kinds:
        row.fail("kinds", "is empty: list what they agreed to, e.g. call;case_study")
    elif None in kinds:
        bad = [k for k in row.items("kinds") if _choice(AdvocateKind, k) is None]
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
    for done, (line, cells) in enumerate(table.rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
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
    if progress:
        progress(len(table.rows) % PROGRESS_EVERY)
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
    ids = _ids_by_email(session, [r.email for r in rows])
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
    _write(session, insert(table), new, progress)
    _write(session, by_id, changed, progress)
    return ImportResult(created=len(new), updated=len(changed))


def _write(
    session: Session,
    statement: Executable,
    rows: list[dict[str, Any]],
    progress: Callable[[int], None] | None,
) -> None:
    """Core executemany on the table, in batches: one statement per batch, whatever the rows' blank cells.

    (The ORM's bulk insert splits rows whose None cells differ into separate statements: one per row, in a
    pool where only some advocates have a Slack id.)
    """
    for start in range(0, len(rows), WRITE_BATCH):
        chunk = rows[start : start + WRITE_BATCH]
        session.execute(statement, chunk)
        if progress:
            progress(len(chunk))


def _ids_by_email(session: Session, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        query = select(Advocate.email, Advocate.id).where(Advocate.email.in_(chunk))
        found.update((email, advocate_id) for email, advocate_id in session.execute(query))
    return found


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
    for done, (line, cells) in enumerate(table.rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        row = _Row(line, cells, errors, date_format)
        email = row.text("advocate_email", required=True, limit=254).casefold()
        when = row.day("date", required=True)
        if when and when > now.date():
            row.fail("date", f"{when.isoformat()} is in the future: history is references already given")
        raw_kind = row.text("kind")
        kind = _choice(AdvocateKind, raw_kind) or _choice(ReferenceKind, raw_kind)
        if kind is None:
            row.fail("kind", f"{raw_kind!r} is not a kind of reference (e.g. call, email, site_visit)")
        industry = row.text("prospect_industry")
        if industry and _choice(Industry, industry) is None:
            row.fail(
                "prospect_industry", f"{industry!r} is not one of {', '.join(i.value for i in Industry)}"
            )
        values = dict(
            prospect_company=row.text("prospect_company", required=True),
            prospect_industry=getattr(_choice(Industry, industry), "value", None) if industry else None,
            kind=getattr(kind, "value", None),
            outcome=row.enum("outcome", OUTCOMES, default="open"),
            deal_arr=row.number("deal_arr", required=False),
            when=when,
        )
        parsed.append((email, values | {"line": line}))
    if progress:
        progress(len(table.rows) % PROGRESS_EVERY)
    advocates = _ids_by_email(session, sorted({email for email, _ in parsed if email}))
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
    _write(session, insert(Engagement.__table__), new, progress)
    kept_usage.refresh(session, {row["advocate_id"] for row in new})
    if progress:
        progress(len(parsed) - len(new))  # the rows already known are "written" too
    return ImportResult(created=len(new), updated=0, skipped=len(parsed) - len(new))


def read_text(data: bytes, encoding: str | None = None) -> TextIO:
    """CSV bytes as text: UTF-8 with or without BOM, UTF-16, or Windows-1252 (see bot.exchange.csv_input.decode)."""
    return io.StringIO(decode(data, encoding).text)
