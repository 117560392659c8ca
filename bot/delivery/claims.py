"""A claim on due outbox rows: its lease, and how each row it holds ends (sent, released, cancelled, failed).

Every ending is a conditional update that applies only while this claim still holds the row: a row whose lease
ran out may have been reclaimed by another replica, and is theirs to send (store/leases.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, bindparam, text, update

from bot.clock import Clock
from bot.delivery import marks
from store import leases
from store.db import Database
from store.models import Nudge, NudgeStatus


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0  # outside the recipient's working hours, or Slack asked us to slow down
    retried: int = 0  # Slack or the network failed; tried again later
    failed: int = 0
    cancelled: int = 0  # no longer relevant (answered, rescheduled, cancelled)
    unawaited: int = 0  # marks handed to PostgreSQL unanswered (marks.py): no cursor sees them
    seconds_in_database: float = 0.0

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed}: sent {self.sent}, deferred {self.deferred}, retried {self.retried}, "
            f"failed {self.failed}, cancelled {self.cancelled}"
        )


# Marking a send done is the one statement every message costs: built once (its compiled form is cached).
MARK_SENT = (
    update(Nudge)
    .where(
        Nudge.id == bindparam("nudge_id"),
        Nudge.claimed_by == bindparam("token"),
        Nudge.status == NudgeStatus.SENDING,
    )
    .values(status=NudgeStatus.SENT, sent_at=bindparam("sent_at"), last_error=None)
)


# PostgreSQL: a mark commits without waiting for its WAL flush (SQLite's WAL NORMAL, store/db.py, is the same
# trade). A process that dies loses nothing it committed, so what can go twice is still only what was on its way
# (`mark_sent`); only a crash of the database server or its machine may lose the last marks (≤ 3 × the WAL
# writer's 200 ms delay), and their rows, still sending under their lease, are sent again once it runs out. A
# flush per message cost 1–6 ms on this shared 2-core machine: longer than the send itself.
MARKS_DONT_WAIT = text("SET synchronous_commit = off")
MARKS_DONE = text("RESET synchronous_commit")


@dataclass
class Claim:
    """The rows one claim took (`ids`, in order; `taken`, the rows themselves), under one token, and when its lease
    was last taken (machine timer and injected clock). `thanks_pending`: the engagements among its feedback questions whose thank-you
    is still due. `connection`: held while the batch is delivered, for marking sends (`disconnect()` at its end)."""

    db: Database
    clock: Clock
    lease: timedelta
    token: str
    ids: list[int]
    result: PassResult
    held_since: tuple[float, datetime]
    thanks_pending: set[int] = field(default_factory=set)
    connection: Connection | None = None
    # The rows as the claim's own statement returned them (read once: the batch needs no read of its own).
    taken: dict[int, Nudge] = field(default_factory=dict)
    # A mark sent on `connection` whose answer is still to be read (marks.py).
    _unanswered: bool = field(default=False, init=False, repr=False)

    @classmethod
    def take(
        cls,
        *,
        db: Database,
        clock: Clock,
        lease: timedelta,
        worker: str,
        batch: int,
        now: datetime,
        result: PassResult,
        where: ColumnElement[bool] | None = None,
    ) -> Claim:
        """Atomically take up to `batch` due rows (and rows whose claimer died); `ids` is empty when none."""
        token = leases.new_token(worker)
        claim = cls(db, clock, lease, token, [], result, (time.monotonic(), max(now, clock.now())))
        with claim.timed(), db.unit_of_work() as session:
            rows = leases.claim_due(
                session=session,
                model=Nudge,
                now=now,
                token=token,
                lease=lease,
                batch=batch,
                skip_locked=not db.is_sqlite,
                where=where,
            )
        claim.ids, claim.taken = [row.id for row in rows], {row.id: row for row in rows}
        return claim

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Counts the time spent inside into the pass's `seconds_in_database`."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.result.seconds_in_database += time.monotonic() - started

    def finish(self, nudge_id: int, *, connection: Connection | None = None, **values: object) -> bool:
        """Update a row only if this claim still holds it. True when it did. With `connection`, in the caller's
        transaction (what else the ending changes commits with it); else in one of its own."""
        statement = (
            update(Nudge)
            .where(Nudge.id == nudge_id, Nudge.claimed_by == self.token, Nudge.status == NudgeStatus.SENDING)
            .values(**values)
        )
        with self.timed():
            if connection is not None:
                return connection.execute(statement).rowcount == 1
            # A connection's own transaction, not a Session: one statement needs no unit of work around it.
            with self.db.engine.begin() as own:
                return own.execute(statement).rowcount == 1

    def _connect(self) -> Connection:
        """The batch's connection for marking sends, opened at its first: autocommit, and on PostgreSQL not
        waiting for the flush."""
        connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if not self.db.is_sqlite:
                connection.execute(MARKS_DONT_WAIT)
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        return connection

    def disconnect(self) -> None:
        """At the batch's end: the connection back to the pool as it came (the setting is the session's, and the
        pool keeps the session)."""
        if self.connection is None:
            return
        try:
            with self.timed():
                self._read_answer()
        finally:
            connection, self.connection = self.connection, None
            self._close(connection)

    def _close(self, connection: Connection) -> None:
        try:
            if not self.db.is_sqlite:
                connection.execute(MARKS_DONE)
        except Exception:  # noqa: BLE001 - a broken connection is thrown away instead of pooled
            connection.invalidate()
        finally:
            connection.close()

    def mark_sent(self, nudge_id: int, now: datetime) -> None:
        """The row is sent: one statement on the batch's autocommit connection (its own transaction: one round
        trip, not BEGIN, UPDATE and COMMIT), handed to the database before the next message goes, so a process
        that dies can send twice only the message in flight. On PostgreSQL its answer is read before the next
        mark (marks.py: the server commits it while the next message is sent). The update applies only while
        this claim holds the row: a row is never marked by a claim that no longer holds it."""
        with self.timed():
            connection = self.connection or self._connect()
            if self.db.is_sqlite:
                connection.execute(MARK_SENT, {"nudge_id": nudge_id, "token": self.token, "sent_at": now})
                return
            self._read_answer()
            marks.send(connection, nudge_id=nudge_id, token=self.token, sent_at=now)
            self._unanswered = True
            self.result.unawaited += 1

    def _read_answer(self) -> None:
        """The last mark's answer read (PostgreSQL), before the connection is used for anything else."""
        if self._unanswered and self.connection is not None:
            self._unanswered = False
            marks.answer(self.connection)

    def release(self, nudge_id: int, *, due_at: datetime, count_attempt: bool) -> None:
        """Back to the outbox, due again at `due_at` (a deferral doesn't count as an attempt)."""
        values: dict[str, object] = {
            "status": NudgeStatus.PENDING,
            "due_at": due_at,
            "claimed_by": None,
            "lease_until": None,
        }
        if not count_attempt:
            values["attempts"] = Nudge.attempts - 1
        self.finish(nudge_id, **values)

    def hold(self, ids: list[int], now: datetime) -> set[int]:
        """Renew the lease on the rows of `ids` this claim still holds; returns them (one statement)."""
        renewed_at = max(now, self.clock.now())
        with self.timed(), self.db.unit_of_work() as session:
            held = set(
                session.scalars(
                    update(Nudge)
                    .where(
                        Nudge.id.in_(ids), Nudge.claimed_by == self.token, Nudge.status == NudgeStatus.SENDING
                    )
                    .values(lease_until=renewed_at + self.lease)
                    .returning(Nudge.id)
                    .execution_options(synchronize_session=False)
                )
            )
        self.held_since = (time.monotonic(), renewed_at)
        return held

    def is_fresh(self) -> bool:
        """True while the lease was taken or renewed less than a quarter lease ago, by the machine's timer and by
        the injected clock alike: three quarters of it are left, so no other replica can have taken a row from
        us (a reclaim needs the lease to have run out)."""
        monotonic, at = self.held_since
        quarter = self.lease / 4
        return time.monotonic() - monotonic < quarter.total_seconds() and self.clock.now() - at < quarter
