"""After the call (PROGRAM.md): feedback and sentiment, the rep's check-in, the deal's outcome, appreciation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, load_only

from bot.flows import outreach
from bot.reporting.metrics import Period
from bot.rules.nudges import NudgeKind, Planned
from store import lifecycle
from store.models import (
    Advocate,
    Engagement,
    EngagementStatus,
    Nudge,
    ReferenceRequest,
)

RATINGS = {"great": 1.0, "fine": 0.6, "not_great": 0.1}
SENTIMENT_WINDOW = 5  # the advocate's last answers that make their sentiment
ASK_AGAIN = timedelta(days=14)
PLAN_QUARTER_WITHIN = timedelta(days=14)  # summaries are planned in the new quarter's first two weeks only
AFTER_CALL = (EngagementStatus.SCHEDULED, EngagementStatus.HELD)


def update_sentiment(*, session: Session, advocate_id: int) -> float | None:
    """The mean of the advocate's most recent ratings: what the matching matrix reads as sentiment."""
    recent = session.scalars(
        select(Engagement.feedback_rating)
        .where(Engagement.advocate_id == advocate_id, Engagement.feedback_rating.is_not(None))
        .order_by(Engagement.feedback_at.desc(), Engagement.id.desc())
        .limit(SENTIMENT_WINDOW)
    ).all()
    scores = [RATINGS[r] for r in recent if r in RATINGS]
    sentiment = round(sum(scores) / len(scores), 3) if scores else None
    advocate = session.get(Advocate, advocate_id)
    if advocate is not None:
        advocate.sentiment = sentiment
    return sentiment


