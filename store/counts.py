"""Usage counted from engagements: the aggregates the protection rules and Home read, per advocate and window."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from store.models import COUNTED, OPEN, WRITTEN_KINDS, Engagement, EngagementStatus


@dataclass(frozen=True)
class UsageWindow:
    """The instants the usage aggregates are counted from."""

    quarter_start: datetime
    previous_quarter_start: datetime
    year_start: datetime
    since_90: datetime
    since_180: datetime
    since_360: datetime


def _usage_columns() -> list[Any]:
    """The aggregate's columns; the window's instants, the prospect and the request are bound parameters
    (`_params`), so each statement is built once and only its values change from call to call."""
    e = Engagement
    # Written pieces (quotes, case studies, logos, reviews) are their own ledger: no cap, rest or gap.
    spoken = e.kind.is_(None) | e.kind.not_in(sorted(WRITTEN_KINDS))
    counted = e.status.in_([s.value for s in COUNTED]) & spoken
    passed = e.status == EngagementStatus.PASSED
    recent = e.asked_at >= bindparam("since_180")
    before = (e.asked_at >= bindparam("since_360")) & (e.asked_at < bindparam("since_180"))
    other_request = e.request_id.is_(None) | (e.request_id != bindparam("other_request"))

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        count(counted).label("total"),
        count(counted & (e.asked_at >= bindparam("quarter_start"))).label("this_quarter"),
        func.max(case((spoken, e.asked_at))).label("last_asked"),
        func.max(case((counted, func.coalesce(e.held_at, e.asked_at)))).label("last_used"),
        count(counted & (e.asked_at >= bindparam("since_90"))).label("recent_90d"),
        count(
            counted
            & (e.asked_at >= bindparam("previous_quarter_start"))
            & (e.asked_at < bindparam("quarter_start"))
        ).label("previous_quarter"),
        count(counted & (e.asked_at >= bindparam("year_start"))).label("this_year"),
        count(passed & recent).label("passes_recent"),
        count(passed & before).label("passes_before"),
        func.avg(case((recent, e.reply_seconds))).label("reply_recent"),
        func.avg(case((before, e.reply_seconds))).label("reply_before"),
        func.max(case((e.prospect_key == bindparam("prospect_key"), 1), else_=0)).label("asked_for_prospect"),
        func.max(case((e.status.in_([s.value for s in OPEN]) & other_request, 1), else_=0)).label("pending"),
    ]


# The rolling windows as counted from an advocate's kept events (models.AdvocateUsage.recent): the same
# definitions as `_usage_columns` (tests/test_usage_sql.py checks the two agree on generated histories). What only
# a request can say (asked for its prospect, busy elsewhere) is not kept: 0 here, for the caller to know.
Windows = namedtuple(
    "Windows",
    "this_quarter recent_90d previous_quarter this_year passes_recent passes_before reply_recent reply_before "
    "asked_for_prospect pending",
)


@lru_cache(maxsize=16)
def _bounds(window: UsageWindow) -> tuple[int, ...]:
    instants = (
        window.quarter_start, window.since_90, window.previous_quarter_start, window.year_start,
        window.since_180, window.since_360,
    )  # fmt: skip
    return tuple(int(at.timestamp()) for at in instants)  # every window starts at a whole second


def kept_windows(recent: str, window: UsageWindow) -> Windows | None:
    """The windows of one advocate's kept events (JSON, store.usage.encode); None when none were kept."""
    return windows_reader(window)(recent)


# What windows_reader has counted, for one window's bounds (one day's): {kept events' text: their windows}. The
# shortlist at 100k advocates counts ~1,000-2,500 advocates' events per request, mostly the same advocates'
# unchanged events as the requests before it (parsing them was ~7 us a candidate). A new day starts afresh;
# past WINDOWS_KEPT texts it starts afresh too (~200 bytes each).
_COUNTED: tuple[tuple[int, ...], dict[str, Windows | None]] = ((), {})
WINDOWS_KEPT = 50_000


def windows_reader(window: UsageWindow) -> Callable[[str], Windows | None]:
    """kept_windows for many advocates in the same window: each distinct text of kept events counted once."""
    global _COUNTED
    bounds = _bounds(window)
    counted_at, counted = _COUNTED
    if counted_at != bounds or len(counted) >= WINDOWS_KEPT:
        counted = {}
        _COUNTED = (bounds, counted)

    def read(recent: str) -> Windows | None:
        found = counted.get(recent, _UNKNOWN)
        if found is _UNKNOWN:
            found = counted[recent] = _count(recent, bounds)
        return found

    return read


