"""The matching matrix and the hard limits (PROGRAM.md): grade, exclude and rank advocates for one request."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from functools import lru_cache
from types import MappingProxyType

from bot.rules.vocabulary import (
    AdvocateKind,
    AdvocateStatus,
    Function,
    Industry,
    ReferenceKind,
    RoleLevel,
    Tier,
    label_of,
)


class Grade(IntEnum):
    """Ordered so that better is greater; the value is the grade's points in the score."""

    EXCELLENT = 2
    GOOD = 1
    POOR = 0

    @property
    def label(self) -> str:
        return self.name.capitalize()


class DimensionName(StrEnum):
    INDUSTRY = "industry"
    COMPANY_SIZE = "company size"
    USE_CASE = "use case"
    ROLE = "role"
    GEOGRAPHY = "geography"
    SENTIMENT = "sentiment"
    LAST_USED = "last used"
    TENURE = "tenure"


class ExclusionCode(StrEnum):
    CAP = "cap"
    MIN_GAP = "min_gap"
    CONSECUTIVE_WEEK = "consecutive_week"
    RECENT_USE = "recent_use"
    BREAK = "break"
    RETIRED = "retired"
    ACCOUNT_TROUBLE = "account_trouble"
    FATIGUE = "fatigue"
    SAME_PROSPECT = "same_prospect"
    PENDING = "pending"
    KIND = "kind"
    STRATEGIC = "strategic"
    YEARLY = "yearly"


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

_ROLE_ORDER = {level.value: rank for rank, level in enumerate(RoleLevel)}


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
    industry_adjacency: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: DEFAULT_INDUSTRY_ADJACENCY
    )
    use_case_groups: tuple[frozenset[str], ...] = DEFAULT_USE_CASE_GROUPS

    def __post_init__(self) -> None:
        object.__setattr__(self, "caps", MappingProxyType(dict(self.caps)))
        adjacency = {key: frozenset(value) for key, value in self.industry_adjacency.items()}
        object.__setattr__(self, "industry_adjacency", MappingProxyType(adjacency))
        object.__setattr__(self, "use_case_groups", tuple(frozenset(group) for group in self.use_case_groups))


@dataclass(frozen=True)
class Need:
    request_id: int
    industry: str
    employees: int
    use_case: str
    role_level: str
    kind: str
    deal_arr: int
    prospect_key: str
    region: str | None = None
    country: str | None = None
    # The wanted reference's company size (a SizeBand value such as "201-1000"); None: the prospect's size only.
    size_band: str | None = None
    # The function the reference should lead (a Function value); None: any.
    function: str | None = None


@dataclass(frozen=True)
class Usage:
    total: int = 0
    this_quarter: int = 0
    last_asked: date | None = None
    last_used: date | None = None
    recent_90d: int = 0
    passes_recent: int = 0
    passes_before: int = 0
    reply_hours_recent: float | None = None
    reply_hours_before: float | None = None
    asked_for_prospect: bool = False
    pending_elsewhere: bool = False
    previous_quarter: int = 0
    this_year: int = 0


@dataclass(frozen=True)
class Candidate:
    advocate_id: int
    name: str
    title: str
    role_level: str
    company: str
    industry: str
    employees: int
    region: str | None
    country: str | None
    use_cases: tuple[str, ...]
    kinds: tuple[str, ...]
    tier: str
    status: str
    break_until: date | None
    account_trouble: bool
    sentiment: float | None
    usage: Usage
    joined_on: date | None = None
    function: str | None = None


@dataclass(frozen=True)
class Dimension:
    name: str
    grade: Grade
    reason: str


@dataclass(frozen=True)
class Exclusion:
    code: str
    reason: str


@dataclass(frozen=True)
class Assessment:
    candidate: Candidate
    grade: Grade
    dimensions: tuple[Dimension, ...]
    exclusions: tuple[Exclusion, ...]
    score: int
    next_eligible: date | None
    reserved: bool = False
    # What the rest of the quarter is likely to need of them: breadth() over the asks left in their quarter.
    demand: float = 0.0

    @property
    def excluded(self) -> bool:
        return bool(self.exclusions)


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def next_quarter_start(d: date) -> date:
    start = quarter_start(d)
    return date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _ago(days: int) -> str:
    return "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"


