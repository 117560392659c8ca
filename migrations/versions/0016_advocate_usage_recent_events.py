"""advocate_usage.recent: the dated events the rolling windows count, kept with the other counters

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 06:30:00

The shortlist counted each candidate's rolling windows (90/180/360 days, the year) from their engagements in a
second statement; the events those windows read are now kept on the advocate's usage row, so the pool's one
statement brings them. The backfill is this file's own copy of store.usage's definition as it stood when it
landed (a landed migration never changes, even when the code does); `refdesk doctor` compares with the code's.
"""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COUNTED = {"asked", "accepted", "scheduled", "held"}
WRITTEN = {"quote", "case_study", "logo", "review"}
RECENT_DAYS = 730


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _recent(rows):
    dated = []
    for kind, status, asked_at, reply in rows:
        asked_at = _aware(asked_at)
        counted = (kind is None or kind not in WRITTEN) and status in COUNTED
        passed = status == "passed"
        if asked_at is not None and (counted or passed or reply is not None):
            dated.append((asked_at, counted, passed, reply))
    if not dated:
        return "[]"
    since = max(at for at, *_ in dated) - timedelta(days=RECENT_DAYS)
    events = [
        (int(at.timestamp() // 1), int(counted), int(passed), reply)
        for at, counted, passed, reply in dated
        if at >= since
    ]
    events.sort(key=lambda e: (*e[:3], -1 if e[3] is None else e[3]))
    return json.dumps([list(e) for e in events], separators=(",", ":"))


def upgrade() -> None:
    op.add_column("advocate_usage", sa.Column("recent", sa.Text(), server_default="[]", nullable=False))
    connection = op.get_bind()
    result = connection.execute(
        sa.text(
            "SELECT advocate_id, kind, status, asked_at, reply_seconds FROM engagements "
            "WHERE asked_at IS NOT NULL ORDER BY advocate_id"
        )
    )
    update = sa.text("UPDATE advocate_usage SET recent = :recent WHERE advocate_id = :advocate_id")
    batch, current, rows = [], None, []

    def flush():
        if batch:
            connection.execute(update, batch)
            batch.clear()

    for advocate_id, *values in result:
        if advocate_id != current:
            if current is not None:
                batch.append({"advocate_id": current, "recent": _recent(rows)})
            current, rows = advocate_id, []
        rows.append(values)
        if len(batch) >= 5_000:
            flush()
    if current is not None:
        batch.append({"advocate_id": current, "recent": _recent(rows)})
    flush()


def downgrade() -> None:
    with op.batch_alter_table("advocate_usage") as batch:
        batch.drop_column("recent")
