"""How fast the dispatcher empties the outbox: one pass over N due nudges, then against Slack's pacing.

    python -m bench.dispatch [--database-url URL] [--nudges 10000] [--seed 7] [--recipients 500]
                             [--burst 100] [--limit-seconds 120] [--check-blocks]
                             [--profile] [--profile-nudges 2000] [--only A|B1|B2 ...]

Scenario A ("plain"): N due thank-yous, each to its own recipient, against a fake Slack that accepts
everything: `run_pass()` repeated until a pass finds nothing due, as the scheduler does (one pass stops after half
a lease so its rows are never at risk; 10,000 take more than one pass when the machine is slow). Run "cold"
(a fresh dispatcher: each recipient's zone asked of Slack, users.info) and "warm" (the same long-lived dispatcher,
a second round of thank-yous to the same people: zones remembered across passes, as in a running server). The
floor, in the same run: the same WebClient (bot.slack_client.make_client) sending exactly the messages Slack received in
the cold run to a fresh fake, one after another, no database; the ratio is refdesk's messages/s over the floor's.

Scenario B ("Slack's pacing"): N due thank-yous over --recipients recipients (shuffled with
--seed), passes back to back with a clock that follows real time, against a fake Slack that answers 429
(Retry-After: 1) to a second message to the same channel within 1 s; variant B2 also refuses everything
once --burst messages were accepted within the last second workspace-wide. The time limit is checked between
passes; a pass still running when it expires is ended the app's own way (its clock jumps past half a lease).

Without --database-url it uses a fresh SQLite file; a PostgreSQL URL gets its own bench_<random> schema (named
in the URL's options), dropped at the end. Scenario A's fake and its floor's run in a process of their own
(RemoteSlack says why); scenario B's runs in this one. By default it skips its Block Kit
JSON Schema check (~4 ms of CPU a message, the test suite's business): --check-blocks keeps it.
A measurement, not a test: it exits 0 whatever it finds, and says what it found.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import multiprocessing
import os
import pstats
import random
import re
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.clock import FrozenClock
from bot.delivery.dispatcher import Dispatcher, PassResult
from bot.delivery.scheduler import make_dispatcher
from bot.settings import Settings
from store.db import Database, make_engine
from store.models import Advocate, Base, Engagement, Nudge, ReferenceRequest
from tests.support.fake_slack import Failure, FakeSlack

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 UTC: working hours for a UTC recipient
DUE = NOW - timedelta(hours=1)
CS_CHANNEL = "C0CSTEAM"
CHUNK = 5_000
FIRST_NAME = re.compile(r"Thank you, (N\d+),")


# --- the fakes -------------------------------------------------------------------------------------------
class QuietSlack(FakeSlack):
    """FakeSlack, with its Block Kit JSON Schema check only when asked for (it costs ~4 ms of CPU a message,
    and would be timed as the dispatcher's when the fake runs in the measured process)."""

    def __init__(self, *, check_blocks: bool = False) -> None:
        super().__init__()
        self.check_blocks = check_blocks

    def _check_blocks(self, method: str, params: dict[str, Any]) -> Failure | None:
        return super()._check_blocks(method, params) if self.check_blocks else None


def _serve_fake(connection: Any, check_blocks: bool) -> None:
    """The child process of RemoteSlack: a QuietSlack, answering for its calls over a pipe."""
    slack = QuietSlack(check_blocks=check_blocks).start()
    connection.send(slack.base_url)
    while True:
        command = connection.recv()
        if command == "calls":
            connection.send([(c.method, c.params, c.ok) for c in slack.calls])
        else:
            slack.stop()
            connection.send(None)
            return


class RemoteSlack:
    """QuietSlack in a process of its own, as Slack is. In this process its HTTP threads would share the GIL
    with whatever is measured: any work between two calls then waits out the interpreter's switch interval
    (a send measured ~1.2 ms in a bare loop, ~4–5 ms with 1 ms of other work between sends), which made the
    floor look several times faster than any real sender can be. Scenario A and its floor both use it."""

    def __init__(self, *, check_blocks: bool = False) -> None:
        self.check_blocks = check_blocks
        self.base_url = ""
        self._calls: list[tuple[str, dict[str, Any], bool]] | None = None

    def start(self) -> RemoteSlack:
        context = multiprocessing.get_context("spawn")  # nothing of this process (engines, sockets) inherited
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve_fake, args=(child, self.check_blocks), daemon=True)
        self._process.start()
        self.base_url = self._pipe.recv()
        return self

    def _all(self) -> list[tuple[str, dict[str, Any], bool]]:
        if self._calls is None:
            self._pipe.send("calls")
            self._calls = self._pipe.recv()
        return self._calls

    def of(self, method: str) -> list[dict[str, Any]]:
        return [params for m, params, ok in self._all() if m == method and ok]

    def attempts(self, method: str) -> list[dict[str, Any]]:
        return [params for m, params, _ in self._all() if m == method]

    def stop(self) -> None:
        self._pipe.send("stop")
        self._pipe.recv()
        self._process.join(timeout=10)


