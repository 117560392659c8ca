"""The plain records matching reads and writes: the request's need, the advocate, their usage, the grades."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum
from typing import Any, TypeVar

from bot.rules.vocabulary import RoleLevel


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


# Role levels, junior to senior: the matrix's "same level or higher" compares these ranks.
ROLE_ORDER = {level.value: rank for rank, level in enumerate(RoleLevel)}


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
    # What the rest of the quarter is likely to need of them: ranking.need_share() over the asks left this quarter.
    demand: float = 0.0

    @property
    def excluded(self) -> bool:
        return bool(self.exclusions)


R = TypeVar("R")
_new = object.__new__


def quick(cls: type[R], /, **values: Any) -> R:
    """`cls(**values)` for one of these frozen records, without the frozen __init__'s object.__setattr__ for each
    field (a Candidate in ~1 µs instead of ~2.2): a shortlist at 100k advocates builds a Candidate, its Usage and
    an Assessment for each of 1,000-3,000 candidates. Give every field: one left out reads as its default, or is
    missing. tests/test_matching.py checks it builds what the constructor does."""
    record = _new(cls)
    record.__dict__.update(values)
    return record
