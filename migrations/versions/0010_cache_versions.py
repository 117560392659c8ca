"""cache_versions: a counter per cache, bumped in the transaction of the changes it depends on

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("cache_versions")