# Words too common to say two use cases are related.
_STOPWORDS = frozenset(
    """the and for with from off our their into onto over out via per etc who that this these those are was
    were has have had how what when why not but all any can its they them you your want wants need needs
    looking about like more less than using use""".split()  # noqa: SIM905 (a word list reads better as text)
)
# Longest first; a crude stem so that "scheduler" meets "scheduling" and "migrating" meets "migration".
_SUFFIXES = ("ings", "ions", "ers", "ing", "ion", "ed", "er", "es", "e", "s")

Graded = tuple[Grade, str]


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65_536)
def _words(text: str) -> frozenset[str]:
    """Cached: the same tags and groups come back for every candidate of every request."""
    return frozenset(_stem(w) for w in re.findall(r"[^\W\d_]{3,}", text.casefold()) if w not in _STOPWORDS)


@lru_cache(maxsize=64)
def _group_words(groups: tuple[frozenset[str], ...]) -> tuple[frozenset[str], ...]:
    return tuple(_words(" ".join(sorted(group))) for group in groups)


def _industry(need: Need, candidate: Candidate, policy: Policy) -> Graded:
    wanted, theirs = label_of(Industry, need.industry), label_of(Industry, candidate.industry)
    if candidate.industry == need.industry:
        return Grade.EXCELLENT, f"Exact industry: {wanted}"
    near = policy.industry_adjacency
    # Either direction counts, so an operator's one-sided override still reads as symmetric.
    if candidate.industry in near.get(need.industry, ()) or need.industry in near.get(candidate.industry, ()):
        return Grade.GOOD, f"Adjacent industry: {theirs} (wanted {wanted})"
    return Grade.POOR, f"Different industry: {theirs} (wanted {wanted})"


def band_bounds(band: str | None) -> tuple[int, int | None] | None:
    """A SizeBand value ("201-1000", "5001+") as (low, high); high None is open-ended; None when unreadable."""
    if not band:
        return None
    low, _, high = band.replace("+", "-").partition("-")
    try:
        return int(low), int(high) if high else None
    except ValueError:
        return None


def size_target(need: Need) -> tuple[int, int | None]:
    """The company sizes a reference is measured against: the prospect's, widened to the wanted band."""
    prospect = max(need.employees, 1)
    bounds = band_bounds(need.size_band)
    if bounds is None:
        return prospect, prospect
    low, high = bounds
    return min(max(low, 1), prospect), None if high is None else max(high, prospect)


def _size(need: Need, candidate: Candidate) -> Graded:
    theirs = max(candidate.employees, 1)
    low, high = size_target(need)
    # The distance to the nearer end of the target; integer comparisons keep the 2× and 5× boundaries exact.
    if theirs < low:
        big, small = low, theirs
    elif high is not None and theirs > high:
        big, small = theirs, high
    else:
        big = small = theirs
    grade = Grade.EXCELLENT if big <= 2 * small else Grade.GOOD if big <= 5 * small else Grade.POOR
    if big == small:
        if low == high:
            return grade, f"Company the same size as the prospect ({theirs:,} employees)"
        return grade, f"Company of the wanted size ({theirs:,} employees)"
    side = "the prospect's size" if theirs > small else "smaller than the prospect"
    if low != high:
        side = "the wanted size" if theirs > small else "smaller than the wanted size"
    return grade, f"Company {big / small:.3g}× {side}"


def _use_case(need: Need, candidate: Candidate, policy: Policy) -> Graded:
    text, wanted = " ".join(need.use_case.casefold().split()), _words(need.use_case)
    groups = _group_words(policy.use_case_groups)
    related: str | None = None
    for tag in candidate.use_cases:
        words = _words(tag)
        if " ".join(tag.casefold().split()) == text or (
            words and wanted and (words <= wanted or wanted <= words)
        ):
            return Grade.EXCELLENT, f'Same use case: "{tag}"'
        if related is None and (words & wanted or any(words & g and wanted & g for g in groups)):
            related = tag
    if related is not None:
        return Grade.GOOD, f'Related use case: "{related}"'
    if not candidate.use_cases:
        return Grade.POOR, "No use cases on file"
    return Grade.POOR, f"Unrelated use cases: {', '.join(candidate.use_cases)}"


# Functions that speak across the business: an executive (CEO, GM) or an unclassified one is at best Good.
_GENERAL_FUNCTIONS = frozenset({Function.EXECUTIVE, Function.OTHER})


