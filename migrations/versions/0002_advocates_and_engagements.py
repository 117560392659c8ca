"""advocates and engagements

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:03:09.562317
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advocates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("role_level", sa.String(length=20), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=40), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=True),
        sa.Column("country", sa.String(length=80), nullable=True),
        sa.Column("use_cases", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("owner_slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("break_until", sa.Date(), nullable=True),
        sa.Column("account_trouble", sa.Boolean(), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.create_index("ix_advocates_fit", ["status", "industry", "employees"], unique=False)

    op.create_table(
        "engagements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("prospect_company", sa.String(length=200), nullable=False),
        sa.Column("prospect_key", sa.String(length=200), nullable=False),
        sa.Column("prospect_industry", sa.String(length=40), nullable=True),
        sa.Column("deal_arr", sa.BigInteger(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_seconds", sa.Integer(), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("chosen_by", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["advocate_id"],
            ["advocates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "advocate_id", name="uq_engagements_request_advocate"),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index("ix_engagements_advocate_asked", ["advocate_id", "asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_prospect_key"), ["prospect_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_advocate_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("wanted_country", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("wanted_region", sa.String(length=80), nullable=True))
        batch_op.create_foreign_key("fk_requests_active_advocate", "advocates", ["active_advocate_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.drop_constraint("fk_requests_active_advocate", type_="foreignkey")
        batch_op.drop_column("wanted_region")
        batch_op.drop_column("wanted_country")
        batch_op.drop_column("active_advocate_id")

    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagements_request_id"))
        batch_op.drop_index(batch_op.f("ix_engagements_prospect_key"))
        batch_op.drop_index("ix_engagements_advocate_asked")

    op.drop_table("engagements")
    with op.batch_alter_table("advocates", schema=None) as batch_op:
        batch_op.drop_index("ix_advocates_fit")

    op.drop_table("advocates")
