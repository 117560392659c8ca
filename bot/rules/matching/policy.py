"""The settings matching follows (PROGRAM.md's numbers as defaults): caps, days, adjacency, use-case themes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.rules.vocabulary import Tier

# Each line is a cluster of industries that understand each other's problems; adjacency is symmetric. An
# advocate in an adjacent industry is at best Good ("similar/adjacent" in the matrix). CS adds pairs with
# INDUSTRY_ADJACENCY; README "The matcher" lists the resulting map.
_INDUSTRY_CLUSTERS = (
    "software telecom media professional_services",  # digital products, platforms and services
    "software financial_services",  # fintech: banks and payment firms run like software companies
    "software logistics",  # supply-chain and fleet platforms
    "financial_services insurance professional_services",  # regulated money, audit and advisory
    "healthcare life_sciences insurance",  # patients, payers and pharma: privacy and compliance
    "manufacturing life_sciences",  # regulated production and quality
    "manufacturing energy logistics",  # physical operations, plants and assets
    "retail logistics media",  # consumer reach, e-commerce, fulfilment
    "telecom energy public_sector",  # regulated infrastructure and utilities
    "education public_sector nonprofit healthcare",  # public service, budgets and procurement
)


def _adjacency(clusters: Iterable[str]) -> Mapping[str, frozenset[str]]:
    neighbours: dict[str, set[str]] = {}
    for cluster in map(str.split, clusters):
        for industry in cluster:
            neighbours.setdefault(industry, set()).update(set(cluster) - {industry})
    return MappingProxyType({industry: frozenset(near) for industry, near in neighbours.items()})


DEFAULT_CAPS: Mapping[str, int] = MappingProxyType({Tier.STRATEGIC: 4, Tier.STANDARD: 2, Tier.NEW: 1})
DEFAULT_INDUSTRY_ADJACENCY = _adjacency(_INDUSTRY_CLUSTERS)
DEFAULT_USE_CASE_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "migration migrate cloud modernization modernize legacy replatform",
        "scheduling scheduler orchestration automation workflow batch jobs pipeline",
        "security compliance audit governance risk privacy",
        "analytics reporting data dashboards insights warehouse metrics",
        "integration api connectors etl sync",
        "cost savings consolidation licensing roi",
        "onboarding adoption training rollout",
        "scale scalability performance reliability uptime availability",
    )
)


@dataclass(frozen=True)
class Policy:
    """PROGRAM.md's settings for matching; mappings given by callers are copied and frozen."""

    caps: Mapping[str, int] = field(default_factory=lambda: DEFAULT_CAPS)
    min_days_between_asks: int = 21
    recent_use_days: int = 30
    preferred_days: int = 45
    fatigue_threshold: int = 3
    reply_slowdown: float = 1.5
    strategic_min_deal_arr: int = 250_000
    # The part of a strategic advocate's quarter that only deals of strategic_min_deal_arr+ may use.
    strategic_reserved: int = 1
    # Seed 000: customers too new to have meaningful experience are skipped; seed 001: six months in. Below it
    # an advocate is Good at best (the "tenure" dimension, graded when joined_on is known).
    min_tenure_days: int = 180
    # Seed 001: "3–4 requests a year per customer". 0 = off (the default): the quarterly caps govern.
    yearly_limit: int = 0
    # How far back the recent requests go when the shortlist weighs who the coming weeks will need most.
    demand_days: int = 90
    demand_sample: int = 200  # at most this many of them, the newest
    industry_adjacency: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: DEFAULT_INDUSTRY_ADJACENCY
    )
    use_case_groups: tuple[frozenset[str], ...] = DEFAULT_USE_CASE_GROUPS

    def __post_init__(self) -> None:
        object.__setattr__(self, "caps", MappingProxyType(dict(self.caps)))
        adjacency = {key: frozenset(value) for key, value in self.industry_adjacency.items()}
        object.__setattr__(self, "industry_adjacency", MappingProxyType(adjacency))
        object.__setattr__(self, "use_case_groups", tuple(frozenset(group) for group in self.use_case_groups))
