"""The usage the protection rules read is aggregated in SQL, and kept per advocate for the shortlist (the counters
and the dated events the rolling windows count): both must equal counting by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from bot.flows.shortlist import _usage, candidate_of, usage_window
from bot.rules.matching import Usage
from store import counts
from store.models import COUNTED, OPEN, WRITTEN_KINDS, Advocate, AdvocateUsage, Engagement, ReferenceRequest
from tests.support.factories import advocate_values, request_values

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
STATUSES = ["asked", "accepted", "scheduled", "held", "passed", "expired", "cancelled"]

engagement = st.fixed_dictionaries(
    {
        "advocate": st.integers(1, 3),
        "status": st.sampled_from(STATUSES),
        "days_ago": st.one_of(st.none(), st.integers(0, 420)),
        "held_after": st.one_of(st.none(), st.integers(0, 20)),
        "reply_hours": st.one_of(st.none(), st.integers(1, 200)),
        "prospect": st.sampled_from(["acme corp", "globex"]),
        "request": st.sampled_from([None, 1, 2]),
        "kind": st.sampled_from(["call", "call", "email", "quote", "case_study"]),
    }
)


def by_hand(rows: list[dict], advocate: int) -> Usage:
    mine = [r for r in rows if r["advocate"] == advocate]
    window = usage_window(TODAY)

    def asked(r):
        return (
            None
            if r["days_ago"] is None
            else datetime.combine(TODAY, datetime.min.time(), UTC)
            + timedelta(hours=12)
            - timedelta(days=r["days_ago"])
        )

    # Written pieces are their own ledger: they count toward no limit.
    spoken = [r for r in mine if r["kind"] not in WRITTEN_KINDS]
    counted = [r for r in spoken if r["status"] in COUNTED]
    used = [(r["held"] or asked(r)) for r in counted if (r["held"] or asked(r)) is not None]

    def avg(rows):
        values = [r["reply_hours"] * 3600 for r in rows if r["reply_hours"] is not None]
        return sum(values) / len(values) / 3600 if values else None

    recent = [r for r in mine if asked(r) and asked(r) >= window.since_180]
    before = [r for r in mine if asked(r) and window.since_360 <= asked(r) < window.since_180]
    return Usage(
        total=len(counted),
        this_quarter=sum(1 for r in counted if asked(r) and asked(r) >= window.quarter_start),
        last_asked=max((asked(r).date() for r in spoken if asked(r)), default=None),
        last_used=max(used).date() if used else None,
        recent_90d=sum(1 for r in counted if asked(r) and asked(r) >= window.since_90),
        previous_quarter=sum(
            1
            for r in counted
            if asked(r) and window.previous_quarter_start <= asked(r) < window.quarter_start
        ),
        this_year=sum(1 for r in counted if asked(r) and asked(r) >= window.year_start),
        passes_recent=sum(1 for r in recent if r["status"] == "passed"),
        passes_before=sum(1 for r in before if r["status"] == "passed"),
        reply_hours_recent=avg(recent),
        reply_hours_before=avg(before),
        asked_for_prospect=any(r["prospect"] == "acme corp" for r in mine),
        pending_elsewhere=any(r["status"] in OPEN and r["request"] != 1 for r in mine),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(engagement, max_size=25))
def test_sql_usage_equals_counting_by_hand(database, rows):
    with database.unit_of_work() as session:
        session.execute(delete(Engagement))
        session.execute(delete(ReferenceRequest))
        session.execute(delete(Advocate))
        for n in (1, 2, 3):
            session.add(
                Advocate(**advocate_values(id=n, owner_slack_user_id="U0CS1", created_at=NOW, updated_at=NOW))
            )
        session.flush()
        for n in (1, 2):
            session.add(
                ReferenceRequest(
                    **request_values(id=n, status="pending", prospect_company="Acme", close_date=TODAY)
                )
            )
        session.flush()
        seen = set()
        for row in rows:
            if row["request"] is not None and (row["request"], row["advocate"]) in seen:
                row["request"] = None
            seen.add((row["request"], row["advocate"]))
            asked = (
                None
                if row["days_ago"] is None
                else datetime.combine(TODAY, datetime.min.time(), UTC)
                + timedelta(hours=12)
                - timedelta(days=row["days_ago"])
            )
            row["held"] = (
                asked + timedelta(days=row["held_after"]) if asked and row["held_after"] is not None else None
            )
            session.add(
                Engagement(
                    advocate_id=row["advocate"],
                    request_id=row["request"],
                    kind=row["kind"],
                    status=row["status"],
                    prospect_key=row["prospect"],
                    asked_at=asked,
                    held_at=row["held"],
                    reply_seconds=None if row["reply_hours"] is None else row["reply_hours"] * 3600,
                    created_at=NOW,
                )
            )
        session.flush()
        found = counts.usage_by_advocate(
            session=session,
            advocate_ids=[1, 2, 3],
            window=usage_window(TODAY),
            prospect_key="acme corp",
            request_id=1,
        )
        kept = {row.advocate_id: row for row in session.scalars(select(AdvocateUsage))}
        for n in (1, 2, 3):
            expected = by_hand(rows, n)
            same_usage(candidate_of(session.get(Advocate, n), found.get(n)).usage, expected)
            # The shortlist's path: the kept row, its events counted into windows. What only a request can say
            # (asked for its prospect, busy elsewhere) the shortlist's statement filters on instead.
            row = kept.get(n)
            windows = counts.kept_windows(row.recent, usage_window(TODAY)) if row is not None else None
            from_kept = Usage() if row is None else _usage(row, windows)
            assert (row is None) == (not [r for r in rows if r["advocate"] == n])
            same_usage(from_kept, replace(expected, asked_for_prospect=False, pending_elsewhere=False))


def same_usage(got: Usage, expected: Usage) -> None:
    # Averages are compared with a tolerance: the databases compute them in floating point.
    for name in ("reply_hours_recent", "reply_hours_before"):
        mine, theirs = getattr(got, name), getattr(expected, name)
        assert (mine is None) == (theirs is None) and (mine is None or abs(mine - theirs) < 1e-6)
    assert replace(got, reply_hours_recent=None, reply_hours_before=None) == replace(
        expected, reply_hours_recent=None, reply_hours_before=None
    )


def test_kept_events_counted_once_are_counted_again_for_another_day() -> None:
    """counts.windows_reader remembers each text of kept events per window: the same events, read on the day a
    quarter turns, are counted in that day's windows, not the day before's."""
    asked = int(datetime(2026, 12, 20, 10, tzinfo=UTC).timestamp())
    recent = f"[[{asked}, 1, 0, 7200]]"
    before = counts.kept_windows(recent, usage_window(date(2026, 12, 31)))
    after = counts.kept_windows(recent, usage_window(date(2027, 1, 1)))
    assert (before.this_quarter, before.previous_quarter, before.this_year) == (1, 0, 1)
    assert (after.this_quarter, after.previous_quarter, after.this_year) == (0, 1, 0)
    assert counts.kept_windows(recent, usage_window(date(2026, 12, 31))) == before
    assert counts.kept_windows("[]", usage_window(date(2026, 12, 31))) is None


def test_the_shortlist_reads_the_last_ask_and_use_as_their_days_in_utc(database) -> None:
    """store/pool.py reads the kept last ask and use as their days in UTC (on SQLite from the stored text, on
    PostgreSQL from an aware datetime in the session's zone): an ask at 02:30 UTC is that day's, even where it
    was still the day before."""
    from store.pool import _USAGE_COLUMNS

    with database.unit_of_work() as session:
        session.execute(delete(Engagement))
        session.execute(delete(Advocate))
        session.add(
            Advocate(**advocate_values(id=1, owner_slack_user_id="U0CS1", created_at=NOW, updated_at=NOW))
        )
        session.flush()
        session.execute(delete(AdvocateUsage))
        session.add(
            AdvocateUsage(
                advocate_id=1,
                total=1,
                last_asked=datetime(2026, 11, 20, 2, 30, tzinfo=UTC),
                last_used=datetime(2026, 11, 19, 23, 30, tzinfo=UTC),
            )
        )
        session.flush()
        if not database.is_sqlite:
            session.execute(text("SET LOCAL TIME ZONE 'America/Los_Angeles'"))
        [row] = session.execute(select(*_USAGE_COLUMNS).where(AdvocateUsage.advocate_id == 1)).all()
        assert (row.last_asked, row.last_used) == (date(2026, 11, 20), date(2026, 11, 19))
        assert _usage(row, None).last_asked == date(2026, 11, 20)
