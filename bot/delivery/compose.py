"""What each scheduled message says, composed from the store at send time (so it is never stale)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.flows import followup
from bot.flows.audience import AdvocateBrief, Brief
from bot.reporting.metrics import Period
from bot.rules.matching import Policy
from bot.rules.nudges import NudgeKind
from bot.text import SECTION_TEXT_LIMIT, render
from modals import kit
from modals.advocate_side import controls as advocate_controls
from modals.nudges import build_nudge
from store.models import Advocate, Engagement, EngagementStatus, Nudge, NudgeStatus, ReferenceRequest

# A nudge still makes sense only while its engagement is in one of these states.
_WHILE = {
    NudgeKind.ASK_REMINDER: (EngagementStatus.ASKED,),
    NudgeKind.ANSWERS_REMINDER: (EngagementStatus.ACCEPTED,),
    NudgeKind.PREP_ADVOCATE: (EngagementStatus.SCHEDULED,),
    NudgeKind.PREP_REP: (EngagementStatus.SCHEDULED,),
    NudgeKind.REMINDER: (EngagementStatus.SCHEDULED,),
    NudgeKind.THANKS: (EngagementStatus.SCHEDULED, EngagementStatus.HELD),
    NudgeKind.REP_CHECKIN: (EngagementStatus.SCHEDULED, EngagementStatus.HELD),
    NudgeKind.CHECKIN_REMINDER: (EngagementStatus.SCHEDULED, EngagementStatus.HELD),
    NudgeKind.FEEDBACK: (EngagementStatus.SCHEDULED, EngagementStatus.HELD),
    NudgeKind.DEAL_OUTCOME: (EngagementStatus.SCHEDULED, EngagementStatus.HELD),
}
# Prompts for the check-in stop once it is logged.
_UNTIL_CHECKIN = frozenset({NudgeKind.REP_CHECKIN, NudgeKind.CHECKIN_REMINDER})


def still_relevant(kind: str, engagement: Engagement) -> bool:
    if NudgeKind(kind) in _UNTIL_CHECKIN and engagement.checkin_at is not None:
        return False
    return engagement.status in _WHILE.get(NudgeKind(kind), ())


@dataclass(frozen=True)
class Composed:
    text: str
    blocks: list[Block]
    call_at: datetime | None = None
    attachment: tuple[bytes, str] | None = None  # (content, file name), sent with the text as its comment
    call_minutes: int | None = None
    engagement_id: int | None = None
    advocate_id: int | None = None
    request_id: int | None = None
    thread: tuple[str, str] | None = field(default=None)  # the request's card, where CS hears of failures


def compose(
    *,
    session: Session,
    nudge: Nudge,
    policy: Policy,
    today: date,
    zone: ZoneInfo,
    now: datetime,
) -> Composed | None:
    """The message for `nudge`, or None when it no longer makes sense (answered, moved, cancelled)."""
    kind = NudgeKind(nudge.kind)
    payload = nudge.payload or {}
    if kind == NudgeKind.APPRECIATION:
        advocate = session.get(Advocate, payload.get("advocate_id"))
        if advocate is None:
            return None
        text = render("appreciation", advocate=advocate, count=payload.get("count", 0))
        return Composed(text=kit.notification(text), blocks=kit.text_message(text), advocate_id=advocate.id)
    if kind == NudgeKind.QUARTER_SUMMARY:
        advocate = session.get(Advocate, payload.get("advocate_id"))
        if advocate is None:
            return None
        period = Period.parse(payload["quarter"])
        summary = followup.quarter_summary(session=session, advocate_id=advocate.id, period=period)
        # The advocate's own quarter: their public profile and the summed outcome PROGRAM.md's summary names.
        text = render(
            "quarter_summary", advocate=AdvocateBrief.of(advocate), summary=summary, quarter=period.label
        )
        # Not only thanks: their own controls ride along (what they're happy to do, a pause).
        blocks = [*kit.text_message(text), advocate_controls(advocate_id=advocate.id)]
        return Composed(text=kit.notification(text), blocks=blocks, advocate_id=advocate.id)
    if kind == NudgeKind.YEAR_RECOGNITION:
        year = int(payload.get("year", 0))
        top = followup.top_advocates(session=session, year=year)
        text = render("year_recognition", year=year, top=top)
        return Composed(text=kit.notification(text), blocks=kit.text_message(text))
    if kind == NudgeKind.QUARTER_REPORT:
        from bot.reporting.chart import quarter_chart
        from bot.reporting.report import build_report, stats_text

        period = Period.parse(payload["quarter"])
        report = build_report(session=session, period=period, policy=policy, today=today)
        text = stats_text(report)
        return Composed(
            text=kit.safe(text, SECTION_TEXT_LIMIT),
            blocks=kit.text_message(text),
            attachment=(quarter_chart(report), f"refdesk-{period.label}.png"),
        )
    engagement = session.get(Engagement, nudge.engagement_id) if nudge.engagement_id else None
    request = session.get(ReferenceRequest, nudge.request_id) if nudge.request_id else None
    advocate = session.get(Advocate, engagement.advocate_id) if engagement else None
    if engagement is None or request is None or advocate is None or not still_relevant(kind, engagement):
        return None
    if kind == NudgeKind.DEAL_OUTCOME and request.outcome:
        return None  # already told
    text, blocks = build_nudge(
        kind=kind,
        brief=Brief.of(request, advocate, engagement),
        on_slack=bool(advocate.slack_user_id),
        close_date=request.close_date,
        zone=zone,
        now=now,
    )
    thread = (request.card_channel, request.card_ts) if request.card_channel and request.card_ts else None
    return Composed(
        text=text,
        blocks=blocks,
        call_at=engagement.call_at,
        call_minutes=engagement.call_minutes,
        engagement_id=engagement.id,
        advocate_id=advocate.id,
        request_id=request.id,
        thread=thread,
    )


def compose_batch(
    *, session: Session, nudges: list[Nudge], zones: dict[int, ZoneInfo], policy: Policy, now: datetime
) -> tuple[dict[int, Composed | None], set[int]]:
    """A batch of scheduled messages, composed from the store as it stands, and the engagements among its
    feedback questions whose thank-you is still due. What they are about is read with a statement per table
    for the whole batch and held here (the identity map keeps only what is referenced), so each compose finds
    its rows in the session without a statement of its own."""
    loaded: list[object] = []
    engagement_ids = {n.engagement_id for n in nudges if n.engagement_id}
    request_ids = {n.request_id for n in nudges if n.request_id}
    if engagement_ids:
        loaded += session.scalars(select(Engagement).where(Engagement.id.in_(engagement_ids))).all()
    if request_ids:
        loaded += session.scalars(select(ReferenceRequest).where(ReferenceRequest.id.in_(request_ids))).all()
    advocate_ids = {e.advocate_id for e in loaded if isinstance(e, Engagement)}
    if advocate_ids:
        loaded += session.scalars(select(Advocate).where(Advocate.id.in_(advocate_ids))).all()
    feedback = [n.engagement_id for n in nudges if n.kind == NudgeKind.FEEDBACK and n.engagement_id]
    thanks_pending = (
        set(
            session.scalars(
                select(Nudge.engagement_id).where(
                    Nudge.engagement_id.in_(feedback),
                    Nudge.kind == NudgeKind.THANKS,
                    Nudge.status.in_((NudgeStatus.PENDING, NudgeStatus.SENDING)),
                )
            )
        )
        if feedback
        else set()
    )
    composed = {
        nudge.id: compose(
            session=session, nudge=nudge, policy=policy, today=now.date(), zone=zones[nudge.id], now=now
        )
        for nudge in nudges
    }
    return composed, thanks_pending
