"""The pool as the shortlist reads it: who fits a request, and who is left once the store applies the limits."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, String, and_, case, cast, false, or_, select, true
from sqlalchemy.orm import Session

from store.counts import KeptUsage, UsageWindow, recent_usage
from store.models import OPEN, Advocate, AdvocateUsage, Engagement


def _like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fit_conditions(
    *, industries: Collection[str], min_employees: int, max_employees: int, strict: Any, today: date | None
) -> list[Any]:
    conditions: list[Any] = [
        # "not retired", said so an index on (status, industry, employees) can serve it
        Advocate.status.in_(("active", "break")),
        Advocate.industry.in_(list(industries)),
        Advocate.employees.between(min_employees, max_employees),
    ]
    if strict is not None:
        kinds = [cast(Advocate.kinds, String).like(f'%"{kind}"%') for kind in sorted(strict.kinds)]
        tags = cast(Advocate.use_cases, String)
        # The column holds JSON text: terms are matched as JSON writes them (non-ASCII as \\u escapes).
        terms = [
            tags.like(f"%{_like(json.dumps(t)[1:-1])}%", escape="\\") for t in sorted(strict.use_case_terms)
        ]
        terms.append(tags.like(f"%{_like(json.dumps(strict.use_case_text))}%", escape="\\"))
        conditions += [
            or_(*terms),
            Advocate.role_level.in_(sorted(strict.role_levels)),
            true()
            if strict.functions is None
            else or_(Advocate.function.is_(None), Advocate.function.in_(sorted(strict.functions))),
            or_(*kinds) if kinds else false(),
            or_(Advocate.sentiment.is_(None), Advocate.sentiment >= strict.min_sentiment),
            Advocate.account_trouble.is_(False),
            or_(Advocate.status == "active", and_(Advocate.status == "break", Advocate.break_until <= today)),
        ]
    return conditions


def fitting_advocates(
    *,
    session: Session,
    industries: Collection[str],
    min_employees: int,
    max_employees: int,
    strict: Any = None,
    today: date | None = None,
) -> list[Advocate]:
    """Advocates who could grade better than Poor on industry and size; retired ones are gone for good.

    `strict` (a matching.Prefilter) also drops everyone the rules would exclude or grade Poor whatever
    their history: wrong role level, unwilling, low sentiment, on a break, account trouble.
    """
    conditions = _fit_conditions(
        industries=industries,
        min_employees=min_employees,
        max_employees=max_employees,
        strict=strict,
        today=today,
    )
    return list(session.scalars(select(Advocate).where(*conditions)))


CANDIDATE_COLUMNS = (
    Advocate.id, Advocate.name, Advocate.title, Advocate.role_level, Advocate.company, Advocate.industry,
    Advocate.employees, Advocate.region, Advocate.country, Advocate.use_cases, Advocate.kinds, Advocate.tier,
    Advocate.status, Advocate.break_until, Advocate.account_trouble, Advocate.sentiment, Advocate.joined_on,
    Advocate.function,
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The protection limits the store can apply itself (matching.py still checks every rule)."""

    caps: dict[str, int]
    asked_before: datetime  # the last ask must be earlier than this
    used_before: datetime  # the last reference must be earlier than this
    fatigue_threshold: int


def shortlistable(
    *,
    session: Session,
    industries: Collection[str],
    min_employees: int,
    max_employees: int,
    strict: Any,
    today: date,
    window: UsageWindow,
    limits: Limits,
    prospect_key: str,
    request_id: int | None,
) -> list[tuple[Row[Any], Any]]:
    """The advocates who could make the shortlist, protected ones left out, with their usage.

    Two statements whose cost does not grow with history: the pool's fit filters plus the kept counters
    (models.AdvocateUsage) decide who is left; then the rolling windows (90/180/360 days, the year) are counted
    from the survivors' last year of engagements only. Every value that changes the best plan is a filter on
    advocates, so the plan PostgreSQL caches for a prepared statement is the one it would choose anyway (the
    quarter arithmetic is done on the counters, not by scanning engagements by date).
    """
    fits = _fit_conditions(
        industries=industries,
        min_employees=min_employees,
        max_employees=max_employees,
        strict=strict,
        today=today,
    )
    u = AdvocateUsage
    quarter = window.quarter_start.date()
    previous = window.previous_quarter_start.date()
    this_quarter = case((u.quarter == quarter, u.quarter_count), else_=0)
    previous_quarter = case(
        (u.quarter == quarter, u.previous_count), (u.quarter == previous, u.quarter_count), else_=0
    )
    cap = case(
        *[(Advocate.tier == tier, limit) for tier, limit in limits.caps.items()],
        else_=min(limits.caps.values()),
    )
    e = Engagement
    same_prospect = select(e.id).where(e.advocate_id == Advocate.id, e.prospect_key == prospect_key)
    busy_elsewhere = select(e.id).where(
        e.advocate_id == Advocate.id,
        e.status.in_([s.value for s in OPEN]),
        e.request_id.is_(None) | (e.request_id != (request_id or -1)),
    )
    statement = (
        select(*CANDIDATE_COLUMNS, u.total, u.last_asked, u.last_used)
        .outerjoin(u, u.advocate_id == Advocate.id)
        .where(
            *fits,
            or_(u.advocate_id.is_(None), this_quarter < cap),
            or_(u.last_asked.is_(None), u.last_asked < limits.asked_before),
            or_(u.last_used.is_(None), u.last_used < limits.used_before),
            or_(u.advocate_id.is_(None), this_quarter <= limits.fatigue_threshold),
            or_(u.advocate_id.is_(None), previous_quarter <= limits.fatigue_threshold),
            ~same_prospect.exists(),
            or_(u.pending.is_(None), u.pending == 0, ~busy_elsewhere.exists()),
        )
    )
    # Plain rows, not ORM objects: only what ranking reads, and nothing to track.
    rows = list(session.execute(statement))
    windows = recent_usage(
        session=session,
        advocate_ids=[row.id for row in rows if row.total is not None],
        window=window,
        prospect_key=prospect_key,
        request_id=request_id,
    )
    found = []
    for row in rows:
        if row.total is None:
            found.append((row, None))
            continue
        recent = windows.get(row.id)
        found.append((row, KeptUsage.of(row, recent)))
    return found