_UNKNOWN: Any = object()


def _count(recent: str, bounds: tuple[int, ...]) -> Windows | None:
    if recent == "[]":
        return None
    quarter, since_90, previous, year, since_180, since_360 = bounds
    this_quarter = recent_90d = previous_quarter = this_year = passes_recent = passes_before = 0
    replies_recent: list[int] = []
    replies_before: list[int] = []
    for at, counted, passed, reply in json.loads(recent):
        if counted:
            this_quarter += at >= quarter
            recent_90d += at >= since_90
            previous_quarter += previous <= at < quarter
            this_year += at >= year
        if at >= since_180:
            passes_recent += passed
            if reply is not None:
                replies_recent.append(reply)
        elif at >= since_360:
            passes_before += passed
            if reply is not None:
                replies_before.append(reply)
    return Windows(
        this_quarter, recent_90d, previous_quarter, this_year, passes_recent, passes_before,
        sum(replies_recent) / len(replies_recent) if replies_recent else None,
        sum(replies_before) / len(replies_before) if replies_before else None,
        0, 0,
    )  # fmt: skip


def _params(*, window: UsageWindow, prospect_key: str, request_id: int | None) -> dict[str, Any]:
    """The values of `_usage_columns`' parameters."""
    return dict(
        quarter_start=window.quarter_start,
        previous_quarter_start=window.previous_quarter_start,
        year_start=window.year_start,
        since_90=window.since_90,
        since_180=window.since_180,
        since_360=window.since_360,
        prospect_key=prospect_key,
        other_request=request_id or -1,
    )


@cache
def _by_advocate() -> Select[Any]:
    return (
        select(Engagement.advocate_id, *_usage_columns())
        .where(Engagement.advocate_id.in_(bindparam("advocate_ids", expanding=True)))
        .group_by(Engagement.advocate_id)
    )


@cache
def _of_pool(some: bool) -> Select[Any]:
    statement = (
        select(Engagement.advocate_id, *_usage_columns())
        .where(Engagement.asked_at >= bindparam("since_360"))
        .group_by(Engagement.advocate_id)
    )
    if some:
        statement = statement.where(Engagement.advocate_id.in_(bindparam("advocate_ids", expanding=True)))
    return statement


def _by_id(
    session: Session, statement: Any, advocate_ids: Collection[int], params: dict[str, Any]
) -> dict[int, Row[Any]]:
    """One per-advocate aggregate for these advocates, keyed by advocate id (none asked: no query)."""
    if not advocate_ids:
        return {}
    rows = session.execute(statement, {**params, "advocate_ids": list(advocate_ids)})
    return {row.advocate_id: row for row in rows}


@lru_cache(maxsize=64)
def record_type(fields: tuple[str, ...]) -> Any:
    """A named tuple type with these fields (one per distinct list of names)."""
    return namedtuple("Record", fields)


def records(result: Any) -> list[Any]:
    """A result's rows as named tuples, read by the same names. SQLAlchemy's Row finds a column by name in ~1 µs
    (~0.1 for a named tuple), and the shortlist reads ~22 columns of each of 1,000-3,000 rows at 100k advocates
    (when it read ~35 from two statements: ~20 µs a candidate, ~17 of them saved here, on 30,786 candidates)."""
    make = record_type(tuple(result.keys()))._make
    return [make(row) for row in result]


def usage_by_advocate(
    *,
    session: Session,
    advocate_ids: Collection[int],
    window: UsageWindow,
    prospect_key: str,
    request_id: int | None,
) -> dict[int, Row[Any]]:
    """Every count the protection rules need, per advocate, in one aggregate query over engagements."""
    params = _params(window=window, prospect_key=prospect_key, request_id=request_id)
    return _by_id(session, _by_advocate(), advocate_ids, params)


def usage_of_pool(
    *, session: Session, window: UsageWindow, advocate_ids: Collection[int] | None = None
) -> dict[int, Row[Any]]:
    """The usage aggregate for every advocate (or those given), over the last 360 days: every limit that can
    still stop an ask today lies inside them (totals are not read from it). Home's next eligible dates."""
    params = _params(window=window, prospect_key="", request_id=None)
    if advocate_ids is not None:
        params["advocate_ids"] = list(advocate_ids)
    rows = session.execute(_of_pool(advocate_ids is not None), params)
    return {row.advocate_id: row for row in rows}
