"""How long CS waits for the Home tab: app_home_opened in a large program, until views.publish reaches Slack.

    python -m bench.home [--database-url URL] [--advocates 10000] [--references 100000] [--runs 100] [--seed 7]

Same data as bench/shortlist.py (its generator, fixed seed), the real app behind uvicorn, a fake Slack on
127.0.0.1. Each run sends a signed app_home_opened event for a CS member and measures until the fake
receives views.publish. A measurement, not a test: it exits 0 whether or not the target is met.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.shortlist import (
    CS_CHANNEL,
    CS_MEMBER,
    LEAD,
    NOW,
    SIGNING_SECRET,
    QuickSlack,
    generate,
    open_database,
    percentile,
    serve,
)
from bot.app import create_app
from bot.clock import FrozenClock
from bot.settings import Settings
from bot.web import RefdeskASGI
from tests.support import payloads
from tests.support.signed import SlackSender

TARGET_P95_MS = 200.0


def open_home(slack: QuickSlack, sender: SlackSender, run: int) -> tuple[float, int]:
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
        if time.monotonic() - started > 30:
            raise RuntimeError(f"no views.publish after 30 s; Slack saw {slack.methods()}")
        time.sleep(0.001)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.home", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--advocates", type=int, default=10_000)
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        slack = QuickSlack().start()
        executor = ThreadPoolExecutor(max_workers=8)
        server = None
        try:
            print(f"generating on {db.engine.dialect.name} …", flush=True)
            generate(
                db,
                argparse.Namespace(
                    advocates=args.advocates, references=args.references, runs=50, seed=args.seed
                ),
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
            app = create_app(settings=settings, db=db, clock=FrozenClock(NOW), listener_executor=executor)
            server, thread, port = serve(RefdeskASGI(app, db, signing_secret=SIGNING_SECRET))
            sender = SlackSender(host="127.0.0.1", port=port, signing_secret=SIGNING_SECRET)
            open_home(slack, sender, 0)  # warm-up
            results = [open_home(slack, sender, run) for run in range(1, args.runs + 1)]
        finally:
            if server is not None:
                server.should_exit = True
                thread.join(timeout=5)
            executor.shutdown(wait=True)
            slack.stop()
            drop()
    ordered = sorted(ms for ms, _ in results)
    p50, p95, p99 = (percentile(ordered, p) for p in (50, 95, 99))
    print(
        "\n".join(
            [
                "",
                "refdesk CS Home tab: app_home_opened → views.publish",
                f"  database    {db.engine.dialect.name}",
                f"  advocates   {args.advocates:,}   references {args.references:,}   runs {len(ordered)}",
                f"  blocks      {max(b for _, b in results)} (Slack allows 100)",
                f"  latency ms  p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {ordered[-1]:.1f}",
                f"  target      p95 < {TARGET_P95_MS:.0f} ms: {'PASS' if p95 < TARGET_P95_MS else 'FAIL'}",
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
