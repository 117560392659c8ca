"""How fast the dispatcher empties the outbox: one pass over N due nudges, then against Slack's pacing.

    python -m bench.dispatch [--database-url URL] [--nudges 10000] [--seed 7] [--recipients 500]
                             [--burst 100] [--limit-seconds 120] [--check-blocks]
                             [--profile] [--profile-nudges 2000] [--senders 1] [--only A|B1|B2 ...]

Scenario A ("plain"): N due thank-yous, each to its own recipient, against a fake Slack that accepts
everything: `run_pass()` repeated until a pass finds nothing due, as the scheduler does (one pass stops after half
a lease so its rows are never at risk; 10,000 take more than one pass when the machine is slow). Run "cold"
(a fresh dispatcher: each recipient's zone asked of Slack; the fake's workspace, which users.list pages through,
is the round's recipients) and "warm" (the same long-lived dispatcher,
a second round of thank-yous to the same people: zones remembered across passes, as in a running server). The
floor, in the same run: the same WebClient (bot.slack_client.make_client) sending exactly the messages Slack received in
the cold run to a fresh fake, one after another, no database, measured right after each round; each round's ratio
is refdesk's messages/s over the floor's measured after it.

Scenario B ("Slack's pacing"): N due thank-yous over --recipients recipients (shuffled with
--seed), passes back to back with a clock that follows real time, against a fake Slack that answers 429
(Retry-After: 1) to a second message to the same channel within 1 s; variant B2 also refuses everything
once --burst messages were accepted within the last second workspace-wide. The time limit is checked between
passes; a pass still running when it expires is ended the app's own way (its clock jumps past half a lease).

Without --database-url it uses a fresh SQLite file; a PostgreSQL URL gets its own bench_<random> schema (named
in the URL's options), dropped at the end. Scenario A's fake and its floor's run in a process of their own
(RemoteSlack says why); scenario B's runs in this one. By default it skips its Block Kit
JSON Schema check (~4 ms of CPU a message, the test suite's business): --check-blocks keeps it.
A measurement, not a test: it exits 0 whatever it finds, and says what it found.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.outbox import (
    NOW,
    RemoteSlack,
    TimedDatabase,
    add,
    delivered,
    exactly_once,
    open_database,
    recipients_for,
    reset,
    seed,
    settings_for,
    statuses,
)
from bench.pacing import paced, show_paced
from bot.clock import FrozenClock
from bot.delivery.dispatcher import Dispatcher, PassResult
from bot.delivery.scheduler import make_dispatcher


@dataclass
class Plain:
    result: PassResult
    wall: float
    in_units: float
    in_statements: float
    statements: int
    users_info: int
    users_list: int
    posts: int
    once: int
    never: int
    twice: int
    misrouted: int
    other: int
    statuses: dict[str, int]
    profile: str = ""
    passes: int = 1
    sent_messages: list[dict[str, Any]] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


def plain(
    db: TimedDatabase,
    count: int,
    rng: random.Random,
    *,
    check_blocks: bool,
    profile: bool,
    recipients: list[str] | None = None,
    dispatcher_for: Callable[[RemoteSlack], Dispatcher] | None = None,
) -> Plain:
    """One scenario A round: seed, then passes until one finds nothing due. `dispatcher_for` gives the
    dispatcher (a long-lived one for the warm round); `recipients` repeats a round's recipients."""
    recipients = recipients or recipients_for(count, None, rng)
    seed(db, recipients)
    slack = RemoteSlack(check_blocks=check_blocks, workspace=recipients).start()
    try:
        if dispatcher_for is not None:
            dispatcher = dispatcher_for(slack)
        else:
            dispatcher = make_dispatcher(settings=settings_for(slack), db=db, clock=FrozenClock(NOW))
        db.reset_timers()
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result, passes = PassResult(), 0
        while True:
            one = dispatcher.run_pass()
            passes += 1
            add(result, one)
            if one.claimed == 0:
                break
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - started
        report = ""
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(25)
            out.write("The same pass, top 15 by own time (where the waiting is):\n")
            stats.sort_stats("tottime").print_stats(15)
            report = out.getvalue()
        per_nudge, misrouted, other = delivered(slack, recipients)
        once, never, twice = exactly_once(per_nudge, count)
        return Plain(
            result=result,
            wall=wall,
            in_units=db.in_units,
            in_statements=db.in_statements,
            statements=db.statements + result.unawaited,  # marks sent without waiting: no cursor sees them
            users_info=len(slack.attempts("users.info")),
            users_list=len(slack.attempts("users.list")),
            posts=len(slack.attempts("chat.postMessage")),
            once=once,
            never=never,
            twice=twice,
            misrouted=misrouted,
            other=other,
            statuses=statuses(db),
            profile=report,
            passes=passes,
            sent_messages=[dict(p) for p in slack.of("chat.postMessage")],
            recipients=recipients,
        )
    finally:
        slack.stop()


