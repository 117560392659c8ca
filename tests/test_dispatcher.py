"""The dispatcher against Slack's bad days, crashes and a second replica: every nudge sent, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select, update

from bot.rules.nudges import NudgeKind
from store.models import Advocate, Engagement, Nudge, ReferenceRequest
from tests.conftest import CS_CHANNEL, PG_URL, SIGNING_SECRET
from tests.support import payloads
from tests.support.factories import advocate_values, request_values
from tests.test_outreach import schedule

NOW = datetime(2026, 12, 2, 17, 25, tzinfo=UTC)  # a Wednesday, in working hours in UTC


def thanks_row(harness) -> Nudge:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.THANKS)).one()


def due_now(harness) -> None:
    """Everything before the thanks is sent already; the thanks is due."""
    schedule(harness)
    harness.dispatch(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    harness.slack.clear()


def test_a_rate_limit_defers_the_message_and_it_goes_once(harness):
    due_now(harness)
    harness.slack.fail("chat.postMessage", status=429, retry_after=30)
    first = harness.dispatch(NOW)
    assert (first.sent, first.deferred) == (0, 1)
    assert harness.dispatch(NOW + timedelta(seconds=10)).claimed == 0  # Retry-After not over yet
    assert harness.dispatch(NOW + timedelta(seconds=31)).sent == 1
    assert len(harness.slack.of("chat.postMessage")) == 1
    assert thanks_row(harness).attempts == 1  # being told to wait is not a failed attempt


def test_server_errors_back_off_exponentially_then_succeed(harness):
    due_now(harness)
    harness.slack.fail("chat.postMessage", status=500, times=2)
    assert harness.dispatch(NOW).retried == 1
    assert harness.dispatch(NOW + timedelta(seconds=29)).claimed == 0
    assert harness.dispatch(NOW + timedelta(seconds=31)).retried == 1  # second failure: wait 60 s more
    assert harness.dispatch(NOW + timedelta(seconds=80)).claimed == 0
    assert harness.dispatch(NOW + timedelta(seconds=92)).sent == 1
    row = thanks_row(harness)
    assert (row.status, row.attempts, len(harness.slack.of("chat.postMessage"))) == ("sent", 3, 1)


def test_after_the_last_attempt_it_fails_and_cs_is_told(harness):
    due_now(harness)
    harness.slack.fail("chat.postMessage", status=503, times=5)
    at = NOW
    for _ in range(5):
        harness.dispatch(at)
        at += timedelta(minutes=10)
    row = thanks_row(harness)
    assert (row.status, row.attempts) == ("failed", 5)
    told = [m for m in harness.slack.of("chat.postMessage") if m["channel"] == CS_CHANNEL]
    assert len(told) == 1 and "couldn't send the *thanks* message to <@U0DANA>" in told[0]["text"]
    assert harness.dispatch(at + timedelta(hours=1)).claimed == 0  # a failed row stays failed
    harness.expect_errors = True


def test_a_permanent_slack_error_fails_at_once_and_tells_cs(harness):
    due_now(harness)
    harness.slack.fail("chat.postMessage", error="user_not_found")
    result = harness.dispatch(NOW)
    assert result.failed == 1 and thanks_row(harness).last_error == "user_not_found"
    assert "user_not_found" in harness.slack.of("chat.postMessage")[-1]["text"]
    harness.expect_errors = True


def refuse_writes_to_cache_versions(harness) -> Callable[[], None]:
    """The database refuses to count a change (a trigger): what it is asked to commit with one fails whole.
    Returns how to allow it again."""
    with harness.db.engine.begin() as connection:
        if harness.db.is_sqlite:
            for when in ("INSERT", "UPDATE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER refuse_{when.lower()} BEFORE {when} ON cache_versions "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                "LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON cache_versions "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )

    def allow() -> None:
        with harness.db.engine.begin() as connection:
            if harness.db.is_sqlite:
                connection.exec_driver_sql("DROP TRIGGER refuse_insert")
                connection.exec_driver_sql("DROP TRIGGER refuse_update")
            else:
                connection.exec_driver_sql("DROP TRIGGER refuse ON cache_versions")
                connection.exec_driver_sql("DROP FUNCTION refuse()")

    return allow


def test_a_failure_is_never_recorded_without_telling_home(harness):
    """Marking a message failed and the change Home's remembered queue waits for are one transaction: when the
    second cannot be written, the row is not failed either (and CS not told); it is sent to its end again once
    its lease runs out, and then Home shows it."""
    due_now(harness)
    harness.sender.event(payloads.app_home_opened(user_id="U0CS1"))
    harness.settle()
    assert "could not be sent" not in str(harness.slack.of("views.publish")[-1]["view"])
    harness.slack.fail("chat.postMessage", error="user_not_found", times=2)
    allow = refuse_writes_to_cache_versions(harness)
    try:
        with pytest.raises(Exception, match="refused"):
            harness.dispatch(NOW)
    finally:
        allow()
    row = thanks_row(harness)
    assert (row.status, row.last_error) == ("sending", None)  # neither failed nor half-failed
    assert [m for m in harness.slack.of("chat.postMessage") if m["channel"] == CS_CHANNEL] == []

    later = harness.dispatch(NOW + timedelta(minutes=3))  # the lease ran out: taken again, and fails whole
    assert later.failed == 1 and thanks_row(harness).status == "failed"
    harness.sender.event(payloads.app_home_opened(user_id="U0CS1"))
    harness.settle()
    assert "1 scheduled message(s) could not be sent" in str(harness.slack.of("views.publish")[-1]["view"])
    harness.expect_errors = True


def test_a_row_whose_dispatcher_died_is_reclaimed_after_its_lease(harness):
    due_now(harness)
    with harness.db.unit_of_work() as session:
        session.execute(
            update(Nudge)
            .where(Nudge.kind == NudgeKind.THANKS)
            .values(status="sending", claimed_by="dead:1", lease_until=NOW + timedelta(minutes=1), attempts=1)
        )
    assert harness.dispatch(NOW).claimed == 0  # its lease still runs
    assert harness.dispatch(NOW + timedelta(minutes=2)).sent == 1
    assert len(harness.slack.of("chat.postMessage")) == 1


# --- several processes --------------------------------------------------------------------------------------


def seed_due_nudges(db, count: int) -> None:
    """`count` due thank-yous, each for its own engagement, so each message is recognisable at the fake."""
    now = NOW - timedelta(hours=1)
    with db.unit_of_work() as session:
        advocates = [
            advocate_values(
                id=n, name=f"A{n:04d} Person", slack_user_id=f"U{n:06d}", created_at=now, updated_at=now
            )
            for n in range(1, count + 1)
        ]
        session.execute(insert(Advocate), advocates)
        session.execute(
            insert(ReferenceRequest),
            [
                request_values(
                    created_at=now,
                    updated_at=now,
                    rep_id="U0REP",
                    requester_id="U0REP",
                    prospect_company="Acme",
                    prospect_key="acme",
                )
            ],
        )
        session.execute(
            insert(Engagement),
            [
                dict(
                    id=n,
                    advocate_id=n,
                    request_id=1,
                    kind="call",
                    status="scheduled",
                    prospect_key="acme",
                    prospect_company="Acme",
                    call_at=now - timedelta(hours=1),
                    call_minutes=20,
                    source="refdesk",
                    proposed_times=[],
                    created_at=now,
                )
                for n in range(1, count + 1)
            ],
        )
        session.execute(
            insert(Nudge),
            [
                dict(
                    key=f"t{n}",
                    kind="thanks",
                    recipient=f"U{n:06d}",
                    engagement_id=n,
                    request_id=1,
                    due_at=now,
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
                for n in range(1, count + 1)
            ],
        )


def dispatch_env(harness) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CS_", "DATABASE_URL"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        CS_CHANNEL_ID=CS_CHANNEL,
        SLACK_API_URL=harness.slack.base_url,
        LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture
def migrated_url(harness) -> str:
    """The test's database URL, stamped as migrated so `refdesk dispatch` accepts it as it is."""
    from alembic import command

    command.stamp(harness.db.alembic_config(), "head")
    return harness.db.engine.url.render_as_string(hide_password=False)