class PacedSlack(QuietSlack):
    """Slack's pacing for chat.postMessage: about 1 message a second per channel, and (when `burst` is set) no
    more than `burst` messages in any one second workspace-wide. Over either: HTTP 429, Retry-After: 1."""

    def __init__(self, *, burst: int | None, check_blocks: bool = False) -> None:
        super().__init__(check_blocks=check_blocks)
        self.burst = burst
        self.accepted: list[tuple[str, float]] = []  # (channel, time.monotonic() of the decision)
        self.refused_channel = 0
        self.refused_burst = 0
        self._last: dict[str, float] = {}
        self._window: deque[float] = deque()
        self._pace = threading.Lock()

    def _check_blocks(self, method: str, params: dict[str, Any]) -> Failure | None:
        invalid = super()._check_blocks(method, params)
        if invalid is not None or method != "chat.postMessage":
            return invalid
        channel = str(params.get("channel", ""))
        with self._pace:
            now = time.monotonic()
            last = self._last.get(channel)
            if last is not None and now - last < 1.0:
                self.refused_channel += 1
                return Failure(status=429, retry_after=1)
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if self.burst is not None and len(self._window) >= self.burst:
                self.refused_burst += 1
                return Failure(status=429, retry_after=1)
            self._last[channel] = now
            self._window.append(now)
            self.accepted.append((channel, now))
        return None


