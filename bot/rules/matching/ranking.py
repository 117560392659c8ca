"""One request's ranking: assess every advocate, order the eligible ones, cut the shortlist."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import date

from bot.rules.matching.demand import Demand
from bot.rules.matching.grades import Memo, dimensions, group_words, new_memo, steady_memo, word_stems
from bot.rules.matching.kinds import KIND_COVERAGE
from bot.rules.matching.limits import cap_of, exclusions, next_eligible, reserved_for_big_deals
from bot.rules.matching.policy import Policy
from bot.rules.matching.records import ROLE_ORDER, Assessment, Candidate, Dimension, Grade, Need, quick
from bot.rules.vocabulary import Industry


def assess(
    *,
    need: Need,
    candidate: Candidate,
    policy: Policy,
    today: date,
    demand: Demand | None = None,
    memo: Memo | None = None,
    steady: Memo | None = None,
) -> Assessment:
    """Grade one advocate against one request and list every hard limit that rules them out.

    `demand` (the recent requests, bot.flows.shortlist reads them) only orders equals; without it the
    advocate's profile alone says how much they are likely to be needed (`breadth`). `memo` and `steady`:
    grades.dimensions'.
    """
    graded = dimensions(need=need, candidate=candidate, policy=policy, today=today, memo=memo, steady=steady)
    overall, score = _overall(graded)
    found = exclusions(need, candidate, policy, today)
    share, reserved = _demand(need, candidate, policy, demand)
    return quick(
        Assessment,
        candidate=candidate,
        grade=overall,
        dimensions=graded,
        exclusions=found,
        score=score,
        # Every limit that puts the date off excludes today, so whoever nothing excludes is free today: a
        # shortlist's eligible hundreds skip the dates (tests/test_matching.py checks the two agree).
        next_eligible=next_eligible(candidate, policy, today) if found else today,
        reserved=reserved,
        demand=share,
    )


def _overall(graded: Sequence[Dimension]) -> tuple[Grade, int]:
    """The overall grade and the score (the sum of the grades). PROGRAM.md: Excellent only when every dimension
    that applies is excellent; Poor when any is poor."""
    overall, score = Grade.EXCELLENT, 0
    for dimension in graded:  # one loop for both: a shortlist at 100k advocates grades thousands
        score += dimension.grade
        if dimension.grade < overall:
            overall = dimension.grade
    return overall, score


def _demand(need: Need, candidate: Candidate, policy: Policy, demand: Demand | None) -> tuple[float, bool]:
    """What the order reads after the grade: the need for the advocate over the room left in their quarter,
    and whether their quarter is held for bigger deals (reserved_for_big_deals)."""
    reserved = reserved_for_big_deals(need, candidate, policy)
    return need_share(candidate, policy, demand) / _room(candidate, policy, reserved), reserved


def breadth(candidate: Candidate, policy: Policy) -> float:
    """The share of all possible requests the advocate could serve at Good or better, from their profile alone.

    The product of four shares: industries (their own and its neighbours), wanted role levels (theirs and
    below, and one above), kinds of reference they cover, and use-case themes their tags touch. A specialist
    scores low, someone who fits almost anything high. Pure and demand-blind: a way to tell, among advocates
    of the same grade, who the rest of the quarter is least likely to need.
    """
    shares = _profile_shares(candidate, policy)
    return shares[0] * shares[1] * shares[2] * shares[3]


# Recent demand is a sample: a few requests say little. Each share measured on them is shrunk toward what the
# profile alone says (the industry share counted in the vocabulary; one half for size, which the profile can't
# say) as if PRIOR_REQUESTS more requests had come in that way. bench.sweep: behind least-recently-used in
# fewer simulated years with it, light loads and heavy (README "The matcher").
PRIOR_REQUESTS = 10
PRIOR_SIZE_SHARE = 0.5


def need_share(candidate: Candidate, policy: Policy, demand: Demand | None) -> float:
    """The share of the requests coming in that the advocate could serve at Good or better: `breadth`, with
    its industry share measured on the recent requests instead of counted in the vocabulary, times the share
    of recent requests of a company size theirs is within 5× of. Without recent requests, `breadth`; with a
    few, each measured share leans on the profile's (PRIOR_REQUESTS).

    The other three shares (role levels, kinds, use-case themes) stay the profile's own: measured on a
    quarter of requests they barely tell advocates apart (most requests are calls for managers and
    directors), and bench.sweep filled fewer requests with them measured than counted.
    """
    shares = _profile_shares(candidate, policy)
    if demand is None or not demand.total:
        return shares[0] * shares[1] * shares[2] * shares[3]
    seen, prior = demand.total, PRIOR_REQUESTS
    industry = (demand.industry_share(candidate, policy) * seen + shares[0] * prior) / (seen + prior)
    size = (demand.size_share(candidate) * seen + PRIOR_SIZE_SHARE * prior) / (seen + prior)
    return industry * shares[1] * shares[2] * shares[3] * size


Shares = tuple[float, float, float, float]


def _industry_share(industry: str, policy: Policy) -> float:
    near = policy.industry_adjacency
    industries = {industry, *near.get(industry, ())}
    industries |= {other for other, theirs in near.items() if industry in theirs}
    return len(industries) / len(Industry)


def _level_share(role_level: str, policy: Policy) -> float:
    mine = ROLE_ORDER.get(role_level, 0)
    return sum(1 for rank in ROLE_ORDER.values() if rank - mine <= 1) / len(ROLE_ORDER)


def _kind_share(kinds: tuple[str, ...], policy: Policy) -> float:
    offered = set(kinds)
    covering = [kind for kind, covered in KIND_COVERAGE.items() if covered]
    return sum(1 for kind in covering if KIND_COVERAGE[kind] & offered) / len(covering)


def _theme_share(use_cases: tuple[str, ...], policy: Policy) -> float:
    groups = group_words(policy.use_case_groups)
    words = frozenset().union(*map(word_stems, use_cases))
    return (len(use_cases) + sum(1 for group in groups if group & words)) / (len(groups) + 2)


# breadth's four shares, each of one profile field: industries, wanted role levels, kinds, use-case themes.
_SHARE_OF = (_industry_share, _level_share, _kind_share, _theme_share)
# Each share remembered per policy and the one field it reads: a shortlist asks for every candidate, and a pool
# repeats a few industries, levels, kind lists and a few thousand tag lists (remembered per whole profile, 4 in
# 10 candidates at 100k advocates were a new profile). A policy is not hashable, so it is keyed by identity and
# kept beside the answer to rule out a reused id.
_SHARES: dict[tuple[int, int, object], tuple[Policy, float]] = {}
_SHARES_MAX = 50_000


def _profile_shares(candidate: Candidate, policy: Policy) -> Shares:
    """breadth's four shares: industries, wanted role levels, kinds, use-case themes."""
    fields = (candidate.industry, candidate.role_level, tuple(candidate.kinds), tuple(candidate.use_cases))
    shares = []
    for which, field in enumerate(fields):
        key = (id(policy), which, field)
        known = _SHARES.get(key)
        if known is None or known[0] is not policy:
            if len(_SHARES) >= _SHARES_MAX:
                _SHARES.clear()
            known = _SHARES[key] = (policy, _SHARE_OF[which](field, policy))
        shares.append(known[1])
    return shares[0], shares[1], shares[2], shares[3]