def start_dispatch(env: dict[str, str], at: datetime) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "dispatch", "--now", at.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def per_recipient(harness) -> Counter:
    return Counter(m["channel"] for m in harness.slack.of("chat.postMessage"))


def test_two_dispatchers_send_a_thousand_nudges_exactly_once(harness, migrated_url):
    seed_due_nudges(harness.db, 1000)
    # A little network latency, as with Slack itself: neither process can finish before the other has started.
    harness.slack.latency = 0.01
    env = {**dispatch_env(harness), "DATABASE_URL": migrated_url}
    processes = [start_dispatch(env, NOW) for _ in range(2)]
    outputs = [p.communicate(timeout=240) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    counts = per_recipient(harness)
    assert len(counts) == 1000 and set(counts.values()) == {1}
    claimed = [int(out.split("claimed ")[1].split(":")[0]) for out, _ in outputs]
    assert sum(claimed) == 1000 and all(c > 0 for c in claimed), claimed  # both really worked
    with harness.db.unit_of_work() as session:
        assert {n.status for n in session.scalars(select(Nudge))} == {"sent"}


def test_a_dispatcher_killed_mid_pass_loses_nothing(harness, migrated_url):
    seed_due_nudges(harness.db, 300)
    env = {**dispatch_env(harness), "DATABASE_URL": migrated_url}
    victim = start_dispatch(env, NOW)
    deadline = time.monotonic() + 60
    while len(harness.slack.of("chat.postMessage")) < 50:
        assert time.monotonic() < deadline and victim.poll() is None, "the dispatcher never got going"
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    sent_before = len(per_recipient(harness))
    assert sent_before < 300, "killed too late to prove anything"
    survivor = start_dispatch(env, NOW + timedelta(minutes=5))  # after the dead claimer's lease
    out, err = survivor.communicate(timeout=240)
    assert survivor.returncode == 0, err
    counts = per_recipient(harness)
    assert len(counts) == 300  # everything got sent
    twice = [r for r, n in counts.items() if n > 1]
    # At most the one message in flight when the process died (each mark commits before the next message goes:
    # bot/delivery/claims.py).
    assert len(twice) <= 1, twice


def test_dispatch_now_from_the_command_line_sends_the_prep_once(harness, migrated_url):
    schedule(harness)
    harness.slack.clear()
    env = {**dispatch_env(harness), "DATABASE_URL": migrated_url}
    prep_time = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)
    for _ in range(2):
        process = start_dispatch(env, prep_time)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    assert "claimed 0" in out  # the second run found nothing new
    sent = harness.slack.of("chat.postMessage")
    assert sorted(m["channel"] for m in sent) == ["U0DANA", "U0REP"]
    assert "Your reference call is" in sent[0]["text"] or "Your reference call is" in sent[1]["text"]


