"""indexes for a period's figures: Home's program figures read the period, not the whole history

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 18:30:00

ix_engagements_given is an expression index, which SQLite's reflection skips: a later migration that rebuilds the
engagements table on SQLite (batch_alter_table in "move and copy" mode) must create it again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reference_requests_created_at", "reference_requests", ["created_at"], unique=False)
    op.create_index("ix_reference_requests_decided_at", "reference_requests", ["decided_at"], unique=False)
    op.create_index("ix_reference_requests_outcome_at", "reference_requests", ["outcome_at"], unique=False)
    op.drop_index("ix_engagements_asked", table_name="engagements")
    op.create_index(
        "ix_engagements_asked", "engagements", ["asked_at", "status", "advocate_id", "source"], unique=False
    )
    # store.models.given_at as it stood when this landed: when a reference was given, NULL for an engagement
    # that is not one.
    op.create_index(
        "ix_engagements_given",
        "engagements",
        [
            sa.text("(CASE WHEN status IN ('scheduled', 'held') THEN coalesce(call_at, held_at) END)"),
            sa.text("advocate_id"),
            sa.text("request_id"),
            sa.text("outcome"),
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_engagements_given", table_name="engagements")
    op.drop_index("ix_engagements_asked", table_name="engagements")
    op.create_index(
        "ix_engagements_asked", "engagements", ["asked_at", "status", "advocate_id"], unique=False
    )
    op.drop_index("ix_reference_requests_outcome_at", table_name="reference_requests")
    op.drop_index("ix_reference_requests_decided_at", table_name="reference_requests")
    op.drop_index("ix_reference_requests_created_at", table_name="reference_requests")
