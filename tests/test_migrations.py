"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store.db import NotMigratedError
from store.models import Base


def test_migrations_match_the_models(empty_database):
    empty_database.upgrade()
    with empty_database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    empty_database.ensure_migrated()


def test_an_unmigrated_database_is_refused_with_the_fix(empty_database):
    with pytest.raises(NotMigratedError, match="refdesk db upgrade"):
        empty_database.ensure_migrated()


def test_upgrading_twice_is_harmless(empty_database):
    empty_database.upgrade()
    empty_database.upgrade()
    empty_database.ensure_migrated()
