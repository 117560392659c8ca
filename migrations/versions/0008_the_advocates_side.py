"""the advocate's side: story, product areas, consent, the written yes, the welcome; contact name, meeting link

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-23 02:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows get empty values: NOT NULL needs a default on a table with rows.
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("product_areas", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("named_publicly", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("logo_use", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("private_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("agreed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("appreciated_level", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_name", sa.String(length=200), nullable=True))

    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_link", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("cs_join_asked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("cs_join_asked_at")
        batch_op.drop_column("meeting_link")

    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.drop_column("contact_name")

    with op.batch_alter_table("advocates", schema=None) as batch_op:
        for column in (
            "appreciated_level", "welcomed_at", "agreed_on", "private_only", "logo_use", "named_publicly",
            "product_areas", "story",
        ):  # fmt: skip
            batch_op.drop_column(column)
