"""The sample pool in bot/sample imports cleanly: a new user's starting template and the demo's data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.exchange import history_csv, pool_csv
from bot.rules.vocabulary import Tier
from store.models import Advocate

SAMPLE = Path(__file__).parent.parent / "bot" / "sample"
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def import_history(database):
    with (SAMPLE / "history.csv").open(encoding="utf-8") as source, database.unit_of_work() as session:
        return history_csv.import_history(session=session, source=source, now=NOW)


def test_the_sample_pool_and_history_import(database):
    with (SAMPLE / "advocates.csv").open(encoding="utf-8") as source, database.unit_of_work() as session:
        advocates = pool_csv.import_advocates(session=session, source=source, now=NOW)
    assert 22 <= advocates.created <= 28 and advocates.updated == 0

    with database.unit_of_work() as session:
        pool = list(session.scalars(select(Advocate)))
    assert len({a.industry for a in pool}) >= 10
    assert {a.tier for a in pool} == {t.value for t in Tier}
    assert sum(a.status == "break" for a in pool) >= 2
    assert sum(a.status == "retired" for a in pool) == 1

    rows = (SAMPLE / "history.csv").read_text(encoding="utf-8").strip().splitlines()[1:]
    history = import_history(database)
    assert (history.created, history.skipped) == (len(rows), 0)
    again = import_history(database)
    assert (again.created, again.skipped) == (0, len(rows))
