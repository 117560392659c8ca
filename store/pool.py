"""The pool as the shortlist reads it: who fits a request, and who is left once the store applies the limits."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    String,
    TypeDecorator,
    bindparam,
    case,
    cast,
    false,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from store.counts import UsageWindow, records, windows_reader
from store.models import OPEN, Advocate, AdvocateUsage, Engagement


def _like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class _Shape:
    """What makes two strict fit filters different SQL: how many use-case terms and kinds they match, whether a
    function is wanted. Everything else is a bound value, so a statement is built once per shape."""

    terms: int
    kinds: int
    functions: bool


def _shape(strict: Any) -> _Shape | None:
    if strict is None:
        return None
    return _Shape(
        terms=len(strict.use_case_terms) + 1, kinds=len(strict.kinds), functions=strict.functions is not None
    )


def _fit_conditions(shape: _Shape | None) -> list[Any]:
    conditions: list[Any] = [
        # "not retired", said so an index on (status, industry, employees) can serve it
        Advocate.status.in_(("active", "break")),
        Advocate.industry.in_(bindparam("industries", expanding=True)),
        Advocate.employees.between(bindparam("min_employees"), bindparam("max_employees")),
    ]
    if shape is not None:
        kinds = [cast(Advocate.kinds, String).like(bindparam(f"kind_{i}")) for i in range(shape.kinds)]
        tags = cast(Advocate.use_cases, String)
        terms = [tags.like(bindparam(f"term_{i}"), escape="\\") for i in range(shape.terms)]
        # SQLite tests these in the order written, on ix_advocates_fit_tags' entries before it reads a row: the
        # role level and kinds first, each one comparison, then the use-case terms, several LIKEs (at 100k
        # advocates the statement ~25% faster than terms first).
        conditions += [
            Advocate.role_level.in_(bindparam("role_levels", expanding=True)),
            or_(*kinds) if kinds else false(),
            or_(*terms),
            or_(Advocate.function.is_(None), Advocate.function.in_(bindparam("functions", expanding=True)))
            if shape.functions
            else true(),
            or_(Advocate.sentiment.is_(None), Advocate.sentiment >= bindparam("min_sentiment")),
            Advocate.account_trouble.is_(False),
            # One CASE, not an OR: SQLite answers an OR with a search per branch ("MULTI-INDEX OR") that leaves
            # out the employees range; as a CASE it searches ix_advocates_fit on all three columns (the query
            # ~40% faster at 10k advocates). The status is already active or break.
            case((Advocate.status == "active", true()), else_=Advocate.break_until <= bindparam("today")),
        ]
    return conditions


def _fit_params(
    *, industries: Collection[str], min_employees: int, max_employees: int, strict: Any, today: date | None
) -> dict[str, Any]:
    """The values of `_fit_conditions`' parameters."""
    params: dict[str, Any] = dict(
        industries=sorted(industries), min_employees=min_employees, max_employees=max_employees
    )
    if strict is not None:
        params.update({f"kind_{i}": f'%"{kind}"%' for i, kind in enumerate(sorted(strict.kinds))})
        # The column holds JSON text: terms are matched as JSON writes them (non-ASCII as \\u escapes).
        patterns = [f"%{_like(json.dumps(t)[1:-1])}%" for t in sorted(strict.use_case_terms)]
        patterns.append(f"%{_like(json.dumps(strict.use_case_text))}%")
        params.update({f"term_{i}": pattern for i, pattern in enumerate(patterns)})
        params.update(role_levels=sorted(strict.role_levels), min_sentiment=strict.min_sentiment, today=today)
        if strict.functions is not None:
            params["functions"] = sorted(strict.functions)
    return params


@cache
def _fitting(shape: _Shape | None) -> Select[Any]:
    return select(Advocate).where(*_fit_conditions(shape))


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
    params = _fit_params(
        industries=industries,
        min_employees=min_employees,
        max_employees=max_employees,
        strict=strict,
        today=today,
    )
    return list(session.scalars(_fitting(_shape(strict)), params))


