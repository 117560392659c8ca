"""The pool kept in memory: who could fit a request, found and read without reading the advocates table.

At 100k advocates the shortlist's statement spent ~60% of its time on the fit index's entries (the role level,
the kinds and several use-case terms, a LIKE each, tested on the ~9,000-20,000 advocates in a request's
industries and sizes), and most of the rest reading the rows of those who fit. Kept here, per engine, as each
industry's advocates sorted by company size, the same filters are a few comparisons and dict lookups an
advocate, and the use case is the matrix's own rule (matching.Prefilter.fits_use_cases) instead of a wider text
match; each advocate is kept as ranking reads them, so the statement reads only the usage of the ids found
(pool.shortlistable).

Kept while the advocates do not change: the "advocates" counter of store/versions.py, bumped in the transaction of
every write to the table, on any replica, is read at each use (one indexed read). After a change the pool is read
again on a thread of its own, and meanwhile, as in a session that has written to the table itself and not yet
committed, the shortlist reads the table (pool_of is None). The usage and the limits it decides are
always read from the database, and an Ask click ranks the advocate again from the tables (handlers/shortlist.py):
nobody is asked because of what is kept here.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import String, TypeDecorator, cast, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from store import versions
from store.counts import record_type
from store.models import Advocate

_SHARED = frozenset({str, date, float})


@dataclass(frozen=True)
class Pool:
    """The pool as the fit filters read it, at one version of the advocates table."""

    version: int
    # industry -> (employees, ascending; the advocates in the same order, each as ranking reads them: a named tuple
    # with CANDIDATE_COLUMNS' names). Retired advocates are left out.
    industries: dict[str, tuple[list[int], list[Any]]]

    def fitting(
        self,
        *,
        industries: Collection[str],
        min_employees: int,
        max_employees: int,
        strict: Any,
        today: date,
    ) -> list[Any]:
        """The advocates pool.fitting_advocates(strict=...) would return (as ranking reads them), but for the use
        case, judged by the matrix's rule (`strict`, a matching.Prefilter: its fits_use_cases), not its terms."""
        levels, kinds, functions = strict.role_levels, strict.kinds, strict.functions
        min_sentiment = strict.min_sentiment
        # Each list judged once a request: a pool repeats a few kind lists and a few thousand tag lists.
        kinds_fit: dict[tuple[str, ...], bool] = {}
        tags_fit: dict[tuple[str, ...], bool] = {}
        found: list[Any] = []
        for industry in industries:
            sizes, advocates = self.industries.get(industry, ((), ()))
            start, stop = bisect_left(sizes, min_employees), bisect_right(sizes, max_employees)
            for advocate in advocates[start:stop]:
                if advocate.role_level not in levels or advocate.account_trouble:
                    continue
                if advocate.status != "active" and (
                    advocate.break_until is None or advocate.break_until > today
                ):
                    continue
                if (sentiment := advocate.sentiment) is not None and sentiment < min_sentiment:
                    continue
                function = advocate.function
                if functions is not None and function is not None and function not in functions:
                    continue
                fits = kinds_fit.get(theirs := advocate.kinds)
                if fits is None:
                    fits = kinds_fit[theirs] = not kinds.isdisjoint(theirs)
                if not fits:
                    continue
                fits = tags_fit.get(tags := advocate.use_cases)
                if fits is None:
                    fits = tags_fit[tags] = strict.fits_use_cases(tags)
                if fits:
                    found.append(advocate)
        return found


_KEPT: weakref.WeakKeyDictionary[Engine, Pool] = weakref.WeakKeyDictionary()
_FIRST = threading.Lock()  # one first build at a time
_REFRESHING: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose pool is being read again
_REFRESH = threading.Lock()
log = logging.getLogger(__name__)


def pool_of(session: Session, *, wait: bool = False) -> Pool | None:
    """The kept pool for the session's database, as the advocates stand now; None when the caller should read the
    table instead: the session itself has written to the advocates and not committed, or the pool is being read
    again after a change.

    The first use in a process reads the pool there and then. After a change (any replica's), the pool is read
    again on a thread of its own (~2 s at 100k advocates, which would otherwise fall on one person's shortlist),
    and until it is, callers read the table as before. `wait`: read it again here instead (tests, benches).
    """
    if versions.changed_in(session, "advocates"):
        return None
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    version = versions.versions_of(session)["advocates"]
    kept = _KEPT.get(engine)
    if kept is not None and kept.version == version:
        return kept
    if kept is None or wait or _in_memory(engine):
        with _FIRST:
            kept = _KEPT.get(engine)
            if kept is None or kept.version != version:
                kept = _KEPT[engine] = _build(session, version)
        return kept if kept.version == version else None
    _refresh(engine)
    return None


def _in_memory(engine: Engine) -> bool:
    """An in-memory SQLite database: another thread would open a database of its own."""
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _refresh(engine: Engine) -> None:
    """Read the pool again on a thread of its own, unless it already is being read."""
    with _REFRESH:
        if engine in _REFRESHING:
            return
        _REFRESHING.add(engine)
    threading.Thread(target=_read_again, args=(engine,), name="refdesk-pool", daemon=True).start()


def _read_again(engine: Engine) -> None:
    try:
        with Session(engine) as session:  # reads only: nothing to commit
            _KEPT[engine] = _build(session, versions.versions_of(session)["advocates"])
    except Exception:  # the next use tries again; until then shortlists read the table
        log.exception("reading the advocate pool again failed")
    finally:
        with _REFRESH:
            _REFRESHING.discard(engine)


def _build(session: Session, version: int) -> Pool:
    """Read after the version: a change committed in between is in the pool read, and the next use, seeing a
    newer version, reads it again. Rows are read as they come, into the kept records only."""
    # Streamed (a server-side cursor on PostgreSQL): the driver never holds the whole pool's rows at once.
    result = session.connection().execute(
        select(*CANDIDATE_COLUMNS)
        .where(Advocate.status.in_(("active", "break")))
        .execution_options(stream_results=True, yield_per=2_000)
    )
    make = record_type(tuple(result.keys()))._make
    same: dict[Any, Any] = {}  # one object per repeated value (industry, level, tier, title, day, sentiment)
    filed: dict[str, list[Any]] = {}
    for row in result:
        advocate = make(same.setdefault(value, value) if type(value) in _SHARED else value for value in row)
        filed.setdefault(advocate.industry, []).append(advocate)
    industries: dict[str, tuple[list[int], list[Any]]] = {}
    for industry, advocates in filed.items():
        advocates.sort(key=lambda a: (a.employees, a.id))
        industries[industry] = ([a.employees for a in advocates], advocates)
    return Pool(version=version, industries=industries)


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


def tags_column(column: Any) -> Any:
    """A JSON list column (use cases, kinds) selected as a tuple of its strings, under the column's name."""
    return type_coerce(cast(column, String), _Tags()).label(column.key)


# What ranking reads of an advocate (bot.flows.shortlist makes a Candidate of it), kept per advocate in the pool.
CANDIDATE_COLUMNS = (
    Advocate.id, Advocate.name, Advocate.title, Advocate.role_level, Advocate.company, Advocate.industry,
    Advocate.employees, Advocate.region, Advocate.country, tags_column(Advocate.use_cases),
    tags_column(Advocate.kinds), Advocate.tier, Advocate.status, Advocate.break_until, Advocate.account_trouble,
    Advocate.sentiment, Advocate.joined_on, Advocate.function,
)  # fmt: skip
