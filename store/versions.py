"""Cross-replica cache invalidation: a version counter bumped in the transaction of the change.

Every unit of work that writes a table the program's figures are read from (anything but the outbox and the
webhook outbox) bumps `cache_versions['program']` just before it commits, in the same transaction: so a
replica that reads the counter (one primary-key read) and finds the number it built its cache at knows that
nothing the cache depends on has changed, on any replica. The bump is the transaction's last write, taken
just before the commit, so the counter's row lock is held only for the commit and can't be part of a deadlock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from store.models import CacheVersion

PROGRAM = "program"
# Written without changing any figure Home shows from its cache (the queue is read on each open).
IGNORED = frozenset({"nudges", "webhook_deliveries", "cache_versions"})
_CHANGED = "refdesk_program_changed"


def version(session: Session, name: str = PROGRAM) -> int:
    return session.scalar(select(CacheVersion.version).where(CacheVersion.name == name)) or 0


def bump(session: Session, name: str = PROGRAM) -> None:
    """+1, creating the row on first use (an upsert: two first bumps at once can't collide)."""
    table = CacheVersion.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(name=name, version=1)
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
    if (state.is_insert or state.is_update or state.is_delete) and _table_of(state.statement) not in IGNORED:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """Objects added, changed or deleted through the unit of work."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__tablename__", None)
        if table not in IGNORED:
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    session.flush()  # what is still pending marks the session too
    if session.info.pop(_CHANGED, False):
        bump(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
