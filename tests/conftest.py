"""Fixtures: a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL), a fake Slack, the app over HTTP."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from bot.app import create_app
from bot.clock import FrozenClock
from bot.delivery.scheduler import make_courier
from bot.demo.simulator.executor import TrackingExecutor
from bot.settings import Settings
from bot.web import RefdeskASGI
from store.db import Database, make_engine
from store.models import Base
from tests.support.cli import cli  # noqa: F401 - the `refdesk` command line in this process, as a fixture
from tests.support.fake_slack import FakeSlack
from tests.support.server import serve
from tests.support.signed import SlackSender

PG_URL = os.environ.get("TEST_DATABASE_URL")
SIGNING_SECRET = "testsigningsecret123"


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL (TEST_DATABASE_URL)' if PG_URL else 'SQLite (set TEST_DATABASE_URL for PostgreSQL)'}"


def fresh_database_url(tmp_path: Any) -> tuple[str, dict[str, Any], str | None]:
    """(url, engine kwargs, PostgreSQL schema to drop afterwards) for one test's own database."""
    if PG_URL:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with make_engine(PG_URL).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        # The schema rides in the URL, so a subprocess given the URL finds the same tables.
        separator = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{separator}options=-csearch_path%3D{schema}", {}, schema
    return f"sqlite:///{tmp_path / 'refdesk.db'}", {}, None


def drop_schema(schema: str | None) -> None:
    if schema and PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def empty_database(tmp_path: Any) -> Iterator[Database]:
    """A database with no tables: for migration tests."""
    url, kwargs, schema = fresh_database_url(tmp_path)
    db = Database(make_engine(url, **kwargs))
    yield db
    db.engine.dispose()
    drop_schema(schema)


@pytest.fixture
def database(empty_database: Database) -> Database:
    Base.metadata.create_all(empty_database.engine)
    return empty_database


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


class Switch:
    """One HTTP server for the session; each test points it at its own app."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self.target(scope, receive, send)


@pytest.fixture(scope="session")
def http_server() -> Iterator[tuple[Switch, int]]:
    switch = Switch()
    server, thread, port = serve(switch, lifespan="on")
    yield switch, port
    server.should_exit = True
    thread.join(timeout=5)


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


CS_CHANNEL = "C0CSTEAM"
CS_MEMBERS = ["U0CS1", "U0CS2", "U0CS3"]
LEAD = "U0LEAD"
REP = "U0REP"
OUTSIDER = "U0OUTSIDER"
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def make_settings(slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        cs_channel_id=CS_CHANNEL,
        cs_lead_user_ids=frozenset({LEAD}),
        database_url="(fixture)",
        slack_api_url=slack.base_url,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def harness(database: Database, slack: FakeSlack, http_server: tuple[Switch, int]) -> Iterator[Any]:
    from tests.support.harness import Harness

    switch, port = http_server
    slack.cs_members = [*CS_MEMBERS, "U0BOT"]
    clock = FrozenClock(START)
    executor = TrackingExecutor()
    courier = make_courier(settings=make_settings(slack), db=database, clock=clock)
    app = create_app(
        settings=make_settings(slack), db=database, clock=clock, listener_executor=executor, courier=courier
    )
    switch.target = RefdeskASGI(app, database, signing_secret=SIGNING_SECRET)
    assert slack.of("auth.test"), "the app checks its token at start-up"
    slack.clear()
    errors = ErrorLog()
    logging.getLogger("refdesk").addHandler(errors)
    sender = SlackSender(host="127.0.0.1", port=port, signing_secret=SIGNING_SECRET)
    h = Harness(
        slack=slack,
        db=database,
        clock=clock,
        sender=sender,
        executor=executor,
        errors=errors,
        courier=courier,
    )
    yield h
    h.settle()
    executor.shutdown()
    courier.stop()
    logging.getLogger("refdesk").removeHandler(errors)
    assert not slack.invalid_blocks, "Slack would refuse these blocks:\n" + "\n".join(slack.invalid_blocks)
    if not h.expect_errors:
        assert not errors.records, f"unexpected errors logged: {[r.getMessage() for r in errors.records]}"
