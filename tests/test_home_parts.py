"""Home's figures rebuilt by part: each change bumps the counters of the tables it wrote, each part is rebuilt only
when a group it reads changed, and the period's references are read through their index with the one definition."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.reporting import dashboard, health, metrics
from bot.reporting.metrics import GIVEN, Period, given_in
from bot.rules.matching import Policy
from store import versions
from store.models import Advocate, Engagement, ReferenceRequest
from tests.support.factories import advocate_values, request_values

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
STATUSES = ["asked", "accepted", "scheduled", "held", "held", "passed", "expired", "cancelled"]


def seed(database: Any, rng: random.Random, engagements: int) -> None:
    """Live and imported history over three years: calls dated by call_at, imports by held_at, some both."""
    with database.unit_of_work() as session:
        for n in range(1, 9):
            session.add(Advocate(**advocate_values(id=n)))
        for n in range(1, 31):
            session.add(
                ReferenceRequest(**request_values(id=n, created_at=NOW - timedelta(days=rng.randint(0, 900))))
            )
        session.flush()
        for n in range(engagements):
            asked = NOW - timedelta(days=rng.randint(0, 1000), hours=rng.randint(0, 23))
            status = rng.choice(STATUSES)
            call = asked + timedelta(days=rng.randint(1, 20)) if rng.random() < 0.5 else None
            held = asked + timedelta(days=rng.randint(1, 20)) if rng.random() < 0.6 else None
            live = rng.random() < 0.3
            session.add(
                Engagement(
                    advocate_id=rng.randint(1, 8), request_id=n % 30 + 1 if live and n < 30 else None,
                    kind="call", status=status, prospect_company="P", prospect_key=f"p{n}", asked_at=asked,
                    call_at=call, held_at=held, created_at=asked, source="refdesk" if live else "import",
                    outcome=rng.choice([None, "won", "lost"]),
                )
            )  # fmt: skip


@pytest.mark.parametrize("number", range(3))
def test_given_in_is_a_given_status_that_happened_in_the_period(database, number):
    """given_in, read through ix_engagements_given's expression, selects exactly the engagements PROGRAM.md counts:
    scheduled or held, and the call (or the imported date) inside the period, both ends bounded."""
    rng = random.Random(number)
    seed(database, rng, engagements=300)
    with database.unit_of_work() as session:
        rows = session.execute(
            select(Engagement.id, Engagement.status, Engagement.call_at, Engagement.held_at)
        ).all()
        day = NOW.date()
        for period in [Period.quarter(day - timedelta(days=91 * k)) for k in range(12)] + [
            Period.last_12_months(day)
        ]:
            found = set(session.scalars(select(Engagement.id).where(given_in(period))))
            expected = {
                row.id
                for row in rows
                if row.status in {s.value for s in GIVEN} and period.contains(row.call_at or row.held_at)
            }
            assert found == expected, period


def test_each_change_bumps_the_groups_of_the_tables_it_wrote(database):
    with database.unit_of_work() as session:
        session.add(Advocate(**advocate_values(id=1)))
        session.add(ReferenceRequest(**request_values(id=1)))

    def bumped(change: Any) -> set[str]:
        with database.unit_of_work() as session:
            before = versions.versions_of(session)
        with database.unit_of_work() as session:
            change(session)
        with database.unit_of_work() as session:
            after = versions.versions_of(session)
        assert after[versions.PROGRAM] == before[versions.PROGRAM] + 1  # the program's, on every change
        return {group for group in versions.GROUPS if after[group] != before[group]}

    assert bumped(lambda s: s.execute(update(Advocate).values(sentiment=0.5))) == {"advocates"}
    assert bumped(lambda s: s.execute(update(ReferenceRequest).values(status="declined"))) == {"requests"}
    engagement = dict(
        advocate_id=1, kind="call", status="held", prospect_company="P", asked_at=NOW, created_at=NOW
    )
    # An engagement refreshes the advocate's kept usage in the same transaction: one group.
    assert bumped(lambda s: s.add(Engagement(**engagement))) == {"engagements"}


def test_a_change_bumps_all_its_counters_in_one_statement(database):
    """The program's counter and each group's are one upsert before the commit: each statement more was a round
    trip in every transaction a click waits on."""
    with database.unit_of_work() as session:
        session.add(Advocate(**advocate_values(id=1)))
        session.add(ReferenceRequest(**request_values(id=1)))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.unit_of_work() as session:
            before = versions.versions_of(session)
        statements.clear()
        with database.unit_of_work() as session:
            session.execute(update(Advocate).values(sentiment=0.5))
            session.execute(update(ReferenceRequest).values(status="declined"))
        with database.unit_of_work() as session:
            after = versions.versions_of(session)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    bumps = [s for s in statements if s.startswith("INSERT INTO cache_versions")]
    assert len(bumps) == 1, bumps
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {versions.PROGRAM, "advocates", "requests"}
    assert all(after[name] == before[name] + 1 for name in changed)


def test_a_change_rebuilds_only_the_parts_that_read_it(database, monkeypatch):
    """An advocate's sentiment re-reads the pool, not the quarter's activity or the reps; an approval re-reads the
    activity and the reps, not the pool's counts; what each open shows is what a fresh build shows."""
    rng = random.Random(5)
    seed(database, rng, engagements=200)
    built: list[str] = []
    for module, name in [
        (metrics, "activity_counts"),
        (metrics, "pool_counts"),
        (health, "pool_picks"),
        (health, "rolling_flags"),
        (health, "coverage_gaps"),
        (dashboard, "rep_stats"),
    ]:
        original = getattr(module, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            built.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    policy = Policy()

    def open_home() -> dashboard.CsDashboard:
        with database.unit_of_work() as session:
            return dashboard.cs_dashboard(session=session, now=NOW, policy=policy)

    def fresh() -> tuple[Any, ...]:
        with database.unit_of_work() as session:
            today = NOW.date()
            return (
                metrics.program_metrics(session=session, period=Period.quarter(today), today=today),
                health.pool_health(session=session, today=today, policy=policy, limit=dashboard.POOL_SHOWN),
            )

    open_home()
    built.clear()
    open_home()
    assert built == []  # nothing changed: nothing rebuilt

    with database.unit_of_work() as session:
        session.execute(update(Advocate).where(Advocate.id == 3).values(sentiment=0.1))
    shown = open_home()
    assert set(built) == {"pool_counts", "pool_picks", "coverage_gaps"}  # not the last year's engagements
    program, pool = fresh()
    assert (shown.program, plain(shown.pool)) == (program, plain(pool))
    assert any(row.advocate.id == 3 and "low sentiment" in " ".join(row.care) for row in shown.pool.care)

    with database.unit_of_work() as session:
        session.execute(
            update(ReferenceRequest)
            .where(ReferenceRequest.id == 2)
            .values(status="approved", decided_at=NOW - timedelta(hours=1))
        )
    built.clear()
    shown = open_home()
    assert set(built) == {"activity_counts", "rep_stats"}
    program, pool = fresh()
    assert (shown.program, plain(shown.pool)) == (program, plain(pool))

    with database.unit_of_work() as session:  # an engagement: its advocate's last year, and the activity
        session.execute(update(Engagement).where(Engagement.advocate_id == 4).values(status="passed"))
    built.clear()
    shown = open_home()
    assert set(built) == {"activity_counts", "rep_stats", "rolling_flags", "pool_picks"}
    program, pool = fresh()
    assert (shown.program, plain(shown.pool)) == (program, plain(pool))


def plain(pool: health.PoolHealth) -> tuple[Any, ...]:
    """The pool's health with each row's advocate as its id (rows hold ORM objects of their own session)."""

    def row(r: Any) -> tuple[Any, ...]:
        return (r.advocate.id, *(getattr(r, f.name) for f in fields(r) if f.name != "advocate"))

    counts = (pool.size, pool.can_be_asked, pool.fatigued, pool.at_cap, pool.needing_care)
    return counts, [row(r) for r in pool.care], [row(r) for r in pool.soonest]


def test_period_counts_are_the_activity_and_the_pool(database):
    seed(database, random.Random(9), engagements=150)
    today = date(2026, 11, 20)
    period = Period.quarter(today)
    with database.unit_of_work() as session:
        whole = metrics.period_counts(session=session, period=period, today=today)
        parts = metrics.Counts(
            **metrics.activity_counts(session=session, period=period),
            **metrics.pool_counts(session=session, period=period, today=today),
        )
    assert whole == parts