def _function(need: Need, candidate: Candidate) -> Graded | None:
    """Role is seniority and function (a CFO wants a finance leader); None when either side is not known."""
    wanted, theirs = need.function, candidate.function
    if not wanted or not theirs:
        return None
    label, wanted_label = label_of(Function, theirs), label_of(Function, wanted)
    if wanted == theirs:
        return Grade.EXCELLENT, f"same function ({label})"
    if wanted in _GENERAL_FUNCTIONS or theirs in _GENERAL_FUNCTIONS:
        return Grade.GOOD, f"related function: {label} (wanted {wanted_label})"
    return Grade.POOR, f"different function: {label} (wanted {wanted_label})"


def _role(need: Need, candidate: Candidate) -> Graded:
    level, reason = _level(need, candidate)
    function = _function(need, candidate)
    if function is None:
        return level, reason
    return min(level, function[0]), f"{reason}; {function[1]}"


def _level(need: Need, candidate: Candidate) -> Graded:
    wanted, theirs = _ROLE_ORDER.get(need.role_level), _ROLE_ORDER.get(candidate.role_level)
    label, wanted_label = label_of(RoleLevel, candidate.role_level), label_of(RoleLevel, need.role_level)
    if wanted is None or theirs is None:
        return Grade.POOR, f"Unknown role level: {label} (wanted {wanted_label})"
    gap = wanted - theirs
    if gap == 0:
        return Grade.EXCELLENT, f"Same level: {label}"
    if gap < 0:
        return Grade.EXCELLENT, f"More senior: {label} (wanted {wanted_label})"
    if gap == 1:
        return Grade.GOOD, f"One level below: {label} (wanted {wanted_label})"
    return Grade.POOR, f"{gap} levels below: {label} (wanted {wanted_label})"


def _geography(need: Need, candidate: Candidate) -> Graded:
    # PROGRAM.md: same region is excellent, same country good; when geography matters (the request names a
    # region or a country) anywhere else is not good. A region is the finer unit a program keeps (a metro, a
    # state, "DACH").
    if need.region and candidate.region and need.region.casefold() == candidate.region.casefold():
        return Grade.EXCELLENT, f"Same region: {candidate.region}"
    if need.country and candidate.country and need.country.casefold() == candidate.country.casefold():
        return Grade.GOOD, f"Same country: {candidate.country}"
    where = candidate.country or candidate.region or "unknown"
    wanted = need.country or need.region
    return Grade.POOR, f"Different country: {where} (wanted {wanted})"


SENTIMENT_GOOD = 0.4
SENTIMENT_EXCELLENT = 0.7


def _sentiment(candidate: Candidate) -> Graded:
    s = candidate.sentiment
    if s is None:
        return Grade.GOOD, "No feedback yet"
    if s >= SENTIMENT_EXCELLENT:
        return Grade.EXCELLENT, f"Positive feedback ({s:.2f})"
    if s >= SENTIMENT_GOOD:
        return Grade.GOOD, f"Mixed feedback ({s:.2f})"
    return Grade.POOR, f"Low sentiment ({s:.2f})"


def _last_used(candidate: Candidate, policy: Policy, today: date) -> Graded:
    if candidate.usage.last_used is None:
        return Grade.EXCELLENT, "Never used"
    days = (today - candidate.usage.last_used).days
    if days >= policy.preferred_days:
        return Grade.EXCELLENT, f"Used {_ago(days)}"
    return Grade.GOOD if days >= policy.recent_use_days else Grade.POOR, f"Used {_ago(days)}"


def _tenure(candidate: Candidate, policy: Policy, today: date) -> Graded:
    # Seed 000 skips customers too new to have meaningful experience; seed 001 puts six months in at a
    # testimonial. The tier "new" (cap 1) still lets them start, so newness grades down, it does not exclude.
    days = max((today - candidate.joined_on).days, 0) if candidate.joined_on else 0
    if days < policy.min_tenure_days:
        return Grade.GOOD, f"Customer for {days} days: still new (Excellent from {policy.min_tenure_days})"
    return Grade.EXCELLENT, f"Customer for {days // 30} months"


def _cap(candidate: Candidate, policy: Policy) -> int:
    # An unknown tier gets the smallest cap: the safe side for the advocate.
    return policy.caps.get(candidate.tier, min(policy.caps.values(), default=0))


