"""Per-advocate usage kept with the events (models.AdvocateUsage): computed, refreshed, checked and repaired here.

How it is kept: every change to an advocate's engagements recomputes that advocate's row from their own
engagements, in the same transaction, after locking the advocate's row (so two transactions changing one advocate's
engagements at once serialise, and the later sees the earlier's change). The cost is the advocate's own history
(a handful to a few hundred rows), never the pool's or the program's. ORM changes to engagements are caught by
the session hook below; the few bulk UPDATEs and INSERTs (store.lifecycle.transition_engagement, the dispatcher's
held call, the history import) call `refresh` themselves. `check` recomputes everything from history (one pass
over engagements in advocate order) and `refdesk doctor` prints and repairs what disagrees.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Connection, Integer, any_, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import (
    COUNTED,
    GIVEN,
    OPEN,
    WRITTEN_KINDS,
    Advocate,
    AdvocateUsage,
    Engagement,
    EngagementStatus,
)

CHUNK = 1_000
# The rolling windows reach back at most a year and a day (the year's start on 31 December); the events kept for
# them are those of the two years before the advocate's latest ask, so a window read on any later day finds all
# it needs (and an ask dated a year ahead, from an import, still leaves the year behind it).
RECENT_DAYS = 730

# One kept event: (asked at, in whole epoch seconds; counted 1/0; passed 1/0; reply seconds or None).
Event = tuple[int, int, int, int | None]


def quarter_of(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_before(quarter: date) -> date:
    return date(quarter.year - 1, 10, 1) if quarter.month == 1 else date(quarter.year, quarter.month - 3, 1)


@dataclass(frozen=True)
class Counters:
    total: int = 0
    given: int = 0
    last_asked: datetime | None = None
    last_used: datetime | None = None
    pending: int = 0
    quarter: date | None = None
    quarter_count: int = 0
    previous_count: int = 0
    recent: tuple[Event, ...] = ()

    def this_quarter(self, today: date) -> int:
        return self.quarter_count if self.quarter == quarter_of(today) else 0

    def previous_quarter(self, today: date) -> int:
        current = quarter_of(today)
        if self.quarter == current:
            return self.previous_count
        return self.quarter_count if self.quarter == quarter_before(current) else 0


# The stored columns, in order: a row's values without dataclasses.asdict (which deep-copies every field).
NAMES = tuple(f.name for f in fields(Counters))


def as_row(counters: Counters) -> dict[str, Any]:
    row = {name: getattr(counters, name) for name in NAMES}
    row["recent"] = encode(counters.recent)
    return row


def encode(events: tuple[Event, ...]) -> str:
    return json.dumps([list(e) for e in events], separators=(",", ":"))


def decode(text: str) -> tuple[Event, ...]:
    return tuple((e[0], e[1], e[2], e[3]) for e in json.loads(text))


ROW_COLUMNS = (
    Engagement.advocate_id,
    Engagement.kind,
    Engagement.status,
    Engagement.asked_at,
    Engagement.held_at,
    Engagement.reply_seconds,
)


def counters_of(rows: Iterable[Any]) -> Counters:
    """One advocate's counters from their engagements (rows of ROW_COLUMNS): the definition the limits use."""
    counted_statuses = {s.value for s in COUNTED}
    open_statuses = {s.value for s in OPEN}
    given_statuses = {s.value for s in GIVEN}
    total = given = pending = 0
    last_asked: datetime | None = None
    last_used: datetime | None = None
    counted_asks: list[datetime] = []
    dated: list[tuple[datetime, bool, bool, int | None]] = []  # what the rolling windows count
    for row in rows:
        spoken = row.kind is None or row.kind not in WRITTEN_KINDS
        counted = spoken and row.status in counted_statuses
        given += row.status in given_statuses
        pending += row.status in open_statuses
        if spoken and row.asked_at is not None and (last_asked is None or row.asked_at > last_asked):
            last_asked = row.asked_at
        if counted:
            total += 1
            used = row.held_at or row.asked_at
            if used is not None and (last_used is None or used > last_used):
                last_used = used
            if row.asked_at is not None:
                counted_asks.append(row.asked_at)
        passed = row.status == EngagementStatus.PASSED
        if row.asked_at is not None and (counted or passed or row.reply_seconds is not None):
            dated.append((row.asked_at, counted, passed, row.reply_seconds))
    kept = Counters(
        total=total,
        given=given,
        last_asked=last_asked,
        last_used=last_used,
        pending=pending,
        recent=_recent(dated),
    )
    if not counted_asks:
        return kept
    quarter = quarter_of(max(counted_asks).date())
    quarters = [quarter_of(at.date()) for at in counted_asks]
    return replace(
        kept,
        quarter=quarter,
        quarter_count=quarters.count(quarter),
        previous_count=quarters.count(quarter_before(quarter)),
    )


