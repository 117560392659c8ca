"""Engines, the unit of work, and migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class NotMigratedError(Exception):
    """The database schema is behind the code."""


POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")
CONNECT_TIMEOUT_SECONDS = 10


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` (the form PaaS providers hand out) mean PostgreSQL through psycopg 3."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme in POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


SQLITE_BUSY_SECONDS = 30
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "SAVEPOINT", "CREATE", "DROP", "ALTER")


class _QueuedWriter(sqlite3.Connection):
    """A SQLite connection whose writers queue in the process, not in SQLite's busy handler.

    SQLite lets one writer at a time and makes the others poll, sleeping 1, 2, 5 … up to 100 ms between tries:
    under a burst (50 form submissions, the courier marking what it sent) a waiter that keeps losing sleeps
    its way past Slack's 3-second limit while the lock sits free. Here a transaction takes the process's lock
    for its database file at its first write and lets it go at commit or rollback, so the next writer starts
    the moment the last one ends. Readers never wait (WAL). Other processes still meet SQLite's busy timeout,
    and a writer that waits longer than that goes on without the lock, as before."""

    write_lock: threading.Lock | None = None
    holding = False

    def take(self) -> None:
        if self.write_lock is not None and not self.holding:
            self.holding = self.write_lock.acquire(timeout=SQLITE_BUSY_SECONDS)

    def _let_go(self) -> None:
        if self.holding:
            self.holding = False
            self.write_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()


def _write_lock_for(url: str) -> threading.Lock:
    with _write_locks_guard:
        return _write_locks.setdefault(url, threading.Lock())


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the connection habits each backend needs."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False, "factory": _QueuedWriter}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        shared_file = ":memory:" not in url and url not in ("sqlite://", "sqlite:///")

        @event.listens_for(engine, "before_cursor_execute")
        def _queue_writers(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            dbapi_connection = connection.connection.dbapi_connection
            if isinstance(dbapi_connection, _QueuedWriter) and statement.lstrip()[:9].upper().startswith(
                _WRITES
            ):
                dbapi_connection.take()

        @event.listens_for(engine, "after_cursor_execute")
        def _autocommit_lets_go(connection: Any, *_args: Any) -> None:
            # A write outside a transaction (an AUTOCOMMIT connection) is over when it returns: no commit() follows
            # to release the lock, so release it here or every other writer waits out SQLITE_BUSY_SECONDS.
            dbapi_connection = connection.connection.dbapi_connection
            if isinstance(dbapi_connection, _QueuedWriter) and not dbapi_connection.in_transaction:
                dbapi_connection._let_go()

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            if shared_file and isinstance(dbapi_connection, _QueuedWriter):
                dbapi_connection.write_lock = _write_lock_for(str(Path(engine.url.database or url).resolve()))
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # 8 MB of page cache per connection (the default is 2 MB). The shortlist reads the pool and the kept
            # counters, not the history, so more buys it nothing; at 64 MB each pooled connection grew towards
            # it and `refdesk serve` reached 309 MB after 1,000 approvals at 100k advocates (197 MB at 8 MB).
            cursor.execute("PRAGMA cache_size=-8192")
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL's recommended durability: a commit no longer waits for fsync (SQLite's FULL default
                # made the dispatcher's one commit per message ~5 ms). A killed process loses nothing
                # committed; only a power cut or OS crash may roll back the last commits, never corrupt.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # An unreachable host fails in seconds with a message, instead of hanging on the operating system's timeout.
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


class Database:
    """One engine and its session factory; `unit_of_work()` commits or rolls back."""

    def __init__(self, engine: Engine) -> None:
        import store.versions  # noqa: F401  (every commit that changes the program bumps its version)

        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Called after a unit of work that wrote outbox effects commits (the courier's wake-up), with their kinds.
        self.on_effects: list[Callable[[frozenset[str]], None]] = []

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
        if written := session.info.pop("refdesk_effects", None):
            for wake in self.on_effects:
                wake(frozenset(written))

    def check_connection(self) -> None:
        """Connect and run one query; the driver's error, if any, is raised (`ping` is the quiet form)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def ping(self) -> bool:
        try:
            self.check_connection()
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
        return True

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self) -> None:
        command.upgrade(self.alembic_config(), "head")

    def ensure_migrated(self) -> None:
        """Raise NotMigratedError when the schema is not at the newest migration."""
        scripts = ScriptDirectory.from_config(self.alembic_config())
        head = scripts.get_current_head()
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        if current is None:
            raise NotMigratedError(
                f"the database has no refdesk tables yet (the code needs migration {head}): run `refdesk db upgrade`"
            )
        if current not in {script.revision for script in scripts.walk_revisions()}:
            raise NotMigratedError(
                f"the database is at migration {current}, newer than this refdesk knows (it needs {head}): "
                "install the refdesk release that migrated it"
            )
        raise NotMigratedError(
            f"the database is at migration {current}, the code needs {head}: run `refdesk db upgrade`"
        )
