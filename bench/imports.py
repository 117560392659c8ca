"""How long `refdesk advocates import` and `refdesk history import` take on a spreadsheet of 5,000 rows.

    python -m bench.imports [--database-url URL] [--rows 5000] [--runs 3] [--seed 7]

The real command line in a subprocess, as an operator runs it (start-up, migration check, decoding,
separator sniffing, every row checked, one transaction), on a Windows-style file: Windows-1252, `;`-separated,
day-first dates with --date-format. The bare baseline, in the same run and on the same database, is a Python
process that reads the same file with the csv module and inserts the same rows with one Core executemany and
no checks at all: the ratio is what refdesk's checks and start-up cost over writing the rows. Target: every
import under 5 s. A measurement, not a test: it exits 0 whether or not the target is met.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.exchange.history_csv import HISTORY_COLUMNS
from bot.exchange.pool_csv import ADVOCATE_COLUMNS
from store.db import make_engine

TARGET_SECONDS = 5.0
ROOT = Path(__file__).resolve().parent.parent
INDUSTRIES = ("software", "financial_services", "healthcare", "retail", "media", "telecom")
FIRST = ("Zoë", "José", "Ana", "Björn", "Chloé", "Dana", "Émile", "Ravi", "Mia", "Søren")
BARE = """
import csv, sys, time
from sqlalchemy import MetaData, Table, Column, Integer, String, create_engine, insert
engine = create_engine(sys.argv[1])
table = Table("bare_rows", MetaData(), Column("id", Integer, primary_key=True), Column("line", String))
table.create(engine, checkfirst=True)
with open(sys.argv[2], encoding="cp1252", newline="") as source:
    rows = [{"line": ";".join(cells)} for cells in csv.reader(source, delimiter=";")][1:]
with engine.begin() as connection:
    connection.execute(insert(table), rows)
"""


def spreadsheet_files(workdir: Path, rows: int, seed: int) -> tuple[Path, Path]:
    """(advocates, history) as Excel on Windows saves them: cp1252, ';', dates as 31/03/2026."""
    rng = random.Random(seed)
    pool, history = io.StringIO(), io.StringIO()
    people = csv.writer(pool, delimiter=";", lineterminator="\r\n")
    people.writerow(ADVOCATE_COLUMNS)
    references = csv.writer(history, delimiter=";", lineterminator="\r\n")
    references.writerow(HISTORY_COLUMNS)
    for n in range(rows):
        email = f"person{n}@customer{n % 700}.example"
        joined = date(2022, 1, 1) + timedelta(days=rng.randrange(1000))
        people.writerow(
            [
                f"{rng.choice(FIRST)} Müller {n}", email, "VP Engineering", rng.choice(("vp", "director", "c_level")),
                f"Customer {n % 700}", rng.choice(INDUSTRIES), rng.randrange(50, 50_000), "EMEA", "DE",
                "job scheduling;cloud migration", "call;email", rng.choice(("standard", "strategic", "new")),
                f"U0P{n}" if n % 3 else "", "U0CS1" if n % 2 else "", "active", "", "no",
                joined.strftime("%d/%m/%Y"), "Spricht über die Migration\nund über Kosten" if n % 10 == 0 else "",
            ]
        )  # fmt: skip
        held = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
        references.writerow(
            [email, held.strftime("%d/%m/%Y"), f"Prospect {n}", rng.choice(INDUSTRIES), "call",
             rng.choice(("won", "lost", "open")), rng.randrange(10_000, 900_000)]
        )  # fmt: skip
    advocates, past = workdir / "advocates.csv", workdir / "history.csv"
    advocates.write_bytes(pool.getvalue().encode("cp1252"))
    past.write_bytes(history.getvalue().encode("cp1252"))
    return advocates, past


def timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the process): on a shared machine the CPU time is the steadier one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[2:])} failed: {result.stderr.strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir_name:
        workdir = Path(workdir_name)
        advocates, history = spreadsheet_files(workdir, args.rows, args.seed)
        schema = None
        if args.database_url:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with make_engine(args.database_url).begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            separator = "&" if "?" in args.database_url else "?"
            url = f"{args.database_url}{separator}options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{workdir / 'bench.db'}"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CS_", "DATABASE_URL"))}
        env = {**base, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        refdesk = [sys.executable, "-m", "bot"]
        dates = ["--date-format", "%d/%m/%Y"]
        try:
            timed([*refdesk, "db", "upgrade"], env, workdir)
            results: dict[str, list[tuple[float, float]]] = {}
            for run in range(args.runs):
                with make_engine(url).begin() as connection:  # each run starts from an empty pool
                    connection.execute(text("DELETE FROM engagements"))
                    connection.execute(text("DELETE FROM advocates"))
                    connection.execute(text("DROP TABLE IF EXISTS bare_rows"))
                for name, command in (
                    ("advocates import (new)", [*refdesk, "advocates", "import", str(advocates), *dates]),
                    ("advocates import (updates)", [*refdesk, "advocates", "import", str(advocates), *dates]),
                    ("history import", [*refdesk, "history", "import", str(history), *dates]),
                    ("bare csv + executemany", [sys.executable, "-c", BARE, url, str(advocates)]),
                ):
                    results.setdefault(name, []).append(timed(command, env, workdir))
                print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
        finally:
            if schema:
                with make_engine(args.database_url).begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    backend = "PostgreSQL" if args.database_url else "SQLite"
    bare_wall = statistics.median(wall for wall, _ in results["bare csv + executemany"])
    bare_cpu = statistics.median(cpu for _, cpu in results["bare csv + executemany"])
    print(
        f"{args.rows:,} rows per file, {backend}, median of {args.runs} runs, whole process (load {os.getloadavg()[0]:.1f}):"
    )
    print(f"  {'':28} {'wall':>7} {'max':>7} {'ratio':>6}   {'CPU':>7} {'ratio':>6}")
    for name, times in results.items():
        wall = statistics.median(w for w, _ in times)
        cpu = statistics.median(c for _, c in times)
        worst = max(w for w, _ in times)
        verdict = "" if name.startswith("bare") else (" ok" if worst < TARGET_SECONDS else " over 5 s (wall)")
        print(
            f"  {name:28} {wall:6.2f}s {worst:6.2f}s {wall / bare_wall:5.1f}x   {cpu:6.2f}s {cpu / bare_cpu:5.1f}x"
            f"{verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
