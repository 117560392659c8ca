"""A send's mark on PostgreSQL, handed to the server without waiting for its answer.

The dispatcher marks each message sent before the next one goes (claims.Claim.mark_sent). On SQLite a mark is a
call into the same process; on PostgreSQL it is a round trip to another, and waiting for each answer put that
round trip between every two sends. Here the UPDATE is written to the connection's socket in full before the
next send starts, and its answer is read before the connection is used again (the next mark, or the batch's
end): the server executes and commits it while the next message is on its way to Slack.

What can go twice is unchanged when the process dies: a statement written to the socket reaches the server and
runs even if its sender is gone, so only the message in flight is sent again. A connection that breaks
while a mark is unanswered may leave that mark undone too: the two messages are sent again after their lease
(a duplicate, never a loss), as with a database server that crashes before its last marks reach the disk.

psycopg's documented low-level connection (`Connection.pgconn`) does the asking; nothing else uses the
connection while a mark is unanswered (it is the claim's own, for marks only).
"""

from __future__ import annotations

import select
from datetime import datetime

from psycopg import errors, pq
from sqlalchemy import Connection

from store.models import Nudge, NudgeStatus

# claims.MARK_SENT, as PostgreSQL's own placeholders ($n): one statement, its plan the server's to reuse.
SQL = (
    f"UPDATE {Nudge.__tablename__} SET status = '{NudgeStatus.SENT.value}', sent_at = $3, last_error = NULL "
    f"WHERE id = $1 AND claimed_by = $2 AND status = '{NudgeStatus.SENDING.value}'"
).encode()


def _pgconn(connection: Connection) -> pq.abc.PGconn:
    return connection.connection.driver_connection.pgconn  # type: ignore[union-attr]


def send(connection: Connection, *, nudge_id: int, token: str, sent_at: datetime) -> None:
    """The mark written to the server in full; its answer is left for `answer`. `sent_at` has a time zone."""
    pgconn = _pgconn(connection)
    pgconn.send_query_params(SQL, [str(nudge_id).encode(), token.encode(), sent_at.isoformat().encode()])
    while pgconn.flush():  # 1 while part of it is still to be written
        select.select([], [pgconn.socket], [])


def answer(connection: Connection) -> None:
    """Wait for the mark's answer; the server's error, if it failed, is raised."""
    pgconn = _pgconn(connection)
    pgconn.consume_input()
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    failed = None
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK and failed is None:
            failed = errors.error_from_result(result)
    if failed is not None:
        raise failed
