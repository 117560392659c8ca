"""The first page is ranked from a narrower query; it must show exactly what ranking everyone would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from bot.flows import shortlist
from bot.rules.matching import Policy
from store import fit
from store.models import Advocate, Engagement, ReferenceRequest
from tests.support.factories import advocate_values, request_values

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
# Weighted towards good fits, so that many examples have a real first page to compare.
INDUSTRIES = ["software", "software", "software", "telecom", "media", "retail"]
ROLES = ["ic", "manager", "director", "vp", "c_level"]
KINDS = ["call", "email", "site_visit", "executive", "quote"]
TAGS = [
    "job scheduling",
    "analytics",
    "cloud migration",
    "ai",
    "gestión de datos",
    "workflow automation",
    "50%_off",
]

advocate = st.fixed_dictionaries(
    {
        "industry": st.sampled_from(INDUSTRIES),
        "employees": st.sampled_from([100, 300, 500, 900, 2000, 4500, 9000]),
        "role_level": st.sampled_from(ROLES),
        "function": st.sampled_from([None, "it", "it", "finance", "executive", "other"]),
        "kinds": st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True),
        "tier": st.sampled_from(["strategic", "standard", "new"]),
        "status": st.sampled_from(["active", "active", "active", "active", "break", "retired"]),
        "break_days": st.integers(-10, 10),
        "trouble": st.sampled_from([False, False, False, True]),
        "sentiment": st.one_of(st.none(), st.sampled_from([0.1, 0.39, 0.4, 0.7, 1.0])),
        "use_cases": st.lists(
            st.sampled_from(["job scheduling", "analytics", "cloud migration"]), max_size=2
        ),
    }
)
history = st.fixed_dictionaries(
    {
        "advocate": st.integers(0, 12),
        "status": st.sampled_from(["asked", "accepted", "scheduled", "held", "passed", "expired"]),
        "days_ago": st.integers(0, 200),
        "prospect": st.sampled_from(["acme corp", "globex"]),
    }
)
need = st.fixed_dictionaries(
    {
        "role": st.sampled_from(ROLES),
        "function": st.sampled_from([None, "it", "finance", "executive"]),
        "kind": st.sampled_from(["call", "email", "site_visit", "executive"]),
        "arr": st.sampled_from([60_000, 249_999, 250_000, 900_000]),
        "use_case": st.sampled_from(
            [
                "Migrating off a legacy job scheduler",
                "analytics",
                "AI",
                "Gestión de datos",
                "batch orchestration",
                "50%_off",
            ]
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    advocates=st.lists(advocate, min_size=1, max_size=12), past=st.lists(history, max_size=12), wanted=need
)
def test_page_one_is_the_same_either_way(database, advocates, past, wanted):
    with database.unit_of_work() as session:
        for model in (Engagement, ReferenceRequest, Advocate):
            session.execute(delete(model))
        # An anchor who fits well, so that most examples have a first page to compare.
        advocates = [
            *advocates,
            dict(
                industry="software",
                employees=900,
                role_level="c_level",
                function=None,
                kinds=["call", "email", "site_visit", "executive"],
                tier="standard",
                status="active",
                break_days=0,
                trouble=False,
                sentiment=None,
                use_cases=["job scheduling", "analytics", "ai", "gestión de datos"],
            ),
        ]
        for n, a in enumerate(advocates):
            session.add(
                Advocate(
                    id=n + 1,
                    email=f"a{n}@x.example",
                    name=f"A{n}",
                    role_level=a["role_level"],
                    function=a["function"],
                    company="X",
                    industry=a["industry"],
                    employees=a["employees"],
                    use_cases=a["use_cases"],
                    kinds=a["kinds"],
                    tier=a["tier"],
                    status=a["status"],
                    break_until=TODAY + timedelta(days=a["break_days"]),
                    account_trouble=a["trouble"],
                    sentiment=a["sentiment"],
                    owner_slack_user_id="U0CS1",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        request = ReferenceRequest(
            **request_values(
                prospect_employees=800,
                deal_arr=wanted["arr"],
                close_date=TODAY,
                wanted_size_band="201-1000",
                wanted_role_level=wanted["role"],
                wanted_function=wanted["function"],
                wanted_use_case=wanted["use_case"],
                wanted_kind=wanted["kind"],
            )
        )
        session.add(request)
        session.flush()
        for h in past:
            if h["advocate"] < len(advocates):
                asked = NOW - timedelta(days=h["days_ago"])
                session.add(
                    Engagement(
                        advocate_id=h["advocate"] + 1,
                        kind="call",
                        status=h["status"],
                        prospect_key=h["prospect"],
                        asked_at=asked,
                        created_at=NOW,
                    )
                )
        session.flush()
        policy = Policy()
        strict = shortlist.ranked_for(
            session=session, request=request, policy=policy, today=TODAY, strict=True
        )
        everyone = shortlist.ranked_for(session=session, request=request, policy=policy, today=TODAY)
        page = [a.candidate.advocate_id for a in strict if shortlist.good_enough(a)]
        assert page == [a.candidate.advocate_id for a in everyone if shortlist.good_enough(a)]
        expected = [a for a in everyone if shortlist.good_enough(a)]
        for size in (1, 5):  # what a first page shows: its best, assessed in full, and how many good matches
            best, good = shortlist.first_page_for(
                session=session, request=request, policy=policy, today=TODAY, size=size
            )
            assert (best, good) == (expected[:size], len(page))
        request_id = request.id
    # Committed: the fit filters now run on the pool kept in memory (store.fit), rebuilt for each example (each
    # one rewrote the advocates), and the statement reads only the usage of the ids found.
    with database.unit_of_work() as session:
        request = session.get(ReferenceRequest, request_id)
        assert fit.pool_of(session, wait=True) is not None
        for size in (1, 5):
            best, good = shortlist.first_page_for(
                session=session, request=request, policy=policy, today=TODAY, size=size
            )
            assert (best, good) == (expected[:size], len(page))


def test_the_kept_pool_follows_every_change_to_the_advocates_on_any_replica(database):
    """store.fit keeps the pool in memory, per engine. After a change committed through another engine (another
    replica) the next first page reads the table, and is right, while the pool is read again on a thread of its
    own; then first pages come from the pool again, with the change. A session's own uncommitted change is read
    from the table."""
    import time

    from store.db import Database, make_engine

    def ids(session):
        request = session.get(ReferenceRequest, 1)
        best, good = shortlist.first_page_for(
            session=session, request=request, policy=Policy(), today=TODAY, size=5
        )
        return [a.candidate.advocate_id for a in best], good

    def read_again(before):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with database.unit_of_work() as session:
                kept = fit.pool_of(session)
            if kept is not None and kept is not before:
                return kept
            time.sleep(0.01)
        raise AssertionError("the pool was not read again within 10 s")

    with database.unit_of_work() as session:
        session.add(Advocate(**advocate_values(id=1, use_cases=["job scheduling"])))
        session.add(Advocate(**advocate_values(id=2, use_cases=["billing"])))
        session.add(
            ReferenceRequest(**request_values(wanted_use_case="job scheduling", wanted_role_level="vp"))
        )
    with database.unit_of_work() as session:
        assert ids(session) == ([1], 1)
        kept = fit.pool_of(session)
        assert kept is not None
    replica = Database(make_engine(database.engine.url.render_as_string(hide_password=False)))
    try:
        with replica.unit_of_work() as session:
            session.get(Advocate, 2).use_cases = ["Job scheduling at scale"]
            session.add(Advocate(**advocate_values(id=3, use_cases=["job scheduling"], status="retired")))
        with database.unit_of_work() as session:
            assert fit.pool_of(session) is None  # read again elsewhere; meanwhile the table
            assert sorted(ids(session)[0]) == [1, 2]
        kept = read_again(kept)
        with database.unit_of_work() as session:
            assert fit.pool_of(session) is kept
            assert sorted(ids(session)[0]) == [1, 2]
        with replica.unit_of_work() as session:
            session.execute(delete(Advocate).where(Advocate.id == 1))
        with database.unit_of_work() as session:
            assert ids(session) == ([2], 1)
        kept = read_again(kept)
        with database.unit_of_work() as session:
            assert ids(session) == ([2], 1)
            # Not yet committed: read from the table, with the change.
            session.get(Advocate, 2).kinds = ["quote"]
            session.flush()
            assert fit.pool_of(session) is None
            assert ids(session) == ([], 0)
            session.rollback()
        with database.unit_of_work() as session:
            assert fit.pool_of(session) is kept
            assert ids(session) == ([2], 1)
    finally:
        replica.engine.dispose()
