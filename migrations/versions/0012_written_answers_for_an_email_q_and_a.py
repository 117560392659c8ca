"""written answers: an email Q&A is answered in writing, not scheduled

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # All nullable: a call has none of them; an email Q&A fills them when the advocate sends their answers.
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_answers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("answers_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("source_view_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("source_view_id")
        batch_op.drop_column("answers_at")
        batch_op.drop_column("written_answers")
