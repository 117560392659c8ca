"""The pool as the shortlist reads it: who fits a request, and who is left once the store applies the limits."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    String,
    TypeDecorator,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from store import fit
from store.counts import UsageWindow, records, windows_reader
from store.fit import CANDIDATE_COLUMNS
from store.models import OPEN, Advocate, AdvocateUsage, Engagement, UTCDateTime


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


@dataclass(frozen=True)
class Limits:
    """The protection limits the store can apply itself (matching.py still checks every rule)."""

    caps: dict[str, int]
    asked_before: datetime  # the last ask must be earlier than this
    used_before: datetime  # the last reference must be earlier than this
    fatigue_threshold: int


def _limits(advocate: Any, cap: Any, fatigue_threshold: int) -> list[Any]:
    """The protection limits the kept counters can decide for the advocate whose id is `advocate`, its usage
    (models.AdvocateUsage) outer-joined; `cap` its quarterly cap. The request's values are bound."""
    u = AdvocateUsage
    quarter, previous = bindparam("quarter"), bindparam("previous")
    this_quarter = case((u.quarter == quarter, u.quarter_count), else_=0)
    previous_quarter = case(
        (u.quarter == quarter, u.previous_count), (u.quarter == previous, u.quarter_count), else_=0
    )
    e = Engagement
    # Everyone already asked for this prospect, read once through ix_engagements_prospect_key (a few hundred at
    # most): as NOT EXISTS it was a probe of each candidate's engagements, ~20% of the statement at 100k on
    # SQLite. advocate_id is never NULL, so NOT IN means the same.
    asked_for_prospect = select(e.advocate_id).where(e.prospect_key == bindparam("prospect_key"))
    busy_elsewhere = select(e.id).where(
        e.advocate_id == advocate,
        e.status.in_([s.value for s in OPEN]),
        e.request_id.is_(None) | (e.request_id != bindparam("other_request")),
    )
    return [
        or_(u.advocate_id.is_(None), this_quarter < cap),
        or_(u.last_asked.is_(None), u.last_asked < bindparam("asked_before")),
        or_(u.last_used.is_(None), u.last_used < bindparam("used_before")),
        or_(u.advocate_id.is_(None), this_quarter <= fatigue_threshold),
        or_(u.advocate_id.is_(None), previous_quarter <= fatigue_threshold),
        advocate.not_in(asked_for_prospect),
        or_(u.pending.is_(None), u.pending == 0, ~busy_elsewhere.exists()),
    ]