def test_a_slow_dispatcher_never_sends_a_row_someone_else_took(harness):
    """A pass outlives its lease; another replica takes the row and sends it; the slow one must not."""
    from bot.delivery.dispatcher import PassResult
    from bot.delivery.scheduler import make_dispatcher
    from tests.conftest import make_settings

    due_now(harness)
    harness.clock.set(NOW)
    slow = make_dispatcher(settings=make_settings(harness.slack), db=harness.db, clock=harness.clock)
    claim = slow._claim(NOW, PassResult())
    assert claim.ids
    assert harness.dispatch(NOW + timedelta(minutes=3)).sent == 1  # the lease ran out: another replica sends
    slow._deliver(claim, NOW, set(), [], stale=True)
    assert len(harness.slack.of("chat.postMessage")) == 1


def test_one_claim_takes_one_batch_and_leaves_the_rest_to_other_replicas(harness):
    """Regression: on PostgreSQL an `id IN (… SKIP LOCKED LIMIT n)` claim once took the whole outbox."""
    from bot.delivery.dispatcher import PassResult
    from bot.delivery.scheduler import make_dispatcher
    from tests.conftest import make_settings

    seed_due_nudges(harness.db, 250)  # more than two batches
    one = make_dispatcher(settings=make_settings(harness.slack), db=harness.db, clock=harness.clock)
    other = make_dispatcher(settings=make_settings(harness.slack), db=harness.db, clock=harness.clock)
    first, second = one._claim(NOW, PassResult()).ids, other._claim(NOW, PassResult()).ids
    assert len(first) == len(second) == one.batch
    assert not set(first) & set(second)


