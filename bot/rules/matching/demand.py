"""What the program is being asked for lately: the recent requests' industries and company sizes, counted."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.rules.matching.grades import size_range
from bot.rules.matching.policy import Policy
from bot.rules.matching.records import Candidate, Need


@dataclass(frozen=True)
class Demand:
    """The requests of the last `Policy.demand_days` days (the one being ranked aside), as the store read them.

    Counted once when read (by wanted industry, and by size target), so each advocate's share is a lookup
    (industries, remembered per advocate's industry) or two binary searches (sizes): a shortlist asks it of
    every candidate.
    """

    total: int = 0
    industries: Counter[str] = field(default_factory=Counter)
    # The requests' size targets (grades.size_target: the prospect's size widened to the wanted band).
    sizes: Counter[tuple[int, int | None]] = field(default_factory=Counter)
    # For size_share: the targets' low ends, and their high ends (bounded ones only), each sorted.
    _lows: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    _highs: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    _by_industry: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lows, highs = [], []
        for (low, high), n in self.sizes.items():
            lows += [low] * n
            highs += [] if high is None else [high] * n
        self._lows.extend(sorted(lows))
        self._highs.extend(sorted(highs))

    @classmethod
    def of(cls, needs: Iterable[Need]) -> Demand:
        return cls.counted((need.industry, need.employees, need.size_band) for need in needs)

    @classmethod
    def counted(cls, asked: Iterable[tuple[str, int, str | None]]) -> Demand:
        """From each request's (wanted industry, prospect's employees, wanted size band): `of` without a Need
        per request (the store reads hundreds for each shortlist)."""
        industries: Counter[str] = Counter()
        sizes: Counter[tuple[int, int | None]] = Counter()
        for industry, employees, size_band in asked:
            industries[industry] += 1
            sizes[size_range(employees, size_band)] += 1
        return cls(total=industries.total(), industries=industries, sizes=sizes)

    def industry_share(self, candidate: Candidate, policy: Policy) -> float:
        """The part of the recent requests whose industry is the advocate's own or adjacent (not Poor)."""
        mine = candidate.industry
        known = self._by_industry.get(mine)
        if known is not None:
            return known
        near = policy.industry_adjacency
        fitting = sum(
            n
            for industry, n in self.industries.items()
            if industry == mine or mine in near.get(industry, ()) or industry in near.get(mine, ())
        )
        share = fitting / self.total if self.total else 0.0
        if len(self._by_industry) < 256:  # one policy per process; industries are a small vocabulary
            self._by_industry[mine] = share
        return share

    def size_share(self, candidate: Candidate) -> float:
        """The part of the recent requests whose company size the advocate's is within 5× of (not Poor).

        grades.within_five, counted: a target misses when its low end is above 5× theirs, or its high end is
        below a fifth of theirs; no target misses both (its high end is at least its low end).
        """
        if not self.total:
            return 0.0
        theirs = max(candidate.employees, 1)
        too_big = len(self._lows) - bisect_right(self._lows, 5 * theirs)  # low > 5 × theirs
        too_small = bisect_left(self._highs, -(-theirs // 5))  # 5 × high < theirs, i.e. high < ⌈theirs / 5⌉
        return (self.total - too_big - too_small) / self.total