def _fatigue_signals(usage: Usage, policy: Policy) -> list[str]:
    signals = []
    # More than the threshold in a quarter means a rest for the rest of it and the whole next quarter.
    for count, when in ((usage.this_quarter, "this quarter"), (usage.previous_quarter, "last quarter")):
        if count > policy.fatigue_threshold:
            signals.append(f"{count} references {when} (more than {policy.fatigue_threshold})")
    if usage.passes_recent > usage.passes_before and usage.passes_recent >= 2:
        signals.append(f"{usage.passes_recent} passes in 180 days (before: {usage.passes_before})")
    recent, before = usage.reply_hours_recent, usage.reply_hours_before
    if recent is not None and before is not None and recent >= 24 and recent > before * policy.reply_slowdown:
        signals.append(f"slower replies ({recent:.0f} h, before: {before:.0f} h)")
    return signals


def fatigue_signals(usage: Usage, policy: Policy) -> list[str]:
    """Why an advocate looks tired, in words (empty when they do not): Home's "needing care" says the same."""
    return _fatigue_signals(usage, policy)


def _exclusions(need: Need, candidate: Candidate, policy: Policy, today: date) -> tuple[Exclusion, ...]:
    usage, tier = candidate.usage, candidate.tier
    found: list[tuple[ExclusionCode, str]] = []
    if usage.this_quarter >= (cap := _cap(candidate, policy)):
        found.append(
            (ExclusionCode.CAP, f"Quarterly cap reached: {usage.this_quarter} of {cap} this quarter ({tier})")
        )
    if usage.last_asked is not None:
        if (days := (today - usage.last_asked).days) < (gap := policy.min_days_between_asks):
            found.append((ExclusionCode.MIN_GAP, f"Asked {_ago(days)}: at least {gap} days between asks"))
        # Comparing the Mondays of ISO weeks handles year ends (week 53, then week 1) with no week arithmetic.
        if (asked := _monday(usage.last_asked)) >= _monday(today) - timedelta(days=7):
            week = "this week" if asked >= _monday(today) else "last week"
            found.append((ExclusionCode.CONSECUTIVE_WEEK, f"Asked {week}: never in consecutive weeks"))
    if usage.last_used is not None and (days := (today - usage.last_used).days) < policy.recent_use_days:
        found.append(
            (
                ExclusionCode.RECENT_USE,
                f"Used {_ago(days)}: a {policy.recent_use_days}-day rest after each reference",
            )
        )
    if candidate.status == AdvocateStatus.BREAK and not (
        candidate.break_until and today >= candidate.break_until
    ):
        until = f" until {candidate.break_until.isoformat()}" if candidate.break_until else ""
        found.append((ExclusionCode.BREAK, f"On a break{until}"))
    if candidate.status == AdvocateStatus.RETIRED:
        found.append((ExclusionCode.RETIRED, "Retired from the program"))
    if candidate.account_trouble:
        found.append((ExclusionCode.ACCOUNT_TROUBLE, "The account has open technical or onboarding trouble"))
    if signals := _fatigue_signals(usage, policy):
        found.append((ExclusionCode.FATIGUE, f"Fatigue: {'; '.join(signals)}"))
    if usage.asked_for_prospect:
        found.append((ExclusionCode.SAME_PROSPECT, "Already asked for this prospect"))
    if usage.pending_elsewhere:
        found.append((ExclusionCode.PENDING, "Has an open ask on another request"))
    if need.kind == ReferenceKind.PEER:
        found.append((ExclusionCode.KIND, "Peer conversations are logged, not brokered"))
    elif not KIND_COVERAGE.get(need.kind, frozenset()) & set(candidate.kinds):
        found.append((ExclusionCode.KIND, f"Not open to this kind: {label_of(ReferenceKind, need.kind)}"))
    elif (
        (rule := KIND_RULES.get(need.kind))
        and rule.min_level
        and _ROLE_ORDER.get(candidate.role_level, -1) < _ROLE_ORDER[rule.min_level]
    ):
        kind, level = label_of(ReferenceKind, need.kind), label_of(RoleLevel, rule.min_level)
        found.append((ExclusionCode.KIND, f"{kind}: for senior advocates ({level} or above)"))
    if (
        reserved_for_big_deals(need, candidate, policy)
        and usage.this_quarter < cap
        and usage.this_quarter >= cap - policy.strategic_reserved
    ):
        floor = policy.strategic_min_deal_arr
        reason = (
            f"Strategic advocate: the last {policy.strategic_reserved} of {cap} this quarter are kept for deals "
            f"of ${floor:,}+ ARR (this one: ${need.deal_arr:,})"
        )
        found.append((ExclusionCode.STRATEGIC, reason))
    if policy.yearly_limit and usage.this_year >= policy.yearly_limit:
        reason = f"Yearly limit reached: {usage.this_year} of {policy.yearly_limit} this year"
        found.append((ExclusionCode.YEARLY, reason))
    return tuple(Exclusion(code, reason) for code, reason in found)


