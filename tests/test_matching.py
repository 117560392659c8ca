"""The matching matrix and the hard limits (bot/rules/matching/): pure rules over plain data."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.matching import (
    DEFAULT_CAPS,
    KIND_RULES,
    Assessment,
    Candidate,
    Demand,
    Grade,
    Need,
    Policy,
    Usage,
    assess,
    big_deal_warning,
    breadth,
    first_page,
    next_eligible,
    next_quarter_start,
    quarter_start,
    rank,
    shortlist,
)
from bot.rules.matching.records import quick
from bot.rules.vocabulary import AdvocateKind

TODAY = date(2026, 5, 13)  # a Wednesday in Q2 (ISO week 20)
POLICY = Policy()
TIME_CODES = {"cap", "min_gap", "consecutive_week", "recent_use", "break", "fatigue", "yearly"}


def make_need(**changes: Any) -> Need:
    base = Need(
        request_id=1,
        industry="software",
        employees=1_000,
        use_case="Migrating off a legacy job scheduler",
        role_level="director",
        kind="call",
        deal_arr=300_000,
        prospect_key="acme",
    )
    return dataclasses.replace(base, **changes)


def make_candidate(advocate_id: int = 1, *, usage: Usage | None = None, **changes: Any) -> Candidate:
    """An advocate who matches make_need() excellently and is free to ask today."""
    base = Candidate(
        advocate_id=advocate_id,
        name=f"Advocate {advocate_id}",
        title="Director of Platform",
        role_level="director",
        company="Globex",
        industry="software",
        employees=1_000,
        region="EMEA",
        country="DE",
        use_cases=("job scheduling",),
        kinds=(AdvocateKind.CALL, AdvocateKind.EMAIL),
        tier="standard",
        status="active",
        break_until=None,
        account_trouble=False,
        sentiment=0.8,
        usage=usage or Usage(),
    )
    return dataclasses.replace(base, **changes)


def run(
    candidate: Candidate, *, need: Need | None = None, policy: Policy = POLICY, today: date = TODAY
) -> Assessment:
    return assess(need=need or make_need(), candidate=candidate, policy=policy, today=today)


def codes(assessment: Assessment) -> list[str]:
    return [e.code for e in assessment.exclusions]


def dimension(assessment: Assessment, name: str) -> tuple[Grade, str]:
    (found,) = [d for d in assessment.dimensions if d.name == name]
    return found.grade, found.reason


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


# --- the baseline -------------------------------------------------------------------------------------------


def test_a_perfect_match_is_excellent_eligible_and_free_today() -> None:
    a = run(make_candidate())
    assert (a.grade, a.excluded, a.exclusions, a.next_eligible) == (Grade.EXCELLENT, False, (), TODAY)
    assert [d.name for d in a.dimensions] == [
        "industry",
        "company size",
        "use case",
        "role",
        "sentiment",
        "last used",
    ]
    assert a.score == 12


def test_grades_are_ordered_and_labelled() -> None:
    assert Grade.EXCELLENT > Grade.GOOD > Grade.POOR
    assert [g.label for g in (Grade.EXCELLENT, Grade.GOOD, Grade.POOR)] == ["Excellent", "Good", "Poor"]


# --- dimensions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prospect", "advocate", "grade"),
    [
        (100, 199, Grade.EXCELLENT),
        (100, 200, Grade.EXCELLENT),
        (100, 201, Grade.GOOD),
        (100, 500, Grade.GOOD),
        (100, 501, Grade.POOR),
        (199, 100, Grade.EXCELLENT),
        (200, 100, Grade.EXCELLENT),
        (201, 100, Grade.GOOD),
        (500, 100, Grade.GOOD),
        (501, 100, Grade.POOR),
        (100, 100, Grade.EXCELLENT),
        (2, 0, Grade.EXCELLENT),  # 0 employees counts as 1
        (0, 6, Grade.POOR),
    ],
)
def test_company_size_ratio_boundaries(prospect: int, advocate: int, grade: Grade) -> None:
    a = run(make_candidate(employees=advocate), need=make_need(employees=prospect))
    assert dimension(a, "company size")[0] is grade


@pytest.mark.parametrize(
    ("prospect", "advocate", "reason"),
    [
        (1_000, 3_100, "Company 3.1× the prospect's size"),
        (3_100, 1_000, "Company 3.1× smaller than the prospect"),
        (1_200, 1_200, "Company the same size as the prospect (1,200 employees)"),
    ],
)
def test_company_size_reason(prospect: int, advocate: int, reason: str) -> None:
    a = run(make_candidate(employees=advocate), need=make_need(employees=prospect))
    assert dimension(a, "company size")[1] == reason


@pytest.mark.parametrize(
    ("days", "grade", "recent_use"),
    [
        (0, Grade.POOR, True),
        (29, Grade.POOR, True),
        (30, Grade.GOOD, False),
        (44, Grade.GOOD, False),
        (45, Grade.EXCELLENT, False),
        (400, Grade.EXCELLENT, False),
    ],
)
def test_last_used_boundaries(days: int, grade: Grade, recent_use: bool) -> None:
    a = run(make_candidate(usage=Usage(last_used=days_ago(days))))
    assert dimension(a, "last used") == (grade, "Used today" if days == 0 else f"Used {days} days ago")
    assert ("recent_use" in codes(a)) is recent_use


def test_never_used_is_excellent() -> None:
    assert dimension(run(make_candidate()), "last used") == (Grade.EXCELLENT, "Never used")


@pytest.mark.parametrize(
    ("wanted", "theirs", "grade"),
    [
        ("director", "director", Grade.EXCELLENT),
        ("director", "vp", Grade.EXCELLENT),
        ("director", "c_level", Grade.EXCELLENT),
        ("director", "manager", Grade.GOOD),
        ("director", "ic", Grade.POOR),
        ("c_level", "vp", Grade.GOOD),
        ("c_level", "director", Grade.POOR),
        ("c_level", "ic", Grade.POOR),
        ("ic", "ic", Grade.EXCELLENT),
        ("ic", "c_level", Grade.EXCELLENT),
        ("manager", "ic", Grade.GOOD),
        ("vp", "manager", Grade.POOR),
        ("director", "intern", Grade.POOR),  # an unknown level is never a good match
    ],
)
def test_role_levels(wanted: str, theirs: str, grade: Grade) -> None:
    a = run(make_candidate(role_level=theirs), need=make_need(role_level=wanted))
    assert dimension(a, "role")[0] is grade


@pytest.mark.parametrize(
    ("level", "wanted", "theirs", "grade", "reason"),
    [
        # Role is seniority and function: a CFO wants a finance leader, not a CTO.
        ("c_level", "finance", "finance", Grade.EXCELLENT, "Same level: C-level; same function (Finance)"),
        (
            "c_level",
            "finance",
            "it",
            Grade.POOR,
            "Same level: C-level; different function: IT / engineering (wanted Finance)",
        ),
        (
            "c_level",
            "finance",
            "executive",
            Grade.GOOD,
            "Same level: C-level; related function: Executive / general management (wanted Finance)",
        ),
        (
            "c_level",
            "executive",
            "sales",
            Grade.GOOD,
            "Same level: C-level; related function: Sales (wanted Executive / general management)",
        ),
        (
            "c_level",
            "finance",
            "other",
            Grade.GOOD,
            "Same level: C-level; related function: Other (wanted Finance)",
        ),
        (
            "vp",
            "finance",
            "finance",
            Grade.GOOD,
            "One level below: VP (wanted C-level); same function (Finance)",
        ),
        ("c_level", None, "it", Grade.EXCELLENT, "Same level: C-level"),  # any function wanted
        ("c_level", "finance", None, Grade.EXCELLENT, "Same level: C-level"),  # not known: level alone
    ],
)
def test_role_is_level_and_function(
    level: str, wanted: str | None, theirs: str | None, grade: Grade, reason: str
) -> None:
    a = run(
        make_candidate(role_level=level, function=theirs),
        need=make_need(role_level="c_level", function=wanted),
    )
    assert dimension(a, "role") == (grade, reason)


@pytest.mark.parametrize(
    ("wanted", "theirs", "grade", "reason"),
    [
        ("software", "software", Grade.EXCELLENT, "Exact industry: Software & internet"),
        (
            "software",
            "telecom",
            Grade.GOOD,
            "Adjacent industry: Telecommunications (wanted Software & internet)",
        ),
        (
            "telecom",
            "software",
            Grade.GOOD,
            "Adjacent industry: Software & internet (wanted Telecommunications)",
        ),
        ("insurance", "healthcare", Grade.GOOD, "Adjacent industry: Healthcare (wanted Insurance)"),
        ("education", "nonprofit", Grade.GOOD, "Adjacent industry: Non-profit (wanted Education)"),
        (
            "software",
            "retail",
            Grade.POOR,
            "Different industry: Retail & e-commerce (wanted Software & internet)",
        ),
        ("other", "software", Grade.POOR, "Different industry: Software & internet (wanted Other)"),
    ],
)
def test_industries(wanted: str, theirs: str, grade: Grade, reason: str) -> None:
    a = run(make_candidate(industry=theirs), need=make_need(industry=wanted))
    assert dimension(a, "industry") == (grade, reason)


def test_default_adjacency_is_symmetric() -> None:
    near = POLICY.industry_adjacency
    assert all(a in near[b] for a, others in near.items() for b in others)
    assert all(a not in others for a, others in near.items())


def test_an_overridden_one_sided_adjacency_counts_both_ways() -> None:
    policy = Policy(industry_adjacency={"retail": {"software"}})
    for wanted, theirs in (("retail", "software"), ("software", "retail")):
        a = run(make_candidate(industry=theirs), need=make_need(industry=wanted), policy=policy)
        assert dimension(a, "industry")[0] is Grade.GOOD
    a = run(make_candidate(industry="telecom"), policy=policy)
    assert dimension(a, "industry")[0] is Grade.POOR


@pytest.mark.parametrize(
    ("need_text", "tags", "grade"),
    [
        ("Job scheduling", ("job scheduling",), Grade.EXCELLENT),  # identical
        ("  JOB   Scheduling ", ("job scheduling",), Grade.EXCELLENT),
        ("Migrating off a legacy job scheduler", ("job scheduling",), Grade.EXCELLENT),  # tag inside the need
        ("Migration", ("cloud migration",), Grade.EXCELLENT),  # the need inside the tag
        ("AI", ("ai",), Grade.EXCELLENT),  # identical although too short to have words
        ("Replace our batch jobs", ("job scheduling", "security"), Grade.GOOD),  # a shared word
        ("Workflow orchestration", ("job scheduling",), Grade.GOOD),  # one use-case group
        ("SOX audit trail", ("compliance",), Grade.GOOD),
        ("Real-time dashboards for ops", ("reporting",), Grade.GOOD),
        ("Migrating off a legacy job scheduler", ("compliance", "reporting"), Grade.POOR),
        ("Cut licensing cost", ("security",), Grade.POOR),
        ("Anything", (), Grade.POOR),
        ("of the and", ("the",), Grade.POOR),  # only stopwords: nothing in common
    ],
)
def test_use_case(need_text: str, tags: tuple[str, ...], grade: Grade) -> None:
    a = run(make_candidate(use_cases=tags), need=make_need(use_case=need_text))
    assert dimension(a, "use case")[0] is grade


def test_use_case_groups_can_be_overridden() -> None:
    policy = Policy(use_case_groups=(frozenset({"billing", "invoicing"}),))
    need = make_need(use_case="Invoicing at scale")
    assert (
        dimension(run(make_candidate(use_cases=("billing",)), need=need, policy=policy), "use case")[0]
        is Grade.GOOD
    )
    assert dimension(run(make_candidate(use_cases=("billing",)), need=need), "use case")[0] is Grade.POOR


@pytest.mark.parametrize(
    ("region", "country", "theirs", "expected"),
    [
        ("Bavaria", "DE", ("bavaria", "DE"), (Grade.EXCELLENT, "Same region: bavaria")),
        ("Bavaria", None, ("Bavaria", None), (Grade.EXCELLENT, "Same region: Bavaria")),
        ("Bavaria", "DE", ("Berlin", "DE"), (Grade.GOOD, "Same country: DE")),
        (None, "de", ("Berlin", "DE"), (Grade.GOOD, "Same country: DE")),
        # When geography matters, a different country is not Good (PROGRAM.md: poor, never offered).
        ("Texas", "US", ("Berlin", "DE"), (Grade.POOR, "Different country: DE (wanted US)")),
        ("Texas", None, (None, None), (Grade.POOR, "Different country: unknown (wanted Texas)")),
        (None, "US", ("Texas", None), (Grade.POOR, "Different country: Texas (wanted US)")),
    ],
)
def test_geography(
    region: str | None,
    country: str | None,
    theirs: tuple[str | None, str | None],
    expected: tuple[Grade, str],
) -> None:
    candidate = make_candidate(region=theirs[0], country=theirs[1])
    assert dimension(run(candidate, need=make_need(region=region, country=country)), "geography") == expected


def test_geography_is_omitted_when_the_need_has_none() -> None:
    assert "geography" not in [d.name for d in run(make_candidate()).dimensions]


@pytest.mark.parametrize(
    ("sentiment", "expected"),
    [
        (None, (Grade.GOOD, "No feedback yet")),
        (1.0, (Grade.EXCELLENT, "Positive feedback (1.00)")),
        (0.7, (Grade.EXCELLENT, "Positive feedback (0.70)")),
        (0.69, (Grade.GOOD, "Mixed feedback (0.69)")),
        (0.4, (Grade.GOOD, "Mixed feedback (0.40)")),
        (0.39, (Grade.POOR, "Low sentiment (0.39)")),
        (0.0, (Grade.POOR, "Low sentiment (0.00)")),
    ],
)
def test_sentiment(sentiment: float | None, expected: tuple[Grade, str]) -> None:
    assert dimension(run(make_candidate(sentiment=sentiment)), "sentiment") == expected


@pytest.mark.parametrize(
    ("changes", "need_changes", "grade", "score"),
    [
        ({}, {}, Grade.EXCELLENT, 12),
        # Excellent needs every dimension that applies excellent (PROGRAM.md), sentiment and last use included.
        ({"sentiment": None}, {}, Grade.GOOD, 11),
        ({"usage": Usage(last_used=days_ago(34))}, {}, Grade.GOOD, 11),
        ({"usage": Usage(last_used=days_ago(44))}, {}, Grade.GOOD, 11),
        ({"usage": Usage(last_used=days_ago(45))}, {}, Grade.EXCELLENT, 12),
        ({}, {"region": "EMEA"}, Grade.EXCELLENT, 14),
        ({}, {"country": "de"}, Grade.GOOD, 13),
        ({}, {"region": "AMER"}, Grade.POOR, 12),  # geography matters and they are elsewhere
        ({"industry": "telecom"}, {}, Grade.GOOD, 11),
        ({"role_level": "manager", "employees": 3_000}, {}, Grade.GOOD, 10),
        ({"sentiment": 0.1}, {}, Grade.POOR, 10),  # any poor dimension makes the match poor
        ({"industry": "retail", "sentiment": None}, {}, Grade.POOR, 9),
    ],
)
def test_overall_grade_and_score(
    changes: dict[str, Any], need_changes: dict[str, Any], grade: Grade, score: int
) -> None:
    a = run(make_candidate(**changes), need=make_need(**need_changes))
    assert (a.grade, a.score) == (grade, score)


# --- hard exclusions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "this_quarter", "capped"),
    [
        ("strategic", 3, False),
        ("strategic", 4, True),
        ("standard", 1, False),
        ("standard", 2, True),
        ("new", 0, False),
        ("new", 1, True),
    ],
)
def test_quarterly_caps(tier: str, this_quarter: int, capped: bool) -> None:
    a = run(make_candidate(tier=tier, usage=Usage(this_quarter=this_quarter)))
    assert ("cap" in codes(a)) is capped
    assert set(codes(a)) <= {"cap", "fatigue"}


def test_cap_reason() -> None:
    (exclusion,) = run(make_candidate(usage=Usage(this_quarter=2))).exclusions
    assert exclusion.reason == "Quarterly cap reached: 2 of 2 this quarter (standard)"


def test_caps_follow_the_policy_and_an_unknown_tier_gets_the_smallest() -> None:
    policy = Policy(caps={"strategic": 6, "standard": 3, "new": 1})
    assert codes(run(make_candidate(usage=Usage(this_quarter=2)), policy=policy)) == []
    assert codes(run(make_candidate(tier="pilot", usage=Usage(this_quarter=1)))) == ["cap"]


@pytest.mark.parametrize(("days", "excluded"), [(0, True), (20, True), (21, False), (40, False)])
def test_min_gap_between_asks(days: int, excluded: bool) -> None:
    assert ("min_gap" in codes(run(make_candidate(usage=Usage(last_asked=days_ago(days)))))) is excluded


@pytest.mark.parametrize(
    ("last_asked", "today", "excluded"),
    [
        (date(2026, 5, 11), date(2026, 5, 13), True),  # Monday of the same week
        (date(2026, 5, 13), date(2026, 5, 17), True),  # Wednesday to Sunday, same week
        (date(2026, 5, 4), date(2026, 5, 13), True),  # Monday of the week before
        (date(2026, 5, 10), date(2026, 5, 17), True),  # the Sunday before: previous week, 7 days
        (date(2026, 5, 3), date(2026, 5, 11), False),  # Sunday two weeks back, only 8 days ago
        (date(2026, 4, 27), date(2026, 5, 13), False),  # two weeks ago
        (date(2026, 12, 28), date(2027, 1, 5), True),  # ISO week 53 of 2026, then week 1 of 2027
        (date(2026, 12, 27), date(2027, 1, 5), False),  # ISO week 52 of 2026 is two weeks back
        (date(2025, 12, 29), date(2026, 1, 5), True),  # 2025-12-29 is in ISO week 1 of 2026
    ],
)
def test_never_in_consecutive_weeks(last_asked: date, today: date, excluded: bool) -> None:
    # Without a minimum gap, so that only the week rule speaks.
    policy = Policy(min_days_between_asks=0)
    a = run(make_candidate(usage=Usage(last_asked=last_asked)), policy=policy, today=today)
    assert codes(a) == (["consecutive_week"] if excluded else [])


@pytest.mark.parametrize(
    ("status", "break_until", "excluded"),
    [
        ("break", TODAY + timedelta(days=1), True),
        ("break", TODAY, False),  # eligible again on the end date
        ("break", TODAY - timedelta(days=5), False),
        ("break", None, True),
        ("active", TODAY + timedelta(days=30), False),
    ],
)
def test_break_end_date(status: str, break_until: date | None, excluded: bool) -> None:
    a = run(make_candidate(status=status, break_until=break_until))
    assert codes(a) == (["break"] if excluded else [])


@pytest.mark.parametrize(
    ("usage", "excluded", "signal"),
    [
        (Usage(recent_90d=5), False, ""),  # the count is per quarter, not a rolling 90 days
        (Usage(previous_quarter=3), False, ""),
        (Usage(previous_quarter=4), True, "4 references last quarter (more than 3)"),
        (Usage(passes_recent=2, passes_before=1), True, "2 passes in 180 days (before: 1)"),
        (Usage(passes_recent=1, passes_before=0), False, ""),  # one pass is not a pattern
        (Usage(passes_recent=2, passes_before=2), False, ""),
        (Usage(reply_hours_recent=36, reply_hours_before=20), True, "slower replies (36 h, before: 20 h)"),
        (Usage(reply_hours_recent=30, reply_hours_before=20), False, ""),  # exactly 1.5×
        (Usage(reply_hours_recent=20, reply_hours_before=5), False, ""),  # under a day is still quick
        (Usage(reply_hours_recent=24, reply_hours_before=10), True, "slower replies (24 h, before: 10 h)"),
        (Usage(reply_hours_recent=48, reply_hours_before=None), False, ""),
    ],
)
def test_fatigue_signals(usage: Usage, excluded: bool, signal: str) -> None:
    a = run(make_candidate(usage=usage))
    assert codes(a) == (["fatigue"] if excluded else [])
    if excluded:
        assert a.exclusions[0].reason == f"Fatigue: {signal}"


def test_several_fatigue_signals_make_one_exclusion_naming_each() -> None:
    usage = Usage(previous_quarter=5, passes_recent=3, reply_hours_recent=72, reply_hours_before=12)
    (exclusion,) = run(make_candidate(usage=usage)).exclusions
    assert exclusion.code == "fatigue"
    assert exclusion.reason.count(";") == 2


@pytest.mark.parametrize(
    ("tier", "deal_arr", "this_quarter", "codes_", "reserved"),
    [
        # A reservation, not an exclusion: smaller deals may use all but the last of a strategic quarter.
        ("strategic", 249_999, 0, [], True),
        ("strategic", 249_999, 2, [], True),
        ("strategic", 249_999, 3, ["strategic"], True),
        ("strategic", 250_000, 3, [], False),
        ("strategic", 1_000_000, 3, [], False),
        ("strategic", 249_999, 4, ["cap", "fatigue"], True),
        ("standard", 10_000, 1, [], False),
        ("new", 10_000, 0, [], False),
    ],
)
def test_strategic_advocates_are_reserved_for_the_biggest_deals(
    tier: str, deal_arr: int, this_quarter: int, codes_: list[str], reserved: bool
) -> None:
    a = run(
        make_candidate(tier=tier, usage=Usage(this_quarter=this_quarter)), need=make_need(deal_arr=deal_arr)
    )
    assert (codes(a), a.reserved) == (codes_, reserved)


@pytest.mark.parametrize(("reserved", "blocked_at"), [(0, None), (1, 3), (2, 2)])
def test_the_reserved_share_is_a_setting(reserved: int, blocked_at: int | None) -> None:
    policy = Policy(strategic_reserved=reserved)
    blocked = [
        n
        for n in range(4)
        if "strategic"
        in codes(
            run(
                make_candidate(tier="strategic", usage=Usage(this_quarter=n)),
                policy=policy,
                need=make_need(deal_arr=60_000),
            )
        )
    ]
    assert (blocked[0] if blocked else None) == blocked_at


def test_a_strategic_advocate_ranks_after_an_equal_grade_one_on_a_smaller_deal_only() -> None:
    candidates = [
        make_candidate(1, tier="strategic"),
        make_candidate(
            2, usage=Usage(last_asked=date(2026, 3, 1), total=5)
        ),  # rotation alone would put 1 first
        make_candidate(3, industry="telecom"),  # good: an excellent strategic advocate still comes first
    ]
    small = rank(need=make_need(deal_arr=60_000), candidates=candidates, policy=POLICY, today=TODAY)
    big = rank(need=make_need(deal_arr=300_000), candidates=candidates, policy=POLICY, today=TODAY)
    assert (ids(small), ids(big)) == ([2, 1, 3], [1, 2, 3])


@pytest.mark.parametrize("strategic_used", [0, 1, 2])
@pytest.mark.parametrize("standard_used", [0, 1])
def test_a_strategic_advocate_with_the_same_profile_stays_after_whatever_either_has_left(
    strategic_used: int, standard_used: int
) -> None:
    # Need per ask left: a strategic advocate on a smaller deal counts one ask, whatever their cap leaves.
    def used(n: int) -> Usage:
        return Usage(this_quarter=n, total=n, last_asked=date(2026, 4, 1) if n else None)

    strategic = make_candidate(1, tier="strategic", usage=used(strategic_used))
    standard = make_candidate(2, usage=used(standard_used))
    small = rank(
        need=make_need(deal_arr=60_000), candidates=[strategic, standard], policy=POLICY, today=TODAY
    )
    assert [a.grade for a in small] == [Grade.EXCELLENT, Grade.EXCELLENT]
    assert ids(small) == [2, 1]


@pytest.mark.parametrize(
    ("joined_days_ago", "grade", "reason"),
    [
        (None, Grade.EXCELLENT, None),  # not known: the dimension does not apply
        (0, Grade.GOOD, "Customer for 0 days: still new (Excellent from 180)"),
        (179, Grade.GOOD, "Customer for 179 days: still new (Excellent from 180)"),
        (180, Grade.EXCELLENT, "Customer for 6 months"),
        (900, Grade.EXCELLENT, "Customer for 30 months"),
    ],
)
def test_customers_too_new_to_have_experience_are_graded_down(
    joined_days_ago: int | None, grade: Grade, reason: str | None
) -> None:
    joined = None if joined_days_ago is None else days_ago(joined_days_ago)
    a = run(make_candidate(joined_on=joined))
    assert (a.grade, a.excluded) == (grade, False)
    tenure = [(d.grade, d.reason) for d in a.dimensions if d.name == "tenure"]
    assert tenure == ([] if reason is None else [(grade, reason)])
    assert run(make_candidate(joined_on=joined), policy=Policy(min_tenure_days=0)).grade is Grade.EXCELLENT


@pytest.mark.parametrize(
    ("limit", "this_year", "excluded"), [(0, 9, False), (4, 3, False), (4, 4, True), (3, 3, True)]
)
def test_the_yearly_limit_is_off_by_default_and_a_setting(limit: int, this_year: int, excluded: bool) -> None:
    a = run(make_candidate(usage=Usage(this_year=this_year)), policy=Policy(yearly_limit=limit))
    assert codes(a) == (["yearly"] if excluded else [])
    assert a.next_eligible == (date(2027, 1, 1) if excluded else TODAY)
    assert Policy().yearly_limit == 0


@pytest.mark.parametrize(
    ("usage", "today", "expected"),
    [
        # Fatigue is a rest of at least one quarter: it does not lift when a rolling count drops.
        (Usage(previous_quarter=4), date(2026, 4, 1), date(2026, 7, 1)),
        (Usage(previous_quarter=4), date(2026, 6, 30), date(2026, 7, 1)),
        (Usage(this_quarter=4), date(2026, 5, 13), date(2026, 10, 1)),
        (Usage(this_quarter=3, previous_quarter=3), date(2026, 5, 13), TODAY),
    ],
)
def test_fatigue_rests_through_the_next_quarter(usage: Usage, today: date, expected: date) -> None:
    candidate = make_candidate(tier="strategic", usage=usage)
    assert next_eligible(candidate, POLICY, today) == (expected if expected != TODAY else today)


@pytest.mark.parametrize(
    ("kind", "kinds", "excluded"),
    [
        ("call", ("call",), False),
        ("call", ("email", "quote"), True),
        ("email", ("email",), False),
        ("email", ("call",), False),  # an email Q&A is a smaller ask than a call
        ("email", ("quote", "case_study"), True),
        ("site_visit", ("call", "executive"), True),
        ("site_visit", ("site_visit",), False),
        ("executive", ("executive",), False),
        ("executive", ("call",), True),
        ("peer", tuple(AdvocateKind), True),
        ("webinar", tuple(AdvocateKind), True),
    ],
)
def test_reference_kind(kind: str, kinds: tuple[str, ...], excluded: bool) -> None:
    a = run(make_candidate(kinds=kinds, role_level="vp"), need=make_need(kind=kind))
    assert codes(a) == (["kind"] if excluded else [])


def test_peer_conversations_are_not_brokered() -> None:
    (exclusion,) = run(make_candidate(), need=make_need(kind="peer")).exclusions
    assert exclusion.reason == "Peer conversations are logged, not brokered"


@pytest.mark.parametrize(
    ("kind", "level", "excluded"),
    [
        # Site visits and executive connections are for senior advocates only.
        ("site_visit", "manager", True),
        ("site_visit", "director", False),
        ("executive", "director", True),
        ("executive", "vp", False),
        ("executive", "c_level", False),
        ("call", "ic", False),
    ],
)
def test_heavy_kinds_need_a_senior_advocate(kind: str, level: str, excluded: bool) -> None:
    candidate = make_candidate(role_level=level, kinds=tuple(AdvocateKind))
    a = run(candidate, need=make_need(kind=kind, role_level="ic"))
    assert codes(a) == (["kind"] if excluded else [])
    if excluded:
        assert "for senior advocates" in a.exclusions[0].reason


def test_what_each_kind_asks() -> None:
    scheduled = {kind for kind, rule in KIND_RULES.items() if rule.scheduled}
    assert scheduled == {"call", "site_visit", "executive"}  # email Q&A is answered in writing
    assert {kind for kind, rule in KIND_RULES.items() if not rule.brokered} == {"peer"}
    assert big_deal_warning(kind="site_visit", deal_arr=249_999, policy=POLICY) is not None
    assert big_deal_warning(kind="site_visit", deal_arr=250_000, policy=POLICY) is None
    assert big_deal_warning(kind="call", deal_arr=1, policy=POLICY) is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"usage": Usage(this_quarter=2)}, "cap"),
        ({"usage": Usage(last_asked=days_ago(14))}, "min_gap"),
        ({"usage": Usage(last_used=days_ago(10))}, "recent_use"),
        ({"status": "break", "break_until": TODAY + timedelta(days=9)}, "break"),
        ({"status": "retired"}, "retired"),
        ({"account_trouble": True}, "account_trouble"),
        ({"usage": Usage(previous_quarter=9)}, "fatigue"),
        ({"usage": Usage(asked_for_prospect=True)}, "same_prospect"),
        ({"usage": Usage(pending_elsewhere=True)}, "pending"),
        ({"kinds": ("quote",)}, "kind"),
        ({"tier": "strategic", "usage": Usage(this_quarter=3)}, None),
    ],
)
def test_each_exclusion_has_a_code_and_a_one_line_reason(changes: dict[str, Any], code: str | None) -> None:
    need = make_need(deal_arr=100_000 if code is None else 300_000)
    a = run(make_candidate(**changes), need=need)
    expected = code or "strategic"
    assert expected in codes(a)
    assert all(e.reason and "\n" not in e.reason for e in a.exclusions)
    assert a.excluded


def test_all_exclusions_that_apply_are_listed() -> None:
    usage = Usage(
        this_quarter=4,
        last_asked=TODAY,
        last_used=days_ago(3),
        previous_quarter=6,
        asked_for_prospect=True,
        pending_elsewhere=True,
    )
    candidate = make_candidate(
        tier="strategic",
        status="retired",
        account_trouble=True,
        kinds=("quote",),
        usage=usage,
    )
    a = run(candidate, need=make_need(deal_arr=60_000))
    assert codes(a) == [
        "cap",
        "min_gap",
        "consecutive_week",
        "recent_use",
        "retired",
        "account_trouble",
        "fatigue",
        "same_prospect",
        "pending",
        "kind",
    ]


# --- next eligible date --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, TODAY),
        ({"usage": Usage(this_quarter=2)}, date(2026, 7, 1)),
        ({"usage": Usage(last_asked=date(2026, 5, 1))}, date(2026, 5, 22)),  # 21 days on
        ({"usage": Usage(last_used=date(2026, 5, 1))}, date(2026, 5, 31)),  # 30 days on
        ({"status": "break", "break_until": date(2026, 6, 2)}, date(2026, 6, 2)),
        ({"status": "break", "break_until": TODAY}, TODAY),
        (
            {"usage": Usage(this_quarter=2, last_used=date(2026, 6, 20))},  # the latest lift wins
            date(2026, 7, 20),
        ),
        ({"status": "retired"}, None),
        ({"account_trouble": True}, None),
        ({"status": "break", "break_until": None}, None),
        ({"usage": Usage(passes_recent=3)}, None),  # passing more ends when they say yes again
        ({"usage": Usage(previous_quarter=4)}, date(2026, 7, 1)),  # a busy quarter: a rest of a quarter
        ({"usage": Usage(pending_elsewhere=True)}, None),
        ({"kinds": ("quote",)}, TODAY),  # request-specific limits are not the advocate's
        ({"usage": Usage(asked_for_prospect=True)}, TODAY),
    ],
)
def test_next_eligible(changes: dict[str, Any], expected: date | None) -> None:
    candidate = make_candidate(**changes)
    assert next_eligible(candidate, POLICY, TODAY) == expected
    assert run(candidate).next_eligible == expected


@pytest.mark.parametrize(
    ("last_asked", "expected"),
    [
        (date(2026, 5, 13), date(2026, 5, 25)),  # Wednesday → the Monday after next
        (date(2026, 5, 11), date(2026, 5, 25)),
        (date(2026, 5, 10), date(2026, 5, 18)),  # a Sunday: its week and the next end on the 17th
        (date(2026, 12, 30), date(2027, 1, 11)),
    ],
)
def test_next_eligible_after_the_week_rule(last_asked: date, expected: date) -> None:
    policy = Policy(min_days_between_asks=0)
    assert next_eligible(make_candidate(usage=Usage(last_asked=last_asked)), policy, last_asked) == expected


@pytest.mark.parametrize(
    ("day", "start", "following"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), date(2026, 4, 1)),
        (date(2026, 3, 31), date(2026, 1, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2026, 4, 1), date(2026, 7, 1)),
        (date(2026, 8, 15), date(2026, 7, 1), date(2026, 10, 1)),
        (date(2026, 12, 31), date(2026, 10, 1), date(2027, 1, 1)),
    ],
)
def test_quarters(day: date, start: date, following: date) -> None:
    assert (quarter_start(day), next_quarter_start(day)) == (start, following)


# --- ranking -------------------------------------------------------------------------------------------------


def ids(assessments: list[Assessment]) -> list[int]:
    return [a.candidate.advocate_id for a in assessments]


def test_rank_orders_by_grade_then_room_then_rotation() -> None:
    candidates = [
        make_candidate(1, industry="telecom"),  # good
        make_candidate(2, sentiment=0.5),  # good (mixed feedback), score 11
        make_candidate(3, usage=Usage(last_asked=date(2026, 3, 1), total=1)),  # excellent 12, asked long ago
        make_candidate(4, usage=Usage(last_asked=date(2026, 2, 1), total=9)),  # asked even longer ago
        make_candidate(5),  # never asked
        make_candidate(6, usage=Usage(this_quarter=1)),  # never asked, but one of two asks left this quarter
        make_candidate(7, usage=Usage(total=3)),  # never asked, more references ever
        make_candidate(8, usage=Usage(total=3)),  # same, a later id
        make_candidate(9, sentiment=0.1),  # poor but eligible
        make_candidate(10, status="retired", account_trouble=True),  # two exclusions
        make_candidate(11, status="retired"),  # one exclusion
        make_candidate(12, status="retired", industry="telecom"),  # one exclusion, a worse grade
    ]
    assert ids(rank(need=make_need(), candidates=candidates, policy=POLICY, today=TODAY)) == [
        5, 7, 8, 4, 3, 6, 1, 2, 9, 11, 12, 10,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "wider"),
    [
        (dict(industry="other"), False),  # "other" is adjacent to nothing: fewer industries
        (dict(role_level="ic"), False),  # fits fewer wanted levels
        (dict(role_level="c_level"), True),  # fits every wanted level
        (dict(kinds=(AdvocateKind.CALL,)), False),  # a call also covers an email Q&A: the same two kinds
        (dict(kinds=(AdvocateKind.QUOTE,)), False),  # a written piece covers no brokered kind
        (dict(kinds=tuple(AdvocateKind)), True),  # every kind
        (dict(use_cases=("job scheduling", "cloud migration")), True),  # two themes
        (dict(use_cases=()), False),
    ],
)
def test_breadth_is_the_share_of_requests_a_profile_could_serve(changes: dict[str, Any], wider: bool) -> None:
    base = breadth(make_candidate(), POLICY)
    changed = breadth(make_candidate(**changes), POLICY)
    assert 0 <= changed <= 1
    assert (changed > base) if wider else (changed <= base)


def test_among_equals_the_narrowest_profile_for_the_room_left_goes_first() -> None:
    generalist = make_candidate(
        1, role_level="c_level", kinds=tuple(AdvocateKind), use_cases=("job scheduling", "cloud migration")
    )
    specialist = make_candidate(2, usage=Usage(last_asked=date(2026, 2, 1), total=4))  # rotation says 1
    assert ids(rank(need=make_need(), candidates=[generalist, specialist], policy=POLICY, today=TODAY)) == [
        2,
        1,
    ]
    # A strategic advocate has four asks a quarter: the same profile with more room left is needed less.
    narrow_cap = make_candidate(3, tier="new")
    wide_cap = make_candidate(4, tier="strategic")
    ranked = rank(need=make_need(), candidates=[narrow_cap, wide_cap], policy=POLICY, today=TODAY)
    assert ids(ranked) == [4, 3]
    # Grade stays first: an excellent generalist before a good specialist.
    good = make_candidate(5, sentiment=0.5)
    assert ids(rank(need=make_need(), candidates=[good, generalist], policy=POLICY, today=TODAY)) == [1, 5]


def test_shortlist_keeps_eligible_good_or_better_up_to_the_limit() -> None:
    candidates = [make_candidate(i) for i in range(1, 8)]
    candidates += [make_candidate(8, sentiment=0.1), make_candidate(9, account_trouble=True)]
    ranked = rank(need=make_need(), candidates=candidates, policy=POLICY, today=TODAY)
    assert ids(shortlist(ranked)) == [1, 2, 3, 4, 5]
    assert ids(shortlist(ranked, limit=10)) == [1, 2, 3, 4, 5, 6, 7]
    assert shortlist(rank(need=make_need(), candidates=candidates[7:], policy=POLICY, today=TODAY)) == []


def test_policy_mappings_are_immutable_and_copied() -> None:
    caps = {"strategic": 5, "standard": 2, "new": 1}
    policy = Policy(caps=caps)
    caps["standard"] = 0
    assert policy.caps["standard"] == 2
    with pytest.raises(TypeError):
        policy.caps["new"] = 9  # type: ignore[index]
    with pytest.raises(TypeError):
        POLICY.industry_adjacency["software"] = frozenset()  # type: ignore[index]
    assert DEFAULT_CAPS == {"strategic": 4, "standard": 2, "new": 1}


# --- properties ----------------------------------------------------------------------------------------------

INDUSTRIES = ["software", "telecom", "retail", "healthcare", "insurance"]
LEVELS = ["ic", "manager", "director", "vp", "c_level"]
USE_CASES = ["job scheduling", "cloud migration", "compliance", "reporting", "billing"]
WINDOW = [TODAY - timedelta(days=d) for d in (0, 3, 8, 15, 20, 21, 29, 30, 44, 45, 90)]


def mostly(usual: Any, *others: Any) -> st.SearchStrategy[Any]:
    """The baseline's value seven times in eight, so that a fair share of advocates stay eligible to rank."""
    # Plain choices (one draw each) keep 200 examples fast; the unit tests above cover the boundaries.
    return st.sampled_from([usual] * 7 * len(others) + list(others))


