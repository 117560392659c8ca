"""The kinds of reference (PROGRAM.md "Kinds of reference"): who covers which, and what each one asks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.rules.matching.policy import Policy
from bot.rules.vocabulary import AdvocateKind, ReferenceKind, RoleLevel, label_of

# An email Q&A can also go to someone who agreed to calls: it is the smaller ask. Peer conversations happen on
# their own, so nobody is brokered for one.
KIND_COVERAGE: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        ReferenceKind.CALL: frozenset({AdvocateKind.CALL}),
        ReferenceKind.EMAIL: frozenset({AdvocateKind.EMAIL, AdvocateKind.CALL}),
        ReferenceKind.SITE_VISIT: frozenset({AdvocateKind.SITE_VISIT}),
        ReferenceKind.EXECUTIVE: frozenset({AdvocateKind.EXECUTIVE}),
        ReferenceKind.PEER: frozenset(),
    }
)


@dataclass(frozen=True)
class KindRule:
    """What a kind of reference asks (PROGRAM.md "Kinds of reference"): scheduling, a big deal, seniority."""

    scheduled: bool  # a time is found with the advocate and the prospect (call, video, visit, meeting)
    big_deal: bool  # for the largest deals only (at or above STRATEGIC_MIN_DEAL_ARR): CS is warned below it
    min_level: str | None  # the advocate's lowest role level for this kind ("senior advocates only")
    brokered: bool = True  # False: it happens on its own and is logged, never arranged


KIND_RULES: Mapping[str, KindRule] = MappingProxyType(
    {
        ReferenceKind.CALL: KindRule(scheduled=True, big_deal=False, min_level=None),
        ReferenceKind.EMAIL: KindRule(scheduled=False, big_deal=False, min_level=None),
        ReferenceKind.SITE_VISIT: KindRule(scheduled=True, big_deal=True, min_level=RoleLevel.DIRECTOR),
        ReferenceKind.EXECUTIVE: KindRule(scheduled=True, big_deal=True, min_level=RoleLevel.VP),
        ReferenceKind.PEER: KindRule(scheduled=False, big_deal=False, min_level=None, brokered=False),
    }
)


def big_deal_warning(*, kind: str, deal_arr: int, policy: Policy) -> str | None:
    """Site visits and executive connections are for the largest deals: what CS should hear when it is not."""
    rule = KIND_RULES.get(kind)
    if rule is None or not rule.big_deal or deal_arr >= policy.strategic_min_deal_arr:
        return None
    return (
        f"{label_of(ReferenceKind, kind)} is for the largest deals (${policy.strategic_min_deal_arr:,}+ ARR; "
        f"this one: ${deal_arr:,}): a call or an email Q&A may be the better ask"
    )
