"""How long CS waits for a shortlist, next to the framework's floor: approve in a large pool, time the thread reply.

    python -m bench.shortlist [--database-url URL] [--advocates 10000] [--references 10×advocates] [--runs 300]

`refdesk serve` runs as its own process (one worker) against a fake Slack on 127.0.0.1; each run sends a signed
Approve click and measures from the click to the fake receiving the chat.postMessage in that card's thread. The
*floor* is a bare Bolt app on the same adapter, server and fake Slack whose Approve handler only acks and posts
in the thread, timed the same way in the same run. Printed: p50/p95 of both and their ratio, the first
approvals (1-20) against the late ones (200-300: PostgreSQL prepares a statement after 5 executions on a
connection, so a plan that only goes wrong when prepared shows there), and the server's resident memory before
and after. Without --database-url a fresh SQLite file is used; a PostgreSQL URL gets its own bench_<random> schema,
dropped at the end. A measurement, not a test: it exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import insert, select, text

from bot.flows import shortlist
from bot.flows.workflow import prospect_key
from bot.rules.matching import Policy
from bot.rules.vocabulary import AdvocateKind, AdvocateStatus, Industry, RoleLevel, SizeBand, Tier, Urgency
from modals.ids import Action
from store import usage
from store.db import Database, make_engine
from store.models import Advocate, Base, Engagement, ReferenceRequest, RequestStatus
from tests.support import payloads
from tests.support.fake_slack import FakeSlack
from tests.support.signed import SlackSender

NOW = datetime.now(UTC).replace(
    second=0, microsecond=0
)  # `refdesk serve` reads the real clock; history: 3 years
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
    """A migrated database with a fresh schema (its URL names it, so a server process finds it), and its drop."""
    url = url or f"sqlite:///{workdir / 'bench.db'}"
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # a file given twice starts clean
        db = Database(make_engine(url))
        db.upgrade()
        return db, db.engine.dispose
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    db = Database(make_engine(f"{url}{separator}options=-csearch_path%3D{schema}"))
    db.upgrade()

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command[2:4]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{command[2:4]} did not start in time")


def serve_refdesk(db: Database, slack: FakeSlack, port: int) -> subprocess.Popen:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "CS_CHANNEL_ID": CS_CHANNEL,
        "CS_LEAD_USER_IDS": LEAD, "SLACK_API_URL": slack.base_url, "LOG_LEVEL": "WARNING",
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
    }  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    return start(command, env, port)


def serve_floor(slack: FakeSlack, port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "bench.shortlist",
        "--floor-server",
        str(port),
        "--slack-url",
        slack.base_url,
    ]
    return start(command, {}, port)


def floor_server(port: int, slack_url: str) -> None:
    """The floor: a bare Bolt app on the same adapter and server whose Approve handler acks and posts in the thread."""
    from slack_bolt import App
    from slack_bolt.adapter.asgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token="xoxb-floor", base_url=slack_url))

    @app.action(Action.APPROVE)
    def approve(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(
            channel=body["container"]["channel_id"],
            thread_ts=body["container"]["message_ts"],
            text="Shortlist",
        )

    uvicorn.run(SlackRequestHandler(app), host="127.0.0.1", port=port, log_level="warning")


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (uvicorn's worker), in MB."""
    total = 0
    for candidate in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grandchild for child in found for grandchild in children(child)]


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
        time.sleep(0.0005)


def percentile(ordered: list[float], p: float) -> float:
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank


def stats(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    return f"p50 {percentile(ordered, 50):6.1f}  p95 {percentile(ordered, 95):6.1f}  max {ordered[-1]:6.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shortlist", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--advocates", type=int, default=10_000)
    parser.add_argument("--references", type=int, help="past engagements (default: 10 per advocate)")
    parser.add_argument("--runs", type=int, default=300, help="approvals timed, in one server process")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_server:
        floor_server(args.floor_server, args.slack_url)
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.references is None:
        args.references = 10 * args.advocates
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        slack = QuickSlack().start()
        slack.cs_members = [CS_MEMBER, "U0CS2", "U0BOT"]
        try:
            print(f"generating on {db.engine.dialect.name} …", flush=True)
            began = time.monotonic()
            requests = generate(db, args)
            generated = time.monotonic() - began
            with db.unit_of_work() as session:  # how many advocates the first pages weigh, for the record
                policy = Policy()
                sample = session.scalars(
                    select(ReferenceRequest).order_by(ReferenceRequest.id).limit(20)
                ).all()
                candidates = [len(shortlist.ranked_for(session=session, request=r, policy=policy,
                                                      today=NOW.date(), strict=True)) for r in sample]  # fmt: skip
            refdesk, rss = run_server("refdesk", lambda port: serve_refdesk(db, slack, port), slack, requests)
            floor, _ = run_server("floor", lambda port: serve_floor(slack, port), slack, requests)
        finally:
            slack.stop()
            drop()
    report(db, args, generated, refdesk, floor, rss, candidates)
    return 0


def run_server(
    name: str, launch: Callable[[int], subprocess.Popen], slack: FakeSlack, requests: list[tuple[int, str]]
) -> tuple[list[float], tuple[float, float]]:
    port = free_port()
    server = launch(port)
    try:
        sender = SlackSender(host="127.0.0.1", port=port, signing_secret=SIGNING_SECRET)
        approve(slack, sender, *requests[0])  # warm-up: CS member cache, connections, compiled SQL
        before = rss_mb(server.pid)
        print(f"{name}: {len(requests) - 1} approvals …", flush=True)
        timings = [approve(slack, sender, *request) for request in requests[1:]]
        return timings, (before, rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)


def report(
    db: Database,
    args: argparse.Namespace,
    generated: float,
    refdesk: list[float],
    floor: list[float],
    rss: tuple[float, float],
    candidates: list[int],
) -> None:
    p95 = percentile(sorted(refdesk), 95)
    floor_p95 = percentile(sorted(floor), 95)
    late = slice(199, 300) if len(refdesk) >= 300 else slice(max(20, len(refdesk) - 100), None)
    late_name = "200-300" if len(refdesk) >= 300 else f"{late.start + 1}-{len(refdesk)}"
    lines = [
        "",
        "Approve click → shortlist posted in the card's thread (ms), one server process each",
        f"  database    {db.engine.dialect.name}",
        f"  advocates   {args.advocates:,}",
        f"  references  {args.references:,} engagements over 3 years",
        f"  runs        {len(refdesk)} approvals (+1 warm-up) per server, seed {args.seed}",
        f"  generation  {generated:.1f} s",
        f"  candidates  median {statistics.median(candidates):,.0f}, max {max(candidates):,} per first page"
        if candidates
        else "  candidates  none",
        f"  refdesk     {stats(refdesk)}",
        f"  floor       {stats(floor)}",
        f"  ratio       p95 {p95 / floor_p95:.1f}x the floor (target ≤ 3x); p95 {p95:.1f} ms (target ≤ {TARGET_P95_MS:.0f})",
        f"  refdesk 1-20     {stats(refdesk[:20])}",
        f"  refdesk {late_name:8} {stats(refdesk[late])}",
        f"  floor   1-20     {stats(floor[:20])}",
        f"  floor   {late_name:8} {stats(floor[late])}",
        f"  serve RSS   {rss[0]:.0f} MB after the warm-up, {rss[1]:.0f} MB after {len(refdesk)} approvals (target < 250)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
