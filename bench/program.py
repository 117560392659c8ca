"""The synthetic program the performance benches run against: a pool, years of references, pending requests.

Fixed seeds, realistic skew (a few industries and use cases dominate), bulk-inserted around the ORM and then the
usage counters rebuilt as `refdesk doctor --repair` would. Used by bench.shortlist, bench.home, bench.plans and
bench.year; a fresh SQLite file or a PostgreSQL schema of its own (`open_database`).
"""

from __future__ import annotations

import argparse
import math
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from bot.flows.workflow import prospect_key
from bot.rules.vocabulary import AdvocateKind, AdvocateStatus, Industry, RoleLevel, SizeBand, Tier, Urgency
from store import usage
from store.db import Database, make_engine
from store.models import Advocate, Base, Engagement, ReferenceRequest, RequestStatus

NOW = datetime.now(UTC).replace(
    second=0, microsecond=0
)  # `refdesk serve` reads the real clock; history: 3 years
CS_CHANNEL, CS_MEMBER, LEAD, REP = "C0CSTEAM", "U0CS1", "U0LEAD", "U0REP"
CHUNK = 5_000
PROSPECTS = 5_000

USE_CASES = [
    "cloud migration", "legacy modernization", "job scheduling", "workflow automation", "data pipelines",
    "batch jobs", "security compliance", "audit readiness", "analytics dashboards", "data warehouse",
    "api integration", "etl", "cost savings", "license consolidation", "user onboarding",
    "training rollout", "scalability", "reliability and uptime", "disaster recovery", "self-service reporting",
]  # fmt: skip
TITLES = {"ic": "Senior Engineer", "manager": "Engineering Manager", "director": "Director of IT",
          "vp": "VP Engineering", "c_level": "CTO"}  # fmt: skip
FIRST = ["Dana", "Ravi", "Lena", "Tom", "Mia", "Jonas", "Priya", "Sam", "Aiko", "Omar", "Elena", "Kwame"]
LAST = ["Whitfield", "Menon", "Vogel", "Okafor", "Chen", "Berg", "Shah", "Novak", "Silva", "Tanaka"]
WORDS = ["North", "Blue", "Fabri", "Tail", "Conto", "Glo", "Ini", "Hoo", "Umbr", "Wayne", "Stark", "Acme"]
ENDS = ["wind", "spin", "kam", "so", "bex", "tech", "li", "ella", "works", "labs", "corp", "systems"]
COUNTRIES = [("California", "US"), ("Bavaria", "DE"), ("Karnataka", "IN"), ("Ontario", "CA"), (None, None)]


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    return round(10 ** rng.uniform(math.log10(low), math.log10(high)))


def company(rng: random.Random, n: int) -> str:
    return f"{rng.choice(WORDS)}{rng.choice(ENDS)} {n}"