class _Tags(TypeDecorator[tuple[str, ...]]):
    """A JSON list of strings (use cases, kinds) read as its text and decoded to a tuple, each distinct text once
    per process: a pool repeats a few hundred tag lists over thousands of advocates, and decoding every row's
    two lists was a fifth of the shortlist's own work at 100k advocates on PostgreSQL."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...] | None:
        return None if value is None else _decoded(value)


@lru_cache(maxsize=8_192)
def _decoded(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _tags(column: Any) -> Any:
    return type_coerce(cast(column, String), _Tags()).label(column.key)


CANDIDATE_COLUMNS = (
    Advocate.id, Advocate.name, Advocate.title, Advocate.role_level, Advocate.company, Advocate.industry,
    Advocate.employees, Advocate.region, Advocate.country, _tags(Advocate.use_cases), _tags(Advocate.kinds),
    Advocate.tier, Advocate.status, Advocate.break_until, Advocate.account_trouble, Advocate.sentiment,
    Advocate.joined_on, Advocate.function,
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The protection limits the store can apply itself (matching.py still checks every rule)."""

    caps: dict[str, int]
    asked_before: datetime  # the last ask must be earlier than this
    used_before: datetime  # the last reference must be earlier than this
    fatigue_threshold: int


@cache
def _shortlistable(
    shape: _Shape | None, caps: tuple[tuple[str, int], ...], fatigue_threshold: int
) -> Select[Any]:
    """shortlistable's statement, built once per fit shape and policy; the request's values are bound."""
    u = AdvocateUsage
    quarter, previous = bindparam("quarter"), bindparam("previous")
    this_quarter = case((u.quarter == quarter, u.quarter_count), else_=0)
    previous_quarter = case(
        (u.quarter == quarter, u.previous_count), (u.quarter == previous, u.quarter_count), else_=0
    )
    cap = case(
        *[(Advocate.tier == tier, limit) for tier, limit in caps], else_=min(limit for _, limit in caps)
    )
    e = Engagement
    # Everyone already asked for this prospect, read once through ix_engagements_prospect_key (a few hundred at
    # most): as NOT EXISTS it was a probe of each candidate's engagements, ~20% of the statement at 100k on
    # SQLite. advocate_id is never NULL, so NOT IN means the same.
    asked_for_prospect = select(e.advocate_id).where(e.prospect_key == bindparam("prospect_key"))
    busy_elsewhere = select(e.id).where(
        e.advocate_id == Advocate.id,
        e.status.in_([s.value for s in OPEN]),
        e.request_id.is_(None) | (e.request_id != bindparam("other_request")),
    )
    return (
        select(*CANDIDATE_COLUMNS, u.total, u.last_asked, u.last_used, u.recent)
        .outerjoin(u, u.advocate_id == Advocate.id)
        .where(
            *_fit_conditions(shape),
            or_(u.advocate_id.is_(None), this_quarter < cap),
            or_(u.last_asked.is_(None), u.last_asked < bindparam("asked_before")),
            or_(u.last_used.is_(None), u.last_used < bindparam("used_before")),
            or_(u.advocate_id.is_(None), this_quarter <= fatigue_threshold),
            or_(u.advocate_id.is_(None), previous_quarter <= fatigue_threshold),
            Advocate.id.not_in(asked_for_prospect),
            or_(u.pending.is_(None), u.pending == 0, ~busy_elsewhere.exists()),
        )
    )


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
) -> list[tuple[Any, Any]]:
    """The advocates who could make the shortlist, protected ones left out, with their usage: each row (a named
    tuple, counts.records) has the kept lifetime figures (`total` None: never used), paired with its rolling
    windows (counts.kept_windows; None: nothing kept).

    One statement whose cost does not grow with history: the pool's fit filters plus the kept counters
    (models.AdvocateUsage) decide who is left, and the same row brings the events the rolling windows (90/180/360
    days, the year) are counted from. Every value that changes the best plan is a filter on advocates, so the
    plan PostgreSQL caches for a prepared statement is the one it would choose anyway (the quarter arithmetic is
    done on the counters, not by scanning engagements by date).
    """
    params = _fit_params(
        industries=industries,
        min_employees=min_employees,
        max_employees=max_employees,
        strict=strict,
        today=today,
    )
    params.update(
        quarter=window.quarter_start.date(),
        previous=window.previous_quarter_start.date(),
        asked_before=limits.asked_before,
        used_before=limits.used_before,
        prospect_key=prospect_key,
        other_request=request_id or -1,
    )
    statement = _shortlistable(_shape(strict), tuple(limits.caps.items()), limits.fatigue_threshold)
    # Plain rows, not ORM objects: only what ranking reads, and nothing to track. Whoever is left was not asked
    # for this prospect and is busy with no other request (the statement's filters), as kept_windows assumes.
    # Run on the session's connection (after the flush the session would do): the ORM's result adds ~3-4 us a
    # row to thousands of rows at 100k advocates and brings nothing to plain columns.
    session.flush()
    rows = records(session.connection().execute(statement, params))
    windows = windows_reader(window)
    return [(row, None if row.total is None else windows(row.recent)) for row in rows]
