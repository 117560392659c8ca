"""reference requests and their audit trail

Revision ID: 0001
Revises:
Create Date: 2026-11-22 10:45:26.088336
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_view_id", sa.String(length=40), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("rep_id", sa.String(length=32), nullable=False),
        sa.Column("prospect_company", sa.String(length=200), nullable=False),
        sa.Column("prospect_key", sa.String(length=200), nullable=False),
        sa.Column("prospect_industry", sa.String(length=40), nullable=False),
        sa.Column("prospect_employees", sa.Integer(), nullable=False),
        sa.Column("prospect_revenue", sa.BigInteger(), nullable=True),
        sa.Column("deal_arr", sa.BigInteger(), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=False),
        sa.Column("deal_stage", sa.String(length=40), nullable=False),
        sa.Column("contact_role", sa.String(length=200), nullable=False),
        sa.Column("contact_concerns", sa.Text(), nullable=False),
        sa.Column("wanted_industry", sa.String(length=40), nullable=False),
        sa.Column("wanted_size_band", sa.String(length=20), nullable=False),
        sa.Column("wanted_role_level", sa.String(length=20), nullable=False),
        sa.Column("wanted_use_case", sa.String(length=300), nullable=False),
        sa.Column("wanted_kind", sa.String(length=20), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("why_now", sa.Text(), nullable=False),
        sa.Column("tried", sa.JSON(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("background", sa.Text(), nullable=False),
        sa.Column("prior_references", sa.Integer(), nullable=False),
        sa.Column("card_channel", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=40), nullable=True),
        sa.Column("decline_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_view_id"),
    )
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reference_requests_prospect_key"), ["prospect_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reference_requests_rep_id"), ["rep_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reference_requests_status"), ["status"], unique=False)

    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_events_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_events_request_id"))

    op.drop_table("request_events")
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_requests_status"))
        batch_op.drop_index(batch_op.f("ix_reference_requests_rep_id"))
        batch_op.drop_index(batch_op.f("ix_reference_requests_prospect_key"))

    op.drop_table("reference_requests")
