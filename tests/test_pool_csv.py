"""Importing and exporting the advocate pool and its history: all or nothing, errors that say where."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.exchange import history_csv, pool_csv
from bot.exchange.spreadsheet import neutralise, unneutralise
from store.models import Advocate, Engagement
from tests.support.cli import refdesk

POOL = Path(__file__).parent / "fixtures" / "pool.csv"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def load(database, text: str):
    with database.unit_of_work() as session:
        return pool_csv.import_advocates(session=session, source=io.StringIO(text), now=NOW)


def advocates(database) -> dict[str, Advocate]:
    with database.unit_of_work() as session:
        return {a.email: a for a in session.scalars(select(Advocate))}


def test_a_pool_imports_with_every_column(database):
    result = load(database, POOL.read_text())
    assert (result.created, result.updated) == (8, 0)
    dana = advocates(database)["dana@northwind.example"]
    assert dana.use_cases == ["job scheduling", "cloud migration"]
    assert dana.kinds == ["call", "email", "case_study"]
    assert (dana.tier, dana.role_level, dana.employees, dana.slack_user_id) == (
        "standard",
        "vp",
        900,
        "U0DANA",
    )
    mia = advocates(database)["mia@litware.example"]
    assert mia.status == "break" and mia.break_until.isoformat() == "2027-02-01"
    assert advocates(database)["jonas@adatum.example"].account_trouble is True


def test_reimporting_updates_by_email(database):
    load(database, POOL.read_text())
    changed = POOL.read_text().replace(
        "Dana Whitfield,dana@northwind.example,VP Engineering",
        "Dana Whitfield,DANA@northwind.example,SVP Engineering",
    )
    result = load(database, changed)
    assert (result.created, result.updated) == (0, 8)
    assert advocates(database)["dana@northwind.example"].title == "SVP Engineering"
    assert len(advocates(database)) == 8


def test_labels_are_accepted_for_choices(database):
    text = POOL.read_text().replace(
        ",vp,Northwind Systems,software,", ",VP,Northwind Systems,Software & internet,"
    )
    load(database, text)
    dana = advocates(database)["dana@northwind.example"]
    assert (dana.role_level, dana.industry) == ("vp", "software")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (",900,", ",lots,", "line 2, column employees: 'lots' is not a positive whole number"),
        (
            ",standard,U0DANA",
            ",gold,U0DANA",
            "line 2, column tier: 'gold' is not one of strategic, standard, new",
        ),
        ("call;email;case_study", "call;podcast", "line 2, column kinds: 'podcast' not one of"),
        (
            "dana@northwind.example",
            "dana-at-northwind",
            "line 2, column email: 'dana-at-northwind' is not an email",
        ),
        (",software,900,", ",crypto,900,", "line 2, column industry: 'crypto' is not one of"),
        (
            "2027-02-01",
            "next spring",
            "line 6, column break_until: 'next spring' is not a date like 2026-03-31",
        ),
        (",U0DANA,U0CS1,", ",dana,U0CS1,", "line 2, column slack_user_id: 'dana' is not a Slack member ID"),
        (
            "ravi@contoso.example",
            "dana@northwind.example",
            "line 3, column email: dana@northwind.example is already on line 2",
        ),
        (",no,2024-03-01", ",maybe,2024-03-01", "line 2, column account_trouble: 'maybe' is not yes or no"),
    ],
)
def test_one_bad_row_imports_nothing_and_says_where(database, old, new, expected):
    load(database, POOL.read_text())
    before = {e: (a.title, a.employees) for e, a in advocates(database).items()}
    bad = POOL.read_text().replace(old, new, 1).replace("VP Engineering", "Changed", 1)
    with pytest.raises(pool_csv.ImportRefused) as refused:
        load(
            database,
            bad + "New Person,new@x.example,CEO,c_level,X,software,10,,,a,call,new,U0NEW,,active,,no,,\n",
        )
    assert expected in str(refused.value)
    assert {e: (a.title, a.employees) for e, a in advocates(database).items()} == before


def test_a_wrong_header_is_refused_before_any_row(database):
    with pytest.raises(pool_csv.ImportRefused, match="missing employees; unknown staff"):
        load(database, POOL.read_text().replace("employees", "staff", 1))


def test_export_writes_what_import_reads(database):
    load(database, POOL.read_text())
    sink = io.StringIO()
    with database.unit_of_work() as session:
        assert pool_csv.export_advocates(session=session, sink=sink) == 8
    exported = sink.getvalue()
    assert exported.splitlines()[0] == ",".join(pool_csv.ALL_ADVOCATE_COLUMNS)
    assert load(database, exported).updated == 8
    snapshot = {
        e: (a.use_cases, a.kinds, a.break_until, a.account_trouble) for e, a in advocates(database).items()
    }
    load(database, exported)
    assert {
        e: (a.use_cases, a.kinds, a.break_until, a.account_trouble) for e, a in advocates(database).items()
    } == snapshot


HOSTILE_CELLS = {
    "name": '=HYPERLINK("https://evil.example","Click")',
    "title": "+1+1",
    "company": "@SUM(A1:A2)",
    "region": "-2+3",
    "country": "'=already quoted",
    "notes": "=cmd|' /C calc'!A0",
    "use_cases": "@risk;=job scheduling",
}


def test_export_neutralises_formulas_and_reimport_gives_back_the_same_values(database):
    load(database, POOL.read_text())
    with database.unit_of_work() as session:
        dana = session.scalars(select(Advocate).where(Advocate.email == "dana@northwind.example")).one()
        for column, value in HOSTILE_CELLS.items():
            setattr(dana, column, value.split(";") if column == "use_cases" else value)
    before = {
        e: {c: getattr(a, c) for c in pool_csv.ADVOCATE_COLUMNS} for e, a in advocates(database).items()
    }
    sink = io.StringIO()
    with database.unit_of_work() as session:
        pool_csv.export_advocates(session=session, sink=sink)
    [row] = [
        r for r in csv.DictReader(io.StringIO(sink.getvalue())) if r["email"] == "dana@northwind.example"
    ]
    for column in HOSTILE_CELLS:
        assert row[column].startswith("'"), f"{column} would be evaluated by a spreadsheet: {row[column]!r}"
    assert not any(
        v.startswith(("=", "+", "-", "@")) for r in csv.reader(io.StringIO(sink.getvalue())) for v in r
    )
    load(database, sink.getvalue())
    after = {e: {c: getattr(a, c) for c in pool_csv.ADVOCATE_COLUMNS} for e, a in advocates(database).items()}
    assert after == before


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("'=+-@\t\rab ;1")), max_size=12))
def test_neutralising_is_undone_exactly(value):
    exported = neutralise(value)
    assert not (isinstance(exported, str) and exported[:1] in ("=", "+", "-", "@", "\t", "\r"))
    assert unneutralise(exported) == value


@pytest.mark.parametrize("employees", ["1_000", "١٢٣", "１２３", "1,2,3", "99999999999", "12.5"])
def test_pool_numbers_take_ascii_digits_only(database, employees):
    text = POOL.read_text().replace(
        "Northwind Systems,software,900,", f'Northwind Systems,software,"{employees}",'
    )
    with pytest.raises(pool_csv.ImportRefused, match="employees"):
        load(database, text)


def test_pool_numbers_take_a_thousands_separator(database):
    load(
        database,
        POOL.read_text().replace("Northwind Systems,software,900,", 'Northwind Systems,software,"1,900",'),
    )
    assert advocates(database)["dana@northwind.example"].employees == 1900


HISTORY = """advocate_email,date,prospect_company,prospect_industry,kind,outcome,deal_arr
dana@northwind.example,2026-10-20,Globex,software,call,won,140000
dana@northwind.example,2026-06-01,Initech,software,call,lost,
ravi@contoso.example,2026-11-02,Hooli,software,executive,open,900000
"""


def history(database, text: str):
    with database.unit_of_work() as session:
        return history_csv.import_history(session=session, source=io.StringIO(text), now=NOW)


def test_history_counts_past_references_once(database):
    load(database, POOL.read_text())
    assert history(database, HISTORY).created == 3
    again = history(database, HISTORY)
    assert (again.created, again.skipped) == (0, 3)
    with database.unit_of_work() as session:
        rows = list(session.scalars(select(Engagement).order_by(Engagement.id)))
    assert [(r.status, r.outcome, r.prospect_key) for r in rows] == [
        ("held", "won", "globex"),
        ("held", "lost", "initech"),
        ("held", None, "hooli"),
    ]


def test_history_for_someone_not_in_the_pool_imports_nothing(database):
    load(database, POOL.read_text())
    bad = HISTORY + "ghost@nowhere.example,2026-01-01,Acme,software,call,won,1\n"
    with pytest.raises(
        pool_csv.ImportRefused,
        match="line 5, column advocate_email: ghost@nowhere.example is not in the pool",
    ):
        history(database, bad)
    with database.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Engagement)) == 0


def test_history_in_the_future_is_refused(database):
    load(database, POOL.read_text())
    with pytest.raises(pool_csv.ImportRefused, match="2027-01-01 is in the future"):
        history(database, HISTORY.replace("2026-11-02", "2027-01-01"))


def test_the_cli_reports_import_errors_in_one_place(tmp_path):
    bad = tmp_path / "pool.csv"
    bad.write_text(POOL.read_text().replace(",900,", ",-4,"))
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    result = refdesk("advocates", "import", str(bad), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "nothing was imported" in result.stderr and "line 2, column employees" in result.stderr
    good = refdesk("advocates", "import", str(POOL), env=env, cwd=tmp_path)
    assert good.returncode == 0 and "8 advocates added" in good.stdout
    exported = refdesk("advocates", "export", env=env, cwd=tmp_path)
    assert exported.stdout.count("\n") == 9


def test_a_large_file_imports_with_progress(tmp_path):
    rows = [",".join(pool_csv.ADVOCATE_COLUMNS)]
    for n in range(2500):
        rows.append(
            f"Person {n},p{n}@big.example,VP,vp,Co {n},software,{100 + n},,,scheduling,call,standard,"
            f"U0P{n},,active,,no,,"
        )
    big = tmp_path / "big.csv"
    big.write_text("\n".join(rows) + "\n")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    result = refdesk("advocates", "import", str(big), env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "2500 advocates added" in result.stdout


def test_the_function_column_is_optional_checked_and_exported(database):
    header, *rows = POOL.read_text().splitlines()
    with_function = "\n".join(
        [f"{header},function", f"{rows[0]},Finance", f"{rows[1]},it", *(f"{r}," for r in rows[2:])]
    )
    load(database, with_function)
    found = advocates(database)
    assert (found["dana@northwind.example"].function, found["ravi@contoso.example"].function) == ("finance", "it")
    assert found["lena@fabrikam.example"].function is None
    load(database, POOL.read_text())  # a file without the column keeps what refdesk has
    assert advocates(database)["dana@northwind.example"].function == "finance"
    sink = io.StringIO()
    with database.unit_of_work() as session:
        pool_csv.export_advocates(session=session, sink=sink)
    exported = list(csv.DictReader(io.StringIO(sink.getvalue())))
    assert [r["function"] for r in exported][:3] == ["finance", "it", ""]
    with pytest.raises(pool_csv.ImportRefused) as refused:
        load(database, f"{header},function\n{rows[0]},cfo\n")
    assert "column function: 'cfo' is not one of executive, finance, it" in str(refused.value)
