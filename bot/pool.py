"""Managing the advocate pool from Slack: pages with usage, add and edit, breaks, retirement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.matching import Candidate, Policy, next_eligible
from bot.pool_csv import AdvocateRow
from bot.shortlist import candidate_of, usage_window
from bot.vocabulary import AdvocateStatus
from store import queries
from store.models import Advocate

PAGE_SIZE = 10


@dataclass(frozen=True)
class PoolEntry:
    advocate: Advocate
    candidate: Candidate
    next_eligible: date | None


@dataclass(frozen=True)
class PoolPage:
    entries: list[PoolEntry]
    page: int
    pages: int
    total: int


def pool_page(*, session: Session, page: int, policy: Policy, today: date) -> PoolPage:
    total = session.scalar(select(func.count()).select_from(Advocate)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    advocates = list(
        session.scalars(
            select(Advocate)
            .order_by(Advocate.name, Advocate.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    usage = queries.usage_by_advocate(
        session=session,
        advocate_ids=[a.id for a in advocates],
        window=usage_window(today),
        prospect_key="",
        request_id=None,
    )
    entries = []
    for advocate in advocates:
        candidate = candidate_of(advocate, usage.get(advocate.id))
        entries.append(PoolEntry(advocate, candidate, next_eligible(candidate, policy, today)))
    return PoolPage(entries=entries, page=page, pages=pages, total=total)


class EmailTaken(Exception):
    def __init__(self, other: Advocate) -> None:
        super().__init__(f"{other.email} is already in the pool ({other.name})")


def save_advocate(*, session: Session, advocate_id: int | None, row: AdvocateRow, now: datetime) -> Advocate:
    """Add or edit one advocate; emails stay unique."""
    other = session.scalars(select(Advocate).where(Advocate.email == row.email)).first()
    if other is not None and other.id != advocate_id:
        raise EmailTaken(other)
    if advocate_id is None:
        advocate = Advocate(email=row.email, created_at=now, updated_at=now, **row.values)
        session.add(advocate)
    else:
        advocate = session.get(Advocate, advocate_id)
        if advocate is None:
            raise LookupError(advocate_id)
        advocate.email = row.email
        for key, value in row.values.items():
            setattr(advocate, key, value)
        advocate.updated_at = now
    session.flush()
    return advocate


def set_status(
    *,
    session: Session,
    advocate_id: int,
    status: AdvocateStatus,
    now: datetime,
    until: date | None = None,
    note: str = "",
) -> Advocate | None:
    advocate = session.get(Advocate, advocate_id)
    if advocate is None:
        return None
    advocate.status = status
    advocate.break_until = until if status == AdvocateStatus.BREAK else None
    if note:
        stamp = now.date().isoformat()
        advocate.notes = f"{advocate.notes}\n{stamp}: {note}".strip()
    advocate.updated_at = now
    return advocate