def _room(candidate: Candidate, policy: Policy, reserved: bool) -> int:
    """Asks left in the advocate's quarter for this request. On a smaller deal a strategic advocate's quarter
    is held for big deals: it counts as one ask, so their high cap never puts them ahead of an equal-grade
    advocate the coming weeks need as much (PROGRAM.md: a reservation)."""
    if reserved:
        return 1
    return max(cap_of(candidate, policy) - candidate.usage.this_quarter, 1)


def _order(a: Assessment) -> tuple[object, ...]:
    # PROGRAM.md: grade first. Among equal grades, the one the rest of the quarter needs least: the share of
    # incoming requests they could serve (need_share: recent demand for their industries and size, their
    # profile's breadth otherwise) over the asks left in their quarter (_room; a strategic advocate on a
    # smaller deal has one), so specialists serve the requests only they fit and the highest caps carry the
    # most. At equal need, a strategic advocate on a smaller deal comes after the others (the reservation);
    # then rotation: never asked first, then longest since the last ask, fewest this quarter, fewest ever.
    # Every limit is already met by everyone ranked here. bench.year and bench.sweep measure the order
    # against least recently used.
    return _key(a.grade, a.demand, a.reserved, a.candidate)


def _key(grade: Grade, demand: float, reserved: bool, candidate: Candidate) -> tuple[object, ...]:
    """_order's key from its parts, for an advocate not assessed in full (first_page)."""
    usage = candidate.usage
    asked = (usage.last_asked is not None, usage.last_asked or date.min)
    return (-grade, demand, reserved, asked, usage.this_quarter, usage.total, candidate.advocate_id)