usages = st.builds(
    Usage,
    total=st.integers(0, 20),
    this_quarter=mostly(0, 1, 2, 3, 4, 5),
    last_asked=mostly(None, *WINDOW),
    last_used=mostly(None, *WINDOW),
    recent_90d=mostly(0, 1, 2, 3, 4, 5),
    previous_quarter=mostly(0, 1, 3, 4, 5),
    passes_recent=mostly(0, 1, 2, 3),
    passes_before=st.sampled_from([0, 1, 2, 3]),
    reply_hours_recent=mostly(None, 10.0, 24.0, 36.0, 72.0),
    reply_hours_before=st.sampled_from([None, 5.0, 20.0, 48.0]),
    asked_for_prospect=mostly(False, True),
    pending_elsewhere=mostly(False, True),
)
candidates = st.builds(
    make_candidate,
    st.integers(1, 10_000),
    role_level=mostly("director", *LEVELS),
    industry=mostly("software", *INDUSTRIES),
    employees=mostly(1_000, 0, 1, 199, 200, 201, 500, 501, 2_000, 5_000, 5_001),
    use_cases=mostly(
        ("job scheduling",), (), ("cloud migration",), ("compliance", "reporting"), ("billing",)
    ),
    kinds=mostly(
        ("call",), (), ("email",), ("quote", "case_study"), ("site_visit", "executive"), tuple(AdvocateKind)
    ),
    tier=st.sampled_from(["strategic", "standard", "new"]),
    status=mostly("active", "break", "retired"),
    break_until=st.sampled_from([None, TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1)]),
    account_trouble=mostly(False, True),
    sentiment=mostly(0.8, None, 0.0, 0.39, 0.4, 0.69, 0.7, 1.0),
    usage=usages,
)
candidate_lists = st.lists(candidates, max_size=6, unique_by=lambda c: c.advocate_id)
needs = st.builds(
    make_need,
    industry=mostly("software", *INDUSTRIES),
    employees=mostly(1_000, 0, 300, 2_500, 5_000),
    use_case=mostly("Migrating off a legacy job scheduler", "SOX audit", "Billing", "Dashboards"),
    role_level=mostly("director", *LEVELS),
    kind=mostly("call", "email", "site_visit", "executive", "peer"),
    deal_arr=st.sampled_from([50_000, 249_999, 250_000, 900_000]),
)
fast = settings(max_examples=200, deadline=None)


