"""A year of reference requests played through the matcher and the store, against two simpler policies.

    python -m bench.year [--pools 25 250] [--requests 50 200 500] [--seeds 1 2 3] [--shape NAME] [--database-url URL]

Each policy gets its own fresh database holding the same pool, and the same year of requests (demand skewed
toward a few industries; `--shape` plays another year: uniform or steeper demand, a strategic-heavy pool,
requests that name a country, smaller deals). For every request, in date order, the policy picks one advocate or none; the pick is
written to the store as a held reference, so the next request sees it in the usage the rules read.

- matcher:    bot.flows.shortlist.ranked_for (the app's own queries, recent demand included, and ranking), the
              first advocate on the shortlist.
- plain:      the program's hard limits (tier caps, 21 days between asks, never consecutive weeks, 30 days
              after a reference, breaks, account trouble, unwilling, already asked for the prospect) and a match
              that is not Poor; least recently used first. No reservation, no fatigue rest, no grade order.
              Like for like: plain accepts exactly the grades the matcher does (Excellent or Good, graded by
              the same code); it keeps fewer limits, never more, so it can only fill more for that reason.
- favourites: the best match on the matrix whatever the usage: how programs burn their favourites.

Printed per policy: requests filled (Excellent / Good), limit violations found in the resulting ledger (over the
tier cap in a quarter, two references less than 30 days apart, two asks less than 21 days apart, asks in
consecutive weeks), the Gini coefficient of references per advocate, the busiest advocate, and idle fits: advocates
who fitted an unfilled request at Good or better within every limit yet gave no reference that whole quarter.
After the table, one line per seed and a total: the matcher's fills minus plain's in each configuration.
A measurement, not a test: it exits 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.program import USE_CASES, company, insert_all, log_uniform, open_database, size_band
from bot.flows import shortlist
from bot.flows.workflow import prospect_key
from bot.rules.matching import Assessment, Grade, Policy, Usage, assess, quarter_start
from bot.rules.vocabulary import Industry, RoleLevel, Tier
from bot.settings import Settings
from store.db import Database
from store.models import Advocate, Engagement, ReferenceRequest, RequestStatus

YEAR = 2026
START = datetime(YEAR - 3, 1, 1, tzinfo=UTC)
# Limits a policy must keep; "strategic" (the reservation) is the matcher's own choice, not a program limit.
PROGRAM_LIMITS = frozenset(
    {
        "cap",
        "min_gap",
        "consecutive_week",
        "recent_use",
        "break",
        "retired",
        "account_trouble",
        "same_prospect",
    }
    | {"pending", "kind"}
)
EVERY_LIMIT = PROGRAM_LIMITS | {"fatigue", "yearly"}
COUNTRIES = [("California", "US"), ("Texas", "US"), ("Bavaria", "DE"), ("Ontario", "CA"), ("London", "GB")]


def business_days(year: int) -> list[date]:
    day, days = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Shape:
    """A year's demand and pool. The default ("skewed") is the one bench.year has always played; the others
    change one thing each, because the year the matcher really faces is not this one."""

    name: str = "skewed"
    zipf: float = 1.1  # how steeply demand falls from the most asked-for industry to the least; 0: uniform
    tiers: tuple[int, int, int] = (20, 60, 20)  # the pool's strategic, standard and new advocates (weights)
    geography: float = 0.0  # the share of requests that name a country (half of them a region too)
    arr: tuple[int, int] = (40_000, 1_500_000)  # deal sizes, log-uniform


SHAPES = {
    shape.name: shape
    for shape in (
        Shape(),
        Shape("uniform", zipf=0.0),
        Shape("steep", zipf=2.0),
        Shape("strategic", tiers=(50, 40, 10)),
        Shape("geography", geography=0.6),
        Shape("small-deals", arr=(30_000, 400_000)),
    )
}


def pool_rows(rng: random.Random, count: int, shape: Shape = Shape()) -> Iterator[dict[str, Any]]:
    industries = [i.value for i in Industry if i is not Industry.OTHER]
    levels = [level.value for level in RoleLevel]
    for i in range(count):
        level = rng.choices(levels, weights=(10, 20, 30, 25, 15))[0]
        region, country = rng.choice(COUNTRIES)
        kinds = ["call"] + [
            k for k, p in (("email", 0.6), ("site_visit", 0.15), ("executive", 0.2)) if rng.random() < p
        ]
        yield dict(
            email=f"advocate{i}@customer.example", name=f"Advocate {i}", title=level, role_level=level,
            company=company(rng, i), industry=rng.choice(industries), employees=log_uniform(rng, 20, 50_000),
            region=region, country=country, use_cases=rng.sample(USE_CASES, rng.randint(1, 3)), kinds=kinds,
            tier=rng.choices([t.value for t in Tier], weights=shape.tiers)[0], slack_user_id=f"U{i:08d}",
            owner_slack_user_id="U0CS1", status="active", account_trouble=False, break_until=None,
            sentiment=None if rng.random() < 0.25 else round(rng.uniform(0.45, 1.0), 2), notes="",
            joined_on=date(YEAR, 1, 1) - timedelta(days=rng.randint(-90, 1500)),
            created_at=START, updated_at=START,
        )  # fmt: skip


def demand(rng: random.Random, count: int, shape: Shape = Shape()) -> list[dict[str, Any]]:
    """A year of requests: most demand in a few industries, deals from $40k to $1.5M, mostly calls."""
    industries = [i.value for i in Industry if i is not Industry.OTHER]
    rng.shuffle(industries)
    weights = [1 / (rank + 1) ** shape.zipf for rank in range(len(industries))]  # Zipf-like: a few dominate
    days = sorted(rng.choices(business_days(YEAR), k=count))
    requests = []
    for n, day in enumerate(days):
        industry = rng.choices(industries, weights=weights)[0]
        size = log_uniform(rng, 30, 40_000)
        arr = log_uniform(rng, *shape.arr)
        kind = rng.choices(["call", "email", "site_visit", "executive"], weights=(75, 15, 5, 5))[0]
        name = f"Prospect {n}"
        region = country = None
        if shape.geography and rng.random() < shape.geography:
            region, country = rng.choice(COUNTRIES)
            region = region if rng.random() < 0.5 else None
        requests.append(
            dict(
                id=n + 1,
                status=RequestStatus.APPROVED.value,
                created_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),  # recent demand is read by date
                updated_at=START,
                source_view_id=f"VYEAR{n:06d}",
                requester_id="U0REP",
                rep_id="U0REP",
                prospect_company=name,
                prospect_key=prospect_key(name),
                prospect_industry=industry,
                prospect_employees=size,
                prospect_revenue=None,
                deal_arr=arr,
                close_date=day + timedelta(days=60),
                deal_stage="proposal",
                contact_role="VP",
                contact_concerns="x",
                wanted_industry=industry,
                wanted_size_band=size_band(size),
                wanted_role_level=rng.choices([lv.value for lv in RoleLevel], weights=(5, 15, 30, 30, 20))[0],
                wanted_use_case=rng.choice(USE_CASES),
                wanted_region=region,
                wanted_country=country,
                wanted_kind=kind,
                urgency="flexible",
                why_now="x",
                tried=["demo"],
                goal="x",
                background="",
                prior_references=0,
                day=day,
            )  # fmt: skip
        )
    return requests


@dataclass
class Outcome:
    name: str
    grades: Counter[str] = field(default_factory=Counter)
    ledger: list[tuple[int, date]] = field(default_factory=list)  # (advocate, day asked)
    unfilled_fits: list[tuple[date, set[int]]] = field(default_factory=list)
    seconds: float = 0.0


Picker = Callable[[list[Assessment]], Assessment | None]


def fits_within_limits(a: Assessment, limits: frozenset[str]) -> bool:
    return a.grade is not Grade.POOR and not {e.code for e in a.exclusions} & limits


def pick_matcher(ranked: list[Assessment]) -> Assessment | None:
    return next((a for a in ranked if shortlist.good_enough(a)), None)


def pick_plain(ranked: list[Assessment]) -> Assessment | None:
    fit = [a for a in ranked if fits_within_limits(a, PROGRAM_LIMITS)]
    usage = lambda a: (a.candidate.usage.last_used is not None, a.candidate.usage.last_used or date.min)  # noqa: E731
    return min(fit, key=lambda a: (*usage(a), a.candidate.advocate_id), default=None)


def play(
    name: str, db: Database, requests: list[dict[str, Any]], policy: Policy, *, strict: bool, pick: Picker
) -> Outcome:
    outcome, started = Outcome(name), time.perf_counter()
    for values in requests:
        day = values["day"]
        with db.unit_of_work() as session:
            request = ReferenceRequest(**{k: v for k, v in values.items() if k != "day"})
            session.add(request)
            session.flush()
            if name == "favourites":
                need = shortlist.need_of(request)
                found = shortlist.candidates_for(session=session, need=need, policy=policy, today=day)
                blind = [replace(c, usage=Usage()) for c in found]  # usage ignored
                ranked = [assess(need=need, candidate=c, policy=policy, today=day) for c in blind]
                ranked.sort(key=lambda a: (-a.grade, -a.score, a.candidate.advocate_id))
            else:
                ranked = shortlist.ranked_for(
                    session=session, request=request, policy=policy, today=day, strict=strict
                )
            chosen = pick(ranked)
            if chosen is None:
                # Who fitted within every limit (judged by the store's real usage), for the idle-fit count.
                everyone = shortlist.ranked_for(session=session, request=request, policy=policy, today=day)
                fitting = {a.candidate.advocate_id for a in everyone if fits_within_limits(a, EVERY_LIMIT)}
                outcome.unfilled_fits.append((day, fitting))
                continue
            asked = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
            session.add(
                Engagement(
                    advocate_id=chosen.candidate.advocate_id,
                    request_id=request.id,
                    kind=request.wanted_kind,
                    status="held",
                    prospect_company=request.prospect_company,
                    prospect_key=request.prospect_key,
                    prospect_industry=request.prospect_industry,
                    deal_arr=request.deal_arr,
                    asked_at=asked,
                    held_at=asked + timedelta(days=3),
                    source="refdesk",
                    created_at=asked,
                )  # fmt: skip
            )
            outcome.grades[chosen.grade.label] += 1
            outcome.ledger.append((chosen.candidate.advocate_id, day))
    outcome.seconds = time.perf_counter() - started
    return outcome


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def violations(ledger: list[tuple[int, date]], tiers: dict[int, str], policy: Policy) -> dict[str, int]:
    found: Counter[str] = Counter()
    by_advocate: dict[int, list[date]] = defaultdict(list)
    for advocate, day in ledger:
        by_advocate[advocate].append(day)
    for advocate, days in by_advocate.items():
        days.sort()
        per_quarter = Counter(quarter_start(d) for d in days)
        cap = policy.caps.get(tiers[advocate], 0)
        found["cap"] += sum(max(0, n - cap) for n in per_quarter.values())
        for before, after in zip(days, days[1:], strict=False):
            used = before + timedelta(days=3)  # the reference is held three days after the ask
            found["<30d"] += (after - used).days < policy.recent_use_days
            found["<21d"] += (after - before).days < policy.min_days_between_asks
            found["weeks"] += (_monday(after) - _monday(before)).days <= 7
    return {key: found[key] for key in ("cap", "<30d", "<21d", "weeks")}


def gini(values: list[int]) -> float:
    ordered, n = sorted(values), len(values)
    total = sum(ordered)
    if not n or not total:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def idle_fits(outcome: Outcome) -> tuple[int, int]:
    """(advocate-quarters idle while fitting an unfilled request, unfilled requests that had such an advocate)."""
    used = {(advocate, quarter_start(day)) for advocate, day in outcome.ledger}
    idle: set[tuple[int, date]] = set()
    requests = 0
    for day, fitting in outcome.unfilled_fits:
        here = {(a, quarter_start(day)) for a in fitting} - used
        idle |= here
        requests += bool(here)
    return len(idle), requests


def seed_of(shape: Shape, seed: int, pool_size: int, count: int) -> str:
    """The random stream of one configuration (the default shape keeps the stream it always had)."""
    prefix = "" if shape.name == "skewed" else f"{shape.name}:"
    return f"{prefix}{seed}:{pool_size}:{count}"


def run(
    args: argparse.Namespace, seed: int, pool_size: int, count: int, workdir: Path, filled: dict[str, int]
) -> list[str]:
    shape = SHAPES[args.shape]
    rng = random.Random(seed_of(shape, seed, pool_size, count))
    pool = list(pool_rows(rng, pool_size, shape))
    requests = demand(rng, count, shape)
    policy = shortlist.policy_from(Settings())
    plans: list[tuple[str, bool, Picker]] = [
        ("matcher", True, pick_matcher),
        ("plain", False, pick_plain),
        ("favourites", False, pick_matcher),
    ]
    lines = []
    for name, strict, pick in plans:
        db, drop = (
            open_database(args.database_url, workdir / name) if args.database_url else _sqlite(workdir, name)
        )
        try:
            insert_all(db, Advocate, iter(pool))
            with db.unit_of_work() as session:
                tiers = dict(session.execute(select(Advocate.id, Advocate.tier)).all())
            outcome = play(name, db, requests, policy, strict=strict, pick=pick)
        finally:
            drop()
        counts = Counter(advocate for advocate, _ in outcome.ledger)
        per_advocate = [counts.get(a, 0) for a in tiers]
        busiest = max(tiers, key=lambda a: (counts.get(a, 0), -a))
        broken = violations(outcome.ledger, tiers, policy)
        idle, waiting = idle_fits(outcome)
        filled[name] = sum(outcome.grades.values())
        grades = f"{filled[name]} ({outcome.grades['Excellent']}/{outcome.grades['Good']})"
        lines.append(
            f"| {seed} | {pool_size} | {count} | {name} | {grades} "
            f"| {broken['cap']} | {broken['<30d']} | {broken['<21d']} | {broken['weeks']} "
            f"| {gini(per_advocate):.2f} | {counts.get(busiest, 0)} ({tiers[busiest]}) | {idle} ({waiting}) "
            f"| {outcome.seconds:.1f} |"
        )
        print(lines[-1], flush=True)
    return lines


def _sqlite(workdir: Path, name: str) -> tuple[Database, Callable[[], None]]:
    path = workdir / name
    path.mkdir(parents=True, exist_ok=True)
    return open_database(None, path)


HEADER = (
    "| seed | pool | requests | policy | filled (Exc/Good) | over cap | <30 d | <21 d | consec. weeks | Gini "
    "| busiest (tier) | idle fits (requests) | s |\n"
    "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pools", type=int, nargs="+", default=[25, 250])
    parser.add_argument("--requests", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seeds", type=int, nargs="+", default=[], help="default: 1")
    parser.add_argument("--seed", type=int, action="append", default=[], help="one more seed (repeatable)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per policy")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="skewed", help="demand and pool (Shape)")
    args = parser.parse_args(argv)
    seeds = list(dict.fromkeys(args.seeds + args.seed)) or [1]
    shape = "" if args.shape == "skewed" else f", shape {args.shape}"
    print(f"refdesk year simulation, seeds {' '.join(map(str, seeds))}, {YEAR}{shape}")
    print(HEADER, flush=True)
    margins: dict[int, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for pool_size in args.pools:
                for count in args.requests:
                    filled: dict[str, int] = {}
                    run(args, seed, pool_size, count, Path(tmp) / f"{seed}-{pool_size}-{count}", filled)
                    margins.setdefault(seed, []).append(filled["matcher"] - filled["plain"])
    print()
    for seed, found in margins.items():
        print(f"seed {seed}: matcher - plain per configuration: {' '.join(f'{m:+d}' for m in found)}")
    every = [m for found in margins.values() for m in found]
    behind = sum(m < 0 for m in every)
    print(f"total: {sum(every):+d} over {len(every)} configurations; matcher behind plain in {behind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
