"""SQLite writers queue in the process for their database file (store/db.py), and never hold the queue after."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store.db import _write_lock_for, make_engine


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}", pool_size=30, max_overflow=0)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT UNIQUE)"))
    yield engine
    engine.dispose()


def _lock(engine):
    return _write_lock_for(str(Path(engine.url.database).resolve()))


def test_concurrent_writers_all_commit_and_leave_the_queue_free(engine):
    def write(n: int) -> None:
        for k in range(5):
            with engine.begin() as connection:
                connection.execute(text("SELECT count(*) FROM t")).scalar()
                connection.execute(text("INSERT INTO t (who) VALUES (:who)"), {"who": f"{n}-{k}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 100
    assert not _lock(engine).locked()


def test_a_failed_write_lets_the_next_writer_go_at_once(engine):
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t (who) VALUES ('a')"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t (who) VALUES ('a')"))
    assert not _lock(engine).locked()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t (who) VALUES ('b')"))
    assert not _lock(engine).locked()


def test_readers_do_not_wait_for_a_writer(engine):
    read: list[int] = []
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t (who) VALUES ('writing')"))
        assert _lock(engine).locked()

        def reader() -> None:
            with engine.connect() as other:
                read.append(other.execute(text("SELECT count(*) FROM t")).scalar())

        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(timeout=10)
        # The reader finished while the write was still open, and saw the last committed state (WAL).
        assert read == [0]
    assert not _lock(engine).locked()