# --- the database --------------------------------------------------------------------------------------
class TimedDatabase(Database):
    """The app's Database, timed from outside: every unit of work (checkout, statements, ORM, commit), and the
    statements alone (cursor execute)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.in_units = 0.0
        self.in_statements = 0.0
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset_timers(self) -> None:
        self.in_units, self.in_statements, self.statements = 0.0, 0.0, 0

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, *_: Any) -> None:
        self.in_statements += time.perf_counter() - conn.info["bench_started"].pop()
        self.statements += 1

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        started = time.perf_counter()
        try:
            with super().unit_of_work() as session:
                yield session
        finally:
            self.in_units += time.perf_counter() - started


def open_database(url: str | None, workdir: Path) -> tuple[TimedDatabase, Callable[[], None]]:
    """A database with a fresh schema, and how to get rid of it."""
    url = url or f"sqlite:///{workdir / 'bench.db'}"
    if url.startswith("sqlite"):
        db = TimedDatabase(make_engine(url))
        Base.metadata.drop_all(db.engine)  # a file given twice starts clean
        Base.metadata.create_all(db.engine)
        return db, db.engine.dispose
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    parsed = make_url(url)
    options = " ".join(filter(None, [str(parsed.query.get("options") or ""), f"-csearch_path={schema}"]))
    scoped = parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)
    db = TimedDatabase(make_engine(scoped))
    Base.metadata.create_all(db.engine)

    def drop() -> None:
        db.engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return db, drop


def reset(db: TimedDatabase) -> None:
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)


def insert_chunked(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model.__table__), rows[start : start + CHUNK])


def recipients_for(count: int, recipients: int | None, rng: random.Random) -> list[str]:
    """One Slack id per nudge: all different, or `recipients` ids each repeated, in a shuffled order."""
    if recipients is None:
        return [f"U{n:07d}" for n in range(1, count + 1)]
    ids = [f"U{n % recipients:07d}" for n in range(count)]
    rng.shuffle(ids)
    return ids


def seed(db: TimedDatabase, recipients: list[str]) -> None:
    """A due thank-you per recipient entry, each for its own advocate and engagement (status scheduled, so the
    message is still relevant); the advocate's first name N<id> makes every message recognisable."""
    count = len(recipients)
    with db.unit_of_work() as session:
        insert_chunked(
            session,
            ReferenceRequest,
            [
                dict(
                    id=1, status="approved", created_at=DUE, updated_at=DUE, source_view_id="VBENCH1",
                    requester_id="U0REP", rep_id="U0REP", prospect_company="Acme", prospect_key="acme",
                    prospect_industry="software", prospect_employees=100, deal_arr=100_000,
                    close_date=date(2027, 1, 1), deal_stage="proposal", contact_role="CTO",
                    contact_concerns="x", wanted_industry="software", wanted_size_band="51-200",
                    wanted_role_level="vp", wanted_use_case="x", wanted_kind="call", urgency="flexible",
                    why_now="x", tried=["demo"], goal="x", background="", prior_references=0,
                )
            ],
        )  # fmt: skip
        insert_chunked(
            session,
            Advocate,
            [
                dict(
                    id=n, email=f"a{n}@bench.example", name=f"N{n:06d} Bench", role_level="vp",
                    company="X", industry="software", employees=100, use_cases=[], kinds=["call"],
                    tier="standard", slack_user_id=recipients[n - 1], status="active",
                    account_trouble=False, notes="", created_at=DUE, updated_at=DUE,
                )
                for n in range(1, count + 1)
            ],
        )  # fmt: skip
        insert_chunked(
            session,
            Engagement,
            [
                dict(
                    id=n, advocate_id=n, request_id=1, kind="call", status="scheduled", prospect_key="acme",
                    prospect_company="Acme", call_at=DUE - timedelta(hours=1), call_minutes=20,
                    source="refdesk", proposed_times=[], created_at=DUE,
                )
                for n in range(1, count + 1)
            ],
        )  # fmt: skip
        insert_chunked(
            session,
            Nudge,
            [
                dict(
                    id=n, key=f"bench:{n}", kind="thanks", recipient=recipients[n - 1], engagement_id=n,
                    request_id=1, due_at=DUE, status="pending", attempts=0, created_at=DUE,
                )
                for n in range(1, count + 1)
            ],
        )  # fmt: skip
    if not db.is_sqlite:  # a live PostgreSQL has statistics (autovacuum); a fresh bulk load has none yet
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def statuses(db: Database) -> dict[str, int]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Nudge.status, func.count()).group_by(Nudge.status))
        return {status: n for status, n in rows}


def attempts(db: Database) -> dict[int, int]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Nudge.attempts, func.count()).group_by(Nudge.attempts))
        return dict(sorted((a, n) for a, n in rows))


# --- checking what Slack saw ---------------------------------------------------------------------------
def delivered(slack: FakeSlack | RemoteSlack, recipients: list[str]) -> tuple[Counter[int], int, int]:
    """(thank-yous Slack accepted per nudge id, how many went to the wrong recipient, other messages)."""
    per_nudge: Counter[int] = Counter()
    misrouted = other = 0
    for params in slack.of("chat.postMessage"):
        match = FIRST_NAME.search(str(params.get("text", "")))
        if match is None:
            other += 1  # e.g. CS told of a failure; none expected here
            continue
        nudge_id = int(match.group(1)[1:])
        per_nudge[nudge_id] += 1
        misrouted += params.get("channel") != recipients[nudge_id - 1]
    return per_nudge, misrouted, other