@fast
@given(need=needs, candidates=candidate_lists)
def test_no_excluded_or_poor_advocate_is_ever_shortlisted(need: Need, candidates: list[Candidate]) -> None:
    ranked = rank(need=need, candidates=candidates, policy=POLICY, today=TODAY)
    chosen = shortlist(ranked, limit=len(candidates))
    assert all(not a.exclusions and a.grade is not Grade.POOR for a in chosen)
    eligible = [a for a in ranked if not a.excluded]
    assert ranked[: len(eligible)] == eligible  # eligible ones come first
    assert sorted(ids(ranked)) == sorted(c.advocate_id for c in candidates)


@fast
@given(need=needs, candidates=candidate_lists, data=st.data())
def test_ranking_does_not_depend_on_input_order(
    need: Need, candidates: list[Candidate], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(candidates))
    first = rank(need=need, candidates=candidates, policy=POLICY, today=TODAY)
    again = rank(need=need, candidates=shuffled, policy=POLICY, today=TODAY)
    assert ids(first) == ids(again)
    assert ids(shortlist(first)) == ids(shortlist(again))


@fast
@given(need=needs, candidates=candidate_lists, size=st.integers(1, 4), data=st.data())
def test_a_first_page_is_what_ranking_everyone_shows(
    need: Need, candidates: list[Candidate], size: int, data: st.DataObject
) -> None:
    """first_page assesses only the page's own: the same advocates, assessed the same, as rank then shortlist."""
    demand = Demand.counted(
        data.draw(st.lists(st.tuples(st.sampled_from(INDUSTRIES), st.sampled_from([300, 1_000, 5_000]),
                                     st.none()), max_size=4))
    )  # fmt: skip
    ranked = rank(need=need, candidates=candidates, policy=POLICY, today=TODAY, demand=demand)
    page, good = first_page(
        need=need, candidates=reversed(candidates), policy=POLICY, today=TODAY, demand=demand, size=size
    )
    assert page == shortlist(ranked, limit=size)
    assert good == len(shortlist(ranked, limit=len(candidates)))


