"""advocate_usage: per-advocate usage kept with the events, backfilled from history

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 05:30:00

The backfill is this file's own copy of store.usage.counters_of as it stood when it landed (a landed migration
never changes, even when the code does); `refdesk doctor` compares with the code's definition afterwards.
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COUNTED = {"asked", "accepted", "scheduled", "held"}
OPEN = {"asked", "accepted", "scheduled"}
GIVEN = {"scheduled", "held"}
WRITTEN = {"quote", "case_study", "logo", "review"}


def _quarter(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _before(quarter: date) -> date:
    return date(quarter.year - 1, 10, 1) if quarter.month == 1 else date(quarter.year, quarter.month - 3, 1)


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _counters(advocate_id, rows):
    total = given = pending = 0
    last_asked = last_used = None
    asks = []
    for kind, status, asked_at, held_at in rows:
        asked_at, held_at = _aware(asked_at), _aware(held_at)
        spoken = kind is None or kind not in WRITTEN
        counted = spoken and status in COUNTED
        given += status in GIVEN
        pending += status in OPEN
        if spoken and asked_at is not None and (last_asked is None or asked_at > last_asked):
            last_asked = asked_at
        if counted:
            total += 1
            used = held_at or asked_at
            if used is not None and (last_used is None or used > last_used):
                last_used = used
            if asked_at is not None:
                asks.append(asked_at)
    quarter = _quarter(max(asks).date()) if asks else None
    quarters = [_quarter(at.date()) for at in asks]
    return dict(
        advocate_id=advocate_id, total=total, given=given, last_asked=last_asked, last_used=last_used,
        pending=pending, quarter=quarter, quarter_count=quarters.count(quarter) if quarter else 0,
        previous_count=quarters.count(_before(quarter)) if quarter else 0,
    )  # fmt: skip


def upgrade() -> None:
    usage = op.create_table(
        "advocate_usage",
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.Column("last_asked", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Date(), nullable=True),
        sa.Column("quarter_count", sa.Integer(), nullable=False),
        sa.Column("previous_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advocates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("advocate_id"),
    )
    connection = op.get_bind()
    result = connection.execute(
        sa.text("SELECT advocate_id, kind, status, asked_at, held_at FROM engagements ORDER BY advocate_id")
    )
    batch, current, rows = [], None, []
    for advocate_id, *values in result:
        if advocate_id != current:
            if current is not None:
                batch.append(_counters(current, rows))
            current, rows = advocate_id, []
        rows.append(values)
        if len(batch) >= 5_000:
            op.bulk_insert(usage, batch)
            batch = []
    if current is not None:
        batch.append(_counters(current, rows))
    if batch:
        op.bulk_insert(usage, batch)


def downgrade() -> None:
    op.drop_table("advocate_usage")
