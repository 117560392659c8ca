"""An advocate's engagements by date, covering what the shortlist's rolling windows read

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 04:30:00

ix_engagements_recent replaces ix_engagements_advocate_asked (its first two columns): counts.recent_usage reads
each candidate's last year of engagements, and with the old index every one of them was a visit to the table
(about 3,300 per shortlist at 100k advocates and 1M references: ~30% of that statement's time).
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = [
    "advocate_id",
    "asked_at",
    "status",
    "kind",
    "held_at",
    "prospect_key",
    "request_id",
    "reply_seconds",
]


def upgrade() -> None:
    op.create_index("ix_engagements_recent", "engagements", COLUMNS, unique=False)
    op.drop_index("ix_engagements_advocate_asked", table_name="engagements")


def downgrade() -> None:
    op.create_index("ix_engagements_advocate_asked", "engagements", ["advocate_id", "asked_at"], unique=False)
    op.drop_index("ix_engagements_recent", table_name="engagements")