@fast
@given(need=needs, candidates=candidate_lists)
def test_shortlist_grades_are_never_poor(need: Need, candidates: list[Candidate]) -> None:
    ranked = rank(need=need, candidates=candidates, policy=POLICY, today=TODAY)
    assert Grade.POOR not in {a.grade for a in shortlist(ranked)}


@fast
@given(candidates=candidate_lists)
def test_next_eligible_is_the_first_day_without_time_limits(candidates: list[Candidate]) -> None:
    for candidate in candidates:
        when = next_eligible(candidate, POLICY, TODAY)
        if when is None:
            continue
        assert when >= TODAY
        assert not TIME_CODES & set(codes(run(as_of(candidate, when), today=when)))
        if when > TODAY:
            day_before = when - timedelta(days=1)
            assert TIME_CODES & set(codes(run(as_of(candidate, day_before), today=day_before)))


@fast
@given(need=needs, candidates=candidate_lists)
def test_an_assessment_dates_next_eligible_as_asked(need: Need, candidates: list[Candidate]) -> None:
    """rank skips the dates of whoever nothing excludes (free today): the same answer as asking."""
    for assessment in rank(need=need, candidates=candidates, policy=POLICY, today=TODAY):
        assert assessment.next_eligible == next_eligible(assessment.candidate, POLICY, TODAY)


