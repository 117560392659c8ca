"""Reading CSV files as spreadsheets save them: any common encoding and separator, cells with line breaks,
rows of the wrong length and non-ISO dates named by line, never a crash."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

from bot.exchange.spreadsheet import unneutralise

SEPARATORS = {",": "','", ";": "';'", "\t": "a tab"}
ISO_EXAMPLE = date(2026, 3, 31)
MAX_REPORTED = 20


@dataclass(frozen=True)
class RowError:
    line: int
    column: str  # "" for a problem with the whole row
    message: str

    def __str__(self) -> str:
        if not self.column:
            return f"line {self.line} {self.message}"
        return f"line {self.line}, column {self.column}: {self.message}"


class ImportRefused(Exception):
    """The file has errors; nothing was imported. `errors` lists them, first ones first."""

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors
        self.total = total or len(errors)
        more = f" (and {self.total - len(errors)} more)" if self.total > len(errors) else ""
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(f"nothing was imported: {self.total} problem(s){more}\n{lines}")


def refuse(errors: list[RowError]) -> ImportRefused:
    """The refusal for these errors, in line order, the first MAX_REPORTED of them spelled out."""
    ordered = sorted(errors, key=lambda e: e.line)
    return ImportRefused(ordered[:MAX_REPORTED], total=len(ordered))


# --- bytes to text ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # what was used, for the operator: "utf-8", "utf-16", "cp1252", …
    guessed: bool = False  # True when the bytes were not UTF-8 and a Windows encoding was assumed


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    """The file's text: UTF-8 (BOM or not), UTF-16 (Excel's "Unicode text"), else Windows-1252 / Latin-1.

    A declared `encoding` is used as is; a byte it cannot read is an error naming the line.
    """
    if encoding:
        name = codecs.lookup(encoding).name  # LookupError for an unknown name: the caller words it
        text = _decode_strictly(data, "utf-8-sig" if name == "utf-8" else name, name=name, declared=True)
        return Decoded(text, name)
    if data.startswith(codecs.BOM_UTF8):
        return Decoded(data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(_decode_strictly(data, "utf-16"), "utf-16")
    sample = data[:4096]
    if sample and sample.count(0) > len(sample) // 4:  # UTF-16 without its BOM: every other byte is zero
        order = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        return Decoded(_decode_strictly(data, order), order)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(data.decode("cp1252"), "cp1252", guessed=True)
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined: Latin-1 reads every byte
        return Decoded(data.decode("latin-1"), "latin-1", guessed=True)


def _decode_strictly(data: bytes, codec: str, *, name: str | None = None, declared: bool = False) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        fix = (
            "name the file's real encoding with --encoding, or leave it out to have it detected"
            if declared
            else "save the file as UTF-8, or name its encoding with --encoding"
        )
        byte = data[error.start : error.start + 1]
        raise ImportRefused(
            [RowError(line, "", f"has a byte {name or codec} cannot read ({byte!r}): {fix}")]
        ) from None


def estimate_rows(text: str) -> int:
    """About how many data rows the text holds (for a progress bar); lines end in \\n, \\r\\n or \\r."""
    return max(text.count("\n"), text.count("\r")) - 1


# --- text to rows -----------------------------------------------------------------------------------


@dataclass
class Table:
    separator: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line where it starts, cells)
    errors: list[RowError] = field(default_factory=list)  # rows of the wrong length


def column_key(name: str) -> str:
    """A header cell as a column name: case, spaces and hyphens as people type them."""
    return name.strip().casefold().replace(" ", "_").replace("-", "_")


def read_table(text: str, *, columns: Sequence[str], optional: Collection[str] = ()) -> Table:
    """The rows of `text` as cells by column; ImportRefused when the header is wrong.

    The separator is the one of `,` `;` tab that makes the header read as the most known columns.
    Blank lines are skipped; a row with more or fewer cells than the header is one error, not one per cell.
    Blank cells past the header's last column (spreadsheets leave them) are ignored.
    """
    first_line = text.split("\n", 1)[0].split("\r", 1)[0]
    separator = _sniff(first_line, columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = [column_key(cell) for cell in next(reader, [])]
    while header and not header[-1]:
        header.pop()
    _check_header(header, separator, columns, optional)
    table = Table(separator=separator, columns=header)
    width = len(header)
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells
        if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
            del cells[width:]
        if len(cells) != width:
            table.errors.append(RowError(line, "", _wrong_length(cells, header, separator)))
            continue
        # A cell an export neutralised (a leading ' before = + - @) comes back as it was exported from.
        table.rows.append(
            (line, {column: unneutralise(cell) for column, cell in zip(header, cells, strict=True)})
        )
    return table


def _sniff(first_line: str, columns: Sequence[str]) -> str:
    known = set(columns)

    def score(separator: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=separator), [])
        return sum(column_key(cell) in known for cell in cells), len(cells)

    return max(SEPARATORS, key=score)


def _check_header(
    header: list[str], separator: str, columns: Sequence[str], optional: Collection[str]
) -> None:
    expected = ",".join(columns)
    if len(header) <= 1:
        found = f" ({header[0][:60]!r})" if header and header[0] else ""
        raise ImportRefused(
            [
                RowError(
                    1,
                    "",
                    f"(the header) has one column{found}: refdesk reads columns separated by ',' ';' or a tab, "
                    f"with this header: {expected}",
                )
            ]
        )
    missing = [c for c in columns if c not in header and c not in optional]
    unknown = [c for c in header if c not in columns]
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {', '.join(c or '(blank)' for c in unknown)}")
    if repeated:
        problems.append(f"repeated {', '.join(repeated)}")
    if problems:
        raise ImportRefused(
            [
                RowError(
                    1,
                    "(header)",
                    f"{'; '.join(problems)} (read as separated by {SEPARATORS[separator]}). Expected: {expected}",
                )
            ]
        )


def _wrong_length(cells: list[str], header: list[str], separator: str) -> str:
    if len(cells) < len(header):
        absent = header[len(cells) :]
        shown = ", ".join(absent[:3]) + (", …" if len(absent) > 3 else "")
        return (
            f"has fewer cells than the header ({len(cells)} of {len(header)}, separated by "
            f"{SEPARATORS[separator]}; nothing for {shown})"
        )
    return (
        f"has more cells than the header ({len(cells)} of {len(header)}, separated by {SEPARATORS[separator]}): "
        "is a cell missing its quotes?"
    )


# --- cells ----------------------------------------------------------------------------------------------


def check_date_format(date_format: str) -> str | None:
    """Why `date_format` cannot read dates (it must name a day, a month and a year), or None when it can."""
    has = {
        "day (%d)": "%d" in date_format,
        "month (%m, %b or %B)": any(d in date_format for d in ("%m", "%b", "%B")),
        "year (%Y or %y)": any(d in date_format for d in ("%Y", "%y")),
    }
    lacking = [what for what, present in has.items() if not present]
    if lacking:
        return f"--date-format {date_format!r} has no {' and no '.join(lacking)}: write e.g. %d/%m/%Y"
    try:
        shown = ISO_EXAMPLE.strftime(date_format)
        if datetime.strptime(shown, date_format).date() != ISO_EXAMPLE:
            return f"--date-format {date_format!r} does not read back the dates it writes"
    except ValueError as error:
        return f"--date-format {date_format!r} is not a format Python can read ({error})"
    return None


@lru_cache(maxsize=4096)  # a file repeats its dates: a pool of 5,000 has a few hundred joined_on days
def parse_day(raw: str, date_format: str | None = None) -> date:
    """An ISO date (or Excel's ISO date-time at midnight), or a date in the file's declared format.

    Day-first and month-first are never guessed between: anything else is a ValueError saying what to write.
    """
    if raw[:4].isdigit():  # ISO starts with the year; other formats are not tried as ISO (it raises: slow)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if moment.time() == time(0):
                return moment.date()
    if date_format:
        try:
            return datetime.strptime(raw, date_format).date()
        except ValueError:
            raise ValueError(
                f"{raw!r} is not a date like {ISO_EXAMPLE.isoformat()} or {ISO_EXAMPLE.strftime(date_format)}"
            ) from None
    hint = ": write dates as 2026-03-31, or name the file's format with --date-format (e.g. %d/%m/%Y)"
    looks_like_a_date = any(ch.isdigit() for ch in raw) and any(ch in raw for ch in "/.-")
    raise ValueError(
        f"{raw!r} is not a date like {ISO_EXAMPLE.isoformat()}" + (hint if looks_like_a_date else "")
    )