class _UTCDay(TypeDecorator[date]):
    """A models.UTCDateTime column read as its day in UTC, all the limits compare. Read as an aware datetime
    (parsed, given its zone, then cut to its day) each cost ~1 us, twice a row, on the 1,000-3,000 rows of a
    first page at 100k advocates. SQLite hands over the stored text, which begins with the UTC day
    (UTCDateTime stores UTC); PostgreSQL a datetime, which UTCDateTime itself turns to UTC."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> date | None:
        if value is None:
            return None
        if isinstance(value, str):
            return _day_of(value[:10])
        return _INSTANT.process_result_value(value, dialect).date()


_INSTANT = UTCDateTime()


@lru_cache(maxsize=4_096)
def _day_of(text: str) -> date:
    return date.fromisoformat(text)


def _as_day(column: Any) -> Any:
    return type_coerce(column, _UTCDay()).label(column.key)


# What the shortlist reads of an advocate's kept usage: the lifetime count, the last ask and use (their days), and
# the dated events the rolling windows are counted from.
_USAGE_COLUMNS = (
    AdvocateUsage.total,
    _as_day(AdvocateUsage.last_asked),
    _as_day(AdvocateUsage.last_used),
    AdvocateUsage.recent,
)


@cache
def _shortlistable(shape: _Shape | None, caps: tuple[tuple[str, int], ...], fatigue_threshold: int) -> Select[Any]:
    """shortlistable's statement read from the tables, built once per fit shape and policy; the request's values
    are bound."""
    u = AdvocateUsage
    cap = case(
        *[(Advocate.tier == tier, limit) for tier, limit in caps], else_=min(limit for _, limit in caps)
    )
    return (
        select(*CANDIDATE_COLUMNS, *_USAGE_COLUMNS)
        .outerjoin(u, u.advocate_id == Advocate.id)
        .where(*_fit_conditions(shape), *_limits(Advocate.id, cap, fatigue_threshold))
    )


@cache
def _usage_among(dialect: str, cap: int, fatigue_threshold: int) -> Select[Any]:
    """shortlistable's statement for the advocates found in store.fit's kept pool: the bound ids (`ids`) and their
    kept usage, the limits applied; nothing read of the advocates table. `cap` is the highest cap (the tier is in
    the kept pool, and ranking checks each advocate's own)."""
    u = AdvocateUsage
    if dialect == "postgresql":  # one array, whatever its length: one statement text, one prepared plan
        array = bindparam("ids", type_=ARRAY(Integer))
        ids = func.unnest(array).table_valued("value").render_derived()
        # The same ids said of the usage too: PostgreSQL reads their rows through the primary key (a bitmap scan)
        # rather than hashing the whole table, as it chose from the unnested array alone (~100 ms at 100k).
        usage = and_(u.advocate_id == ids.c.value, u.advocate_id == any_(array))
    else:  # SQLite: one JSON array, read by json_each (no limit on bound variables); each id looked up in turn
        ids = func.json_each(bindparam("ids")).table_valued("value")
        usage = u.advocate_id == ids.c.value
    return (
        select(ids.c.value.label("id"), *_USAGE_COLUMNS)
        .select_from(ids.outerjoin(u, usage))
        .where(*_limits(ids.c.value, cap, fatigue_threshold))
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
) -> list[tuple[Any, Any, Any]]:
    """The advocates who could make the shortlist, protected ones left out, with their usage, as triples: the
    advocate (a named tuple with CANDIDATE_COLUMNS' names), their kept lifetime figures (`total` None: never
    used) and the rolling windows counted from their kept events (counts.kept_windows; None: nothing kept).

    Its cost does not grow with history: the pool's fit filters plus the kept counters (models.AdvocateUsage)
    decide who is left, and the same row brings the events the rolling windows (90/180/360 days, the year) are
    counted from. The fit filters are applied to store.fit's kept pool, and one statement reads the usage of
    the ids found; a session with its own uncommitted changes to the advocates reads them in one statement with
    the fit filters instead. Either statement's text is the same for every request (the ids ride in one array),
    and the quarter arithmetic is done on the counters, not by scanning engagements by date.
    """
    params: dict[str, Any] = dict(
        quarter=window.quarter_start.date(),
        previous=window.previous_quarter_start.date(),
        asked_before=limits.asked_before,
        used_before=limits.used_before,
        prospect_key=prospect_key,
        other_request=request_id or -1,
    )
    # Plain rows, not ORM objects: only what ranking reads, and nothing to track. Whoever is left was not asked
    # for this prospect and is busy with no other request (the statement's filters), as kept_windows assumes.
    # Run on the session's connection (after the flush the session would do): the ORM's result adds ~3-4 us a
    # row to thousands of rows at 100k advocates and brings nothing to plain columns.
    session.flush()
    windows = windows_reader(window)
    kept = fit.pool_of(session)
    if kept is None:
        params.update(
            _fit_params(
                industries=industries,
                min_employees=min_employees,
                max_employees=max_employees,
                strict=strict,
                today=today,
            )
        )
        statement = _shortlistable(_shape(strict), tuple(limits.caps.items()), limits.fatigue_threshold)
        rows = records(session.connection().execute(statement, params))
        return [(row, row, None if row.total is None else windows(row.recent)) for row in rows]
    found = {
        advocate.id: advocate
        for advocate in kept.fitting(
            industries=industries,
            min_employees=min_employees,
            max_employees=max_employees,
            strict=strict,
            today=today,
        )
    }
    if not found:
        return []
    dialect = session.get_bind().dialect.name
    params["ids"] = list(found) if dialect == "postgresql" else json.dumps(list(found))
    statement = _usage_among(dialect, max(limits.caps.values()), limits.fatigue_threshold)
    return [
        (found[row.id], row, None if row.total is None else windows(row.recent))
        for row in records(session.connection().execute(statement, params))
    ]
