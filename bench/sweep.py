"""bench.year's year, replayed in memory over many configurations: the matcher against plain, quickly.

    python -m bench.sweep [--seeds 1 .. 20] [--pools 25 100 250] [--requests 200 500] [--shapes ...] [--check]

The same pools and demand as bench.year (`Shape`: skewed, uniform, steep, strategic, geography, small-deals),
the same rules code (bot.rules.matching.rank, and the demand profile bot.flows.shortlist reads from the
store, here from the requests already played); only the store is replaced by the counts it would return
(usage_of below mirrors store.counts' usage columns: asked at 10:00, held three days later). Every
configuration plays the matcher (the first Good-or-better eligible advocate in rank's order) and plain
(bench.year.pick_plain: the program's limits, least recently used first) on the same year.

Printed: one line per shape (configurations, matcher behind plain in how many, the worst gap, the total
margin, violations, idle fits, mean Gini of each policy), then a total. `--check` also prints each
configuration's fills, to compare with `python -m bench.year` on the same seeds (they must be equal).
A measurement, not a test: it exits 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from bench.year import (
    EVERY_LIMIT,
    PROGRAM_LIMITS,
    SHAPES,
    Outcome,
    demand,
    fits_within_limits,
    gini,
    idle_fits,
    pick_plain,
    pool_rows,
    seed_of,
    violations,
)
from bot.flows import shortlist
from bot.rules.matching import Assessment, Candidate, Demand, Need, Policy, Usage, quarter_start, rank
from bot.settings import Settings

assert PROGRAM_LIMITS <= EVERY_LIMIT


def candidate_of(advocate_id: int, row: dict[str, Any]) -> Candidate:
    return Candidate(
        advocate_id=advocate_id, name=row["name"], title=row["title"], role_level=row["role_level"],
        company=row["company"], industry=row["industry"], employees=row["employees"], region=row["region"],
        country=row["country"], use_cases=tuple(row["use_cases"]), kinds=tuple(row["kinds"]), tier=row["tier"],
        status=row["status"], break_until=row["break_until"], account_trouble=row["account_trouble"],
        sentiment=row["sentiment"], usage=Usage(), joined_on=row["joined_on"], function=row.get("function"),
    )  # fmt: skip


def need_of(values: dict[str, Any]) -> Need:
    return Need(
        request_id=values["id"], industry=values["wanted_industry"], employees=values["prospect_employees"],
        use_case=values["wanted_use_case"], role_level=values["wanted_role_level"], kind=values["wanted_kind"],
        deal_arr=values["deal_arr"], prospect_key=values["prospect_key"], region=values.get("wanted_region"),
        country=values.get("wanted_country"), size_band=values["wanted_size_band"],
        function=values.get("wanted_function"),
    )  # fmt: skip


def usage_of(asks: list[date], today: date) -> Usage:
    """What store.counts' usage columns return for held references asked on `asks` (all before today)."""
    if not asks:
        return Usage()
    this_quarter = quarter_start(today)
    previous = quarter_start(this_quarter - timedelta(days=1))
    return Usage(
        total=len(asks),
        this_quarter=sum(d >= this_quarter for d in asks),
        last_asked=max(asks),
        last_used=max(asks) + timedelta(days=3),
        recent_90d=sum(d >= today - timedelta(days=90) for d in asks),
        previous_quarter=sum(previous <= d < this_quarter for d in asks),
        this_year=sum(d.year == today.year for d in asks),
    )


def resting(asks: list[date], candidate: Candidate, policy: Policy, today: date) -> bool:
    """Ruled out today by the 21 days between asks, the 30 days after a reference, or the quarterly cap."""
    if not asks:
        return False
    last = asks[-1]
    if (today - last).days < policy.min_days_between_asks or (today - last).days - 3 < policy.recent_use_days:
        return True
    cap = policy.caps.get(candidate.tier, min(policy.caps.values()))
    return sum(d >= quarter_start(today) for d in asks) >= cap


