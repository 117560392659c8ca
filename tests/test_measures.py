"""Every program measure, computed two ways on random data: the product's SQL, and a plain count over the rows.

Also: a past quarter's report is the same whenever it is generated, and live and imported history count alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from bot.reporting.metrics import Period, metric, period_counts
from bot.reporting.report import build_report
from bot.reporting.rows import advocate_rows, rep_stats
from bot.rules.matching import Policy
from bot.rules.qualification import Rules, qualify
from store.models import Advocate, Engagement, Nudge, ReferenceRequest, RequestEvent
from tests.support.factories import request_values

Q4 = Period.parse("2026Q4")
Q3 = Period.parse("2026Q3")
ORIGIN = datetime(2026, 6, 1, 9, tzinfo=UTC)  # day 0 of the generated timelines
LATER = date(2027, 6, 1)  # long after Q4: every row generated is in the past
GIVEN = ("scheduled", "held")
DECIDED = ("approved", "declined", "no_match")


def at(day: int, hour: int = 0) -> datetime:
    return ORIGIN + timedelta(days=day, hours=hour)


advocates = st.lists(
    st.fixed_dictionaries(
        {
            "joined": st.one_of(st.none(), st.integers(0, 280)),  # None: no joined_on, created_at decides
            "created": st.integers(0, 280),
            "status": st.sampled_from(["active", "active", "break", "retired"]),
            "updated": st.integers(0, 360),
            "trouble": st.booleans(),
        }
    ),
    min_size=1,
    max_size=5,
)
requests = st.lists(
    st.fixed_dictionaries(
        {
            "rep": st.sampled_from(["U0REPA", "U0REPB"]),
            "created": st.integers(0, 300),
            "status": st.sampled_from(["pending", "approved", "declined", "no_match", "cancelled"]),
            "decided_after": st.integers(0, 20),
            "outcome": st.sampled_from([None, "won", "lost"]),
            "outcome_after": st.integers(0, 120),
            "stage": st.sampled_from(["discovery", "proposal", "negotiation"]),
            "arr": st.sampled_from([20_000, 120_000]),
            "tried": st.sampled_from([["none"], ["demo"]]),
        }
    ),
    max_size=8,
)
engagements = st.lists(
    st.fixed_dictionaries(
        {
            "advocate": st.integers(0, 4),
            "request": st.one_of(st.none(), st.integers(0, 7)),  # None: imported history
            "status": st.sampled_from(
                ["asked", "accepted", "scheduled", "held", "passed", "expired", "cancelled"]
            ),
            "asked": st.integers(0, 300),
            "call_after": st.integers(0, 30),
            "outcome": st.sampled_from([None, "won", "lost"]),
            "rating": st.sampled_from([None, "great", "fine", "not_great"]),
            "rating_after": st.integers(1, 10),
            "helpful": st.sampled_from([None, "", "yes", "partly", "no"]),
        }
    ),
    max_size=12,
)


def load(database, advocate_rows_, request_rows, engagement_rows) -> dict:
    """Write the generated rows; returns them as the plain records the by-hand counts read."""
    with database.unit_of_work() as session:
        for model in (Nudge, RequestEvent, Engagement, ReferenceRequest, Advocate):
            session.execute(delete(model))
        ads = []
        for n, a in enumerate(advocate_rows_, start=1):
            record = dict(
                id=n,
                joined_on=at(a["joined"]).date() if a["joined"] is not None else None,
                created_at=at(a["created"], 3),
                status=a["status"],
                updated_at=at(max(a["updated"], a["created"]), 5),
                account_trouble=a["trouble"],
                break_until=None,
            )
            ads.append(record)
            session.add(
                Advocate(
                    **record, email=f"a{n}@x.example", name=f"A{n}", role_level="vp", company="X",
                    industry="software", employees=100, use_cases=["reporting"], kinds=["call"], tier="standard",
                )
            )  # fmt: skip
        session.flush()
        reqs = []
        for n, r in enumerate(request_rows, start=1):
            decided = at(r["created"] + r["decided_after"], 2) if r["status"] != "pending" else None
            outcome = r["outcome"] if r["status"] in ("approved", "no_match") else None
            record = dict(
                id=n,
                rep_id=r["rep"],
                created_at=at(r["created"], 1),
                status=r["status"],
                decided_at=decided,
                outcome=outcome,
                outcome_at=at(r["created"] + r["outcome_after"], 4) if outcome else None,
                deal_stage=r["stage"],
                deal_arr=r["arr"],
                tried=r["tried"],
                prior_references=0,
            )
            reqs.append(record)
            session.add(ReferenceRequest(**request_values(**record, updated_at=record["created_at"])))
        session.flush()
        engs, pairs = [], set()
        for n, e in enumerate(engagement_rows, start=1):
            advocate_id = e["advocate"] % len(ads) + 1
            request_id = e["request"] % len(reqs) + 1 if e["request"] is not None and reqs else None
            if request_id is not None and (request_id, advocate_id) in pairs:
                request_id = None
            pairs.add((request_id, advocate_id))
            imported = request_id is None
            asked = at(e["asked"], 6)
            status = "held" if imported else e["status"]
            call = None if imported or status not in GIVEN else asked + timedelta(days=e["call_after"])
            held = asked if imported else (call if status == "held" else None)
            rated = e["rating"] and status == "held"
            checked = e["helpful"] is not None and status == "held" and not imported
            record = dict(
                id=n,
                advocate_id=advocate_id,
                request_id=request_id,
                status=status,
                source="import" if imported else "refdesk",
                asked_at=asked,
                call_at=call,
                held_at=held,
                outcome=e["outcome"] if imported else None,
                feedback_rating=e["rating"] if rated else None,
                feedback_at=(held + timedelta(days=e["rating_after"])) if rated else None,
                checkin={"helpful": e["helpful"]} if checked else {},
                checkin_at=(held + timedelta(days=1)) if checked else None,
            )
            engs.append(record)
            session.add(
                Engagement(
                    **record, kind="call", prospect_company="P", prospect_key="p", created_at=asked,
                    prospect_industry=None,
                )
            )  # fmt: skip
    return {"advocates": ads, "requests": reqs, "engagements": engs}


def inside(period: Period, instant: datetime | None) -> bool:
    return instant is not None and period.start <= instant < period.end


def happened(e: dict) -> datetime | None:
    return e["call_at"] or e["held_at"]


def in_pool(a: dict, moment: datetime) -> bool:
    joined = a["joined_on"] < moment.date() if a["joined_on"] else a["created_at"] < moment
    return joined and (a["status"] != "retired" or a["updated_at"] >= moment)


def by_hand(rows: dict, period: Period) -> dict:
    """Each measure of `period` counted over the plain records (the period is over: today is LATER)."""
    reqs, engs, ads = rows["requests"], rows["engagements"], rows["advocates"]
    by_id = {r["id"]: r for r in reqs}
    given = [e for e in engs if e["status"] in GIVEN and inside(period, happened(e))]
    decided = [r for r in reqs if r["status"] in DECIDED and inside(period, r["decided_at"])]
    asks = [e for e in engs if e["source"] != "import" and inside(period, e["asked_at"])]
    answered = [e for e in asks if e["status"] in ("accepted", "scheduled", "held", "passed", "expired")]
    approved = [r for r in decided if r["status"] == "approved"]
    held_for = {e["request_id"] for e in engs if e["status"] == "held"}
    given_for = {e["request_id"] for e in engs if e["status"] in GIVEN}
    waits = [
        (happened(e) - by_id[e["request_id"]]["created_at"]).total_seconds() / 86400
        for e in given
        if e["request_id"]
    ]
    rated = [e for e in engs if e["feedback_rating"] and inside(period, e["feedback_at"])]
    checked = [e for e in engs if e["checkin"].get("helpful") and inside(period, e["checkin_at"])]
    closed_live = [
        r for r in reqs if r["outcome"] and inside(period, r["outcome_at"]) and r["id"] in given_for
    ]
    closed_imported = [e for e in given if e["request_id"] is None and e["outcome"]]
    outcomes = [r["outcome"] for r in closed_live] + [e["outcome"] for e in closed_imported]
    return dict(
        requests=sum(1 for r in reqs if inside(period, r["created_at"])),
        approved=len(approved),
        decided=len(decided),
        asks_answered=len(answered),
        asks_yes=sum(1 for e in answered if e["status"] in ("accepted", "scheduled", "held")),
        approved_requests=len(approved),
        completed=sum(1 for r in approved if r["id"] in held_for),
        references=len(given),
        advocates_used=len({e["advocate_id"] for e in given}),
        waits_days=sorted(waits),
        ratings=len(rated),
        satisfied=sum(1 for e in rated if e["feedback_rating"] in ("great", "fine")),
        checkins=len(checked),
        helpful=sum(1 for e in checked if e["checkin"]["helpful"] == "yes"),
        pool=sum(1 for a in ads if in_pool(a, period.end)),
        pool_at_start=sum(1 for a in ads if in_pool(a, period.start)),
        retained=sum(1 for a in ads if in_pool(a, period.start) and in_pool(a, period.end)),
        deals_closed=len(outcomes),
        deals_won=outcomes.count("won"),
    )


def reps_by_hand(rows: dict, period: Period) -> dict:
    reqs, engs = rows["requests"], rows["engagements"]
    by_id = {r["id"]: r for r in reqs}
    given_for = {e["request_id"] for e in engs if e["status"] in GIVEN}
    found: dict[str, dict] = {}
    for rep in {r["rep_id"] for r in reqs}:
        mine = [r for r in reqs if r["rep_id"] == rep]
        filed = [r for r in mine if inside(period, r["created_at"])]
        decided = [r for r in mine if r["status"] in DECIDED and inside(period, r["decided_at"])]
        closed = [
            r for r in mine if r["outcome"] and inside(period, r["outcome_at"]) and r["id"] in given_for
        ]
        references = [
            e
            for e in engs
            if e["request_id"] and by_id[e["request_id"]]["rep_id"] == rep
            and e["status"] in GIVEN and inside(period, happened(e))
        ]  # fmt: skip
        good = [
            not qualify(
                rules=Rules(), deal_stage=r["deal_stage"], deal_arr=r["deal_arr"], tried=r["tried"],
                prior_references=0,
            )
            for r in filed
        ]  # fmt: skip
        row = (
            len(filed),
            sum(1 for r in decided if r["status"] == "approved"),
            len(decided),
            len(references),
            sum(1 for r in closed if r["outcome"] == "won"),
            len(closed),
            sum(good),
        )
        if any(row):
            found[rep] = row
    return found


def advocates_by_hand(rows: dict, period: Period) -> dict:
    by_id = {r["id"]: r for r in rows["requests"]}
    previous = period.previous()
    found = {}
    for a in rows["advocates"]:
        mine = [
            e
            for e in rows["engagements"]
            if e["advocate_id"] == a["id"] and e["status"] in GIVEN and happened(e) < period.end
        ]
        outcomes = [
            (by_id[e["request_id"]]["outcome"] if e["request_id"] else None) or e["outcome"] for e in mine
        ]
        if not mine and not in_pool(a, period.end):
            continue
        found[a["id"]] = (
            len(mine),
            sum(1 for e in mine if inside(period, happened(e))),
            sum(1 for e in mine if inside(previous, happened(e))),
            max((happened(e).date() for e in mine), default=None),
            outcomes.count("won"),
            sum(1 for o in outcomes if o in ("won", "lost")),
            sum(1 for e, o in zip(mine, outcomes, strict=True) if o == "won" and inside(period, happened(e))),
        )
    return found


def counts_of(database, period: Period, today: date) -> dict:
    with database.unit_of_work() as session:
        counts = period_counts(session=session, period=period, today=today).__dict__.copy()
    counts["waits_days"] = sorted(counts["waits_days"])
    return counts


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(a=advocates, r=requests, e=engagements)
def test_every_measure_equals_a_plain_count(database, a, r, e):
    rows = load(database, a, r, e)
    for period in (Q3, Q4):
        expected = by_hand(rows, period)
        counts = counts_of(database, period, LATER)
        assert {k: v for k, v in counts.items() if k != "waits_days"} == {
            k: v for k, v in expected.items() if k != "waits_days"
        }
        assert counts["waits_days"] == [round(w, 9) for w in expected["waits_days"]] or all(
            abs(x - y) < 1e-6 for x, y in zip(counts["waits_days"], expected["waits_days"], strict=True)
        )
        with database.unit_of_work() as session:
            reps = rep_stats(session=session, period=period, limit=None)
            people = advocate_rows(session=session, period=period, policy=Policy(), today=LATER)
            report = build_report(session=session, period=period, policy=Policy(), today=LATER)
        assert {
            rep.rep_id: (
                rep.requests,
                round((rep.approval_rate or 0) * rep.decided),
                rep.decided,
                rep.references,
                round((rep.win_rate or 0) * rep.closed),
                rep.closed,
                round((rep.quality or 0) * rep.requests),
            )
            for rep in reps
        } == reps_by_hand(rows, period)
        assert {
            row.advocate.id: (
                row.total, row.this_period, row.previous_period, row.last_date, row.won, row.closed,
                row.won_this_period,
            )
            for row in people
        } == advocates_by_hand(rows, period)  # fmt: skip
        # The same measure agrees wherever it is shown: the headline, the months, the advocates, the reps.
        references = metric(report.metrics, "References given").value
        assert references == expected["references"]
        assert sum(sum(m.values()) for _, m in report.by_month) == references
        assert sum(row.this_period for row in report.advocates) == references
        assert sum(n for _, n in report.requests_by_month) == expected["requests"]
        refdesk_references = sum(1 for x in rows["engagements"] if x["request_id"] and x["status"] in GIVEN
                                 and inside(period, happened(x)))  # fmt: skip
        assert sum(rep.references for rep in report.reps) == refdesk_references


def test_a_past_quarter_reads_the_same_whenever_it_is_generated(database):
    """Requests, calls and outcomes after the quarter, and a retirement, change nothing in it."""
    rows = [
        {"joined": 10, "created": 10, "status": "active", "updated": 10, "trouble": False},
        {"joined": None, "created": 20, "status": "retired", "updated": 250, "trouble": False},
    ]
    reqs = [
        {"rep": "U0REPA", "created": 130, "status": "approved", "decided_after": 1, "outcome": "won",
         "outcome_after": 10, "stage": "proposal", "arr": 120_000, "tried": ["demo"]},
        {"rep": "U0REPA", "created": 230, "status": "declined", "decided_after": 1, "outcome": None,
         "outcome_after": 0, "stage": "proposal", "arr": 120_000, "tried": ["demo"]},
    ]  # fmt: skip
    engs = [
        {"advocate": 0, "request": 0, "status": "held", "asked": 131, "call_after": 5, "outcome": None,
         "rating": "great", "rating_after": 2, "helpful": "yes"},
        {"advocate": 1, "request": None, "status": "held", "asked": 140, "call_after": 0, "outcome": "won",
         "rating": None, "rating_after": 1, "helpful": None},
    ]  # fmt: skip
    load(database, rows, reqs[:1], engs)

    def report_on(today: date):
        with database.unit_of_work() as session:
            return build_report(session=session, period=Q4, policy=Policy(), today=today)

    before = report_on(date(2027, 1, 2))
    load(database, rows, reqs, engs)  # a request after the quarter ends; the advocate retires later too
    after = report_on(date(2027, 5, 1))
    assert before.metrics == after.metrics and before.reps == after.reps
    assert before.by_month == after.by_month and before.rates_by_month == after.rates_by_month
    assert metric(after.metrics, "References given").value == 2  # one live, one imported
    assert metric(after.metrics, "Active pool").value == 2  # the retirement came after the quarter
    assert metric(after.metrics, "Win rate with a reference").value == 1.0
