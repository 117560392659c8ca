"""Home's pool health, counted in SQL from the kept usage, equals rows.pool_limits' definition over every advocate."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from bot.reporting.health import pool_health
from bot.reporting.rows import pool_limits
from bot.rules.matching import SENTIMENT_GOOD, Policy
from bot.rules.vocabulary import AdvocateStatus
from store.models import Advocate, Engagement
from store.pool import CANDIDATE_COLUMNS
from tests.support.factories import advocate_values

TODAY = date(2026, 11, 20)
NAMES = ["alice", "Bob", "bob", "Émile", "Zoë", "Ann Lee", "ann lee", "Ann-Marie", "Carl", "carl"]
STATUSES = [
    "asked",
    "accepted",
    "scheduled",
    "held",
    "held",
    "held",
    "passed",
    "passed",
    "expired",
    "cancelled",
]


def by_definition(*, session: Any, today: date, policy: Policy, limit: int) -> dict[str, Any]:
    """The pool's health as rows.pool_limits defines it, in Python over every advocate (Home before the SQL)."""
    pool = session.execute(select(*CANDIDATE_COLUMNS).where(Advocate.status != AdvocateStatus.RETIRED)).all()
    limits = pool_limits(session=session, advocates=pool, policy=policy, today=today, every=True)

    def askable(a: Any) -> bool:
        eligible = limits[a.id][0]
        return (
            eligible is not None
            and eligible <= today
            and (a.sentiment is None or a.sentiment >= SENTIMENT_GOOD)
        )

    care = sorted(
        (a for a in pool if limits[a.id][1]),
        key=lambda a: (not a.account_trouble, -len(limits[a.id][1]), a.sentiment or 1.0, a.id),
    )
    rest = sorted(
        (a for a in pool if not limits[a.id][1]), key=lambda a: (limits[a.id][0] or date.max, a.name, a.id)
    )
    shown_care = [a.id for a in care[:limit]]
    return {
        "size": len(pool),
        "can_be_asked": sum(1 for a in pool if askable(a)),
        "fatigued": sum(1 for a in pool if any(r.startswith("fatigue") for r in limits[a.id][1])),
        "at_cap": sum(1 for a in pool if limits[a.id][2]),
        "needing_care": len(care),
        "care": shown_care,
        "soonest": [a.id for a in rest[: max(0, limit - len(shown_care))]],
    }


def seed(database: Any, rng: random.Random, advocates: int, engagements: int) -> None:
    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    with database.unit_of_work() as session:
        session.execute(delete(Engagement))
        session.execute(delete(Advocate))
        for n in range(1, advocates + 1):
            status = rng.choice(["active"] * 6 + ["break", "break", "retired"])
            session.add(
                Advocate(
                    **advocate_values(
                        id=n,
                        name=rng.choice(NAMES),
                        tier=rng.choice(["strategic", "standard", "new", "unknown"]),
                        status=status,
                        break_until=(
                            rng.choice([None, TODAY - timedelta(days=3), TODAY, TODAY + timedelta(days=40)])
                            if status == "break"
                            else None
                        ),
                        account_trouble=rng.random() < 0.1,
                        sentiment=rng.choice([None, None, 0.0, 0.2, 0.39, 0.4, 0.8]),
                        created_at=now,
                        updated_at=now,
                    )
                )
            )
        session.flush()
        busy = list(range(1, advocates + 1))
        weights = [rng.random() ** 3 for _ in busy]  # a few advocates carry most of the asks
        for n in range(1, engagements + 1):
            # Mostly this quarter and the last, some older than the 360 days the limits look at.
            days = rng.choice([rng.randint(0, 50), rng.randint(0, 200), rng.randint(0, 500)])
            asked = now - timedelta(days=days, hours=rng.randint(0, 23))
            status = rng.choice(STATUSES)
            held = min(asked + timedelta(days=rng.randint(1, 14)), now) if status == "held" else None
            reply = rng.choice([None, 3_600, 20_000, 90_000, 200_000, 400_000])
            rated = held is not None and rng.random() < 0.4
            session.add(
                Engagement(
                    advocate_id=rng.choices(busy, weights)[0], request_id=None,
                    kind=rng.choice(["call", "call", "email", "quote", "case_study"]), status=status,
                    prospect_company="P", prospect_key=f"p{n % 7}", asked_at=asked, reply_seconds=reply,
                    held_at=held, created_at=asked, source="import",
                    feedback_rating=rng.choice(["great", "not_great"]) if rated else None,
                    feedback_at=held + timedelta(days=1) if rated else None,
                )
            )  # fmt: skip


@pytest.mark.parametrize("number", range(10))
def test_the_sql_counts_equal_the_python_definition(database, number):
    rng = random.Random(number)
    seed(database, rng, advocates=rng.choice([3, 12, 40]), engagements=rng.choice([0, 30, 250]))
    policy = rng.choice(
        [Policy(), Policy(fatigue_threshold=1), Policy(yearly_limit=2, min_days_between_asks=7)]
    )
    for today in (TODAY, TODAY + timedelta(days=45), TODAY + timedelta(days=200)):
        for limit in (3, 10, 100):
            with database.unit_of_work() as session:
                found = pool_health(session=session, today=today, policy=policy, limit=limit)
                expected = by_definition(session=session, today=today, policy=policy, limit=limit)
            assert {
                "size": found.size,
                "can_be_asked": found.can_be_asked,
                "fatigued": found.fatigued,
                "at_cap": found.at_cap,
                "needing_care": found.needing_care,
                "care": [row.advocate.id for row in found.care],
                "soonest": [row.advocate.id for row in found.soonest],
            } == expected, (number, today, limit)
