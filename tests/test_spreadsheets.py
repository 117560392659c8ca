"""Pool and history files as spreadsheets save them: encodings, separators, line breaks, dates, contradictions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.exchange import csv_input, history_csv, pool_csv
from store.models import Advocate, Engagement

POOL = Path(__file__).parent / "fixtures" / "pool.csv"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ACCENTED = "José Müller-Størmer"


def pool_rows() -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(POOL.read_text())))
    rows[1][0] = ACCENTED  # Dana's name, with letters outside ASCII
    return rows


def as_csv(rows: list[list[str]], separator: str = ",", line_end: str = "\r\n") -> str:
    sink = io.StringIO()
    csv.writer(sink, delimiter=separator, lineterminator=line_end).writerows(rows)
    return sink.getvalue()


def load_bytes(database, data: bytes, *, encoding: str | None = None, date_format: str | None = None):
    with database.unit_of_work() as session:
        return pool_csv.import_advocates(
            session=session,
            source=pool_csv.read_text(data, encoding),
            now=NOW,
            date_format=date_format,
        )


def names(database) -> dict[str, str]:
    with database.unit_of_work() as session:
        return dict(session.execute(select(Advocate.email, Advocate.name)).all())


@pytest.mark.parametrize(
    ("encoding", "separator", "expected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ",", "utf-8"),  # Excel's "CSV UTF-8"
        ("utf-16", "\t", "utf-16"),  # Excel's "Unicode text": UTF-16 with BOM, tab-separated
        ("cp1252", ";", "cp1252"),  # Excel on Windows in a country whose decimal separator is a comma
        ("latin-1", ",", "cp1252"),  # Latin-1 letters are the same bytes in Windows-1252
    ],
)
def test_a_pool_saved_by_a_spreadsheet_imports_with_its_letters(database, encoding, separator, expected):
    data = as_csv(pool_rows(), separator).encode(encoding)
    decoded = csv_input.decode(data)
    assert decoded.encoding == expected
    assert load_bytes(database, data).created == 8
    assert names(database)["dana@northwind.example"] == ACCENTED
    with database.unit_of_work() as session:
        dana = session.scalar(select(Advocate).where(Advocate.email == "dana@northwind.example"))
        assert dana.kinds == ["call", "email", "case_study"]  # ';' inside a ';'-separated file: quoted


def test_a_declared_encoding_wins_and_a_byte_it_cannot_read_is_named_by_line(database):
    data = as_csv(pool_rows()).encode("cp1252")
    assert load_bytes(database, data, encoding="cp1252").created == 8
    with pytest.raises(csv_input.ImportRefused, match=r"line 2 has a byte utf-8 cannot read \(b'\\xe9'\)"):
        load_bytes(database, data, encoding="utf-8")


def test_the_header_names_the_separator_it_was_read_with(database):
    rows = pool_rows()
    rows[0][6] = "staff"
    with pytest.raises(csv_input.ImportRefused) as refused:
        load_bytes(database, as_csv(rows, ";").encode())
    assert "missing employees; unknown staff (read as separated by ';')" in str(refused.value)

    with pytest.raises(csv_input.ImportRefused) as refused:
        load_bytes(database, as_csv(pool_rows(), "|").encode())
    message = str(refused.value)
    assert "line 1 (the header) has one column" in message and "separated by ',' ';' or a tab" in message


def test_header_names_are_read_as_people_type_them(database):
    rows = pool_rows()
    rows[0] = [c.replace("_", " ").title() for c in rows[0]]  # "Role Level", "Slack User Id", …
    assert load_bytes(database, as_csv(rows).encode()).created == 8


def test_line_breaks_inside_cells_survive_and_later_lines_are_counted_right(database):
    rows = pool_rows()
    rows[1][-1] = "first line\nsecond line"
    rows[2][-1] = "mac\rline"  # a bare CR, as old Mac spreadsheets write it
    data = as_csv(rows).encode()
    assert load_bytes(database, data).created == 8
    with database.unit_of_work() as session:
        notes = dict(session.execute(select(Advocate.email, Advocate.notes)).all())
    assert notes["dana@northwind.example"] == "first line\nsecond line"
    assert notes["ravi@contoso.example"] == "mac\rline"

    rows[3][6] = "lots"  # Lena: the 4th row, starting on line 6 of the file (Dana and Ravi take 2 lines each)
    with pytest.raises(csv_input.ImportRefused, match="line 6, column employees: 'lots'"):
        load_bytes(database, as_csv(rows).encode())


def test_a_short_row_is_one_error_not_one_per_empty_cell(database):
    rows = pool_rows()
    rows[4] = rows[4][:5]
    with pytest.raises(csv_input.ImportRefused) as refused:
        load_bytes(database, as_csv(rows).encode())
    assert refused.value.total == 1
    assert str(refused.value.errors[0]) == (
        "line 5 has fewer cells than the header (5 of 19, separated by ','; nothing for industry, employees, "
        "region, …)"
    )


def test_blank_trailing_cells_and_blank_lines_are_ignored(database):
    text = "\n".join(line + ",," for line in POOL.read_text().splitlines()) + "\n\n,,,\n"
    assert load_bytes(database, text.encode()).created == 8


def test_dates_are_iso_or_in_the_declared_format_never_guessed(database):
    rows = pool_rows()
    rows[5][15] = "01/02/2027"  # Mia's break: 1 February or 2 January?
    data = as_csv(rows).encode()
    with pytest.raises(csv_input.ImportRefused) as refused:
        load_bytes(database, data)
    assert "line 6, column break_until: '01/02/2027' is not a date like 2026-03-31: write dates as" in str(
        refused.value
    )
    assert "--date-format" in str(refused.value)

    load_bytes(database, data, date_format="%d/%m/%Y")
    with database.unit_of_work() as session:
        mia = session.scalar(select(Advocate).where(Advocate.email == "mia@litware.example"))
        assert mia.break_until.isoformat() == "2027-02-01"
        assert session.scalar(select(Advocate.joined_on).where(Advocate.email == "dana@northwind.example"))

    rows[5][15] = "2027-02-01 00:00:00"  # what Excel writes for a date cell formatted as date and time
    load_bytes(database, as_csv(rows).encode())


def test_a_date_format_must_name_day_month_and_year():
    assert csv_input.check_date_format("%d/%m/%Y") is None
    assert (
        csv_input.check_date_format("%m/%Y") == "--date-format '%m/%Y' has no day (%d): write e.g. %d/%m/%Y"
    )


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (
            "break_until",
            "2027-01-10",
            "line 2, column break_until: 2027-01-10 is in the future but status is active: set status to break",
        ),
        ("joined_on", "2027-01-01", "line 2, column joined_on: 2027-01-01 is in the future"),
    ],
)
def test_a_row_that_contradicts_itself_is_refused(database, column, value, expected):
    rows = pool_rows()
    rows[1][rows[0].index(column)] = value
    with pytest.raises(csv_input.ImportRefused) as refused:
        load_bytes(database, as_csv(rows).encode())
    assert expected in str(refused.value)
    assert names(database) == {}


def test_a_break_that_has_ended_is_not_a_contradiction(database):
    rows = pool_rows()
    rows[1][15] = "2026-01-10"  # active, with a break over long ago (as an export can show it)
    assert load_bytes(database, as_csv(rows).encode()).created == 8


def test_an_advocate_may_be_given_by_email_alone(database):
    rows = pool_rows()
    rows[1][12] = rows[1][13] = ""  # no slack_user_id, no owner_slack_user_id
    load_bytes(database, as_csv(rows).encode())
    with database.unit_of_work() as session:
        dana = session.scalar(select(Advocate).where(Advocate.email == "dana@northwind.example"))
        assert (dana.slack_user_id, dana.owner_slack_user_id) == (None, None)


def test_progress_moves_while_rows_are_checked(database):
    header, row = pool_rows()[0], pool_rows()[2]
    rows = [header] + [[f"p{n}@x.example" if i == 1 else c for i, c in enumerate(row)] for n in range(1200)]
    rows[-1][6] = "lots"  # the last row is bad: nothing is written, but checking was visibly under way
    seen: list[int] = []
    with pytest.raises(csv_input.ImportRefused), database.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session, source=io.StringIO(as_csv(rows)), now=NOW, progress=seen.append
        )
    assert len(seen) >= 4 and sum(seen) == 1200

    rows[-1][6] = "300"
    seen.clear()
    with database.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session, source=io.StringIO(as_csv(rows)), now=NOW, progress=seen.append
        )
    assert sum(seen) == 2 * 1200  # each row checked, then written


def test_history_reads_semicolons_and_a_declared_date_format(database):
    load_bytes(database, POOL.read_bytes())
    history = [
        ["advocate_email", "date", "prospect_company", "prospect_industry", "kind", "outcome", "deal_arr"],
        ["dana@northwind.example", "20/10/2026", "Globex", "software", "call", "won", "140000"],
        ["ravi@contoso.example", "02/11/2026", "Hooli", "software", "executive", "open", ""],
    ]
    data = as_csv(history, ";").encode("cp1252")
    with database.unit_of_work() as session:
        result = history_csv.import_history(
            session=session, source=pool_csv.read_text(data), now=NOW, date_format="%d/%m/%Y"
        )
    assert result.created == 2
    with database.unit_of_work() as session:
        held = sorted(d.date().isoformat() for d in session.scalars(select(Engagement.held_at)))
        assert held == ["2026-10-20", "2026-11-02"]
        assert session.scalar(select(func.count()).select_from(Engagement)) == 2


def test_the_cli_reads_a_windows_file_and_says_how(cli, tmp_path, empty_database):
    env = {"DATABASE_URL": empty_database.engine.url.render_as_string(hide_password=False)}
    empty_database.upgrade()
    path = tmp_path / "pool.csv"
    path.write_bytes(as_csv(pool_rows(), ";").encode("cp1252"))
    for args, expected in [
        (("--encoding", "klingon"), "refdesk: --encoding 'klingon' is not an encoding Python knows"),
        (("--date-format", "%Y"), "refdesk: --date-format '%Y' has no day (%d) and no month"),
        (("--encoding", "utf-8"), "line 2 has a byte utf-8 cannot read"),
    ]:
        result = cli("advocates", "import", str(path), *args, env=env, cwd=tmp_path)
        assert result.code == 2 and expected in result.err, result.err
        assert "Traceback" not in result.err
    result = cli("advocates", "import", str(path), env=env, cwd=tmp_path)
    assert result.code == 0, result.err
    assert (
        "(read as cp1252, not UTF-8: if letters look wrong, name the encoding with --encoding)" in result.out
    )
    assert "8 advocates added" in result.out