def rate(
    *, session: Session, engagement_id: int, rating: str | None, answers: dict[str, Any] | None, now: datetime
) -> tuple[bool, outreach.Step]:
    """Record the advocate's feedback. The first rating counts; "Tell us more" may add answers later."""
    first = False
    if rating is not None:
        first = (
            session.execute(
                update(Engagement)
                .where(
                    Engagement.id == engagement_id,
                    Engagement.feedback_rating.is_(None),
                    Engagement.status.in_(AFTER_CALL),
                )
                .values(feedback_rating=rating, feedback_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
    engagement = session.get(Engagement, engagement_id)
    session.refresh(engagement)
    if answers:
        engagement.feedback = {**(engagement.feedback or {}), **answers}
        engagement.feedback_at = engagement.feedback_at or now
    update_sentiment(session=session, advocate_id=engagement.advocate_id)
    return first, outreach._step(session, engagement_id, won=True)


def log_checkin(
    *, session: Session, engagement_id: int, answers: dict[str, Any], actor_id: str, now: datetime
) -> outreach.Step:
    won = (
        session.execute(
            update(Engagement)
            .where(
                Engagement.id == engagement_id,
                Engagement.checkin_at.is_(None),
                Engagement.status.in_(AFTER_CALL),
            )
            .values(checkin={**answers, "by": actor_id}, checkin_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    step = outreach._step(session, engagement_id, won)
    if won:
        lifecycle.add_event(
            session=session,
            request_id=step.request.id,
            at=now,
            actor_id=actor_id,
            action="checkin_logged",
            detail={"engagement_id": engagement_id},
        )
    return step


def call_did_not_happen(
    *, session: Session, engagement_id: int, reschedule: bool, actor_id: str, now: datetime
) -> outreach.Step:
    """Reschedule (back to picking times) or cancel without counting it as a reference."""
    changes: dict[str, Any] = {"call_at": None, "held_at": None}
    if not reschedule:
        changes["ended_reason"] = "the call didn't happen"
    won = lifecycle.transition_engagement(
        session=session,
        engagement_id=engagement_id,
        from_statuses=AFTER_CALL,
        to_status=EngagementStatus.ACCEPTED if reschedule else EngagementStatus.CANCELLED,
        changes=changes,
    )
    step = outreach._step(session, engagement_id, won)
    if won:
        lifecycle.cancel_nudges(session=session, engagement_id=engagement_id)
        if not reschedule:
            outreach.free_request(session, step.engagement, now)
        lifecycle.add_event(
            session=session,
            request_id=step.request.id,
            at=now,
            actor_id=actor_id,
            action="call_missed",
            detail={"engagement_id": engagement_id, "reschedule": reschedule},
        )
    return step


@dataclass(frozen=True)
class Outcome:
    won: bool  # this call recorded it (False: it was already recorded)
    request: ReferenceRequest
    advocates: list[Advocate]  # everyone who gave a reference for the request


def record_outcome(
    *, session: Session, request_id: int, outcome: str, final_arr: int | None, actor_id: str, now: datetime
) -> Outcome:
    won = (
        session.execute(
            update(ReferenceRequest)
            .where(ReferenceRequest.id == request_id, ReferenceRequest.outcome.is_(None))
            .values(outcome=outcome, final_arr=final_arr, outcome_at=now, outcome_by=actor_id, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    request = session.get(ReferenceRequest, request_id)
    session.refresh(request)
    given = session.scalars(
        select(Engagement).where(Engagement.request_id == request_id, Engagement.status.in_(AFTER_CALL))
    ).all()
    if won:
        for engagement in given:
            engagement.outcome = outcome
            lifecycle.cancel_nudges(
                session=session, engagement_id=engagement.id, kinds=[NudgeKind.DEAL_OUTCOME]
            )
        lifecycle.add_event(
            session=session,
            request_id=request_id,
            at=now,
            actor_id=actor_id,
            action=f"deal_{outcome}",
            detail={"final_arr": final_arr},
        )
    advocates = [session.get(Advocate, e.advocate_id) for e in given]
    return Outcome(won=won, request=request, advocates=[a for a in advocates if a is not None])


def ask_outcome_again(*, session: Session, engagement_id: int, now: datetime) -> datetime:
    """ "Not yet": the outcome prompt comes back in two weeks."""
    engagement = session.get(Engagement, engagement_id)
    request = session.get(ReferenceRequest, engagement.request_id)
    due = now + ASK_AGAIN
    lifecycle.plan_nudges(
        session=session,
        planned=[
            Planned(
                f"engagement:{engagement_id}:{NudgeKind.DEAL_OUTCOME}:again:{due:%Y%m%d}",
                NudgeKind.DEAL_OUTCOME,
                request.rep_id,
                due,
            )
        ],
        engagement_id=engagement_id,
        request_id=request.id,
        now=now,
    )
    return due


def references_in_year(*, session: Session, advocate_id: int, now: datetime) -> int:
    """References given in the last 12 months up to `now`, however recorded: the one definition in
    bot/reporting/metrics (a live call or an imported row, by the date it happened)."""
    from bot.reporting.metrics import Period, given_in, reference_at

    period = Period.last_12_months(now.date())
    return (
        session.scalar(
            select(func.count())
            .select_from(Engagement)
            .where(Engagement.advocate_id == advocate_id, given_in(period), reference_at() <= now)
        )
        or 0
    )


def plan_appreciation(
    *, session: Session, advocate_id: int, threshold: int, cs_channel: str, now: datetime
) -> bool:
    """Each time the advocate's references in 12 months cross a multiple of `threshold` (3, 6, 9…), CS is
    prompted once to send a gift or an executive note. Imported history counts like live references: three
    imported and a fourth live one cross 3. A count that falls back (the window moved on) may cross again."""
    return bool(
        plan_appreciations(
            session=session, advocate_ids=[advocate_id], threshold=threshold, cs_channel=cs_channel, now=now
        )
    )


def plan_appreciations(
    *, session: Session, advocate_ids: list[int], threshold: int, cs_channel: str, now: datetime
) -> int:
    """plan_appreciation for several advocates at once (the dispatcher's batch of held calls): their counts
    in one grouped query of the same definition as references_in_year. Returns how many prompts were planned."""
    from bot.reporting.metrics import Period, given_in, reference_at

    period = Period.last_12_months(now.date())
    counts = dict(
        session.execute(
            select(Engagement.advocate_id, func.count())
            .where(Engagement.advocate_id.in_(advocate_ids), given_in(period), reference_at() <= now)
            .group_by(Engagement.advocate_id)
        ).all()
    )
    planned = 0
    for advocate in session.scalars(
        select(Advocate)
        .options(load_only(Advocate.id, Advocate.appreciated_level))  # not the whole profile of each
        .where(Advocate.id.in_(advocate_ids))
        .order_by(Advocate.id)
    ):
        count = counts.get(advocate.id, 0)
        level = count // threshold
        if level <= advocate.appreciated_level:
            advocate.appreciated_level = level
            continue
        advocate.appreciated_level = level
        lifecycle.plan_nudges(
            session=session,
            planned=[
                Planned(
                    f"appreciation:{advocate.id}:{now:%Y%m%d}:{level * threshold}",
                    NudgeKind.APPRECIATION,
                    cs_channel,
                    now,
                )
            ],
            engagement_id=None,
            request_id=None,
            now=now,
            payload={"advocate_id": advocate.id, "count": count},
        )
        planned += 1
    return planned


def _first_weekday(day: date) -> datetime:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def plan_quarter(*, session: Session, now: datetime, cs_channel: str) -> int:
    """At a quarter's start: a summary DM for each advocate who helped last quarter, and CS's report."""
    this_quarter = Period.quarter(now.date())
    if now - this_quarter.start > PLAN_QUARTER_WITHIN:
        return 0
    last = Period.quarter(this_quarter.start.date() - timedelta(days=1))
    report_key = f"quarter:{last.label}:report"
    if session.scalar(select(Nudge.id).where(Nudge.key == report_key)) is not None:
        return 0
    due = _first_weekday(this_quarter.start.date())
    helped = (
        session.execute(
            select(Engagement.advocate_id)
            .where(
                Engagement.status == EngagementStatus.HELD,
                Engagement.held_at >= last.start,
                Engagement.held_at < last.end,
            )
            .distinct()
        )
        .scalars()
        .all()
    )
    planned = 0
    for advocate_id in helped:
        advocate = session.get(Advocate, advocate_id)
        recipient = outreach.recipient_of(advocate) if advocate else ""
        if not recipient:
            continue
        lifecycle.plan_nudges(
            session=session,
            planned=[
                Planned(
                    f"quarter:{last.label}:advocate:{advocate_id}", NudgeKind.QUARTER_SUMMARY, recipient, due
                )
            ],
            engagement_id=None,
            request_id=None,
            now=now,
            payload={"quarter": last.label, "advocate_id": advocate_id},
        )
        planned += 1
    lifecycle.plan_nudges(
        session=session,
        planned=[Planned(report_key, NudgeKind.QUARTER_REPORT, cs_channel, due)],
        engagement_id=None,
        request_id=None,
        now=now,
        payload={"quarter": last.label},
    )
    return planned + 1


TOP_ADVOCATES = 5
GIFT_MIN, GIFT_MAX, GIFT_STEP = 100, 500, 100  # seeds/000 "Aprecio al Defensor": $100–500 by their volume


def plan_year(*, session: Session, now: datetime, cs_channel: str) -> bool:
    """In a new year's first two weeks: one prompt to CS to recognise last year's top advocates."""
    if now.month != 1 or now.day > PLAN_QUARTER_WITHIN.days:
        return False
    year = now.year - 1
    key = f"year:{year}:recognition"
    if session.scalar(select(Nudge.id).where(Nudge.key == key)) is not None:
        return False
    lifecycle.plan_nudges(
        session=session,
        planned=[Planned(key, NudgeKind.YEAR_RECOGNITION, cs_channel, _first_weekday(date(now.year, 1, 1)))],
        engagement_id=None,
        request_id=None,
        now=now,
        payload={"year": year},
    )
    return True


@dataclass(frozen=True)
class Recognition:
    advocate: Advocate
    references: int
    gift: int  # dollars, within the program's range
    public: bool  # they agreed to be named publicly


def top_advocates(*, session: Session, year: int, limit: int = TOP_ADVOCATES) -> list[Recognition]:
    """Last year's top advocates by references given (the one definition, live and imported alike)."""
    from bot.reporting.metrics import Period, given_in

    period = Period(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), str(year))
    rows = session.execute(
        select(Engagement.advocate_id, func.count().label("n"))
        .where(given_in(period))
        .group_by(Engagement.advocate_id)
        .order_by(func.count().desc(), Engagement.advocate_id)
        .limit(limit)
    ).all()
    found = []
    for advocate_id, count in rows:
        advocate = session.get(Advocate, advocate_id)
        if advocate is None:
            continue
        gift = min(GIFT_MAX, max(GIFT_MIN, GIFT_STEP * int(count)))
        public = bool(advocate.named_publicly) and not advocate.private_only
        found.append(Recognition(advocate, int(count), gift, public))
    return found


@dataclass(frozen=True)
class QuarterSummary:
    references: int
    won: int
    won_arr: int


def quarter_summary(*, session: Session, advocate_id: int, period: Period) -> QuarterSummary:
    held = session.execute(
        select(Engagement.request_id, ReferenceRequest.outcome, ReferenceRequest.final_arr)
        .outerjoin(ReferenceRequest, ReferenceRequest.id == Engagement.request_id)
        .where(
            Engagement.advocate_id == advocate_id,
            Engagement.status == EngagementStatus.HELD,
            Engagement.held_at >= period.start,
            Engagement.held_at < period.end,
        )
    ).all()
    wins = [arr or 0 for _, outcome, arr in held if outcome == "won"]
    return QuarterSummary(references=len(held), won=len(wins), won_arr=sum(wins))