def _recent(dated: list[tuple[datetime, bool, bool, int | None]]) -> tuple[Event, ...]:
    """The events of the RECENT_DAYS before the latest, oldest first, as counts.kept_windows reads them."""
    if not dated:
        return ()
    since = max(at for at, *_ in dated) - timedelta(days=RECENT_DAYS)
    events = [
        (int(at.timestamp() // 1), int(counted), int(passed), reply)
        for at, counted, passed, reply in dated
        if at >= since
    ]
    return tuple(sorted(events, key=lambda e: (*e[:3], -1 if e[3] is None else e[3])))


def _among(connection: Connection, column: Any, ids: Collection[int]) -> Any:
    """`column IN ids`; on PostgreSQL one array parameter (`= ANY`), not a placeholder per id: psycopg splits a
    statement's text at every placeholder in Python, and a pass's held calls refresh a thousand advocates at once."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam("ids", sorted(ids), type_=ARRAY(Integer)))
    return column.in_(sorted(ids))


def _rows_by_advocate(
    connection: Connection, advocate_ids: Collection[int] | None
) -> Iterator[tuple[int, list]]:
    statement = select(*ROW_COLUMNS).order_by(Engagement.advocate_id)
    if advocate_ids is not None:
        statement = statement.where(_among(connection, Engagement.advocate_id, advocate_ids))
    current: int | None = None
    batch: list[Any] = []
    for row in connection.execute(statement.execution_options(yield_per=10_000)):
        if row.advocate_id != current:
            if current is not None:
                yield current, batch
            current, batch = row.advocate_id, []
        batch.append(row)
    if current is not None:
        yield current, batch


def compute(connection: Connection, advocate_ids: Collection[int] | None = None) -> dict[int, Counters]:
    """Counters recomputed from history, for the advocates given (or all who have engagements)."""
    return {
        advocate_id: counters_of(rows) for advocate_id, rows in _rows_by_advocate(connection, advocate_ids)
    }


def stored(connection: Connection, advocate_ids: Collection[int] | None = None) -> dict[int, Counters]:
    table = AdvocateUsage.__table__
    statement = select(table)
    if advocate_ids is not None:
        statement = statement.where(table.c.advocate_id.in_(sorted(advocate_ids)))
    found = {}
    for row in connection.execute(statement):
        values = row._asdict()
        advocate_id = values.pop("advocate_id")
        values["recent"] = decode(values["recent"])
        found[advocate_id] = Counters(**values)
    return found


def _write(connection: Connection, counters: dict[int, Counters]) -> None:
    if not counters:
        return
    table = AdvocateUsage.__table__
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    rows = [{"advocate_id": advocate_id, **as_row(c)} for advocate_id, c in sorted(counters.items())]
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.advocate_id],
        set_={name: statement.excluded[name] for name in NAMES},
    )
    connection.execute(statement, rows)


def refresh_on(connection: Connection, advocate_ids: Iterable[int]) -> None:
    """Recompute and store these advocates' counters (their rows locked first, in id order)."""
    ids = sorted(set(advocate_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if connection.dialect.name == "postgresql":
            connection.execute(
                select(Advocate.id)
                .where(_among(connection, Advocate.id, chunk))
                .order_by(Advocate.id)
                .with_for_update()
            ).all()
        found = compute(connection, chunk)
        _write(connection, {advocate_id: found.get(advocate_id, Counters()) for advocate_id in chunk})


def refresh(session: Session, advocate_ids: Iterable[int]) -> None:
    """After a bulk change to these advocates' engagements: their counters, in the session's transaction."""
    ids = set(advocate_ids)
    if ids:
        session.flush()
        refresh_on(session.connection(), ids)


def refresh_engagements(session: Session, engagement_ids: Iterable[int]) -> None:
    """After a bulk UPDATE of these engagements: their advocates' counters, in as few statements as it takes
    (on SQLite one read and one write; PostgreSQL locks the advocates first)."""
    ids = sorted(set(engagement_ids))
    if not ids:
        return
    session.flush()
    connection = session.connection()
    owners = select(Engagement.advocate_id).where(Engagement.id.in_(ids)).scalar_subquery()
    if connection.dialect.name == "postgresql":
        connection.execute(
            select(Advocate.id).where(Advocate.id.in_(owners)).order_by(Advocate.id).with_for_update()
        ).all()
    statement = (
        select(*ROW_COLUMNS).where(Engagement.advocate_id.in_(owners)).order_by(Engagement.advocate_id)
    )
    rows: dict[int, list[Any]] = {}
    for row in connection.execute(statement):
        rows.setdefault(row.advocate_id, []).append(row)
    _write(connection, {advocate_id: counters_of(found) for advocate_id, found in rows.items()})


@dataclass(frozen=True)
class Drift:
    advocate_id: int
    kept: Counters
    history: Counters

    def describe(self) -> str:
        kept, history = asdict(self.kept), asdict(self.history)
        parts = [
            f"{name} kept {kept[name]}, history says {history[name]}"
            if name != "recent"
            else f"recent events differ ({len(kept[name])} kept, {len(history[name])} in history)"
            for name in kept
            if kept[name] != history[name]
        ]
        return f"advocate {self.advocate_id}: usage drifted: " + "; ".join(parts)


def check(connection: Connection) -> list[Drift]:
    """Every advocate whose kept counters disagree with their history (absent counters are zero)."""
    kept = stored(connection)
    history = compute(connection)
    drift = []
    for advocate_id in sorted(set(kept) | set(history)):
        mine, truth = kept.get(advocate_id, Counters()), history.get(advocate_id, Counters())
        if mine != truth:
            drift.append(Drift(advocate_id, mine, truth))
    return drift


def repair(connection: Connection, drift: Iterable[Drift]) -> int:
    fixes = {d.advocate_id: d.history for d in drift}
    for start in range(0, len(fixes), CHUNK):
        ids = sorted(fixes)[start : start + CHUNK]
        _write(connection, {advocate_id: fixes[advocate_id] for advocate_id in ids})
    return len(fixes)


def rebuild(connection: Connection) -> int:
    """Recompute every advocate's counters (after a bulk load that went around the hooks)."""
    return repair(connection, check(connection))


@event.listens_for(Session, "after_flush")
def _engagements_flushed(session: Session, _context: Any) -> None:
    """ORM changes to engagements (asks, re-asks, tests' and simulations' history) refresh their advocates."""
    owners: set[int] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Engagement) and instance.advocate_id is not None:
            owners.add(instance.advocate_id)
    if owners:
        refresh_on(session.connection(), owners)
