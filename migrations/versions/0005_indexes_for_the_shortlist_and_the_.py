"""indexes for the shortlist and the dashboard

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:00:03.561958
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_advocates_eligibility", ["status", "account_trouble", "break_until", "industry"], unique=False
        )

    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index("ix_engagements_asked", ["asked_at", "status", "advocate_id"], unique=False)
        batch_op.create_index("ix_engagements_checkin_at", ["checkin_at"], unique=False)
        batch_op.create_index("ix_engagements_feedback_at", ["feedback_at"], unique=False)
        batch_op.create_index("ix_engagements_status_call", ["status", "call_at"], unique=False)
        batch_op.create_index(
            "ix_engagements_usage",
            ["advocate_id", "status", "asked_at", "held_at", "prospect_key", "request_id", "reply_seconds"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index("ix_engagements_usage")
        batch_op.drop_index("ix_engagements_status_call")
        batch_op.drop_index("ix_engagements_feedback_at")
        batch_op.drop_index("ix_engagements_checkin_at")
        batch_op.drop_index("ix_engagements_asked")

    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.drop_index("ix_advocates_eligibility")
