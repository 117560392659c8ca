"""The nudge timetable (PROGRAM.md, "Scheduling and prep", "After the call") and working hours, as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class NudgeKind(StrEnum):
    ASK_REMINDER = "ask_reminder"  # the advocate, 2 business days after the ask
    ASK_EXPIRY = "ask_expiry"  # refdesk itself: after 4 business days the ask lapses and CS hears it
    PREP_ADVOCATE = "prep_advocate"  # 1–2 days before: who, when, why, topics, what to avoid
    PREP_REP = "prep_rep"  # 1–2 days before: the prospect's prep, through the rep
    REMINDER = "reminder"  # the advocate, the day before
    THANKS = "thanks"  # the advocate, within 3 hours after
    REP_CHECKIN = "rep_checkin"  # the rep, 24 hours after: check in with the prospect
    FEEDBACK = "feedback"  # the advocate, 48 hours after
    DEAL_OUTCOME = "deal_outcome"  # the rep, on the expected close date
    APPRECIATION = "appreciation"  # CS: this advocate gave 3 references in 12 months; send a gift or a note
    QUARTER_SUMMARY = "quarter_summary"  # each advocate who helped: their quarter, in numbers
    QUARTER_REPORT = "quarter_report"  # CS: the quarter's report and chart


# Nudges about a call: outside working hours they still go out on the call's own day.
ABOUT_THE_CALL = frozenset({NudgeKind.PREP_ADVOCATE, NudgeKind.PREP_REP, NudgeKind.REMINDER})
# refdesk acts on these itself; they reach nobody's working hours.
INTERNAL = frozenset({NudgeKind.ASK_EXPIRY})
# Posts in the CS channel: a channel has no working hours of its own.
TO_CHANNEL = frozenset({NudgeKind.APPRECIATION, NudgeKind.QUARTER_REPORT})

REMINDER_BUSINESS_DAYS = 2
EXPIRY_BUSINESS_DAYS = 4
WORK_START = time(9, 0)
WORK_END = time(18, 0)
THANKS_AFTER = timedelta(hours=1)
OUTCOME_HOUR = time(15, 0)  # UTC: afternoon in Europe, morning in the Americas; then working hours apply


@dataclass(frozen=True)
class Planned:
    """A message to send: `key` makes planning idempotent (one row per engagement and kind)."""

    key: str
    kind: NudgeKind
    recipient: str
    due_at: datetime


def add_business_days(instant: datetime, days: int) -> datetime:
    """`days` weekdays later, at the same time of day."""
    result = instant
    while days > 0:
        result += timedelta(days=1)
        if result.weekday() < 5:
            days -= 1
    return result


def _before_call(instant: datetime) -> datetime:
    """Prep that would land on a weekend goes out on the Friday before instead."""
    while instant.weekday() >= 5:
        instant -= timedelta(days=1)
    return instant


def key_for(engagement_id: int, kind: NudgeKind, call_at: datetime | None = None) -> str:
    """One row per engagement, kind and call time: a rescheduled call plans its messages afresh."""
    suffix = f":{call_at.astimezone(UTC):%Y%m%dT%H%M}" if call_at else ""
    return f"engagement:{engagement_id}:{kind}{suffix}"


def ask_plan(*, engagement_id: int, asked_at: datetime, recipient: str) -> list[Planned]:
    """After an ask: one gentle reminder, then the ask lapses."""
    return [
        Planned(
            key_for(engagement_id, NudgeKind.ASK_REMINDER),
            NudgeKind.ASK_REMINDER,
            recipient,
            add_business_days(asked_at, REMINDER_BUSINESS_DAYS),
        ),
        Planned(
            key_for(engagement_id, NudgeKind.ASK_EXPIRY),
            NudgeKind.ASK_EXPIRY,
            "refdesk",
            add_business_days(asked_at, EXPIRY_BUSINESS_DAYS),
        ),
    ]


def call_plan(
    *,
    engagement_id: int,
    call_at: datetime,
    minutes: int,
    advocate: str,
    rep: str,
    close_date: date,
    now: datetime,
) -> list[Planned]:
    """Everything PROGRAM.md sends around one call, from prep to the deal's outcome."""
    end = call_at + timedelta(minutes=minutes)

    def plan(kind: NudgeKind, recipient: str, due: datetime) -> Planned:
        return Planned(key_for(engagement_id, kind, call_at), kind, recipient, max(due, now))

    outcome = datetime.combine(close_date, OUTCOME_HOUR, tzinfo=UTC)
    if outcome <= end + timedelta(hours=48):
        outcome = end + timedelta(days=7)  # the close date already passed: ask a week after the call
    return [
        plan(NudgeKind.PREP_ADVOCATE, advocate, _before_call(call_at - timedelta(days=2))),
        plan(NudgeKind.PREP_REP, rep, _before_call(call_at - timedelta(days=2))),
        plan(NudgeKind.REMINDER, advocate, call_at - timedelta(days=1)),
        plan(NudgeKind.THANKS, advocate, end + THANKS_AFTER),
        plan(NudgeKind.REP_CHECKIN, rep, end + timedelta(hours=24)),
        plan(NudgeKind.FEEDBACK, advocate, end + timedelta(hours=48)),
        plan(NudgeKind.DEAL_OUTCOME, rep, outcome),
    ]


def in_working_hours(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.weekday() < 5 and WORK_START <= local.time() < WORK_END


def next_working_start(instant: datetime, zone: ZoneInfo) -> datetime:
    """`instant` itself when it is in working hours, else the next weekday 09:00 in `zone`."""
    if in_working_hours(instant, zone):
        return instant
    local = instant.astimezone(zone)
    day = local.date() if local.time() < WORK_START else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, WORK_START, tzinfo=zone).astimezone(UTC)


def send_at(*, due: datetime, kind: NudgeKind, zone: ZoneInfo, call_at: datetime | None) -> datetime:
    """When a due nudge may go out: now-ish in working hours, or on the day of the call it is about."""
    if kind in INTERNAL or kind in TO_CHANNEL:
        return due
    about_today = kind in ABOUT_THE_CALL and call_at is not None
    if about_today and due.astimezone(zone).date() == call_at.astimezone(zone).date():
        return due
    start = next_working_start(due, zone)
    if kind in ABOUT_THE_CALL and call_at is not None and start > call_at:
        return due  # waiting for the window would miss the call: better at an odd hour than never
    return start
