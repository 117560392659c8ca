"""feedback, check-ins, deal outcomes, nudge payloads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:30:07.591923
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON columns get an empty object on existing rows: NOT NULL needs a default on a table with rows.
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_rating", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("feedback", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checkin", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("checkin_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))

    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("final_arr", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.drop_column("outcome_by")
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("final_arr")
        batch_op.drop_column("outcome")

    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_column("payload")

    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("checkin_at")
        batch_op.drop_column("checkin")
        batch_op.drop_column("feedback_at")
        batch_op.drop_column("feedback")
        batch_op.drop_column("feedback_rating")
