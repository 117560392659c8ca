"""PostgreSQL's marks go without waiting for their answer (bot/delivery/marks.py): what that must not change."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from bot.delivery.claims import Claim, PassResult
from store.models import Nudge
from tests.conftest import PG_URL
from tests.test_dispatcher import NOW, seed_due_nudges

pytestmark = pytest.mark.skipif(not PG_URL, reason="SQLite marks in process: there is no answer to wait for")


def take(harness, count: int) -> Claim:
    seed_due_nudges(harness.db, count)
    claim = Claim.take(
        db=harness.db,
        clock=harness.clock,
        lease=timedelta(minutes=2),
        worker="test",
        batch=count,
        now=NOW,
        result=PassResult(),
    )
    assert len(claim.ids) == count
    return claim


def statuses(harness) -> dict[int, str]:
    with harness.db.unit_of_work() as session:
        return {nudge_id: status for nudge_id, status in session.execute(select(Nudge.id, Nudge.status))}


def test_marks_are_answered_in_order_and_the_connection_goes_back_clean(harness):
    claim = take(harness, 3)
    for nudge_id in claim.ids:
        claim.mark_sent(nudge_id, NOW)
    claim.disconnect()
    assert set(statuses(harness).values()) == {"sent"}
    assert claim.result.unawaited == 3
    with harness.db.engine.connect() as connection:  # the pool's connections answer as usual afterwards
        assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_a_mark_only_applies_while_the_claim_holds_the_row(harness):
    claim = take(harness, 1)
    with harness.db.engine.begin() as connection:  # the lease ran out and another replica took the row
        connection.execute(text("UPDATE nudges SET claimed_by = 'other'"))
    claim.mark_sent(claim.ids[0], NOW)
    claim.disconnect()
    assert statuses(harness) == {claim.ids[0]: "sending"}


def test_a_mark_whose_sender_dies_before_its_answer_still_commits(harness):
    """The mark is written to the socket in full before the next message goes: the process may die then (the
    next send in flight) and the server still runs it, so only the message in flight can go twice."""
    claim = take(harness, 1)
    url = harness.db.engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(
        f"""
        import os
        from datetime import datetime
        from bot.delivery import marks
        from store.db import make_engine
        connection = make_engine({url!r}).connect().execution_options(isolation_level="AUTOCOMMIT")
        marks.send(connection, nudge_id={claim.ids[0]}, token={claim.token!r},
                   sent_at=datetime.fromisoformat({NOW.isoformat()!r}))
        os._exit(0)  # no answer read, no connection closed: as if killed while the next message was on its way
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    deadline = time.monotonic() + 10
    while statuses(harness)[claim.ids[0]] != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)  # the server may still be running it (real time: another process's work)
    assert statuses(harness)[claim.ids[0]] == "sent"


def test_a_mark_that_fails_is_raised_and_its_connection_thrown_away(harness):
    claim = take(harness, 2)
    claim.mark_sent(claim.ids[0], NOW)
    backend = claim.connection.connection.driver_connection.pgconn.backend_pid
    gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    with harness.db.engine.begin() as connection:  # the database server drops the marking connection
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        deadline = time.monotonic() + 10
        while connection.execute(gone, {"pid": backend}).scalar() and time.monotonic() < deadline:
            time.sleep(0.02)
    with pytest.raises(psycopg.OperationalError):
        claim.mark_sent(
            claim.ids[1], NOW
        )  # the first mark's answer, or this one's, finds the connection gone
        claim.disconnect()
    claim.disconnect()
    with harness.db.unit_of_work() as session:  # the pool hands out a working connection afterwards
        assert session.scalar(select(Nudge.id).limit(1)) is not None
