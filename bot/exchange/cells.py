"""A spreadsheet's rows checked cell by cell, every bad cell reported at once, then written in batches.

The pool, the history and the CRM's opportunities are imported through it: all rows or none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bot.exchange.csv_input import RowError, parse_day
from bot.rules.forms import MAX_AMOUNT, parse_amount
from bot.rules.vocabulary import (
    Choice,
)
from store.models import Advocate

LIST_SEPARATOR = ";"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}
PROGRESS_EVERY = 250  # rows between two progress-bar updates
WRITE_BATCH = 1000  # rows per INSERT / UPDATE statement


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


def choice(choices: type[Choice], raw: str) -> Choice | None:
    """A value by its stored value or its label, case-insensitively (looked up: imports read it per cell)."""
    return _choices_by_key(choices).get(_choice_key(raw))


class Row:
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
        found = choice(choices, raw)
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


def write(
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


def rows_with_progress(
    rows: Sequence[tuple[int, dict[str, str]]], progress: Callable[[int], None] | None
) -> Iterator[tuple[int, dict[str, str]]]:
    """The table's (line, cells), telling `progress` of every PROGRESS_EVERY rows as they come and of the rest
    at the end, so each importer's progress bar moves the same way."""
    for done, row in enumerate(rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        yield row
    if progress:
        progress(len(rows) % PROGRESS_EVERY)


def ids_by_email(session: Session, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        query = select(Advocate.email, Advocate.id).where(Advocate.email.in_(chunk))
        found.update((email, advocate_id) for email, advocate_id in session.execute(query))
    return found
