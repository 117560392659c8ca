"""Usage kept with the events: after every step of a story driven through Slack, the kept counters equal a
recomputation from history; `refdesk doctor` finds injected drift, one line per advocate, and repairs it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from bot.exchange import history_csv
from modals.ids import Action, Block
from store import usage
from store.models import Advocate, AdvocateUsage
from tests.conftest import REP
from tests.support.pool import ask_dana
from tests.test_outreach import schedule
from tests.test_pool_csv import HISTORY, POOL, load

AFTER_THE_CALL = datetime(2026, 12, 4, 16, 25, tzinfo=UTC)
LAPSED = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # 4 business days after the ask


def dana_usage(db) -> usage.Counters:
    """Dana's kept counters, after checking that no advocate's counters disagree with their history."""
    with db.unit_of_work() as session:
        connection = session.connection()
        assert usage.check(connection) == []
        dana = session.scalars(select(Advocate.id).where(Advocate.email == "dana@northwind.example")).one()
        return usage.stored(connection, [dana]).get(dana, usage.Counters())


def test_counters_follow_ask_yes_call_held_and_the_call_that_did_not_happen(harness):
    _, engagement_id = schedule(harness)  # asked, said yes, time picked: scheduled
    kept = dana_usage(harness.db)
    assert (kept.total, kept.pending, kept.given, kept.quarter) == (1, 1, 1, date(2026, 10, 1))

    harness.dispatch(AFTER_THE_CALL)  # the thanks went out: the call is held
    kept = dana_usage(harness.db)
    assert (kept.total, kept.pending, kept.given) == (1, 0, 1)
    assert kept.last_used is not None and kept.last_used.date() == date(2026, 12, 2)

    # The rep corrects it: the call didn't happen, and it no longer counts.
    harness.click(Action.NO_CALL, engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(view, {Block.NO_CALL_CHOICE: "cancel"}, user=REP)
    kept = dana_usage(harness.db)
    assert (kept.total, kept.pending, kept.given, kept.quarter_count) == (0, 0, 0, 0)


def test_counters_follow_an_ask_that_lapses_and_imported_history(harness):
    ask_dana(harness)
    assert dana_usage(harness.db).pending == 1

    harness.dispatch(LAPSED)  # no answer in 4 business days: expired, the next shortlist is posted
    kept = dana_usage(harness.db)
    assert (kept.total, kept.pending) == (0, 0)
    assert kept.last_asked is not None and kept.last_asked.date() == date(2026, 11, 20)

    with harness.db.unit_of_work() as session:  # imported history counts as live history does
        history_csv.import_history(session=session, source=io.StringIO(HISTORY), now=LAPSED)
    kept = dana_usage(harness.db)
    assert (kept.total, kept.given, kept.quarter, kept.quarter_count) == (2, 2, date(2026, 10, 1), 1)


def test_doctor_finds_drift_one_line_per_advocate_and_repairs_it(empty_database, cli, tmp_path):
    database = empty_database
    database.upgrade()  # the command refuses a database that is not at the newest migration
    load(database, POOL.read_text())
    with database.unit_of_work() as session:
        history_csv.import_history(session=session, source=io.StringIO(HISTORY), now=LAPSED)
    env = {"DATABASE_URL": database.engine.url.render_as_string(hide_password=False)}
    agreed = cli("doctor", env=env, cwd=tmp_path)
    assert (agreed.code, agreed.out.strip()) == (0, "usage counters agree with history"), agreed

    with database.unit_of_work() as session:  # drift: a lost write and a counter bumped twice
        session.execute(update(AdvocateUsage).where(AdvocateUsage.total == 2).values(total=7, pending=1))
        session.execute(update(AdvocateUsage).where(AdvocateUsage.total == 1).values(quarter_count=0))

    found = cli("doctor", env=env, cwd=tmp_path)
    lines = found.out.strip().splitlines()
    assert found.code == 1 and len(lines) == 2, found
    assert "total kept 7, history says 2; pending kept 1, history says 0" in lines[0]
    assert "quarter_count kept 0, history says 1" in lines[1]

    repaired = cli("doctor", "--repair", env=env, cwd=tmp_path)
    assert repaired.code == 0 and repaired.out.strip().splitlines()[-1] == "repaired 2 advocates' usage"
    assert cli("doctor", env=env, cwd=tmp_path).out.strip() == "usage counters agree with history"