def exactly_once(per_nudge: Counter[int], count: int) -> tuple[int, int, int]:
    """(nudges sent once, never, more than once)."""
    once = sum(1 for n in range(1, count + 1) if per_nudge[n] == 1)
    never = sum(1 for n in range(1, count + 1) if per_nudge[n] == 0)
    return once, never, count - once - never


def closest(times: Iterator[tuple[str, float]]) -> tuple[float, int]:
    """(smallest gap between two accepted messages to the same channel, how many gaps were under 1 s)."""
    per_channel: dict[str, list[float]] = defaultdict(list)
    for channel, at in times:
        per_channel[channel].append(at)
    gaps = [b - a for ats in per_channel.values() for a, b in zip(sorted(ats), sorted(ats)[1:], strict=False)]
    return (min(gaps) if gaps else float("inf")), sum(1 for g in gaps if g < 1.0)


# --- the scenarios -------------------------------------------------------------------------------------
def settings_for(slack: FakeSlack | RemoteSlack) -> Settings:
    return Settings(
        slack_api_url=slack.base_url,
        slack_bot_token="xoxb-bench",
        cs_channel_id=CS_CHANNEL,
        database_url="(bench)",
    )


def add(total: PassResult, result: PassResult) -> None:
    for f in fields(PassResult):
        setattr(total, f.name, getattr(total, f.name) + getattr(result, f.name))


@dataclass
class Plain:
    result: PassResult
    wall: float
    in_units: float
    in_statements: float
    statements: int
    users_info: int
    posts: int
    once: int
    never: int
    twice: int
    misrouted: int
    other: int
    statuses: dict[str, int]
    profile: str = ""
    passes: int = 1
    sent_messages: list[dict[str, Any]] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


def plain(
    db: TimedDatabase,
    count: int,
    rng: random.Random,
    *,
    check_blocks: bool,
    profile: bool,
    recipients: list[str] | None = None,
    dispatcher_for: Callable[[RemoteSlack], Dispatcher] | None = None,
) -> Plain:
    """One scenario A round: seed, then passes until one finds nothing due. `dispatcher_for` gives the
    dispatcher (a long-lived one for the warm round); `recipients` repeats a round's recipients."""
    recipients = recipients or recipients_for(count, None, rng)
    seed(db, recipients)
    slack = RemoteSlack(check_blocks=check_blocks).start()
    try:
        if dispatcher_for is not None:
            dispatcher = dispatcher_for(slack)
        else:
            dispatcher = make_dispatcher(settings=settings_for(slack), db=db, clock=FrozenClock(NOW))
        db.reset_timers()
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result, passes = PassResult(), 0
        while True:
            one = dispatcher.run_pass()
            passes += 1
            add(result, one)
            if one.claimed == 0:
                break
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - started
        report = ""
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(25)
            out.write("The same pass, top 15 by own time (where the waiting is):\n")
            stats.sort_stats("tottime").print_stats(15)
            report = out.getvalue()
        per_nudge, misrouted, other = delivered(slack, recipients)
        once, never, twice = exactly_once(per_nudge, count)
        return Plain(
            result=result,
            wall=wall,
            in_units=db.in_units,
            in_statements=db.in_statements,
            statements=db.statements,
            users_info=len(slack.attempts("users.info")),
            posts=len(slack.attempts("chat.postMessage")),
            once=once,
            never=never,
            twice=twice,
            misrouted=misrouted,
            other=other,
            statuses=statuses(db),
            profile=report,
            passes=passes,
            sent_messages=[dict(p) for p in slack.of("chat.postMessage")],
            recipients=recipients,
        )
    finally:
        slack.stop()


