"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from bot.reporting.metrics import Period, given_in
from store import usage
from store.db import NotMigratedError
from store.models import Advocate, Base, Engagement
from tests.support.factories import advocate_values

# Expression indexes: SQLite's reflection skips them (with a warning) and PostgreSQL's reflects them in its own
# normalised words, so autogenerate can't compare them; each is checked below by the plan of a query that names it.
EXPRESSION_INDEXES = {"ix_engagements_given"}


def _compared(dialect: str):
    """autogenerate's filter: no expression index, and no index the models create on another database only
    (Index.ddl_if, which autogenerate does not read)."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ != "index" or reflected:
            return not (type_ == "index" and name in EXPRESSION_INDEXES)
        only = getattr(obj, "_ddl_if", None)
        return name not in EXPRESSION_INDEXES and (only is None or only.dialect in (None, dialect))

    return include


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(empty_database):
    empty_database.upgrade()
    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _compared(connection.dialect.name)}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    empty_database.ensure_migrated()


@pytest.mark.parametrize("build", ["migrations", "models"])
def test_a_period_s_references_are_read_through_their_index(empty_database, build):
    """The migration's ix_engagements_given is the very expression given_in names (else no plan would use it)."""
    if build == "migrations":
        empty_database.upgrade()
    else:
        Base.metadata.create_all(empty_database.engine)
    period = Period.quarter(date(2026, 11, 23))
    statement = select(func.count()).select_from(Engagement).where(given_in(period))
    with empty_database.engine.connect() as connection:
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
        plan = " ".join(
            str(row) for row in connection.exec_driver_sql(f"EXPLAIN {_query_plan(connection)}{compiled}")
        )
    assert "ix_engagements_given" in plan


def _query_plan(connection) -> str:
    return "QUERY PLAN " if connection.dialect.name == "sqlite" else ""


def test_an_unmigrated_database_is_refused_with_the_fix(empty_database):
    with pytest.raises(NotMigratedError, match="refdesk db upgrade"):
        empty_database.ensure_migrated()


def test_upgrading_twice_is_harmless(empty_database):
    empty_database.upgrade()
    empty_database.upgrade()
    empty_database.ensure_migrated()


def test_the_kept_events_are_backfilled_as_the_code_keeps_them(empty_database):
    """0016 fills advocate_usage.recent from history by its own copy of the definition: `refdesk doctor`'s
    check (the code's definition) finds nothing to repair after it, for old and new, spoken and written,
    counted, passed and answered engagements."""
    empty_database.upgrade()
    rng = random.Random(16)
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    with empty_database.unit_of_work() as session:
        for n in (1, 2, 3, 4):
            session.add(Advocate(**advocate_values(id=n, created_at=now, updated_at=now)))
        session.flush()
        for _ in range(80):
            days = rng.choice([None, *range(0, 1200, 7)])
            session.add(
                Engagement(
                    advocate_id=rng.choice((1, 2, 3)),
                    kind=rng.choice(["call", "call", "email", "quote", "case_study"]),
                    status=rng.choice(["asked", "accepted", "scheduled", "held", "passed", "expired"]),
                    prospect_key="acme corp",
                    asked_at=None
                    if days is None
                    else now - timedelta(days=days, seconds=rng.randint(0, 86_399)),
                    reply_seconds=rng.choice([None, 600, 3_600, 90_000]),
                    created_at=now,
                )
            )
    with empty_database.engine.begin() as connection:
        kept = usage.stored(connection)
    assert sum(len(c.recent) for c in kept.values()) > 20  # the history reached the kept events
    command.downgrade(empty_database.alembic_config(), "0015")
    command.upgrade(empty_database.alembic_config(), "head")
    with empty_database.engine.begin() as connection:
        assert usage.check(connection) == []
        assert usage.stored(connection) == kept
