"""The advocate pool as the spreadsheet a program already keeps: import (all or nothing) and export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.forms import MAX_AMOUNT, MAX_EMPLOYEES, parse_amount
from bot.spreadsheet import neutralise, unneutralise
from bot.vocabulary import AdvocateKind, AdvocateStatus, Choice, Industry, ReferenceKind, RoleLevel, Tier
from bot.workflow import prospect_key
from store.models import Advocate, Engagement, EngagementStatus

ADVOCATE_COLUMNS = (
    "name", "email", "title", "role_level", "company", "industry", "employees", "region", "country",
    "use_cases", "kinds", "tier", "slack_user_id", "owner_slack_user_id", "status", "break_until",
    "account_trouble", "joined_on", "notes",
)  # fmt: skip
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
MAX_REPORTED = 20
OUTCOMES = ("won", "lost", "open")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class ImportRefused(Exception):
    """The file has errors; nothing was imported. `errors` lists them, first ones first."""

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors
        self.total = total or len(errors)
        more = f" (and {self.total - len(errors)} more)" if self.total > len(errors) else ""
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(f"nothing was imported: {self.total} problem(s){more}\n{lines}")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skipped: int = 0


def _choice(choices: type[Choice], raw: str) -> Choice | None:
    """A value by its stored value or its label, case-insensitively."""
    wanted = raw.strip().casefold().replace("-", "_").replace(" ", "_")
    for choice in choices:
        if wanted in (choice.value.casefold(), choice.label.casefold().replace("-", "_").replace(" ", "_")):
            return choice
    return None


class _Row:
    """One CSV row being checked; each getter records an error and returns None when the cell is bad."""

    def __init__(self, line: int, cells: dict[str, str], errors: list[RowError]) -> None:
        self.line, self.cells, self.errors = line, cells, errors

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
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(column, f"{raw!r} is not a date like 2026-03-31")
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


def _read(
    source: TextIO, expected: tuple[str, ...], optional: frozenset[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(source)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in expected if c not in header and c not in optional]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        raise ImportRefused(
            [RowError(1, "(header)", "; ".join(problems) + f". Expected: {','.join(expected)}")]
        )
    reader.fieldnames = header
    for cells in reader:
        if not any((v or "").strip() for v in cells.values() if isinstance(v, str)):
            continue  # blank line
        cells = {k: unneutralise(v) if isinstance(v, str) else v for k, v in cells.items()}
        if None in cells:
            yield reader.line_num, {"__extra__": "x", **{k: v for k, v in cells.items() if k}}
        else:
            yield reader.line_num, cells


@dataclass(frozen=True)
class AdvocateRow:
    email: str
    values: dict[str, Any]


def check_advocate(cells: Mapping[str, str], *, line: int = 0) -> tuple[AdvocateRow | None, list[RowError]]:
    """One advocate's cells (CSV row or modal) checked: the row, or the problems, each with its column."""
    errors: list[RowError] = []
    row = _Row(line, dict(cells), errors)
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
    if not slack_user_id and not owner and not any("slack" in e.column for e in errors):
        row.fail(
            "owner_slack_user_id", "is empty, and so is slack_user_id: refdesk needs one way to reach them"
        )
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
        joined_on=row.day("joined_on"),
        notes=row.text("notes", limit=5000),
    )
    return (None if errors else AdvocateRow(email=email, values=values)), errors


def parse_advocates(source: TextIO) -> list[AdvocateRow]:
    """Every row checked; ImportRefused with all problems (the first MAX_REPORTED) when any row is bad."""
    errors: list[RowError] = []
    rows: list[AdvocateRow] = []
    seen: dict[str, int] = {}
    for line, cells in _read(source, ADVOCATE_COLUMNS, frozenset({"notes", "joined_on"})):
        if "__extra__" in cells:
            errors.append(RowError(line, "(row)", "has more cells than the header has columns"))
            continue
        checked, problems = check_advocate(cells, line=line)
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
        raise ImportRefused(errors[:MAX_REPORTED], total=len(errors))
    return rows


def import_advocates(
    *, session: Session, source: TextIO, now: datetime, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Upsert the file's advocates by email, in the caller's transaction: all of them or none."""
    rows = parse_advocates(source)
    existing: dict[str, Advocate] = {}
    emails = [r.email for r in rows]
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        existing.update(
            (a.email, a) for a in session.scalars(select(Advocate).where(Advocate.email.in_(chunk)))
        )
    created = updated = 0
    for done, row in enumerate(rows, start=1):
        advocate = existing.get(row.email)
        if advocate is None:
            session.add(Advocate(email=row.email, created_at=now, updated_at=now, **row.values))
            created += 1
        else:
            for key, value in row.values.items():
                setattr(advocate, key, value)
            advocate.updated_at = now
            updated += 1
        if progress and done % 500 == 0:
            progress(500)
    if progress:
        progress(len(rows) % 500)
    session.flush()
    return ImportResult(created=created, updated=updated)


def export_advocates(*, session: Session, sink: TextIO) -> int:
    writer = csv.DictWriter(sink, fieldnames=ADVOCATE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for advocate in session.scalars(select(Advocate).order_by(Advocate.id)):
        row = {column: getattr(advocate, column) for column in ADVOCATE_COLUMNS}
        row["use_cases"] = LIST_SEPARATOR.join(advocate.use_cases)
        row["kinds"] = LIST_SEPARATOR.join(advocate.kinds)
        row["account_trouble"] = "yes" if advocate.account_trouble else "no"
        for column in ("break_until", "joined_on"):
            row[column] = row[column].isoformat() if row[column] else ""
        writer.writerow({k: "" if v is None else neutralise(v) for k, v in row.items()})
        count += 1
    return count


def import_history(
    *, session: Session, source: TextIO, now: datetime, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Past references, so caps, recency and success rates count from day one. Re-importing adds nothing."""
    errors: list[RowError] = []
    parsed: list[tuple[str, dict[str, Any]]] = []
    for line, cells in _read(
        source, HISTORY_COLUMNS, frozenset({"outcome", "deal_arr", "prospect_industry"})
    ):
        row = _Row(line, cells, errors)
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
    advocates = {
        a.email: a.id
        for start in range(0, len(parsed), 500)
        for a in session.scalars(
            select(Advocate).where(Advocate.email.in_([e for e, _ in parsed[start : start + 500]]))
        )
    }
    for email, values in parsed:
        if email and email not in advocates:
            errors.append(
                RowError(
                    values["line"], "advocate_email", f"{email} is not in the pool: import advocates first"
                )
            )
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportRefused(errors[:MAX_REPORTED], total=len(errors))
    known = {
        (e.advocate_id, e.held_at.date() if e.held_at else None, e.prospect_key, e.kind)
        for e in session.scalars(select(Engagement).where(Engagement.source == "import"))
    }
    created = skipped = 0
    for done, (email, values) in enumerate(parsed, start=1):
        held_at = datetime.combine(values["when"], time(12, 0), tzinfo=UTC)
        key = (advocates[email], values["when"], prospect_key(values["prospect_company"]), values["kind"])
        if key in known:
            skipped += 1
        else:
            known.add(key)
            session.add(
                Engagement(
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
            created += 1
        if progress and done % 1000 == 0:
            progress(1000)
    if progress:
        progress(len(parsed) % 1000)
    session.flush()
    return ImportResult(created=created, updated=0, skipped=skipped)


def read_text(data: bytes) -> TextIO:
    """CSV bytes as text, tolerating the BOM spreadsheets add."""
    return io.StringIO(data.decode("utf-8-sig"))