def as_of(candidate: Candidate, day: date) -> Candidate:
    """The advocate on a later day with no new asks: the quarter's count restarts when a quarter turns."""
    if quarter_start(day) == quarter_start(TODAY):
        return candidate
    usage = candidate.usage
    previous = usage.this_quarter if quarter_start(day) == next_quarter_start(TODAY) else 0
    this_year = usage.this_year if day.year == TODAY.year else 0
    usage = dataclasses.replace(usage, this_quarter=0, previous_quarter=previous, this_year=this_year)
    return dataclasses.replace(candidate, usage=usage)


def test_quick_builds_what_the_constructor_builds():
    """records.quick, the shortlist's way to build a frozen record without the per-field __setattr__."""
    usage = Usage(total=2, this_quarter=1, last_used=TODAY - timedelta(days=40), reply_hours_recent=3.5)
    for record in (
        usage,
        make_candidate(3, usage=usage, joined_on=TODAY),
        run(make_candidate(4, usage=usage)),
    ):
        built = quick(type(record), **{f.name: getattr(record, f.name) for f in dataclasses.fields(record)})
        assert built == record
        assert hash(built) == hash(record)
        assert repr(built) == repr(record)
        with pytest.raises(dataclasses.FrozenInstanceError):
            built.total = 9  # type: ignore[misc]