def test_the_dispatcher_spends_at_most_three_statements_a_message(harness):
    """The bookkeeping is batched: claim, read and compose per batch, one statement marks each send done, the
    calls the thank-yous mark as held recorded per batch. Counted (not timed), so it can't creep back."""
    from sqlalchemy import event

    seed_due_nudges(harness.db, 120)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_):
        statements.append(statement)

    event.listen(harness.db.engine, "before_cursor_execute", count)
    try:
        result = harness.dispatch(NOW)
    finally:
        event.remove(harness.db.engine, "before_cursor_execute", count)
    assert result.sent == 120
    assert len(per_recipient(harness)) == 120
    with harness.db.unit_of_work() as session:
        assert {e.status for e in session.scalars(select(Engagement))} == {"held"}  # the thanks marked them
    # PostgreSQL's marks go without waiting for their answer (bot/delivery/marks.py): no cursor sees them.
    assert result.unawaited == (0 if harness.db.is_sqlite else 120)
    total = len(statements) + result.unawaited
    assert total <= 3 * 120, f"{total} statements for 120 messages"


def test_an_effect_with_nothing_to_store_costs_one_statement_after_its_claim(harness):
    """DMs a handler wrote (outbox effects): the claim's own statement returns its rows, and each sent one is
    marked in the one statement a scheduled message costs, not read again and ended in a transaction of its
    own. Each still reaches its member once, and its row ends sent."""
    from bot.flows import effects

    harness.clock.set(NOW)
    with harness.db.unit_of_work() as session:  # due a minute from now: the courier leaves them to the pass
        for n in range(40):
            effects.post(session, now=NOW + timedelta(minutes=1), to=f"U{n:06d}", text=f"Effect {n}")
    harness.settle()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_):
        statements.append(statement)

    event.listen(harness.db.engine, "before_cursor_execute", count)
    try:
        result = harness.dispatch(NOW + timedelta(minutes=2))
    finally:
        event.remove(harness.db.engine, "before_cursor_execute", count)
    assert result.sent == 40
    counts = per_recipient(harness)
    assert len(counts) == 40 and set(counts.values()) == {1}
    with harness.db.unit_of_work() as session:
        assert {row.status for row in session.scalars(select(Nudge))} == {"sent"}
    # PostgreSQL's marks go without waiting for their answer (bot/delivery/marks.py): no cursor sees them.
    marks = [s for s in statements if s.startswith("UPDATE nudges SET status=")]
    assert len(marks) + result.unawaited == 40
    # The claim's statement returns its rows: neither the batch nor each effect reads them again.
    assert not [s for s in statements if s.startswith("SELECT nudges.id") and "WHERE nudges.id " in s]
    total = len(statements) + result.unawaited
    assert total <= 40 + 10, f"{total} statements for 40 effects"


def test_several_senders_send_each_message_once_and_a_members_in_order(harness):
    """DISPATCH_SENDERS > 1: messages to different people overlap on the network, never two to one person,
    and Slack's failures are handled as with one sender."""
    from bot.delivery.scheduler import make_dispatcher
    from tests.conftest import make_settings

    seed_due_nudges(harness.db, 120)
    with harness.db.unit_of_work() as session:  # one member hears five of them, in the order they were due
        session.execute(update(Nudge).where(Nudge.id <= 5).values(recipient="U0SAME"))
        for n in range(1, 6):
            session.execute(update(Nudge).where(Nudge.id == n).values(due_at=NOW - timedelta(minutes=60 - n)))
    harness.slack.fail("chat.postMessage", status=500, times=3)
    harness.clock.set(NOW)
    dispatcher = make_dispatcher(
        settings=make_settings(harness.slack, dispatch_senders=4), db=harness.db, clock=harness.clock
    )
    first = dispatcher.run_pass()
    assert (first.sent, first.retried) == (117, 3)
    harness.clock.set(NOW + timedelta(minutes=5))
    assert dispatcher.run_pass().sent == 3
    counts = per_recipient(harness)
    assert counts["U0SAME"] == 5 and len(counts) == 116 and set(counts.values()) == {1, 5}
    calls = harness.slack.of("chat.postMessage")
    same = [m["text"].split(",")[1].strip() for m in calls if m["channel"] == "U0SAME"]
    assert same == [f"A{n:04d}" for n in range(1, 6)]  # one at a time for one member, in the order due
    with harness.db.unit_of_work() as session:
        assert set(session.scalars(select(Nudge.status))) == {"sent"}


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's prepared statements: SQLite has no generic plans")
def test_the_claims_generic_plan_reads_the_due_rows_not_the_whole_outbox(database):
    """psycopg prepares a statement run often and PostgreSQL may then run its generic plan, made without the
    values. With the statuses bound, that plan scanned every row the outbox ever held; sent rows stay, so it only
    grew. The claim's generic plan must find the due rows through ix_nudges_due."""
    import re

    from psycopg import ClientCursor

    from bot.clock import FrozenClock
    from bot.delivery.dispatcher import Dispatcher, PassResult

    sent = [
        dict(key=f"old{n}", kind="thanks", recipient=f"U{n}", due_at=NOW - timedelta(days=1 + n % 300),
             status="sent", attempts=1, created_at=NOW, payload={})
        for n in range(5_000)
    ]  # fmt: skip
    due = [dict(row, key=f"due{n}", status="pending", due_at=NOW) for n, row in enumerate(sent[:10])]
    with database.unit_of_work() as session:
        session.execute(insert(Nudge), sent + due)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE nudges")
    seen: list[tuple[str, dict]] = []

    def record(_conn, _cursor, statement, parameters, *_):
        if statement.lstrip().startswith(("UPDATE nudges", "WITH")) and "RETURNING" in statement:
            seen.append((statement, dict(parameters)))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        dispatcher = Dispatcher(db=database, client=None, clock=FrozenClock(NOW), cs_channel_id="C0CS")
        assert len(dispatcher._claim(NOW, PassResult()).ids) == 10
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    [(statement, parameters)] = seen
    names: list[str] = []
    text = re.sub(r"%\((\w+)\)s", lambda m: names.append(m.group(1)) or f"${len(names)}", statement)
    raw = database.engine.raw_connection()
    try:
        cursor = ClientCursor(raw.driver_connection)  # the values written in, as EXECUTE's arguments
        cursor.execute(f"PREPARE claim AS {text}")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        placeholders = ", ".join(["%s"] * len(names))
        cursor.execute(f"EXPLAIN EXECUTE claim({placeholders})", [parameters[n] for n in names])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.driver_connection.rollback()
        raw.close()
    assert "ix_nudges_due" in plan and "Seq Scan on nudges" not in plan, plan


