"""How long CS waits for a shortlist: approve a request in a large pool, time until the thread reply lands.

    python -m bench.shortlist [--database-url URL] [--advocates 10000] [--references 100000] [--runs 200] [--seed 7]

The real app runs behind uvicorn against a fake Slack on 127.0.0.1. Each run sends a signed Approve click and
measures from the click to the fake receiving the chat.postMessage in that card's thread. Without
--database-url it uses a fresh SQLite file; a PostgreSQL URL gets its own bench_<random> schema, dropped at the
end. A measurement, not a test: it exits 0 whether or not the target is met.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import insert, select, text

from bot.app import create_app
from bot.clock import FrozenClock
from bot.settings import Settings
from bot.vocabulary import AdvocateKind, AdvocateStatus, Industry, RoleLevel, SizeBand, Tier, Urgency
from bot.web import RefdeskASGI
from bot.workflow import prospect_key
from modals.ids import Action
from store import queries
from store.db import Database, make_engine
from store.models import Advocate, Base, Engagement, ReferenceRequest, RequestStatus
from tests.support import payloads
from tests.support.fake_slack import FakeSlack
from tests.support.signed import SlackSender

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the app's frozen clock; history lies in the 3 years before
CS_CHANNEL, CS_MEMBER, LEAD, REP = "C0CSTEAM", "U0CS1", "U0LEAD", "U0REP"
SIGNING_SECRET = "benchsigningsecret"
TARGET_P95_MS = 100.0
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


class QuickSlack(FakeSlack):
    """The fake without its Block Kit check: that check (JSON Schema, ~30-100 ms a message) is the test suite's
    business, and timing it would bury the app's own latency. The tests keep the blocks valid."""

    def _check_blocks(self, method: str, params: dict[str, Any]) -> None:
        return None


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
    """A database with a fresh schema, and how to get rid of it."""
    url = url or f"sqlite:///{workdir / 'bench.db'}"
    if url.startswith("sqlite"):
        db = Database(make_engine(url))
        Base.metadata.drop_all(db.engine)  # a file given twice starts clean
        Base.metadata.create_all(db.engine)
        return db, db.engine.dispose
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(make_engine(url, connect_args={"options": f"-csearch_path={schema}"}))
    Base.metadata.create_all(db.engine)

    def drop() -> None:
        db.engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return db, drop


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
    if not db.is_sqlite:  # a live PostgreSQL has statistics (autovacuum); a fresh bulk load has none yet
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    with db.unit_of_work() as session:
        statement = select(ReferenceRequest.id, ReferenceRequest.card_ts).order_by(ReferenceRequest.id)
        return [(row.id, row.card_ts) for row in session.execute(statement)]


def serve(asgi: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, sock.getsockname()[1]


def approve(slack: FakeSlack, sender: SlackSender, request_id: int, card_ts: str) -> float:
    """Click Approve; milliseconds until the shortlist reached Slack."""
    body = payloads.block_action(
        action_id=Action.APPROVE, value=str(request_id), user_id=CS_MEMBER, channel_id=CS_CHANNEL,
        response_url=slack.response_url("bench"), message_ts=card_ts,
    )  # fmt: skip
    slack.clear()
    started = time.monotonic()
    reply = sender.interactive(body)
    if reply.status != 200:
        raise RuntimeError(f"the click on #{request_id} got HTTP {reply.status}: {reply.body}")
    while True:
        for call in slack.attempts("chat.postMessage"):
            if call.params.get("thread_ts") == card_ts:
                return (call.at - started) * 1000
        if time.monotonic() - started > 30:
            raise RuntimeError(f"no shortlist for #{request_id} after 30 s; Slack saw {slack.methods()}")
        time.sleep(0.001)


@contextmanager
def counting_candidates() -> Iterator[list[int]]:
    """How many advocates each first page weighs: the rows store.queries.shortlistable returns."""
    seen: list[int] = []
    query = queries.shortlistable

    def counted(**kwargs: Any) -> list[Any]:
        found = query(**kwargs)
        seen.append(len(found))
        return found

    queries.shortlistable = counted
    try:
        yield seen
    finally:
        queries.shortlistable = query


def percentile(ordered: list[float], p: float) -> float:
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shortlist", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--advocates", type=int, default=10_000)
    parser.add_argument("--references", type=int, default=100_000, help="past engagements")
    parser.add_argument("--runs", type=int, default=200, help="approvals timed")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        slack = QuickSlack().start()
        executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="listener")
        server: uvicorn.Server | None = None
        try:
            print(f"generating on {db.engine.dialect.name} …", flush=True)
            began = time.monotonic()
            requests = generate(db, args)
            generated = time.monotonic() - began
            settings = Settings(
                slack_bot_token="xoxb-bench", slack_signing_secret=SIGNING_SECRET, cs_channel_id=CS_CHANNEL,
                cs_lead_user_ids=frozenset({LEAD}), database_url="(bench)", slack_api_url=slack.base_url,
            )  # fmt: skip
            slack.cs_members = [CS_MEMBER, "U0CS2", "U0BOT"]
            app = create_app(settings=settings, db=db, clock=FrozenClock(NOW), listener_executor=executor)
            server, thread, port = serve(RefdeskASGI(app, db, signing_secret=SIGNING_SECRET))
            sender = SlackSender(host="127.0.0.1", port=port, signing_secret=SIGNING_SECRET)
            approve(slack, sender, *requests[0])  # warm-up: CS member cache, connections, compiled SQL
            with counting_candidates() as candidates:
                timings = [approve(slack, sender, *request) for request in requests[1:]]
        finally:
            if server is not None:
                server.should_exit = True
                thread.join(timeout=5)
            executor.shutdown(wait=True)
            slack.stop()
            drop()

    report(db, args, generated, timings, candidates)
    return 0


def report(
    db: Database, args: argparse.Namespace, generated: float, timings: list[float], candidates: list[int]
) -> None:
    ordered = sorted(timings)
    p50, p95, p99 = (percentile(ordered, p) for p in (50, 95, 99))
    lines = [
        "",
        "refdesk shortlist latency: Approve click → shortlist posted in the card's thread",
        f"  database    {db.engine.dialect.name} ({db.engine.url.render_as_string(hide_password=True)})",
        f"  advocates   {args.advocates:,}",
        f"  references  {args.references:,} engagements over 3 years",
        f"  runs        {len(ordered)} approvals (+1 warm-up), seed {args.seed}",
        f"  generation  {generated:.1f} s",
        f"  candidates  median {statistics.median(candidates):,.0f}, max {max(candidates):,} per shortlist"
        if candidates
        else "  candidates  not seen (store.queries.shortlistable was never called)",
        f"  latency ms  p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {ordered[-1]:.1f}",
        f"  target      p95 < {TARGET_P95_MS:.0f} ms: {'PASS' if p95 < TARGET_P95_MS else 'FAIL'}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