def test_grades_kept_across_requests_belong_to_one_policy_and_day():
    """rank remembers the dimensions that read nothing of the request (last used, tenure, sentiment) across
    requests (grades.steady_memo): another policy, or the next day, grades them afresh."""
    candidate = make_candidate(
        1, usage=Usage(total=1, last_used=TODAY - timedelta(days=60)), joined_on=TODAY - timedelta(days=150)
    )
    strict = dataclasses.replace(POLICY, preferred_days=90, min_tenure_days=180)
    lenient = dataclasses.replace(POLICY, preferred_days=30, min_tenure_days=60)
    for policy, today in [
        (strict, TODAY),
        (lenient, TODAY),
        (strict, TODAY),
        (strict, TODAY + timedelta(days=40)),
        (lenient, TODAY + timedelta(days=40)),
    ]:
        ranked = rank(need=make_need(), candidates=[candidate], policy=policy, today=today)
        assert ranked == [run(candidate, policy=policy, today=today)]
    grades = {
        d.name: d.grade
        for d in rank(need=make_need(), candidates=[candidate], policy=strict, today=TODAY)[0].dimensions
    }
    assert grades["last used"] is Grade.GOOD and grades["tenure"] is Grade.GOOD
    grades = {
        d.name: d.grade
        for d in rank(need=make_need(), candidates=[candidate], policy=lenient, today=TODAY)[0].dimensions
    }
    assert grades["last used"] is Grade.EXCELLENT and grades["tenure"] is Grade.EXCELLENT