def advocate_rows(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    others = [k.value for k in AdvocateKind if k is not AdvocateKind.CALL]
    for i in range(count):
        level = rng.choice(list(RoleLevel)).value
        status = rng.choices(list(AdvocateStatus), weights=(90, 7, 3))[0].value
        calls = rng.random() < 0.85
        region, country = rng.choice(COUNTRIES)
        yield dict(
            email=f"advocate{i}@customer.example", name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            title=TITLES[level], role_level=level, company=company(rng, i // 3),
            industry=rng.choice(list(Industry)).value, employees=log_uniform(rng, 10, 100_000),
            region=region, country=country, use_cases=rng.sample(USE_CASES, rng.randint(1, 3)),
            kinds=(["call"] if calls else []) + rng.sample(others, rng.randint(0 if calls else 1, 3)),
            tier=rng.choices(list(Tier), weights=(10, 70, 20))[0].value, slack_user_id=f"U{i:08d}",
            owner_slack_user_id=CS_MEMBER, status=status, account_trouble=rng.random() < 0.03,
            break_until=NOW.date() + timedelta(days=rng.randint(-60, 120)) if status == "break" else None,
            sentiment=None if rng.random() < 0.3 else round(rng.random(), 2), notes="",
            joined_on=NOW.date() - timedelta(days=rng.randint(30, 2000)), created_at=NOW, updated_at=NOW,
        )  # fmt: skip


def engagement_rows(
    rng: random.Random, advocate_ids: list[int], count: int, prospects: list[tuple[str, str]]
) -> Iterator[dict[str, Any]]:
    industries = [i.value for i in Industry]
    weights = [rng.lognormvariate(0, 0.8) for _ in advocate_ids]  # some advocates are asked far more
    for advocate_id in rng.choices(advocate_ids, weights=weights, k=count):
        asked = NOW - timedelta(seconds=rng.uniform(0, 3 * 365 * 86_400))
        status = rng.choices(["held", "passed", "expired"], weights=(80, 12, 8))[0]
        reply = None if status == "expired" else min(round(rng.lognormvariate(10.5, 1.0)), 30 * 86_400)
        held = min(asked + timedelta(days=rng.randint(2, 21)), NOW) if status == "held" else None
        prospect, key = rng.choice(prospects)
        yield dict(
            advocate_id=advocate_id, request_id=None, kind=rng.choices(["call", "email"], (85, 15))[0],
            status=status, prospect_company=prospect, prospect_key=key,
            prospect_industry=rng.choice(industries), deal_arr=rng.randrange(20_000, 800_000, 1_000),
            asked_at=asked, answered_at=asked + timedelta(seconds=reply) if reply else None,
            reply_seconds=reply, held_at=held, outcome=rng.choice(["won", "lost", None]) if held else None,
            chosen_by=None, source="import", created_at=asked,
        )  # fmt: skip


def size_band(employees: int) -> str:
    bands = ((50, SizeBand.XS), (200, SizeBand.S), (1000, SizeBand.M), (5000, SizeBand.L))
    return next((band.value for limit, band in bands if employees <= limit), SizeBand.XL.value)


def request_rows(
    rng: random.Random, count: int, prospects: list[tuple[str, str]]
) -> Iterator[dict[str, Any]]:
    for i in range(count):
        (prospect, key), industry = rng.choice(prospects), rng.choice(list(Industry)).value
        size = log_uniform(rng, 10, 100_000)
        yield dict(
            status=RequestStatus.PENDING.value, created_at=NOW - timedelta(hours=1), updated_at=NOW,
            source_view_id=f"VBENCH{i:07d}", requester_id=REP, rep_id=REP, prospect_company=prospect,
            prospect_key=key, prospect_industry=industry, prospect_employees=size,
            prospect_revenue=None, deal_arr=rng.randrange(60_000, 600_000, 1_000),
            close_date=NOW.date() + timedelta(days=rng.randint(14, 120)),
            deal_stage=rng.choice(["evaluation", "proposal", "negotiation"]), contact_role="VP of Engineering",
            contact_concerns="How long did the rollout take?", wanted_industry=industry,
            wanted_size_band=size_band(size), wanted_role_level=rng.choice(list(RoleLevel)).value,
            wanted_use_case=rng.choice(USE_CASES), wanted_kind=rng.choices(["call", "email"], (85, 15))[0],
            urgency=rng.choice(list(Urgency)).value, why_now="Decision meeting in two weeks.",
            tried=["demo", "trial"], goal="Confidence from a peer.", background="", prior_references=0,
            card_channel=CS_CHANNEL, card_ts=f"1690000000.{i:06d}",
        )  # fmt: skip


def open_database(url: str | None, workdir: Path) -> tuple[Database, Callable[[], None]]:
    """A migrated database with a fresh schema (its URL names it, so a server process finds it), and its drop."""
    url = url or f"sqlite:///{workdir / 'bench.db'}"
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # a file given twice starts clean
        db = Database(make_engine(url))
        db.upgrade()
        return db, db.engine.dispose
    scoped, drop_schema = scratch_schema(url)
    db = Database(make_engine(scoped))
    db.upgrade()

    def drop() -> None:
        db.engine.dispose()
        drop_schema()

    return db, drop


def scratch_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh PostgreSQL schema for one run: a URL whose search_path names it (so a server process started
    with that URL finds it too), and how to drop it."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    parsed = make_url(url)
    options = " ".join(filter(None, [str(parsed.query.get("options") or ""), f"-csearch_path={schema}"]))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False), drop


def insert_all(db: Database, model: type[Base], rows: Iterator[dict[str, Any]]) -> None:
    """Chunked executemany on the table: the ORM's bulk insert adds per-row work (14 s vs 9 s on SQLite)."""
    table, batch = model.__table__, []
    with db.unit_of_work() as session:
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                session.execute(insert(table), batch)
                batch = []
        if batch:
            session.execute(insert(table), batch)


def generate(db: Database, args: argparse.Namespace) -> list[tuple[int, str]]:
    """The pool, its history and runs + 1 pending requests (the first is the warm-up): [(id, card_ts)]."""
    rng = random.Random(args.seed)
    prospects = [(name, prospect_key(name)) for name in (company(rng, n) for n in range(PROSPECTS))]
    insert_all(db, Advocate, advocate_rows(rng, args.advocates))
    with db.unit_of_work() as session:
        advocate_ids = list(session.scalars(select(Advocate.id).order_by(Advocate.id)))
    insert_all(db, Engagement, engagement_rows(rng, advocate_ids, args.references, prospects))
    insert_all(db, ReferenceRequest, request_rows(rng, args.runs + 1, prospects))
    with (
        db.unit_of_work() as session
    ):  # the bulk load went around the hooks: the counters, as `doctor --repair`
        usage.rebuild(session.connection())
    if not db.is_sqlite:  # a live PostgreSQL has statistics (autovacuum); a fresh bulk load has none yet
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    with db.unit_of_work() as session:
        statement = select(ReferenceRequest.id, ReferenceRequest.card_ts).order_by(ReferenceRequest.id)
        return [(row.id, row.card_ts) for row in session.execute(statement)]