def floor(messages: list[dict[str, Any]], *, check_blocks: bool) -> tuple[int, float]:
    """The floor: the same WebClient refdesk makes, sending the same messages to the same kind of fake Slack,
    one after another, with no database. Returns (sent, seconds)."""
    from bot.slack_client import make_client

    slack = RemoteSlack(check_blocks=check_blocks).start()
    try:
        client = make_client(settings_for(slack), retries=False)
        started = time.perf_counter()
        for m in messages:
            client.chat_postMessage(channel=m["channel"], text=m.get("text"), blocks=m.get("blocks"))
        return len(messages), time.perf_counter() - started
    finally:
        slack.stop()


# --- reporting -----------------------------------------------------------------------------------------
def show_plain(p: Plain, count: int, dialect: str, name: str, floor_rate: float | None) -> str:
    r = p.result
    ok = p.once == count and not p.twice and not p.misrouted and not p.other and p.statuses == {"sent": count}
    rate = r.sent / p.wall
    versus = (
        f"; floor {floor_rate:,.0f} messages/s → refdesk at {rate / floor_rate:.0%} of the floor"
        if floor_rate
        else ""
    )
    return (
        f"\nScenario {name} — plain: run_pass() until nothing is due, {count:,} due thank-yous, one recipient "
        f"each  [{dialect}]\n"
        f"  pass result          {r}  ({p.passes} passes, the last one empty)\n"
        f"  messages sent        {r.sent:,}  (chat.postMessage calls {p.posts:,}, users.info calls {p.users_info:,}, "
        f"users.list calls {p.users_list:,})\n"
        f"  wall                 {p.wall:.2f} s  →  {rate:,.0f} messages/s, {p.wall / max(r.sent, 1) * 1000:.2f} ms each{versus}\n"
        f"  seconds_in_database  {r.seconds_in_database:.3f} s  ({r.seconds_in_database / p.wall:.1%} of wall)"
        "  ← PassResult's own figure, read off the machine's timer\n"
        f"  measured by bench    units of work {p.in_units:.2f} s ({p.in_units / p.wall:.1%} of wall); "
        f"SQL statements {p.statements:,} ({p.statements / max(r.sent, 1):.2f} a message; {r.unawaited:,} marks "
        f"not waited for) taking {p.in_statements:.2f} s ({p.in_statements / p.wall:.1%}, the marks' not seen)\n"
        f"  exactly once         {'yes' if ok else 'NO'}: once {p.once:,}, never {p.never:,}, more than once "
        f"{p.twice:,}, misrouted {p.misrouted:,}, other messages {p.other:,}; rows {p.statuses}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--recipients", type=int, default=500, help="distinct recipients in scenario B")
    parser.add_argument("--burst", type=int, default=100, help="workspace-wide messages a second in B2")
    parser.add_argument("--limit-seconds", type=float, default=120.0, help="per scenario B variant")
    parser.add_argument("--check-blocks", action="store_true", help="keep the fake's Block Kit check")
    parser.add_argument("--profile", action="store_true", help="also profile one plain pass (cProfile)")
    parser.add_argument("--profile-nudges", type=int, default=2_000, help="nudges in the profiled pass")
    parser.add_argument(
        "--senders", type=int, default=1, help="DISPATCH_SENDERS: messages in flight at once (default 1)"
    )
    parser.add_argument("--only", choices=["A", "B1", "B2"], action="append", help="run only these")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    wanted = set(args.only or ["A", "B1", "B2"])
    rng = random.Random(args.seed)
    reports: list[str] = []

    with tempfile.TemporaryDirectory(prefix="refdesk-bench-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        dialect = db.engine.dialect.name
        where = db.engine.url.render_as_string(hide_password=True)
        print(f"refdesk dispatcher bench on {dialect} ({where})", flush=True)
        reports.append(
            f"\ndatabase {dialect} ({where}); {args.nudges:,} nudges, seed {args.seed}; DISPATCH_SENDERS {args.senders}; Block Kit check "
            f"{'on' if args.check_blocks else 'off'}; {os.cpu_count()} CPUs, load average at start "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        try:
            if "A" in wanted:
                print(f"A: seeding {args.nudges:,} and passing until nothing is due (cold) …", flush=True)
                kept: dict[str, Dispatcher] = {}

                def long_lived(slack: RemoteSlack) -> Dispatcher:
                    # One dispatcher across both rounds, as in a running server; only its client's address
                    # follows the round's fake Slack.
                    if "d" not in kept:
                        kept["d"] = make_dispatcher(
                            settings=settings_for(slack, senders=args.senders), db=db, clock=FrozenClock(NOW)
                        )
                    kept["d"].client.base_url = slack.base_url
                    return kept["d"]

                cold = plain(
                    db,
                    args.nudges,
                    rng,
                    check_blocks=args.check_blocks,
                    profile=False,
                    dispatcher_for=long_lived,
                )

                def floor_after(round_name: str) -> float:
                    # Measured right after each round, so each is compared with the machine as it was then (one
                    # floor for both rounds moved their ratios by up to 2x when the machine's load changed).
                    print(
                        f"A: the floor after the {round_name} round (same WebClient, same messages) …",
                        flush=True,
                    )
                    sent, seconds = floor(cold.sent_messages, check_blocks=args.check_blocks)
                    reports.append(
                        f"\nFloor after the {round_name} round — the same WebClient sending the cold round's {sent:,} "
                        f"messages to a fresh fake, no database: {seconds:.2f} s → {sent / seconds:,.0f} messages/s"
                    )
                    print(reports[-1], flush=True)
                    return sent / seconds

                floor_rate = floor_after("cold")
                reports.append(show_plain(cold, args.nudges, dialect, "A cold", floor_rate))
                print(reports[-1], flush=True)
                reset(db)
                print("\nA: the same recipients again, the same dispatcher (warm) …", flush=True)
                warm = plain(
                    db,
                    args.nudges,
                    rng,
                    check_blocks=args.check_blocks,
                    profile=False,
                    recipients=cold.recipients,
                    dispatcher_for=long_lived,
                )
                reports.append(show_plain(warm, args.nudges, dialect, "A warm", floor_after("warm")))
                print(reports[-1], flush=True)
            if args.profile:
                reset(db)
                print(f"\nprofiling one plain pass over {args.profile_nudges:,} …", flush=True)
                prof = plain(db, args.profile_nudges, rng, check_blocks=args.check_blocks, profile=True)
                print(
                    f"\nProfile of one plain pass ({prof.wall:.2f} s under cProfile, "
                    f"{prof.result.sent:,} sent), top 25 by cumulative time [{dialect}]\n{prof.profile}",
                    flush=True,
                )
            for name, burst in (("B1", None), ("B2", args.burst)):
                if name not in wanted:
                    continue
                reset(db)
                print(
                    f"\n{name}: seeding and passing until all are sent or {args.limit_seconds:.0f} s …",
                    flush=True,
                )
                b = paced(
                    db,
                    args.nudges,
                    args.recipients,
                    rng,
                    burst=burst,
                    limit=args.limit_seconds,
                    check_blocks=args.check_blocks,
                    senders=args.senders,
                )
                reports.append(show_paced(name, b, args.nudges, args.recipients, burst, dialect))
                print(reports[-1], flush=True)
        finally:
            drop()

    reports.append(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n" + "=" * 100 + "\nSummary" + "".join(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