def floor(messages: list[dict[str, Any]], *, check_blocks: bool) -> tuple[int, float]:
    """The floor: the same WebClient refdesk makes, sending the same messages to the same kind of fake Slack,
    one after another, with no database. Returns (sent, seconds)."""
    from bot.slack_client import make_client

    slack = RemoteSlack(check_blocks=check_blocks).start()
    try:
        client = make_client(settings_for(slack), retries=False)
        started = time.perf_counter()
        for m in messages:
            client.chat_postMessage(channel=m["channel"], text=m.get("text"), blocks=m.get("blocks"))
        return len(messages), time.perf_counter() - started
    finally:
        slack.stop()


@dataclass
class Paced:
    total: PassResult = field(default_factory=PassResult)
    passes: int = 0
    empty_passes: int = 0
    longest_pass: float = 0.0
    wall: float = 0.0
    timed_out: bool = False
    users_info: int = 0
    posts: int = 0
    refused_channel: int = 0
    refused_burst: int = 0
    once: int = 0
    never: int = 0
    twice: int = 0
    misrouted: int = 0
    other: int = 0
    watchdog: bool = False
    min_gap_decided: float = 0.0
    under_1s_decided: int = 0
    min_gap_recorded: float = 0.0
    under_1s_recorded: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)


def paced(
    db: TimedDatabase,
    count: int,
    recipients: int,
    rng: random.Random,
    *,
    burst: int | None,
    limit: float,
    check_blocks: bool,
) -> Paced:
    ids = recipients_for(count, recipients, rng)
    seed(db, ids)
    slack = PacedSlack(burst=burst, check_blocks=check_blocks).start()
    out = Paced()
    try:
        clock = FrozenClock(NOW)
        dispatcher: Dispatcher = make_dispatcher(settings=settings_for(slack), db=db, clock=clock)

        def stop_the_pass() -> None:
            # The limit is checked between passes; a pass in flight is stopped the app's own way: its clock
            # passes half a lease, so it returns after the batch in hand.
            out.watchdog = True
            clock.advance(dispatcher.lease)

        watchdog = threading.Timer(limit, stop_the_pass)
        watchdog.daemon = True
        began = time.monotonic()
        watchdog.start()
        while True:
            elapsed = time.monotonic() - began
            if elapsed > limit:
                out.timed_out = True
                break
            clock.set(NOW + timedelta(seconds=elapsed))
            result = dispatcher.run_pass()
            out.passes += 1
            out.empty_passes += result.claimed == 0
            out.longest_pass = max(out.longest_pass, time.monotonic() - began - elapsed)
            add(out.total, result)
            if out.total.sent + out.total.failed + out.total.cancelled >= count:
                break
        watchdog.cancel()
        out.wall = time.monotonic() - began
        out.users_info = len(slack.attempts("users.info"))
        out.posts = len(slack.attempts("chat.postMessage"))
        out.refused_channel, out.refused_burst = slack.refused_channel, slack.refused_burst
        per_nudge, out.misrouted, out.other = delivered(slack, ids)
        out.once, out.never, out.twice = exactly_once(per_nudge, count)
        out.min_gap_decided, out.under_1s_decided = closest(iter(slack.accepted))
        recorded = ((str(c.params.get("channel")), c.at) for c in slack.attempts("chat.postMessage") if c.ok)
        out.min_gap_recorded, out.under_1s_recorded = closest(recorded)
        out.statuses, out.attempts = statuses(db), attempts(db)
        return out
    finally:
        slack.stop()


