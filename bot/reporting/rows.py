"""Per rep and per advocate, the rows Home, health and the report list, counted with metrics.py's definitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.reporting.metrics import (
    APPROVED,
    CLOSED,
    DECIDED,
    GIVEN,
    Period,
    as_of,
    count_if,
    day_start,
    deal_outcome,
    given_in,
    in_pool_at,
    reference_at,
    share,
)
from bot.rules.matching import SENTIMENT_GOOD, Policy, fatigue_signals, next_eligible
from bot.rules.vocabulary import AdvocateStatus, Industry
from store import counts
from store.models import Advocate, Engagement, ReferenceRequest


@dataclass(frozen=True)
class RepRow:
    rep_id: str
    requests: int
    approval_rate: float | None
    decided: int
    references: int
    win_rate: float | None  # won / closed, among deals that had a reference
    closed: int
    quality: float | None  # share of the rep's requests that met every qualification rule


def rep_stats(*, session: Session, period: Period, limit: int | None, rules: Any = None) -> list[RepRow]:
    """Per rep, what happened in `period`: requests filed, decisions, references given, deals closed."""
    from bot.rules.qualification import Rules, qualify

    rules = rules or Rules()
    r, e = ReferenceRequest, Engagement
    filed: dict[str, list[bool]] = {}
    for rep, stage, arr, tried, prior in session.execute(
        select(r.rep_id, r.deal_stage, r.deal_arr, r.tried, r.prior_references).where(
            r.created_at >= period.start, r.created_at < period.end
        )
    ):
        flags = qualify(
            rules=rules, deal_stage=stage, deal_arr=arr, tried=tried or [], prior_references=prior
        )
        filed.setdefault(rep, []).append(not flags)
    decisions = {
        rep: (int(yes), int(total))
        for rep, yes, total in session.execute(
            select(r.rep_id, count_if(r.status.in_(APPROVED)), func.count())
            .where(r.status.in_(DECIDED), r.decided_at >= period.start, r.decided_at < period.end)
            .group_by(r.rep_id)
        )
    }
    references = {
        rep: int(n)
        for rep, n in session.execute(
            select(r.rep_id, func.count())
            .select_from(e)
            .join(r, r.id == e.request_id)
            .where(given_in(period))
            .group_by(r.rep_id)
        )
    }
    had = exists().where(e.request_id == r.id, e.status.in_(GIVEN))
    deals = {
        rep: (int(won), int(closed))
        for rep, won, closed in session.execute(
            select(r.rep_id, count_if(r.outcome == "won"), func.count())
            .where(had, r.outcome.in_(CLOSED), r.outcome_at >= period.start, r.outcome_at < period.end)
            .group_by(r.rep_id)
        )
    }
    rows = []
    for rep in set(filed) | set(decisions) | set(references) | set(deals):
        yes, total = decisions.get(rep, (0, 0))
        won, closed = deals.get(rep, (0, 0))
        quality = filed.get(rep, [])
        rows.append(
            RepRow(
                rep,
                len(quality),
                share(yes, total),
                total,
                references.get(rep, 0),
                share(won, closed),
                closed,
                share(sum(quality), len(quality)),
            )  # fmt: skip
        )
    rows.sort(key=lambda row: (-row.requests, -row.references, row.rep_id))
    return rows if limit is None else rows[:limit]


@dataclass(frozen=True)
class AdvocateRow:
    advocate: Advocate
    total: int  # references given up to the end of the period
    this_period: int
    previous_period: int
    last_date: date | None
    won: int
    closed: int
    next_eligible: date | None  # as of today; None: no date can be promised (or retired)
    care: tuple[str, ...] = ()  # why the advocate needs care now; empty when they do not
    at_cap: bool = False  # asked as often this quarter as their tier's cap allows
    won_this_period: int = 0  # deals won among the references given in the period

    @property
    def success_rate(self) -> float | None:
        return share(self.won, self.closed)

    @property
    def covers(self) -> str:
        industry = next(
            (i.label for i in Industry if i.value == self.advocate.industry), self.advocate.industry
        )
        return "; ".join([industry, *self.advocate.use_cases])


def advocate_rows(
    *, session: Session, period: Period, policy: Policy, today: date, advocate_ids: list[int] | None = None
) -> list[AdvocateRow]:
    """Per advocate (every one in the pool during the period, or those given), their references as the
    period saw them, and what limits them today."""
    e, r = Engagement, ReferenceRequest
    end = period.end
    when = reference_at()
    previous = period.previous()
    given_before_end = and_(e.status.in_(GIVEN), when < end)
    outcome = deal_outcome()
    history = {
        row.advocate_id: row
        for row in session.execute(
            select(
                e.advocate_id,
                func.count().label("total"),
                count_if(and_(when >= period.start)).label("this_period"),
                count_if(and_(when >= previous.start, when < previous.end)).label("previous_period"),
                func.max(when).label("last"),
                count_if(outcome == "won").label("won"),
                count_if(outcome.in_(CLOSED)).label("closed"),
                count_if(and_(when >= period.start, outcome == "won")).label("won_this_period"),
            )
            .select_from(e)
            .outerjoin(r, r.id == e.request_id)
            .where(given_before_end, *([e.advocate_id.in_(advocate_ids)] if advocate_ids is not None else []))
            .group_by(e.advocate_id)
        )
    }
    statement = select(Advocate)
    if advocate_ids is not None:
        statement = statement.where(Advocate.id.in_(advocate_ids))
    else:
        statement = statement.where(or_(in_pool_at(as_of(period, today)), Advocate.id.in_(list(history))))
    advocates = list(session.scalars(statement.order_by(Advocate.name, Advocate.id)))
    limits = pool_limits(session=session, advocates=advocates, policy=policy, today=today)
    rows = []
    for advocate in advocates:
        h = history.get(advocate.id)
        eligible, care, capped = limits.get(advocate.id, (None, (), False))
        rows.append(
            AdvocateRow(
                advocate,
                int(h.total) if h else 0,
                int(h.this_period) if h else 0,
                int(h.previous_period) if h else 0,
                h.last.date() if h and h.last else None,
                int(h.won) if h else 0,
                int(h.closed) if h else 0,
                eligible,
                care,
                capped,
                int(h.won_this_period) if h else 0,
            )
        )
    return rows


NOT_GREAT_DAYS = 90


def pool_limits(
    *, session: Session, advocates: Sequence[Any], policy: Policy, today: date, every: bool = False
) -> dict[int, tuple[date | None, tuple[str, ...], bool]]:
    """Per advocate (models, or rows of store.pool.CANDIDATE_COLUMNS): the next day they may be asked (the
    shortlist's own rules), why they need care, and whether they are at their cap. `every`: the whole pool."""
    from bot.flows.shortlist import candidate_of, usage_window

    if not advocates:
        return {}
    usage = counts.usage_of_pool(
        session=session, window=usage_window(today), advocate_ids=None if every else [a.id for a in advocates]
    )
    since = day_start(today - timedelta(days=NOT_GREAT_DAYS))
    # The few not-great calls of the last 90 days, found by their date (grouped here: grouped in SQL, SQLite
    # walked every engagement in advocate order instead, 0.4 s at 100k engagements).
    unhappy: dict[int, datetime] = {}
    for advocate_id, at in session.execute(
        select(Engagement.advocate_id, Engagement.feedback_at).where(
            Engagement.feedback_rating == "not_great", Engagement.feedback_at >= since
        )
    ):
        if advocate_id not in unhappy or at > unhappy[advocate_id]:
            unhappy[advocate_id] = at
    found: dict[int, tuple[date | None, tuple[str, ...], bool]] = {}
    for advocate in advocates:
        candidate = candidate_of(advocate, usage.get(advocate.id))
        if advocate.status == AdvocateStatus.RETIRED:
            found[advocate.id] = (None, (), False)
            continue
        care = [f"fatigue: {signal}" for signal in fatigue_signals(candidate.usage, policy)]
        if advocate.account_trouble:
            care.append("the account has open technical or onboarding trouble")
        if advocate.sentiment is not None and advocate.sentiment < SENTIMENT_GOOD:
            care.append(f"low sentiment ({advocate.sentiment:.0%})")
        if advocate.id in unhappy:
            care.append(f"said a call was not great on {unhappy[advocate.id].date().isoformat()}")
        capped = candidate.usage.this_quarter >= policy.caps.get(advocate.tier, min(policy.caps.values()))
        found[advocate.id] = (next_eligible(candidate, policy, today), tuple(care), capped)
    return found
