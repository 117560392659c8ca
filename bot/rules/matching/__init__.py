"""The matching matrix and the hard limits (PROGRAM.md): grade, exclude and rank advocates for one request.

One idea a module: `records` (the need, the advocate, their usage, the assessment), `policy` (the settings),
`kinds` (the kinds of reference), `grades` (the matrix), `limits` (the protection limits), `dates` (quarters
and weeks), `demand` (what recent requests asked for), `ranking` (assess, order, shortlist) and `prefilter`
(what the store may skip). Callers import from here; the modules import only each other, bot.rules.vocabulary and the standard library.
"""

from bot.rules.matching.dates import next_quarter_start, quarter_start
from bot.rules.matching.demand import Demand
from bot.rules.matching.grades import SENTIMENT_EXCELLENT, SENTIMENT_GOOD, band_bounds, size_target
from bot.rules.matching.kinds import KIND_COVERAGE, KIND_RULES, KindRule, big_deal_warning
from bot.rules.matching.limits import fatigue_signals, next_eligible, reserved_for_big_deals
from bot.rules.matching.policy import (
    DEFAULT_CAPS,
    DEFAULT_INDUSTRY_ADJACENCY,
    DEFAULT_USE_CASE_GROUPS,
    Policy,
)
from bot.rules.matching.prefilter import Prefilter, prefilter
from bot.rules.matching.ranking import assess, breadth, first_page, need_share, rank, shortlist
from bot.rules.matching.records import (
    Assessment,
    Candidate,
    Dimension,
    DimensionName,
    Exclusion,
    ExclusionCode,
    Grade,
    Need,
    Usage,
)

__all__ = [
    "DEFAULT_CAPS",
    "DEFAULT_INDUSTRY_ADJACENCY",
    "DEFAULT_USE_CASE_GROUPS",
    "KIND_COVERAGE",
    "KIND_RULES",
    "SENTIMENT_EXCELLENT",
    "SENTIMENT_GOOD",
    "Assessment",
    "Candidate",
    "Dimension",
    "Demand",
    "DimensionName",
    "Exclusion",
    "ExclusionCode",
    "Grade",
    "KindRule",
    "Need",
    "Policy",
    "Prefilter",
    "Usage",
    "assess",
    "band_bounds",
    "big_deal_warning",
    "breadth",
    "fatigue_signals",
    "first_page",
    "next_eligible",
    "need_share",
    "next_quarter_start",
    "prefilter",
    "quarter_start",
    "rank",
    "reserved_for_big_deals",
    "shortlist",
    "size_target",
]
