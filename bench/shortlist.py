"""How long CS waits for a shortlist, next to the framework's floor: approve in a large pool, time the thread reply.

    python -m bench.shortlist [--database-url URL] [--advocates 10000 [N ...]] [--references 10×advocates] [--runs 300]

`refdesk serve` runs as its own process (one worker) against a fake Slack on 127.0.0.1; each run sends a signed
Approve click and measures from the click to the fake receiving the chat.postMessage in that card's thread. The
*floor* is a bare Bolt app on the same adapter, server and fake Slack whose Approve handler only acks and posts
in the thread, timed the same way in the same run. Printed: p50/p95 of both and their ratio, the first
approvals (1-20) against the late ones (200-300: PostgreSQL prepares a statement after 5 executions on a
connection, so a plan that only goes wrong when prepared shows there), and the server's resident memory before
and after. Several sizes (`--advocates 1000 10000 100000`, history 10x each) are measured one after another, each
on a database and servers of its own, and a last table shows how the cost grows with the pool. Without
--database-url a fresh SQLite file is used; a PostgreSQL URL gets its own bench_<random> schema,
dropped at the end. A measurement, not a test: it exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select

from bench.program import CS_CHANNEL, CS_MEMBER, LEAD, NOW, generate, open_database
from bot.flows import shortlist
from bot.rules.matching import Policy
from modals.ids import Action
from store.db import Database
from store.models import ReferenceRequest
from tests.support import payloads
from tests.support.fake_slack import FakeSlack
from tests.support.signed import SlackSender

SIGNING_SECRET = "benchsigningsecret"
TARGET_P95_MS = 100.0


class QuickSlack(FakeSlack):
    """The fake without its Block Kit check: that check (JSON Schema, ~30-100 ms a message) is the test suite's
    business, and timing it would bury the app's own latency. The tests keep the blocks valid."""

    def _check_blocks(self, method: str, params: dict[str, Any]) -> None:
        return None


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
    parser.add_argument(
        "--advocates",
        type=int,
        nargs="+",
        default=[10_000],
        help="pool sizes, each measured on a database and servers of its own (e.g. 1000 10000 100000)",
    )
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
    if min(args.advocates) < 1:
        parser.error("--advocates must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    measured = []
    for size in args.advocates:
        one = argparse.Namespace(**{**vars(args), "advocates": size})
        one.references = args.references if args.references is not None else 10 * size
        measured.append(measure(one))
        report(measured[-1])
    if len(measured) > 1:
        print(growth(measured))
    return 0


@dataclass(frozen=True)
class Measured:
    """One pool size: what was generated, both servers' timings (ms, in click order) and refdesk's memory."""

    dialect: str
    args: argparse.Namespace
    generated: float
    refdesk: list[float]
    floor: list[float]
    rss: tuple[float, float]
    candidates: list[int]


def measure(args: argparse.Namespace) -> Measured:
    """A fresh database of `args.advocates` advocates, then refdesk and the floor, each in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        slack = QuickSlack().start()
        slack.cs_members = [CS_MEMBER, "U0CS2", "U0BOT"]
        try:
            print(f"generating {args.advocates:,} advocates on {db.engine.dialect.name} …", flush=True)
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
    return Measured(db.engine.dialect.name, args, generated, refdesk, floor, rss, candidates)


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


def report(m: Measured) -> None:
    args, refdesk, floor, rss, candidates = m.args, m.refdesk, m.floor, m.rss, m.candidates
    p95 = percentile(sorted(refdesk), 95)
    floor_p95 = percentile(sorted(floor), 95)
    late = slice(199, 300) if len(refdesk) >= 300 else slice(max(20, len(refdesk) - 100), None)
    late_name = "200-300" if len(refdesk) >= 300 else f"{late.start + 1}-{len(refdesk)}"
    lines = [
        "",
        "Approve click → shortlist posted in the card's thread (ms), one server process each",
        f"  database    {m.dialect}",
        f"  advocates   {args.advocates:,}",
        f"  references  {args.references:,} engagements over 3 years",
        f"  runs        {len(refdesk)} approvals (+1 warm-up) per server, seed {args.seed}",
        f"  generation  {m.generated:.1f} s",
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


def growth(measured: list[Measured]) -> str:
    """How the cost grows with the pool: each size beside the first, refdesk's and the floor's p95 side by side."""
    first = measured[0]
    base = percentile(sorted(first.refdesk), 95)
    lines = [
        "",
        f"How the cost grows with the pool ({first.dialect}; history 10 references an advocate unless --references)",
        f"  {'advocates':>10} {'references':>11}  {'refdesk p50':>11} {'p95':>6}  {'floor p95':>9}  "
        f"{'ratio':>6}  {'p95 vs first':>12}",
    ]
    for m in measured:
        p95, floor_p95 = percentile(sorted(m.refdesk), 95), percentile(sorted(m.floor), 95)
        lines.append(
            f"  {m.args.advocates:>10,} {m.args.references:>11,}  {percentile(sorted(m.refdesk), 50):>11.1f} "
            f"{p95:>6.1f}  {floor_p95:>9.1f}  {p95 / floor_p95:>5.1f}x  {p95 / base:>11.2f}x"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