def rank(
    *, need: Need, candidates: Iterable[Candidate], policy: Policy, today: date, demand: Demand | None = None
) -> list[Assessment]:
    """Eligible advocates best first, then the excluded ones (fewest exclusions first) so CS can see why."""
    memo = new_memo()  # for this request, policy and day: each dimension graded once per value it reads
    steady = steady_memo(policy, today)
    assessed = [
        assess(need=need, candidate=c, policy=policy, today=today, demand=demand, memo=memo, steady=steady)
        for c in candidates
    ]
    eligible = sorted((a for a in assessed if not a.excluded), key=_order)
    excluded = sorted((a for a in assessed if a.excluded), key=lambda a: (len(a.exclusions), *_order(a)))
    return eligible + excluded


def first_page(
    *,
    need: Need,
    candidates: Iterable[Candidate],
    policy: Policy,
    today: date,
    demand: Demand | None = None,
    size: int = 5,
) -> tuple[list[Assessment], int]:
    """`shortlist(rank(...), size)` and how many advocates `shortlist` would keep with no limit: what a
    shortlist's first page shows (its best and the count of good matches), without assessing everyone.

    Each advocate is graded and checked against every limit, as rank does; only the good-enough ones of the best
    grades the page reaches get the order's demand, and only the page's own are assessed in full. At 100k
    advocates a first page weighs ~1,000-2,500 candidates and shows five. tests/test_matching.py holds the answer
    to rank's.
    """
    memo = new_memo()
    steady = steady_memo(policy, today)
    by_grade: dict[Grade, list[Candidate]] = {Grade.EXCELLENT: [], Grade.GOOD: []}
    for c in candidates:
        graded = dimensions(need=need, candidate=c, policy=policy, today=today, memo=memo, steady=steady)
        grade, _ = _overall(graded)
        if grade is not Grade.POOR and not exclusions(need, c, policy, today):
            by_grade[grade].append(c)
    best: list[Candidate] = []
    for grade in (Grade.EXCELLENT, Grade.GOOD):  # grade comes first in the order
        wanted = size - len(best)
        if wanted <= 0:
            break
        group = by_grade[grade]
        if len(group) > wanted:
            group = heapq.nsmallest(
                wanted, group, key=lambda c: _key(grade, *_demand(need, c, policy, demand), c)  # noqa: B023
            )
        best.extend(group)
    page = [
        assess(need=need, candidate=c, policy=policy, today=today, demand=demand, memo=memo, steady=steady)
        for c in best
    ]
    return sorted(page, key=_order), len(by_grade[Grade.EXCELLENT]) + len(by_grade[Grade.GOOD])


def shortlist(ranked: Sequence[Assessment], limit: int = 5) -> list[Assessment]:
    """The first `limit` eligible advocates that reach at least "good"; empty means send the rep back."""
    return [a for a in ranked if not a.excluded and a.grade is not Grade.POOR][:limit]