def test_a_pass_records_the_calls_its_thanks_hold_at_most_hold_every_at_once(harness, monkeypatch):
    """The held calls are one transaction per HOLD_EVERY thank-yous and one when nothing more is due, not one
    per batch; every thanked call ends up held within the pass."""
    from bot.delivery import bookkeeping, dispatcher

    monkeypatch.setattr(dispatcher, "HOLD_EVERY", 50)
    recorded: list[int] = []
    mark_held = bookkeeping.mark_held

    def counted(db, engagement_ids, *args, **kwargs):
        recorded.append(len(engagement_ids))
        return mark_held(db, engagement_ids, *args, **kwargs)

    monkeypatch.setattr(bookkeeping, "mark_held", counted)
    seed_due_nudges(harness.db, 120)  # batches of 100: one hold after the first, one for the last 20
    assert harness.dispatch(NOW).sent == 120
    assert recorded == [100, 20]
    with harness.db.unit_of_work() as session:
        assert {e.status for e in session.scalars(select(Engagement))} == {"held"}


def test_a_claims_new_shortlists_go_first_behind_only_their_own_requests_rows():
    """dispatcher._urgent_first: the order a claim's rows go in. A new shortlist jumps the rows claimed before it
    about other requests, never those of its own (its card, the line saying why a fresh shortlist follows);
    everything else keeps its order."""
    from bot.delivery.dispatcher import _urgent_first
    from bot.flows.effects import Fx

    def row(row_id: int, kind: str, request_id: int | None) -> Nudge:
        return Nudge(id=row_id, kind=kind, request_id=request_id)

    claimed = [
        row(1, Fx.CARD_UPDATE, 10),
        row(2, Fx.POST, 10),
        row(8, Fx.POST, 11),  # "couldn't deliver the ask": the fresh shortlist below says what to do next
        row(3, Fx.CARD, 12),
        row(4, Fx.SHORTLIST, 11),
        row(5, Fx.SHORTLIST, 12),
        row(6, NudgeKind.THANKS, None),
        row(7, Fx.SHORTLIST_UPDATE, 9),
        row(9, Fx.POST, 11),  # written after the shortlist: stays after it
    ]
    rows = {n.id: n for n in claimed}
    assert _urgent_first([n.id for n in claimed], rows) == [8, 3, 4, 5, 1, 2, 6, 7, 9]
    assert _urgent_first([1, 2, 6], rows) == [1, 2, 6]  # nothing urgent: the order claimed
    # a row gone meanwhile keeps its place (the delivery skips it)
    assert _urgent_first([99, 4, 1], rows) == [4, 99, 1]
