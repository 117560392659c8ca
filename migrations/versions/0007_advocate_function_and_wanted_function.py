"""the function an advocate leads and the one a request wants: role is seniority and function

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both nullable: an advocate or a request without one is graded on level alone, as before.
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("function", sa.String(length=20), nullable=True))

    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wanted_function", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.drop_column("wanted_function")

    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.drop_column("function")
