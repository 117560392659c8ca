"""a covering index for usage aggregates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 11:51:25.803683
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_engagements_usage",
            ["advocate_id", "status", "asked_at", "held_at", "prospect_key", "request_id", "reply_seconds"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index("ix_engagements_usage")
