"""The outbox the dispatcher benches fill and read: the fakes of Slack, a timed database, the seeded thank-yous,
and what Slack saw of them (bench/dispatch.py: scenario A and its floor; bench/pacing.py: scenario B)."""

from __future__ import annotations

import multiprocessing
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

from bench.program import scratch_schema
from bot.delivery.dispatcher import PassResult
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


def _serve_fake(connection: Any, check_blocks: bool, workspace: list[str]) -> None:
    """The child process of RemoteSlack: a QuietSlack, answering for its calls over a pipe."""
    slack = QuietSlack(check_blocks=check_blocks)
    slack.user_tz.update(dict.fromkeys(workspace, "UTC"))  # who users.list names (users.info answers anyone)
    slack.start()
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

    def __init__(self, *, check_blocks: bool = False, workspace: list[str] | None = None) -> None:
        self.check_blocks = check_blocks
        self.workspace = workspace or []  # the members users.list names, each in UTC
        self.base_url = ""
        self._calls: list[tuple[str, dict[str, Any], bool]] | None = None

    def start(self) -> RemoteSlack:
        context = multiprocessing.get_context("spawn")  # nothing of this process (engines, sockets) inherited
        self._pipe, child = context.Pipe()
        self._process = context.Process(
            target=_serve_fake, args=(child, self.check_blocks, self.workspace), daemon=True
        )
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
    scoped, drop_schema = scratch_schema(url)
    db = TimedDatabase(make_engine(scoped))
    Base.metadata.create_all(db.engine)

    def drop() -> None:
        db.engine.dispose()
        drop_schema()

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
def settings_for(slack: FakeSlack | RemoteSlack, *, senders: int = 1) -> Settings:
    return Settings(
        slack_api_url=slack.base_url,
        slack_bot_token="xoxb-bench",
        cs_channel_id=CS_CHANNEL,
        database_url="(bench)",
        dispatch_senders=senders,
    )


def add(total: PassResult, result: PassResult) -> None:
    for f in fields(PassResult):
        setattr(total, f.name, getattr(total, f.name) + getattr(result, f.name))
