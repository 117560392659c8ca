"""SQLite: an index of the shortlist's fit filters with the tag columns it matches

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 21:00:00

SQLite only (store.models: Index.ddl_if): PostgreSQL's json type has no btree operator class.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ["status", "industry", "employees", "role_level", "kinds", "use_cases"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_advocates_fit_tags", "advocates", COLUMNS, unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_advocates_fit_tags", table_name="advocates")