def near(need: Need, pool: dict[int, Candidate], policy: Policy) -> list[Candidate]:
    """bot.flows.shortlist.candidates_for's industry and size bounds."""
    industries = {need.industry, *policy.industry_adjacency.get(need.industry, ())}
    low, high = shortlist.size_target(need)
    least, most = -(-low // shortlist.SIZE_RATIO_POOR), (high * shortlist.SIZE_RATIO_POOR if high else 2**31)
    return [c for c in pool.values() if c.industry in industries and least <= c.employees <= most]


def play(name: str, pool: dict[int, Candidate], requests: list[dict[str, Any]], policy: Policy) -> Outcome:
    outcome, asks = Outcome(name), defaultdict(list)
    played: list[tuple[date, Need]] = []
    for values in requests:
        day, need = values["day"], need_of(values)
        # Like the store's strict shortlist query, leave out whoever a time limit rules out today: nobody
        # else's place in the order depends on them, and no policy could pick them.
        found = [
            replace(c, usage=usage_of(asks[c.advocate_id], day))
            for c in near(need, pool, policy)
            if not resting(asks[c.advocate_id], c, policy, day)
        ]
        since = day - timedelta(days=policy.demand_days)
        recent = Demand.of(n for d, n in played[-policy.demand_sample :] if d >= since)
        played.append((day, need))
        ranked = rank(need=need, candidates=found, policy=policy, today=day, demand=recent)
        chosen: Assessment | None
        if name == "matcher":
            chosen = next((a for a in ranked if shortlist.good_enough(a)), None)
        else:
            chosen = pick_plain(ranked)
        if chosen is None:
            fitting = {a.candidate.advocate_id for a in ranked if fits_within_limits(a, EVERY_LIMIT)}
            outcome.unfilled_fits.append((day, fitting))
            continue
        asks[chosen.candidate.advocate_id].append(day)
        outcome.grades[chosen.grade.label] += 1
        outcome.ledger.append((chosen.candidate.advocate_id, day))
    return outcome


@dataclass
class Tally:
    configurations: int = 0
    behind: int = 0
    worst: int = 0
    margin: int = 0
    violations: int = 0
    idle: int = 0
    gini_matcher: float = 0.0
    gini_plain: float = 0.0

    def add(self, margin: int, broken: int, idle: int, ginis: tuple[float, float]) -> None:
        self.configurations += 1
        self.behind += margin < 0
        self.worst = min(self.worst, margin)
        self.margin += margin
        self.violations += broken
        self.idle += idle
        self.gini_matcher += ginis[0]
        self.gini_plain += ginis[1]

    def line(self, label: str) -> str:
        n = max(self.configurations, 1)
        return (
            f"| {label} | {self.configurations} | {self.behind} | {self.worst:+d} | {self.margin:+d} "
            f"| {self.violations} | {self.idle} | {self.gini_matcher / n:.3f} | {self.gini_plain / n:.3f} |"
        )


HEADER = (
    "| shape | configurations | matcher behind plain | worst gap | total margin | violations (matcher) "
    "| idle fits (matcher) | mean Gini matcher | mean Gini plain |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 21)))
    parser.add_argument("--pools", type=int, nargs="+", default=[25, 100, 250])
    parser.add_argument("--requests", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--check", action="store_true", help="print every configuration's fills")
    args = parser.parse_args(argv)
    policy = shortlist.policy_from(Settings())
    started = time.perf_counter()
    tallies: dict[str, Tally] = {}
    gaps: Counter[str] = Counter()
    for shape_name in args.shapes:
        shape, tally = SHAPES[shape_name], tallies.setdefault(shape_name, Tally())
        for seed in args.seeds:
            for pool_size in args.pools:
                for count in args.requests:
                    rng = random.Random(seed_of(shape, seed, pool_size, count))
                    rows = list(pool_rows(rng, pool_size, shape))
                    requests = demand(rng, count, shape)
                    pool = {i + 1: candidate_of(i + 1, row) for i, row in enumerate(rows)}
                    tiers = {a: c.tier for a, c in pool.items()}
                    mine, plain = (play(name, pool, requests, policy) for name in ("matcher", "plain"))
                    filled = [sum(o.grades.values()) for o in (mine, plain)]
                    broken = sum(violations(mine.ledger, tiers, policy).values())
                    ginis = tuple(
                        gini([Counter(a for a, _ in o.ledger).get(a, 0) for a in pool]) for o in (mine, plain)
                    )
                    tally.add(filled[0] - filled[1], broken, idle_fits(mine)[0], ginis)  # type: ignore[arg-type]
                    if filled[0] < filled[1]:
                        gaps[f"{shape_name} seed {seed} pool {pool_size} requests {count}"] = (
                            filled[0] - filled[1]
                        )
                    if args.check:
                        print(f"{shape_name} seed {seed} pool {pool_size} requests {count}: "
                              f"matcher {filled[0]} plain {filled[1]}", flush=True)  # fmt: skip
        print(tally.line(shape_name), flush=True) if not args.check else None
    total = Tally()
    for tally in tallies.values():
        for field_name in vars(total):
            value = getattr(tally, field_name)
            setattr(
                total,
                field_name,
                min(total.worst, value) if field_name == "worst" else getattr(total, field_name) + value,
            )
    print()
    print(HEADER)
    for name, tally in tallies.items():
        print(tally.line(name))
    print(total.line("all"))
    for where, gap in sorted(gaps.items(), key=lambda item: item[1]):
        print(f"behind: {where}: {gap:+d}")
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