# --- reporting -----------------------------------------------------------------------------------------
def show_plain(p: Plain, count: int, dialect: str, name: str, floor_rate: float | None) -> str:
    r = p.result
    ok = p.once == count and not p.twice and not p.misrouted and not p.other and p.statuses == {"sent": count}
    rate = r.sent / p.wall
    versus = (
        f"; floor {floor_rate:,.0f} messages/s → refdesk at {rate / floor_rate:.0%} of the floor"
        if floor_rate
        else ""
    )
    return (
        f"\nScenario {name} — plain: run_pass() until nothing is due, {count:,} due thank-yous, one recipient "
        f"each  [{dialect}]\n"
        f"  pass result          {r}  ({p.passes} passes, the last one empty)\n"
        f"  messages sent        {r.sent:,}  (chat.postMessage calls {p.posts:,}, users.info calls {p.users_info:,})\n"
        f"  wall                 {p.wall:.2f} s  →  {rate:,.0f} messages/s, {p.wall / max(r.sent, 1) * 1000:.2f} ms each{versus}\n"
        f"  seconds_in_database  {r.seconds_in_database:.3f} s  ({r.seconds_in_database / p.wall:.1%} of wall)"
        "  ← PassResult's own figure, read off the machine's timer\n"
        f"  measured by bench    units of work {p.in_units:.2f} s ({p.in_units / p.wall:.1%} of wall); "
        f"SQL statements {p.statements:,} ({p.statements / max(r.sent, 1):.2f} a message) taking "
        f"{p.in_statements:.2f} s ({p.in_statements / p.wall:.1%})\n"
        f"  exactly once         {'yes' if ok else 'NO'}: once {p.once:,}, never {p.never:,}, more than once "
        f"{p.twice:,}, misrouted {p.misrouted:,}, other messages {p.other:,}; rows {p.statuses}"
    )


