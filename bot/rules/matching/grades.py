"""The matching matrix (PROGRAM.md "Matching matrix"): each dimension graded Excellent, Good or Poor."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from bot.rules.matching.dates import ago
from bot.rules.matching.policy import Policy
from bot.rules.matching.records import ROLE_ORDER, Candidate, Dimension, DimensionName, Grade, Need
from bot.rules.vocabulary import Function, Industry, RoleLevel, label_of

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
def word_stems(text: str) -> frozenset[str]:
    """Cached: the same tags and groups come back for every candidate of every request."""
    return frozenset(_stem(w) for w in re.findall(r"[^\W\d_]{3,}", text.casefold()) if w not in _STOPWORDS)


def plain(text: str) -> str:
    """A use case as compared whole: casefolded, its spaces collapsed (a tag and the wanted use case are "the same"
    when these agree; prefilter.py lets through the tags that contain it)."""
    return " ".join(text.casefold().split())


@lru_cache(maxsize=64)
def group_words(groups: tuple[frozenset[str], ...]) -> tuple[frozenset[str], ...]:
    return tuple(word_stems(" ".join(sorted(group))) for group in groups)


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
    return size_range(need.employees, need.size_band)


@lru_cache(maxsize=4_096)
def size_range(employees: int, size_band: str | None) -> tuple[int, int | None]:
    """size_target of a request with this prospect size and wanted band."""
    prospect = max(employees, 1)
    bounds = band_bounds(size_band)
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


@lru_cache(maxsize=65_536)
def tag_fit(tag: str, use_case: str, groups: tuple[frozenset[str], ...]) -> Grade:
    """How one use-case tag meets the wanted use case: the same (Excellent), related (Good: a shared word or a
    shared group of words), or not (Poor). Cached: a pool repeats a few hundred tags over thousands of tag lists,
    and a shortlist at 100k advocates grades a thousand lists it has not seen before."""
    wanted, words = word_stems(use_case), word_stems(tag)
    if plain(tag) == plain(use_case) or (words and wanted and (words <= wanted or wanted <= words)):
        return Grade.EXCELLENT
    if words & wanted or any(words & g and wanted & g for g in group_words(groups)):
        return Grade.GOOD
    return Grade.POOR


def _use_case(need: Need, candidate: Candidate, policy: Policy) -> Graded:
    related: str | None = None
    for tag in candidate.use_cases:
        fit = tag_fit(tag, need.use_case, policy.use_case_groups)
        if fit is Grade.EXCELLENT:
            return Grade.EXCELLENT, f'Same use case: "{tag}"'
        if related is None and fit is Grade.GOOD:
            related = tag
    if related is not None:
        return Grade.GOOD, f'Related use case: "{related}"'
    if not candidate.use_cases:
        return Grade.POOR, "No use cases on file"
    return Grade.POOR, f"Unrelated use cases: {', '.join(candidate.use_cases)}"


# Functions that speak across the business: an executive (CEO, GM) or an unclassified one is at best Good.
GENERAL_FUNCTIONS = frozenset({Function.EXECUTIVE, Function.OTHER})


def _function(need: Need, candidate: Candidate) -> Graded | None:
    """Role is seniority and function (a CFO wants a finance leader); None when either side is not known."""
    wanted, theirs = need.function, candidate.function
    if not wanted or not theirs:
        return None
    label, wanted_label = label_of(Function, theirs), label_of(Function, wanted)
    if wanted == theirs:
        return Grade.EXCELLENT, f"same function ({label})"
    if wanted in GENERAL_FUNCTIONS or theirs in GENERAL_FUNCTIONS:
        return Grade.GOOD, f"related function: {label} (wanted {wanted_label})"
    return Grade.POOR, f"different function: {label} (wanted {wanted_label})"


def _role(need: Need, candidate: Candidate) -> Graded:
    level, reason = _level(need, candidate)
    function = _function(need, candidate)
    if function is None:
        return level, reason
    return min(level, function[0]), f"{reason}; {function[1]}"


def _level(need: Need, candidate: Candidate) -> Graded:
    wanted, theirs = ROLE_ORDER.get(need.role_level), ROLE_ORDER.get(candidate.role_level)
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
        return Grade.EXCELLENT, f"Used {ago(days)}"
    return Grade.GOOD if days >= policy.recent_use_days else Grade.POOR, f"Used {ago(days)}"


def _tenure(candidate: Candidate, policy: Policy, today: date) -> Graded:
    # Seed 000 skips customers too new to have meaningful experience; seed 001 puts six months in at a
    # testimonial. The tier "new" (cap 1) still lets them start, so newness grades down, it does not exclude.
    days = max((today - candidate.joined_on).days, 0) if candidate.joined_on else 0
    if days < policy.min_tenure_days:
        return Grade.GOOD, f"Customer for {days} days: still new (Excellent from {policy.min_tenure_days})"
    return Grade.EXCELLENT, f"Customer for {days // 30} months"


# One dict per dimension (the numbers below), each keyed by the advocate's values that dimension reads: a shortlist
# looks up seven or eight per candidate, and a plain value (or a short tuple) as the key, in that dimension's own
# dict, is cheaper than a key tuple naming the dimension too (at 100k advocates ~a tenth of ranking).
Memo = tuple[dict[Any, Dimension], ...]
_INDUSTRY, _SIZE, _USE_CASE, _ROLE, _GEOGRAPHY, _SENTIMENT, _LAST_USED, _TENURE = range(8)


def new_memo() -> Memo:
    return tuple({} for _ in range(8))


# The dimensions that read nothing of the request (sentiment, last used, tenure) are remembered across requests,
# for one policy and one day: a pool at 100k advocates has ~1,000 days of last use and ~2,000 of joining, and
# every shortlist graded most of them again. Keyed by the policy's identity (it is not hashable), kept beside it to
# rule out a reused id; a new policy or a new day starts afresh.
_STEADY: dict[tuple[int, date], tuple[Policy, Memo]] = {}
_STEADY_MAX = 100_000


def steady_memo(policy: Policy, today: date) -> Memo:
    """The memo of the request-blind dimensions for this policy and day (see `dimensions`)."""
    key = (id(policy), today)
    known = _STEADY.get(key)
    if known is None or known[0] is not policy or sum(map(len, known[1])) >= _STEADY_MAX:
        _STEADY.clear()
        known = _STEADY[key] = (policy, new_memo())
    return known[1]


def dimensions(
    *,
    need: Need,
    candidate: Candidate,
    policy: Policy,
    today: date,
    memo: Memo | None = None,
    steady: Memo | None = None,
) -> tuple[Dimension, ...]:
    """Every dimension of the matrix that applies to this request, graded, in the matrix's order.

    `memo` (`new_memo()`), kept by the caller for one request, policy and day (ranking.rank keeps one per ranking),
    remembers each dimension by the advocate's values it reads: a shortlist grades hundreds of advocates who
    share an industry, tags, a level, a place, a sentiment, and each is graded once. `steady` (`steady_memo`)
    does the same for the dimensions that read nothing of the request, across requests; without it, `memo`.
    """
    if memo is None:
        memo = new_memo()
    if steady is None:
        steady = memo
    c = candidate
    found = [
        memo[_INDUSTRY].get(c.industry)
        or _graded(memo[_INDUSTRY], c.industry, DimensionName.INDUSTRY, _industry(need, c, policy)),
        memo[_SIZE].get(c.employees)
        or _graded(memo[_SIZE], c.employees, DimensionName.COMPANY_SIZE, _size(need, c)),
        memo[_USE_CASE].get(c.use_cases)
        or _graded(memo[_USE_CASE], c.use_cases, DimensionName.USE_CASE, _use_case(need, c, policy)),
        memo[_ROLE].get(key := (c.role_level, c.function))
        or _graded(memo[_ROLE], key, DimensionName.ROLE, _role(need, c)),
    ]
    if need.region or need.country:
        key = (c.region, c.country)
        found.append(
            memo[_GEOGRAPHY].get(key)
            or _graded(memo[_GEOGRAPHY], key, DimensionName.GEOGRAPHY, _geography(need, c))
        )
    found.append(
        steady[_SENTIMENT].get(c.sentiment)
        or _graded(steady[_SENTIMENT], c.sentiment, DimensionName.SENTIMENT, _sentiment(c))
    )
    found.append(
        steady[_LAST_USED].get(c.usage.last_used)
        or _graded(steady[_LAST_USED], c.usage.last_used, DimensionName.LAST_USED, _last_used(c, policy, today))
    )
    if c.joined_on is not None:
        found.append(
            steady[_TENURE].get(c.joined_on)
            or _graded(steady[_TENURE], c.joined_on, DimensionName.TENURE, _tenure(c, policy, today))
        )
    return tuple(found)


def _graded(memo: dict[Any, Dimension], key: Any, name: DimensionName, graded: Graded) -> Dimension:
    """A dimension graded for the first time: remembered under `key` (all it read of the advocate)."""
    memo[key] = found = Dimension(name, *graded)
    return found


def size_fits(need: Need, candidate: Candidate) -> bool:
    """The company size is not Poor (within 5× of the need's size target): `_size`'s boundary, without words."""
    return within_five(size_target(need), candidate.employees)


def within_five(target: tuple[int, int | None], employees: int) -> bool:
    """`employees` is within 5× of the nearer end of a size target (size_target's (low, high))."""
    theirs, (low, high) = max(employees, 1), target
    if theirs < low:
        return low <= 5 * theirs
    return high is None or theirs <= high or theirs <= 5 * high
