"""outreach, scheduling and the nudge outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:14:37.584216
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index("ix_nudges_due", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_nudges_engagement_id"), ["engagement_id"], unique=False)

    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asked_via", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("ask_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("ask_ts", sa.String(length=32), nullable=True))
        # Existing engagements get an empty list; NOT NULL needs a default on a table with rows.
        batch_op.add_column(
            sa.Column("proposed_times", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("call_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("call_format", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("call_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ended_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("ended_reason")
        batch_op.drop_column("call_minutes")
        batch_op.drop_column("call_format")
        batch_op.drop_column("call_at")
        batch_op.drop_column("proposed_times")
        batch_op.drop_column("ask_ts")
        batch_op.drop_column("ask_channel")
        batch_op.drop_column("asked_via")

    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudges_engagement_id"))
        batch_op.drop_index("ix_nudges_due")

    op.drop_table("nudges")