def reserved_for_big_deals(need: Need, candidate: Candidate, policy: Policy) -> bool:
    """A strategic advocate on a deal below the strategic floor: ranked after equals, part of the quarter kept."""
    return candidate.tier == Tier.STRATEGIC and need.deal_arr < policy.strategic_min_deal_arr


def next_eligible(candidate: Candidate, policy: Policy, today: date) -> date | None:
    """The first day the advocate may be asked again (for any request); None when no date can be promised."""
    usage = candidate.usage
    # Slower replies and more passes, and an open ask, end when people act, not on a date; so does a break
    # without an end date. Too many references in a quarter is a rest through the whole next quarter.
    other_signals = _fatigue_signals(dataclasses.replace(usage, this_quarter=0, previous_quarter=0), policy)
    if (
        candidate.status == AdvocateStatus.RETIRED
        or candidate.account_trouble
        or usage.pending_elsewhere
        or other_signals
        or (candidate.status == AdvocateStatus.BREAK and candidate.break_until is None)
    ):
        return None
    # Each limit, once lifted, stays lifted while the history stands still, so the answer is the latest lift.
    dates = [today]
    if usage.this_quarter >= _cap(candidate, policy):
        dates.append(next_quarter_start(today))
    if usage.this_quarter > policy.fatigue_threshold:
        dates.append(next_quarter_start(next_quarter_start(today)))
    elif usage.previous_quarter > policy.fatigue_threshold:
        dates.append(next_quarter_start(today))
    if policy.yearly_limit and usage.this_year >= policy.yearly_limit:
        dates.append(date(today.year + 1, 1, 1))
    if usage.last_asked is not None:
        dates.append(usage.last_asked + timedelta(days=policy.min_days_between_asks))
        dates.append(_monday(usage.last_asked) + timedelta(days=14))
    if usage.last_used is not None:
        dates.append(usage.last_used + timedelta(days=policy.recent_use_days))
    if candidate.status == AdvocateStatus.BREAK and candidate.break_until is not None:
        dates.append(candidate.break_until)
    return max(dates)


def assess(*, need: Need, candidate: Candidate, policy: Policy, today: date) -> Assessment:
    """Grade one advocate against one request and list every hard limit that rules them out."""
    graded = {
        DimensionName.INDUSTRY: _industry(need, candidate, policy),
        DimensionName.COMPANY_SIZE: _size(need, candidate),
        DimensionName.USE_CASE: _use_case(need, candidate, policy),
        DimensionName.ROLE: _role(need, candidate),
    }
    if need.region or need.country:
        graded[DimensionName.GEOGRAPHY] = _geography(need, candidate)
    graded[DimensionName.SENTIMENT] = _sentiment(candidate)
    graded[DimensionName.LAST_USED] = _last_used(candidate, policy, today)
    if candidate.joined_on is not None:
        graded[DimensionName.TENURE] = _tenure(candidate, policy, today)
    dimensions = tuple(Dimension(name, grade, reason) for name, (grade, reason) in graded.items())
    reserved = reserved_for_big_deals(need, candidate, policy)
    # PROGRAM.md: Excellent only when every dimension that applies is excellent; Poor when any is poor.
    overall = min(d.grade for d in dimensions)
    return Assessment(
        candidate=candidate,
        grade=overall,
        dimensions=dimensions,
        exclusions=_exclusions(need, candidate, policy, today),
        score=sum(int(d.grade) for d in dimensions),
        next_eligible=next_eligible(candidate, policy, today),
        reserved=reserved,
        demand=breadth(candidate, policy) / _room(candidate, policy, reserved),
    )


