"""What the program is being asked for lately: the recent requests' industries and company sizes, counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.rules.matching.grades import size_target, within_five
from bot.rules.matching.policy import Policy
from bot.rules.matching.records import Candidate, Need


@dataclass(frozen=True)
class Demand:
    """The requests of the last `Policy.demand_days` days (the one being ranked aside), as the store read them.

    Counted once when read (by wanted industry, and by size target), so each advocate's share is a few sums.
    """

    total: int = 0
    industries: Counter[str] = field(default_factory=Counter)
    # The requests' size targets (grades.size_target: the prospect's size widened to the wanted band).
    sizes: Counter[tuple[int, int | None]] = field(default_factory=Counter)

    @classmethod
    def of(cls, needs: Iterable[Need]) -> Demand:
        industries: Counter[str] = Counter()
        sizes: Counter[tuple[int, int | None]] = Counter()
        for need in needs:
            industries[need.industry] += 1
            sizes[size_target(need)] += 1
        return cls(total=industries.total(), industries=industries, sizes=sizes)

    def industry_share(self, candidate: Candidate, policy: Policy) -> float:
        """The part of the recent requests whose industry is the advocate's own or adjacent (not Poor)."""
        near, mine = policy.industry_adjacency, candidate.industry
        fitting = sum(
            n
            for industry, n in self.industries.items()
            if industry == mine or mine in near.get(industry, ()) or industry in near.get(mine, ())
        )
        return fitting / self.total if self.total else 0.0

    def size_share(self, candidate: Candidate) -> float:
        """The part of the recent requests whose company size the advocate's is within 5× of (not Poor)."""
        fitting = sum(n for target, n in self.sizes.items() if within_five(target, candidate.employees))
        return fitting / self.total if self.total else 0.0
