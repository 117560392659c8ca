"""Cross-replica cache invalidation: a version counter bumped in the transaction of the change.

Every unit of work that writes a table the program's figures are read from (anything but the outbox and the
webhook outbox) bumps `cache_versions['program']` just before it commits, in the same transaction: so a
replica that reads the counter (one primary-key read) and finds the number it built its cache at knows that
nothing the cache depends on has changed, on any replica. The bump is the transaction's last write, taken
just before the commit, so the counter's row lock is held only for the commit and can't be part of a deadlock.

The counter is spread over SLOTS rows (`program:0` … `program:31`, one per thread by its native id) and read as
their sum: with one row, every writing transaction of every replica queued on that row's lock through its
commit, and 50 form submissions at once waited for each other's commits one by one (bench/crowd.py). The sum
only grows, so a reader that sees it unchanged knows nothing changed.

Beside it, one counter per group of tables (GROUPS), bumped in the same way when the transaction wrote one of the
group's tables: Home rebuilds only the parts that read a group that changed (an advocate's sentiment does not
recount the quarter's references; an approval does not re-read the pool). A write whose table is not known (a
textual statement) bumps every group.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from store.models import CacheVersion

PROGRAM = "program"
# Written without changing any figure Home shows from its cache (the queue is read on each open).
IGNORED = frozenset({"nudges", "webhook_deliveries", "cache_versions"})
_CHANGED = "refdesk_program_changed"
# Tables by what reads them: "requests" (a period's activity, the reps), "engagements" (that too, and the pool's
# usage), "advocates" (the pool). Each group's counter is named f"{PROGRAM}.{group}".
GROUPS: dict[str, frozenset[str]] = {
    "requests": frozenset({"reference_requests"}),
    "engagements": frozenset({"engagements", "advocate_usage"}),
    "advocates": frozenset({"advocates"}),
}
_UNKNOWN = "?"


SLOTS = 32


def version(session: Session, name: str = PROGRAM) -> int:
    """The counter: the sum of its slots (and of the single row earlier versions kept under the bare name)."""
    counted = or_(CacheVersion.name == name, CacheVersion.name.like(f"{name}:%"))
    return session.scalar(select(func.coalesce(func.sum(CacheVersion.version), 0)).where(counted)) or 0


def versions_of(session: Session) -> dict[str, int]:
    """The program's counter and each group's (GROUPS), in one read: {"program": n, "requests": n, ...}."""
    found = dict.fromkeys((PROGRAM, *GROUPS), 0)
    rows = session.execute(
        select(CacheVersion.name, CacheVersion.version).where(
            or_(CacheVersion.name == PROGRAM, CacheVersion.name.like(f"{PROGRAM}%:%"))
        )
    )
    for name, number in rows:
        base = name.partition(":")[0]
        group = PROGRAM if base == PROGRAM else base.removeprefix(f"{PROGRAM}.")
        if group in found:
            found[group] += number
    return found


def bump(session: Session, *names: str) -> None:
    """+1 on this thread's slot of each counter (PROGRAM when none is named), creating it on first use (an upsert:
    two first bumps at once can't collide), all in one statement: a decision bumps the program's counter and a
    group's, and each statement is ~0.3 ms of the transaction a click waits on."""
    table = CacheVersion.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    slot = threading.get_native_id() % SLOTS
    # Sorted: two transactions bumping the same counters lock their rows in the same order.
    rows = [{"name": f"{name}:{slot}", "version": 1} for name in sorted(set(names or (PROGRAM,)))]
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.name], set_={"version": table.c.version + 1}
    )
    session.execute(statement)


def _table_of(statement: Any) -> str | None:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    """Statements run through the session: insert/update/delete of a watched table."""
    if state.is_insert or state.is_update or state.is_delete:
        table = _table_of(state.statement)
        if table not in IGNORED:
            _mark(state.session, table or _UNKNOWN)


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """Objects added, changed or deleted through the unit of work."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__tablename__", None)
        if table not in IGNORED:
            _mark(session, table or _UNKNOWN)


def changed_in(session: Session, group: str) -> bool:
    """Whether the session wrote one of the group's tables (GROUPS), or a table not known, and has not committed
    it yet (what it flushed or executed: flush first to count what is only added)."""
    return _touches(session.info.get(_CHANGED) or set(), group)


def _touches(tables: set[str], group: str) -> bool:
    """Whether writes to `tables` change what the group's counter stands for (a table not known changes all)."""
    return _UNKNOWN in tables or bool(tables & GROUPS[group])


def _mark(session: Session, table: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(table)


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    session.flush()  # what is still pending marks the session too
    tables = session.info.pop(_CHANGED, None)
    if tables:
        bump(session, PROGRAM, *(f"{PROGRAM}.{group}" for group in GROUPS if _touches(tables, group)))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
