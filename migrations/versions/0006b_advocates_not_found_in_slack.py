"""advocates given by email alone and not found in Slack

Revision ID: 0006b
Revises: 0007
Create Date: 2026-11-23 03:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006b"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_not_found_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.drop_column("slack_not_found_at")
