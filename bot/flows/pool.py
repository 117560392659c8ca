"""Managing the advocate pool from Slack: pages with usage, add and edit, breaks, retirement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from bot.exchange.pool_csv import AdvocateRow
from bot.flows.records import AdvocateRecord
from bot.flows.shortlist import candidate_of, usage_window
from bot.rules.matching import Candidate, Policy, next_eligible
from bot.rules.vocabulary import AdvocateStatus
from store import counts
from store.models import Advocate, Engagement

PAGE_SIZE = 10


@dataclass(frozen=True)
class PoolEntry:
    advocate: AdvocateRecord
    candidate: Candidate
    next_eligible: date | None
    # References given (bot.reporting.metrics' one definition), as Home and the report count them; the candidate's usage
    # counts asks, which the caps read.
    given_this_quarter: int = 0
    given_total: int = 0
    heard: list[Heard] = field(default_factory=list)  # the latest feedback and check-in, newest first


@dataclass(frozen=True)
class Heard:
    """What was said after one of the advocate's calls: by the advocate, or by the prospect through the rep."""

    who: str
    on: date
    prospect: str
    rating: str
    answers: list[tuple[str, str]]


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
    usage = counts.usage_by_advocate(
        session=session,
        advocate_ids=[a.id for a in advocates],
        window=usage_window(today),
        prospect_key="",
        request_id=None,
    )
    ids = [a.id for a in advocates]
    given = _given(session=session, advocate_ids=ids, today=today)
    heard = _heard(session=session, advocate_ids=ids)
    entries = []
    for advocate in advocates:
        candidate = candidate_of(advocate, usage.get(advocate.id))
        given_quarter, given_ever = given.get(advocate.id, (0, 0))
        entries.append(
            PoolEntry(
                AdvocateRecord.of(advocate),
                candidate,
                next_eligible(candidate, policy, today),
                given_quarter,
                given_ever,
                heard.get(advocate.id, []),
            )
        )
    return PoolPage(entries=entries, page=page, pages=pages, total=total)


def _given(*, session: Session, advocate_ids: list[int], today: date) -> dict[int, tuple[int, int]]:
    """(this quarter, ever) references given per advocate, by the measures' own definition."""
    from bot.reporting import metrics

    period = metrics.Period.quarter(today)
    when = metrics.reference_at()
    rows = session.execute(
        select(
            Engagement.advocate_id,
            func.coalesce(func.sum(case((when >= period.start, 1), else_=0)), 0),
            func.count(),
        )
        .where(
            Engagement.advocate_id.in_(advocate_ids), Engagement.status.in_(metrics.GIVEN), when < period.end
        )
        .group_by(Engagement.advocate_id)
    )
    return {advocate_id: (int(quarter), int(total)) for advocate_id, quarter, total in rows}


HEARD_SHOWN = 2


def _heard(*, session: Session, advocate_ids: list[int]) -> dict[int, list[Heard]]:
    """The newest feedback and check-ins for each advocate on the page: the learning loop on their entry."""
    from bot.rules.learning import CHECKIN_QUESTIONS, FEEDBACK_QUESTIONS, said

    e = Engagement
    found: dict[int, list[tuple[datetime, Heard]]] = {}
    for engagement in session.scalars(
        select(e).where(
            e.advocate_id.in_(advocate_ids), or_(e.feedback_at.is_not(None), e.checkin_at.is_not(None))
        )
    ):
        mine = found.setdefault(engagement.advocate_id, [])
        if engagement.feedback_at and (engagement.feedback_rating or engagement.feedback):
            mine.append(
                (
                    engagement.feedback_at,
                    Heard(
                        "they said", engagement.feedback_at.date(), engagement.prospect_company,
                        (engagement.feedback_rating or "").replace("_", " "),
                        said(engagement.feedback, FEEDBACK_QUESTIONS),
                    ),
                )
            )  # fmt: skip
        if engagement.checkin_at:
            mine.append(
                (
                    engagement.checkin_at,
                    Heard(
                        "the prospect said", engagement.checkin_at.date(), engagement.prospect_company, "",
                        said(engagement.checkin, CHECKIN_QUESTIONS),
                    ),
                )
            )  # fmt: skip
    return {
        advocate_id: [h for _, h in sorted(items, key=lambda item: item[0], reverse=True)[:HEARD_SHOWN]]
        for advocate_id, items in found.items()
    }


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