def breadth(candidate: Candidate, policy: Policy) -> float:
    """The share of all possible requests the advocate could serve at Good or better, from their profile alone.

    The product of four shares: industries (their own and its neighbours), wanted role levels (theirs and
    below, and one above), kinds of reference they cover, and use-case themes their tags touch. A specialist
    scores low, someone who fits almost anything high. Pure and demand-blind: a way to tell, among advocates
    of the same grade, who the rest of the quarter is least likely to need.
    """
    near = policy.industry_adjacency
    industries = {candidate.industry, *near.get(candidate.industry, ())}
    industries |= {other for other, theirs in near.items() if candidate.industry in theirs}
    mine = _ROLE_ORDER.get(candidate.role_level, 0)
    levels = sum(1 for rank in _ROLE_ORDER.values() if rank - mine <= 1)
    offered = set(candidate.kinds)
    kinds = [kind for kind, covered in KIND_COVERAGE.items() if covered]
    served = sum(1 for kind in kinds if KIND_COVERAGE[kind] & offered)
    groups = _group_words(policy.use_case_groups)
    words = frozenset().union(*map(_words, candidate.use_cases))
    themes = len(candidate.use_cases) + sum(1 for group in groups if group & words)
    shares = (
        len(industries) / len(Industry),
        levels / len(_ROLE_ORDER),
        served / len(kinds),
        themes / (len(groups) + 2),
    )
    return shares[0] * shares[1] * shares[2] * shares[3]


def _room(candidate: Candidate, policy: Policy, reserved: bool) -> int:
    """Asks left in the advocate's quarter for this request (the reserved share is not theirs to give here)."""
    held = policy.strategic_reserved if reserved else 0
    return max(_cap(candidate, policy) - held - candidate.usage.this_quarter, 1)


def _order(a: Assessment) -> tuple[object, ...]:
    usage = a.candidate.usage
    # PROGRAM.md: grade first; a strategic advocate on a smaller deal comes after every advocate of the same
    # grade (a reservation). Among equals, the one the rest of the quarter needs least: their breadth over the
    # asks left in their quarter, in powers of two (so specialists serve the requests only they fit and the
    # highest caps carry the most, while profiles within 2× of each other are equals). Rotation orders those:
    # never asked first, then longest since the last ask, fewest this quarter, fewest ever. Every limit is
    # already met by everyone ranked here. bench/year.py measures the order against least recently used.
    need = math.frexp(a.demand)[1] if a.demand > 0 else -1_000
    asked = (usage.last_asked is not None, usage.last_asked or date.min)
    return (-a.grade, a.reserved, need, asked, usage.this_quarter, usage.total, a.candidate.advocate_id)


def rank(*, need: Need, candidates: Iterable[Candidate], policy: Policy, today: date) -> list[Assessment]:
    """Eligible advocates best first, then the excluded ones (fewest exclusions first) so CS can see why."""
    assessed = [assess(need=need, candidate=c, policy=policy, today=today) for c in candidates]
    eligible = sorted((a for a in assessed if not a.excluded), key=_order)
    excluded = sorted((a for a in assessed if a.excluded), key=lambda a: (len(a.exclusions), *_order(a)))
    return eligible + excluded


def shortlist(ranked: Sequence[Assessment], limit: int = 5) -> list[Assessment]:
    """The first `limit` eligible advocates that reach at least "good"; empty means send the rep back."""
    return [a for a in ranked if not a.excluded and a.grade is not Grade.POOR][:limit]


@dataclass(frozen=True)
class Prefilter:
    """What any advocate on a shortlist must have, so the store can skip the rest before ranking.

    Every field is implied by the rules above: an advocate outside it is excluded or graded Poor. It may let
    through more than the rules keep (geography and the reservation are left to rank), never fewer.
    """

    role_levels: frozenset[str]
    kinds: frozenset[str]
    min_sentiment: float
    # A tag that is not Poor contains one of these (stems are prefixes of the words they come from), or is
    # the need's text itself.
    use_case_terms: frozenset[str]
    use_case_text: str
    # Functions that are not Poor for the wanted one (None stored counts too); None: any function.
    functions: frozenset[str] | None = None


def prefilter(*, need: Need, policy: Policy) -> Prefilter:
    wanted = _ROLE_ORDER.get(need.role_level, 0)
    words = _words(need.use_case)
    related = [group for group in _group_words(policy.use_case_groups) if group & words]
    return Prefilter(
        role_levels=frozenset(level for level, rank in _ROLE_ORDER.items() if rank >= wanted - 1),
        kinds=KIND_COVERAGE.get(need.kind, frozenset()),
        min_sentiment=SENTIMENT_GOOD,
        use_case_terms=frozenset(words.union(*related)),
        use_case_text=" ".join(need.use_case.casefold().split()),
        functions=(
            None
            if not need.function or need.function in _GENERAL_FUNCTIONS
            else frozenset({need.function, *_GENERAL_FUNCTIONS})
        ),
    )
