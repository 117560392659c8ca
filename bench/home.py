"""How long CS waits for the Home tab, next to the floor: app_home_opened until views.publish reaches Slack.

    python -m bench.home [--database-url URL] [--sizes 10000:100000,100000:1000000] [--runs 200]
                         [--changed-runs 0] [--seed 7]

For each size (advocates:past references; the data of bench/shortlist.py, its generator and fixed seed), in one
process: the real app behind uvicorn, and the floor: a bare Bolt app on the same adapter (slack_bolt's ASGI
SlackRequestHandler), served the same way, talking to the same fake Slack, whose app_home_opened handler only
publishes a small view. The app's clock moves 10 s before each open. Each run sends a signed app_home_opened for a CS member to refdesk and then the same to
the floor, alternately (so both see the same load), and measures until the fake receives views.publish. The first
open of each is a warm-up (refdesk builds what it remembers there); `--runs` opens each are measured. Prints p50 and
p95 of each, the p95 ratio, and how refdesk's p95 grows from the first size to the next. `--changed-runs N` then
measures N more opens of each, every one right after a change (an advocate's sentiment written in its own unit of
work, as a CRM sync or CS's edit would): the first open after a change, which rebuilds what Home remembers.
A measurement, not a test: it exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bench.program import CS_CHANNEL, CS_MEMBER, LEAD, NOW, generate, open_database
from bench.shortlist import SIGNING_SECRET, QuickSlack, percentile
from bot.app import create_app
from bot.clock import FrozenClock
from bot.settings import Settings
from bot.web import RefdeskASGI
from store.db import Database
from store.models import Advocate
from tests.support import payloads
from tests.support.server import serve
from tests.support.signed import SlackSender

RATIO_TARGET = 3.0  # refdesk's p95 at most 3x the floor's (issue 14)
GROWTH_TARGET = 0.30  # and within ±30% from one size to the next
OPEN_EVERY = timedelta(seconds=10)  # the app's clock moves this much before each open


def bare_app(slack_url: str) -> Any:
    """The floor: Bolt, the same ASGI adapter, an app_home_opened handler that only publishes a small view."""
    from slack_bolt import App
    from slack_bolt.adapter.asgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token="xoxb-bare", base_url=slack_url))

    def publish(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello from the floor"}}],
            },
        )

    app.event("app_home_opened")(publish)
    return SlackRequestHandler(app)


def open_home(slack: QuickSlack, sender: SlackSender, run: str) -> tuple[float, int]:
    """(milliseconds until views.publish, blocks in the view)."""
    body = payloads.app_home_opened(user_id=CS_MEMBER)
    body["event_id"] = f"EvBench{run}"
    slack.clear()
    started = time.monotonic()
    reply = sender.event(body)
    if reply.status != 200:
        raise RuntimeError(f"app_home_opened got HTTP {reply.status}: {reply.body}")
    while True:
        published = slack.attempts("views.publish")
        if published:
            return (published[0].at - started) * 1000, len(published[0].params["view"]["blocks"])
        if time.monotonic() - started > 60:
            raise RuntimeError(f"no views.publish after 60 s; Slack saw {slack.methods()}")
        time.sleep(0.0005)


def change_something(db: Database, run: int) -> None:
    """A write Home's figures depend on, committed in its own unit of work: one advocate's sentiment."""
    with db.unit_of_work() as session:
        ids = session.scalars(
            select(Advocate.id).order_by(Advocate.id).limit(1).offset(run * 37 % 1000)
        ).all()
        session.execute(update(Advocate).where(Advocate.id.in_(ids)).values(sentiment=(run % 10) / 10))


def one_size(
    url: str | None, advocates: int, references: int, runs: int, seed: int, changed_runs: int = 0
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(url, Path(workdir))
        slack = QuickSlack().start()
        executor = ThreadPoolExecutor(max_workers=8)
        servers: list[Any] = []
        try:
            print(f"generating {advocates:,} advocates / {references:,} references on {db.engine.dialect.name} …",
                  flush=True)  # fmt: skip
            started = time.monotonic()
            generate(db, argparse.Namespace(advocates=advocates, references=references, runs=50, seed=seed))
            print(
                f"  generated in {time.monotonic() - started:.0f} s; opening Home {runs} times each …",
                flush=True,
            )
            settings = Settings(
                slack_bot_token="xoxb-bench",
                slack_signing_secret=SIGNING_SECRET,
                cs_channel_id=CS_CHANNEL,
                cs_lead_user_ids=frozenset({LEAD}),
                database_url="(bench)",
                slack_api_url=slack.base_url,
            )
            slack.cs_members = [CS_MEMBER, "U0BOT"]
            clock = FrozenClock(NOW)
            app = create_app(settings=settings, db=db, clock=clock, listener_executor=executor)
            refdesk_server, refdesk_thread, refdesk_port = serve(
                RefdeskASGI(app, db, signing_secret=SIGNING_SECRET)
            )
            servers.append((refdesk_server, refdesk_thread))
            floor_server, floor_thread, floor_port = serve(bare_app(slack.base_url))
            servers.append((floor_server, floor_thread))
            refdesk = SlackSender(host="127.0.0.1", port=refdesk_port, signing_secret=SIGNING_SECRET)
            floor = SlackSender(host="127.0.0.1", port=floor_port, signing_secret=SIGNING_SECRET)
            warm_up = open_home(slack, refdesk, "r0")[0]
            open_home(slack, floor, "f0")
            mine: list[float] = []
            theirs: list[float] = []
            blocks = 0
            for run in range(1, runs + 1):
                # Time passes between opens, as it does: what Home remembers by the minute (the queue) is read
                # again on one open in six.
                clock.advance(OPEN_EVERY)
                ms, blocks = open_home(slack, refdesk, f"r{run}")
                mine.append(ms)
                theirs.append(open_home(slack, floor, f"f{run}")[0])
            changed: list[float] = []
            changed_floor: list[float] = []
            for run in range(runs + 1, runs + 1 + changed_runs):
                clock.advance(OPEN_EVERY)
                change_something(db, run)
                changed.append(open_home(slack, refdesk, f"r{run}")[0])
                changed_floor.append(open_home(slack, floor, f"f{run}")[0])
        finally:
            for server, thread in servers:
                server.should_exit = True
                thread.join(timeout=5)
            executor.shutdown(wait=True)
            slack.stop()
            drop()
    return {
        "advocates": advocates,
        "references": references,
        "dialect": db.engine.dialect.name,
        "warm_up": warm_up,
        "refdesk": sorted(mine),
        "floor": sorted(theirs),
        "changed": sorted(changed),
        "changed_floor": sorted(changed_floor),
        "blocks": blocks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.home", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a fresh SQLite file per size)")
    parser.add_argument(
        "--sizes", default="10000:100000,100000:1000000", help="advocates:references, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=200, help="measured opens of each app per size")
    parser.add_argument(
        "--changed-runs", type=int, default=0, help="opens of each right after a change, measured apart"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sizes = [tuple(int(n) for n in size.split(":")) for size in args.sizes.split(",")]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results = [one_size(args.database_url, a, r, args.runs, args.seed, args.changed_runs) for a, r in sizes]
    lines = [
        "",
        f"refdesk CS Home tab vs the bare Bolt floor: app_home_opened → views.publish (load at start {load})",
    ]
    first_p95: float | None = None
    for result in results:
        mine, theirs = result["refdesk"], result["floor"]
        p50, p95 = percentile(mine, 50), percentile(mine, 95)
        f50, f95 = percentile(theirs, 50), percentile(theirs, 95)
        ratio = p95 / f95 if f95 else float("inf")
        growth = ""
        if first_p95 is None:
            first_p95 = p95
        else:
            change = p95 / first_p95 - 1
            verdict = "within" if abs(change) <= GROWTH_TARGET else "OUTSIDE"
            growth = f"\n  vs first size  p95 {change:+.0%} ({verdict} ±{GROWTH_TARGET:.0%})"
        lines.append(
            f"\n  {result['advocates']:,} advocates / {result['references']:,} references on {result['dialect']}; "
            f"{len(mine)} opens each; {result['blocks']} blocks (Slack allows 100); first open {result['warm_up']:.0f} ms\n"
            f"  refdesk ms     p50 {p50:.1f}  p95 {p95:.1f}  max {mine[-1]:.1f}\n"
            f"  floor ms       p50 {f50:.1f}  p95 {f95:.1f}  max {theirs[-1]:.1f}\n"
            f"  ratio p95      {ratio:.2f}x ({'PASS' if ratio <= RATIO_TARGET else 'FAIL'}: ≤ {RATIO_TARGET:.0f}x)"
            + growth
        )
        if result["changed"]:
            mine, theirs = result["changed"], result["changed_floor"]
            c95, f95 = percentile(mine, 95), percentile(theirs, 95)
            lines.append(
                f"  after a change ({len(mine)} opens each)\n"
                f"  refdesk ms     p50 {percentile(mine, 50):.1f}  p95 {c95:.1f}  max {mine[-1]:.1f}\n"
                f"  floor ms       p50 {percentile(theirs, 50):.1f}  p95 {f95:.1f}  max {theirs[-1]:.1f}\n"
                f"  ratio p95      {c95 / f95 if f95 else float('inf'):.2f}x"
            )
    lines.append(f"  load at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
