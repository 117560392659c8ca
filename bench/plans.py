"""Do the hot queries keep a good plan once PostgreSQL prepares them? Generic vs custom plans, side by side.

    python -m bench.plans --database-url postgresql+psycopg://… [--advocates 10000] [--references 100000]
                          [--requests 20] [--repeat 5] [--explain]

psycopg prepares a statement after it has run 5 times on a connection; from then on PostgreSQL may run the
statement's *generic* plan, made without looking at the parameter values. A query whose best plan depends on the
values (which industries, which dates) then runs a plan made for none of them. This builds the bench's pool
and history (bench.shortlist's generator), records the SQL the app sends for the hot paths — the shortlist's
statements for `--requests` approvals, Home's usage read of the pool, the dispatcher's claim of the outbox — and
runs each statement as a prepared statement under `plan_cache_mode = force_custom_plan` and then
`force_generic_plan`, printing the median time of each and their ratio (`--explain`: both plans too). A
measurement, not a test: it exits 0 either way. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from psycopg import ClientCursor
from sqlalchemy import event, insert, select, text

from bench.program import NOW, generate, open_database
from bot.clock import FrozenClock
from bot.delivery.dispatcher import Dispatcher, PassResult
from bot.flows import shortlist
from bot.rules.matching import Policy
from store import counts
from store.models import Advocate, Nudge, ReferenceRequest


@contextmanager
def recording(engine: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE")) and isinstance(
            parameters, dict
        ):
            seen.append((statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


NAMED = re.compile(r"%\((\w+)\)s")


def prepared(statement: str, parameters: dict[str, Any]) -> tuple[str, list[Any]]:
    """The pyformat statement as PREPARE text ($1, $2, …) and its values in order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    return NAMED.sub(number, statement), [parameters[name] for name in order]


def timed(cursor: Any, name: str, values: list[Any], mode: str, repeat: int) -> tuple[float, str]:
    cursor.execute(f"SET plan_cache_mode = {mode}")
    call = f"EXECUTE {name}" + (f"({', '.join(['%s'] * len(values))})" if values else "")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        cursor.execute(call, values)
        cursor.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    cursor.execute(f"EXPLAIN {call}", values)
    plan = "\n".join(f"      {row[0]}" for row in cursor.fetchall())
    return statistics.median(times), plan


def label(statement: str) -> str:
    flat = " ".join(statement.split())
    if "advocate_usage" in flat and "advocates" in flat and "NOT (EXISTS" in flat:
        return "shortlist: pool + kept counters"
    if "UPDATE nudges" in flat:
        return "outbox claim"
    if "GROUP BY engagements.advocate_id" in flat:
        return "Home: usage of the pool (last 360 days)"
    return flat[:60]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://…")
    parser.add_argument("--advocates", type=int, default=10_000)
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20, help="approvals whose shortlist SQL is recorded")
    parser.add_argument("--repeat", type=int, default=5, help="executions timed per statement and mode")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print both plans of every statement")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="refdesk-plans-") as workdir:
        db, drop = open_database(args.database_url, Path(workdir))
        try:
            if db.is_sqlite:
                parser.error("PostgreSQL only: SQLite has no prepared-statement plans to compare")
            args.runs = args.requests
            generate(db, args)
            with db.unit_of_work() as session:  # an outbox of 20k nudges, a tenth due
                advocate = session.scalars(select(Advocate.id).limit(1)).one()
                rows = [
                    dict(key=f"n{i}", kind="prep", recipient=f"U{i}", due_at=NOW + timedelta(minutes=i - 2_000),
                         status="pending", attempts=0, created_at=NOW, payload={}, engagement_id=None)
                    for i in range(20_000)
                ]  # fmt: skip
                session.execute(insert(Nudge.__table__), rows)
                del advocate
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
            policy = Policy()
            with recording(db.engine) as seen:
                with db.unit_of_work() as session:
                    requests = session.scalars(select(ReferenceRequest).order_by(ReferenceRequest.id)).all()
                    for request in requests[: args.requests]:
                        shortlist.ranked_for(
                            session=session, request=request, policy=policy, today=NOW.date(), strict=True
                        )
                    counts.usage_of_pool(session=session, window=shortlist.usage_window(NOW.date()))
                dispatcher = Dispatcher(db=db, client=None, clock=FrozenClock(NOW), cs_channel_id="C0CS")  # type: ignore[arg-type]
                dispatcher._claim(NOW, PassResult())
            report(db, seen, args)
        finally:
            drop()
    return 0


def report(db: Any, seen: list[tuple[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    by_label: dict[str, list[tuple[float, float]]] = {}
    plans: dict[str, tuple[str, str]] = {}
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        driver.autocommit = False
        cursor = ClientCursor(driver)
        for n, (statement, parameters) in enumerate(seen):
            name = f"plan_{n}"
            sql, values = prepared(statement, parameters)
            cursor.execute(f"PREPARE {name} AS {sql}")
            custom, custom_plan = timed(cursor, name, values, "force_custom_plan", args.repeat)
            generic, generic_plan = timed(cursor, name, values, "force_generic_plan", args.repeat)
            driver.rollback()  # the claim's UPDATE, and the PREPARE, leave nothing behind
            by_label.setdefault(label(statement), []).append((custom, generic))
            plans.setdefault(label(statement), (custom_plan, generic_plan))
    finally:
        raw.close()
    print(f"\nplans on PostgreSQL: {args.advocates:,} advocates, {args.references:,} past references")
    print(f"  {'statement':48} {'runs':>5} {'custom ms':>10} {'generic ms':>11} {'generic/custom':>15}")
    for name, pairs in by_label.items():
        custom = statistics.median(p[0] for p in pairs)
        generic = statistics.median(p[1] for p in pairs)
        worst = max(p[1] / p[0] for p in pairs if p[0] > 0)
        print(f"  {name:48} {len(pairs):>5} {custom:>10.2f} {generic:>11.2f} {generic / custom:>9.2f}x"
              f" (worst {worst:.2f}x)")  # fmt: skip
        if args.explain:
            print("    custom plan:\n" + plans[name][0] + "\n    generic plan:\n" + plans[name][1])


if __name__ == "__main__":
    raise SystemExit(main())