def show_paced(name: str, p: Paced, count: int, recipients: int, burst: int | None, dialect: str) -> str:
    t = p.total
    limits = "1 msg/s per channel" + (f" + {burst} msg/s workspace-wide burst" if burst else "")
    clean = not p.twice and not p.misrouted and not p.other
    if clean and p.once == count:
        verdict = "yes, every nudge"
    elif clean:
        verdict = f"no duplicates, but {p.never:,} not sent before the limit"
    else:
        verdict = "NO"
    paced_ok = p.under_1s_decided == 0
    return (
        f"\nScenario {name} — Slack's pacing ({limits}): {count:,} thank-yous over {recipients:,} recipients  [{dialect}]\n"
        f"  outcome              {'all sent' if t.sent >= count else 'NOT all sent'} in {p.wall:.1f} s"
        + (" (stopped at the time limit)" if p.timed_out else "")
        + (" — the watchdog moved the clock to end a pass in flight" if p.watchdog else "")
        + "\n"
        f"  passes               {p.passes:,} ({p.passes - p.empty_passes:,} claimed something, {p.empty_passes:,} empty); "
        f"longest {p.longest_pass:.2f} s\n"
        f"  totals               {t}\n"
        f"  sent / deferred      {t.sent:,} / {t.deferred:,}  →  {t.sent / p.wall:,.1f} messages/s overall\n"
        f"  Slack saw            chat.postMessage {p.posts:,} (refused 429: per channel {p.refused_channel:,}, "
        f"burst {p.refused_burst:,}); users.info {p.users_info:,}\n"
        f"  seconds_in_database  {t.seconds_in_database:.3f} s  ← PassResult's own figure, read off the injected clock"
        + (" (may include the watchdog's clock jump)" if p.watchdog else "")
        + "\n"
        f"  per-channel pacing   {'kept' if paced_ok else 'BROKEN'}: accepted messages to one recipient under 1 s apart "
        f"{p.under_1s_decided} (closest {p.min_gap_decided:.3f} s at the fake's decision; "
        f"{p.under_1s_recorded} / {p.min_gap_recorded:.3f} s by the recorded call times)\n"
        f"  exactly once         {verdict}: once {p.once:,}, never {p.never:,}, more than once "
        f"{p.twice:,}, misrouted {p.misrouted:,}, other messages {p.other:,}; rows {p.statuses}; "
        f"attempts {p.attempts}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--recipients", type=int, default=500, help="distinct recipients in scenario B")
    parser.add_argument("--burst", type=int, default=100, help="workspace-wide messages a second in B2")
    parser.add_argument("--limit-seconds", type=float, default=120.0, help="per scenario B variant")
    parser.add_argument("--check-blocks", action="store_true", help="keep the fake's Block Kit check")
    parser.add_argument("--profile", action="store_true", help="also profile one plain pass (cProfile)")
    parser.add_argument("--profile-nudges", type=int, default=2_000, help="nudges in the profiled pass")
    parser.add_argument("--only", choices=["A", "B1", "B2"], action="append", help="run only these")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    wanted = set(args.only or ["A", "B1", "B2"])
    rng = random.Random(args.seed)
    reports: list[str] = []

    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        dialect = db.engine.dialect.name
        where = db.engine.url.render_as_string(hide_password=True)
        print(f"refdesk dispatcher bench on {dialect} ({where})", flush=True)
        reports.append(
            f"\ndatabase {dialect} ({where}); {args.nudges:,} nudges, seed {args.seed}; Block Kit check "
            f"{'on' if args.check_blocks else 'off'}; {os.cpu_count()} CPUs, load average at start "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        try:
            if "A" in wanted:
                print(f"A: seeding {args.nudges:,} and passing until nothing is due (cold) …", flush=True)
                kept: dict[str, Dispatcher] = {}

                def long_lived(slack: RemoteSlack) -> Dispatcher:
                    # One dispatcher across both rounds, as in a running server; only its client's address
                    # follows the round's fake Slack.
                    if "d" not in kept:
                        kept["d"] = make_dispatcher(
                            settings=settings_for(slack), db=db, clock=FrozenClock(NOW)
                        )
                    kept["d"].client.base_url = slack.base_url
                    return kept["d"]

                cold = plain(
                    db,
                    args.nudges,
                    rng,
                    check_blocks=args.check_blocks,
                    profile=False,
                    dispatcher_for=long_lived,
                )
                print("A: the floor (same WebClient, same messages, no database) …", flush=True)
                sent, seconds = floor(cold.sent_messages, check_blocks=args.check_blocks)
                floor_rate = sent / seconds
                reports.append(
                    f"\nFloor — the same WebClient sending the cold round's {sent:,} messages to a fresh fake, no "
                    f"database: {seconds:.2f} s → {floor_rate:,.0f} messages/s"
                )
                print(reports[-1], flush=True)
                reports.append(show_plain(cold, args.nudges, dialect, "A cold", floor_rate))
                print(reports[-1], flush=True)
                reset(db)
                print("\nA: the same recipients again, the same dispatcher (warm) …", flush=True)
                warm = plain(
                    db,
                    args.nudges,
                    rng,
                    check_blocks=args.check_blocks,
                    profile=False,
                    recipients=cold.recipients,
                    dispatcher_for=long_lived,
                )
                reports.append(show_plain(warm, args.nudges, dialect, "A warm", floor_rate))
                print(reports[-1], flush=True)
            if args.profile:
                reset(db)
                print(f"\nprofiling one plain pass over {args.profile_nudges:,} …", flush=True)
                prof = plain(db, args.profile_nudges, rng, check_blocks=args.check_blocks, profile=True)
                print(
                    f"\nProfile of one plain pass ({prof.wall:.2f} s under cProfile, "
                    f"{prof.result.sent:,} sent), top 25 by cumulative time [{dialect}]\n{prof.profile}",
                    flush=True,
                )
            for name, burst in (("B1", None), ("B2", args.burst)):
                if name not in wanted:
                    continue
                reset(db)
                print(
                    f"\n{name}: seeding and passing until all are sent or {args.limit_seconds:.0f} s …",
                    flush=True,
                )
                b = paced(
                    db,
                    args.nudges,
                    args.recipients,
                    rng,
                    burst=burst,
                    limit=args.limit_seconds,
                    check_blocks=args.check_blocks,
                )
                reports.append(show_paced(name, b, args.nudges, args.recipients, burst, dialect))
                print(reports[-1], flush=True)
        finally:
            drop()

    reports.append(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n" + "=" * 100 + "\nSummary" + "".join(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
