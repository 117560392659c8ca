"""Recent demand and the order among equals it drives (bot/rules/matching/demand.py, ranking.py, and the
store read in bot/flows/shortlist.py): which advocate of the same grade the coming weeks need least goes first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows import shortlist
from bot.rules.matching import Demand, Grade, Policy, Usage, assess, breadth, need_share, rank
from bot.rules.matching.grades import size_fits
from store.models import Advocate, ReferenceRequest
from tests.support.factories import request_values
from tests.test_matching import make_candidate, make_need

TODAY = date(2026, 5, 13)
POLICY = Policy()


def ids(ranked: list[Any]) -> list[int]:
    return [a.candidate.advocate_id for a in ranked]


def demand_of(*needs: dict[str, Any]) -> Demand:
    return Demand.of(make_need(**changes) for changes in needs)


# --- the size boundary the share reads -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    theirs=st.sampled_from([0, 1, 39, 40, 199, 200, 201, 1_000, 5_000, 5_001, 25_000, 25_001, 100_000]),
    prospect=st.sampled_from([1, 40, 200, 1_000, 5_000]),
    band=st.sampled_from([None, "1-50", "201-1000", "1001-5000", "5001+", "nonsense"]),
)
def test_size_fits_is_the_matrix_company_size_not_poor(theirs: int, prospect: int, band: str | None) -> None:
    need, candidate = make_need(employees=prospect, size_band=band), make_candidate(employees=theirs)
    a = assess(need=need, candidate=candidate, policy=POLICY, today=TODAY)
    (size,) = [d.grade for d in a.dimensions if d.name == "company size"]
    assert size_fits(need, candidate) == (size is not Grade.POOR)


@settings(max_examples=300, deadline=None)
@given(
    theirs=st.sampled_from([0, 1, 39, 40, 199, 200, 201, 1_000, 5_000, 5_001, 25_000, 25_001, 100_000]),
    prospect=st.sampled_from([1, 40, 200, 1_000, 5_000]),
    band=st.sampled_from([None, "1-50", "201-1000", "1001-5000", "5001+", "nonsense"]),
)
def test_size_share_reads_the_same_boundary_as_size_fits(
    theirs: int, prospect: int, band: str | None
) -> None:
    need, candidate = make_need(employees=prospect, size_band=band), make_candidate(employees=theirs)
    assert Demand.of([need]).size_share(candidate) == (1.0 if size_fits(need, candidate) else 0.0)


SIZES = [0, 1, 39, 40, 199, 200, 201, 1_000, 5_000, 5_001, 25_000, 25_001, 100_000]


@settings(max_examples=150, deadline=None)
@given(
    needs=st.lists(
        st.tuples(
            st.sampled_from([1, 40, 200, 1_000, 5_000, 30_000]),
            st.sampled_from([None, "1-50", "201-1000", "1001-5000", "5001+", "nonsense"]),
            st.sampled_from(["software", "retail", "healthcare", "energy"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_a_demand_counts_each_request_as_size_fits_and_the_matrix_do(
    needs: list[tuple[int, str | None, str]],
) -> None:
    wanted = [make_need(employees=e, size_band=band, industry=i) for e, band, i in needs]
    demand = Demand.of(wanted)
    near = POLICY.industry_adjacency
    for theirs in SIZES:
        for industry in ("software", "media", "education"):  # asked twice: the second answer is remembered
            candidate = make_candidate(employees=theirs, industry=industry)
            fits = sum(size_fits(need, candidate) for need in wanted) / len(wanted)
            same = sum(n.industry == industry or industry in near.get(n.industry, ()) for n in wanted) / len(
                wanted
            )
            assert demand.size_share(candidate) == pytest.approx(fits)
            assert demand.industry_share(candidate, POLICY) == demand.industry_share(candidate, POLICY)
            assert demand.industry_share(candidate, POLICY) == pytest.approx(same)


@pytest.mark.parametrize(("prospect", "fits"), [(200, True), (199, False), (5_000, True), (5_001, False)])
def test_a_size_counts_within_five_times_either_way(prospect: int, fits: bool) -> None:
    demand = demand_of(dict(employees=prospect))  # the advocate's company has 1,000 employees
    assert demand.size_share(make_candidate(employees=1_000)) == (1.0 if fits else 0.0)


# --- the shares ----------------------------------------------------------------------------------------------


def test_industry_share_counts_the_recent_requests_for_their_industry_or_an_adjacent_one() -> None:
    demand = demand_of(
        dict(industry="software"),
        dict(industry="software"),
        dict(industry="telecom"),
        dict(industry="retail"),
    )
    assert demand.total == 4
    assert (
        demand.industry_share(make_candidate(industry="software"), POLICY) == 3 / 4
    )  # retail is not adjacent
    assert demand.industry_share(make_candidate(industry="retail"), POLICY) == 1 / 4
    assert demand.industry_share(make_candidate(industry="education"), POLICY) == 0.0


def test_need_share_is_breadth_with_industry_and_size_measured_on_demand() -> None:
    candidate = make_candidate(industry="software", employees=1_000)
    assert need_share(candidate, POLICY, None) == breadth(candidate, POLICY)
    assert need_share(candidate, POLICY, Demand()) == breadth(candidate, POLICY)  # no recent requests
    demand = demand_of(dict(industry="software"), dict(industry="retail", employees=10_000))
    industries_near_software = 6 / 16  # software and its five neighbours, of the 16 industries
    # Two requests seen, half of them in software's industries and half of a size within 5×; each share leans
    # on the profile's (6/16 for industries, one half for size) as if ten more requests had come that way.
    industry = (1 / 2 * 2 + industries_near_software * 10) / 12
    size = (1 / 2 * 2 + 1 / 2 * 10) / 12
    expected = breadth(candidate, POLICY) / industries_near_software * industry * size
    assert need_share(candidate, POLICY, demand) == pytest.approx(expected)
    # Many requests: the measured shares decide (the profile's weight is 10 of 1,010).
    many = demand_of(*[dict(industry="retail", employees=10_000)] * 1_000)
    assert need_share(candidate, POLICY, many) < breadth(candidate, POLICY) / 50


# --- the order -----------------------------------------------------------------------------------------------


def test_among_equals_the_one_recent_demand_needs_least_goes_first_whatever_rotation_says() -> None:
    # Both Good (an industry adjacent to software); energy is adjacent to telecom, not to media.
    busy = make_candidate(1, industry="telecom")
    idle = make_candidate(2, industry="media", usage=Usage(last_asked=date(2026, 3, 1), total=3))
    demand = demand_of(*[dict(industry="energy")] * 8, dict(industry="media"))
    ranked = rank(need=make_need(), candidates=[busy, idle], policy=POLICY, today=TODAY, demand=demand)
    assert [a.grade for a in ranked] == [Grade.GOOD, Grade.GOOD]
    assert ids(ranked) == [2, 1]
    # Demand for both alike: rotation decides (never asked first).
    even = demand_of(dict(industry="software"))
    assert ids(rank(need=make_need(), candidates=[busy, idle], policy=POLICY, today=TODAY, demand=even)) == [
        1,
        2,
    ]


def test_a_company_size_the_recent_requests_rarely_ask_for_goes_first() -> None:
    # Both Excellent for a 1,000-employee prospect; recent requests are from 4,000-employee companies.
    fits_them = make_candidate(1, employees=1_000)
    fits_few = make_candidate(2, employees=600, usage=Usage(last_asked=date(2026, 3, 1), total=3))
    demand = demand_of(*[dict(employees=4_000)] * 4)
    ranked = rank(
        need=make_need(), candidates=[fits_them, fits_few], policy=POLICY, today=TODAY, demand=demand
    )
    assert [a.grade for a in ranked] == [Grade.EXCELLENT, Grade.EXCELLENT]
    assert ids(ranked) == [2, 1]


def test_grade_and_the_reservation_still_come_before_demand() -> None:
    demand = demand_of(*[dict(industry="software")] * 5)
    wanted = make_candidate(1)  # excellent, in the industry everyone asks for
    unwanted_good = make_candidate(2, industry="media")  # good, adjacent
    assert ids(
        rank(need=make_need(), candidates=[unwanted_good, wanted], policy=POLICY, today=TODAY, demand=demand)
    ) == [
        1,
        2,
    ]
    small_deal = make_need(deal_arr=100_000)
    strategic = make_candidate(3, tier="strategic", employees=600)  # fewer recent requests of their size
    ranked = rank(need=small_deal, candidates=[strategic, wanted], policy=POLICY, today=TODAY, demand=demand)
    assert ids(ranked) == [1, 3]  # kept for bigger deals: after an equal-grade advocate
    big_deal = make_need(deal_arr=300_000)
    demand = demand_of(*[dict(employees=4_000)] * 4)
    assert ids(
        rank(need=big_deal, candidates=[wanted, strategic], policy=POLICY, today=TODAY, demand=demand)
    ) == [3, 1]


# --- the store read ------------------------------------------------------------------------------------------


def test_recent_demand_reads_the_other_live_requests_of_the_last_days(database: Any) -> None:
    now = datetime(2026, 5, 13, 12, tzinfo=UTC)
    rows = [
        (1, "approved", 0, "software"),  # the request being ranked: not counted
        (2, "approved", 10, "software"),
        (3, "pending", 90, "retail"),  # 90 days ago: the window's first day
        (4, "no_match", 30, "telecom"),
        (5, "approved", 91, "media"),  # too old
        (6, "declined", 5, "media"),  # asked nothing of the pool
        (7, "cancelled", 5, "media"),
    ]
    with database.unit_of_work() as session:
        for request_id, status, days, industry in rows:
            created = now - timedelta(days=days)
            session.add(
                ReferenceRequest(
                    **request_values(
                        id=request_id, status=status, created_at=created, wanted_industry=industry,
                        prospect_employees=300 + request_id,
                    )
                )
            )  # fmt: skip
        session.flush()
        demand = shortlist.recent_demand(session=session, request_id=1, policy=POLICY, today=now.date())
        assert demand.total == 3
        assert dict(demand.industries) == {"software": 1, "retail": 1, "telecom": 1}
        assert sorted(demand.sizes) == [
            (51, 302),
            (51, 303),
            (51, 304),
        ]  # the 51-200 band widened to the prospect
        few = Policy(demand_sample=2)  # the newest two other requests (7 and 6, both not counted)
        assert shortlist.recent_demand(session=session, request_id=1, policy=few, today=now.date()).total == 0


def test_ranked_for_orders_equals_by_the_demand_it_read(database: Any) -> None:
    now = datetime(2026, 5, 13, 12, tzinfo=UTC)
    with database.unit_of_work() as session:
        for advocate_id, industry in ((1, "telecom"), (2, "media")):  # both adjacent to software: Good
            session.add(
                Advocate(
                    id=advocate_id, email=f"a{advocate_id}@x.example", name=f"A{advocate_id}", role_level="vp",
                    company="X", industry=industry, employees=150, use_cases=["x"], kinds=["call"],
                    tier="standard", status="active", sentiment=0.8, owner_slack_user_id="U0CS1",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
        request = ReferenceRequest(**request_values(id=100, created_at=now))
        session.add(request)
        session.flush()
        ranked = shortlist.ranked_for(session=session, request=request, policy=POLICY, today=now.date())
        assert ids(ranked) == [1, 2]  # nothing asked lately: their profiles and then the id decide
        for n in range(4):  # energy is adjacent to telecom, not to media: advocate 1 is the one in demand
            values = request_values(id=10 + n, created_at=now - timedelta(days=n), wanted_industry="energy")
            session.add(ReferenceRequest(**{**values, "source_view_id": f"V{10 + n}"}))
        session.flush()
        ranked = shortlist.ranked_for(session=session, request=request, policy=POLICY, today=now.date())
        assert [a.grade for a in ranked] == [Grade.GOOD, Grade.GOOD]
        assert ids(ranked) == [2, 1]
