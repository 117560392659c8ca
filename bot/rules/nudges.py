"""The nudge timetable (PROGRAM.md, "Scheduling and prep", "After the call") and working hours, as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo


class NudgeKind(StrEnum):
    ASK_REMINDER = "ask_reminder"  # the advocate, 2 business days after the ask
    ASK_EXPIRY = "ask_expiry"  # refdesk itself: after 4 business days the ask lapses and CS hears it
    ANSWERS_REMINDER = "answers_reminder"  # the advocate who said yes to an email Q&A, 2 business days on
    PREP_ADVOCATE = "prep_advocate"  # 1–2 days before: who, when, why, topics, what to avoid
    PREP_REP = "prep_rep"  # 1–2 days before: the prospect's prep, through the rep
    REMINDER = "reminder"  # the advocate, the day before
    THANKS = "thanks"  # the advocate, within a few hours after, in their working day
    REP_CHECKIN = "rep_checkin"  # the rep, the next working day: check in with the prospect
    CHECKIN_REMINDER = (
        "checkin_reminder"  # the rep, two working days later, if the check-in is still not logged
    )
    CHECKIN_MISSED = "checkin_missed"  # refdesk itself: still nothing two working days on; CS hears it
    FEEDBACK = "feedback"  # the advocate, two working days after (a Friday call: Tuesday), after the thanks
    DEAL_OUTCOME = "deal_outcome"  # the rep, on the expected close date
    APPRECIATION = "appreciation"  # CS: this advocate gave 3 references in 12 months; send a gift or a note
    QUARTER_SUMMARY = "quarter_summary"  # each advocate who helped: their quarter, in numbers
    QUARTER_REPORT = "quarter_report"  # CS: the quarter's report and chart
    YEAR_RECOGNITION = "year_recognition"  # CS, each January: recognise last year's top advocates


# Nudges about a call: outside working hours they still go out on the call's own day.
ABOUT_THE_CALL = frozenset({NudgeKind.PREP_ADVOCATE, NudgeKind.PREP_REP, NudgeKind.REMINDER})
# refdesk acts on these itself; they reach nobody's working hours.
INTERNAL = frozenset({NudgeKind.ASK_EXPIRY, NudgeKind.CHECKIN_MISSED})
# Posts in the CS channel: a channel has no working hours of its own.
TO_CHANNEL = frozenset({NudgeKind.APPRECIATION, NudgeKind.QUARTER_REPORT, NudgeKind.YEAR_RECOGNITION})

REMINDER_BUSINESS_DAYS = 2
CHECKIN_REMINDER_DAYS = 2  # working days after the check-in prompt
CHECKIN_MISSED_BUSINESS_DAYS = 6  # after the call: the reminder had two working days of its own
EXPIRY_BUSINESS_DAYS = 4
WORK_START = time(9, 0)
WORK_END = time(18, 0)
THANKS_AFTER = timedelta(hours=1)
THANKS_LATEST = time(17, 45)  # a call that ends late in the day is thanked before the day ends, if it can be
THANKS_SOONEST = timedelta(minutes=15)
DAY_LATEST = time(17, 0)  # prompts that ask for something land before the end of the working day
SITTING = timedelta(hours=4)  # the thanks and the question about the call never arrive in one sitting
# The moments below are in the recipient's zone. A nudge's due_at is planned at the earliest instant any
# zone could want it (every whole-hour UTC offset, less an hour for half-hour zones and a DST change between),
# and the dispatcher moves it to the recipient's own moment (`send_at`).
EVERY_OFFSET = tuple(ZoneInfo(f"Etc/GMT{-h:+d}") if h else ZoneInfo("UTC") for h in range(-12, 15))
OFFSET_MARGIN = timedelta(hours=1)
OUTCOME_HOUR = time(15, 0)  # UTC: afternoon in Europe, morning in the Americas; then working hours apply


@dataclass(frozen=True)
class Planned:
    """A message to send: `key` makes planning idempotent (one row per engagement and kind)."""

    key: str
    kind: NudgeKind
    recipient: str
    due_at: datetime


Day = TypeVar("Day", date, datetime)


def add_business_days(instant: Day, days: int) -> Day:
    """`days` weekdays later (at the same time of day, for a datetime); a Saturday's first is Monday."""
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


def answers_plan(*, engagement_id: int, accepted_at: datetime, recipient: str) -> list[Planned]:
    """An email Q&A the advocate said yes to: one gentle reminder if the answers have not come (the ask's own
    pace: REMINDER_BUSINESS_DAYS)."""
    return [
        Planned(
            key_for(engagement_id, NudgeKind.ANSWERS_REMINDER),
            NudgeKind.ANSWERS_REMINDER,
            recipient,
            add_business_days(accepted_at, REMINDER_BUSINESS_DAYS),
        )
    ]


def written_plan(
    *, engagement_id: int, answered_at: datetime, advocate: str, rep: str, close_date: date
) -> list[Planned]:
    """After written answers (no call, so no prep, reminder or check-in about one): the thanks within a few
    hours, the feedback two working days on, the deal's outcome on the close date. Each moves into the
    recipient's working hours when the dispatcher meets it (`send_at`)."""
    return [
        Planned(key_for(engagement_id, NudgeKind.THANKS), NudgeKind.THANKS, advocate, answered_at + THANKS_AFTER),
        Planned(
            key_for(engagement_id, NudgeKind.FEEDBACK),
            NudgeKind.FEEDBACK,
            advocate,
            add_business_days(answered_at, 2),
        ),
        outcome_plan(engagement_id=engagement_id, after=answered_at, rep=rep, close_date=close_date),
    ]


def outcome_plan(*, engagement_id: int, after: datetime, rep: str, close_date: date) -> Planned:
    """The rep is asked how the deal went on its close date (a week after the reference, when that has passed)."""
    outcome = datetime.combine(close_date, OUTCOME_HOUR, tzinfo=UTC)
    if outcome <= after + timedelta(hours=48):
        outcome = after + timedelta(days=7)
    return Planned(key_for(engagement_id, NudgeKind.DEAL_OUTCOME), NudgeKind.DEAL_OUTCOME, rep, outcome)


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
    """Everything PROGRAM.md sends around one call, from prep to the deal's outcome.

    Thanks, check-in, feedback and the reminder are planned at the earliest instant any time zone could want
    them; `send_at` moves each to its moment in the recipient's own day when the dispatcher meets it.
    """
    end = call_at + timedelta(minutes=minutes)

    def plan(kind: NudgeKind, recipient: str, due: datetime) -> Planned:
        return Planned(key_for(engagement_id, kind, call_at), kind, recipient, max(due, now))

    outcome = datetime.combine(close_date, OUTCOME_HOUR, tzinfo=UTC)
    if outcome <= end + timedelta(hours=48):
        outcome = end + timedelta(days=7)  # the close date already passed: ask a week after the call
    return [
        plan(NudgeKind.PREP_ADVOCATE, advocate, _before_call(call_at - timedelta(days=2))),
        plan(NudgeKind.PREP_REP, rep, _before_call(call_at - timedelta(days=2))),
        plan(NudgeKind.REMINDER, advocate, earliest(NudgeKind.REMINDER, call_at=call_at, minutes=minutes)),
        plan(NudgeKind.THANKS, advocate, earliest(NudgeKind.THANKS, call_at=call_at, minutes=minutes)),
        plan(NudgeKind.REP_CHECKIN, rep, earliest(NudgeKind.REP_CHECKIN, call_at=call_at, minutes=minutes)),
        plan(
            NudgeKind.CHECKIN_REMINDER,
            rep,
            earliest(NudgeKind.CHECKIN_REMINDER, call_at=call_at, minutes=minutes),
        ),
        plan(NudgeKind.CHECKIN_MISSED, rep, add_business_days(end, CHECKIN_MISSED_BUSINESS_DAYS)),
        plan(NudgeKind.FEEDBACK, advocate, earliest(NudgeKind.FEEDBACK, call_at=call_at, minutes=minutes)),
        plan(NudgeKind.DEAL_OUTCOME, rep, outcome),
    ]


# --- moments in the recipient's day ---------------------------------------------------------------
def _working_day_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _at(day: date, clock_time: time, zone: ZoneInfo) -> datetime:
    """`clock_time` on `day` in `zone`, moved into [09:00, 17:00], as UTC (DST-aware via zoneinfo)."""
    clamped = min(max(clock_time.replace(second=0, microsecond=0, tzinfo=None), WORK_START), DAY_LATEST)
    return datetime.combine(day, clamped, tzinfo=zone).astimezone(UTC)


def thanks_at(*, end: datetime, zone: ZoneInfo) -> datetime:
    """Within a few hours of the call's end, in the advocate's working hours: the same day when the call ends
    early enough, else the next working morning."""
    soon = end + THANKS_AFTER
    if in_working_hours(soon, zone) and soon.astimezone(zone).date() == end.astimezone(zone).date():
        return soon.astimezone(UTC)
    local_end = end.astimezone(zone)
    if in_working_hours(end, zone):
        late = datetime.combine(local_end.date(), THANKS_LATEST, tzinfo=zone).astimezone(UTC)
        if end + THANKS_SOONEST <= late:
            return late
        return next_working_start(datetime.combine(local_end.date(), WORK_END, tzinfo=zone), zone)
    return next_working_start(end, zone)


def checkin_at(*, end: datetime, zone: ZoneInfo) -> datetime:
    """The rep checks in with the prospect on the next working day (within 24 working hours)."""
    local_end = end.astimezone(zone)
    return _at(add_business_days(local_end.date(), 1), local_end.time(), zone)


def checkin_reminder_at(*, end: datetime, zone: ZoneInfo) -> datetime:
    """Two working days after the check-in prompt, at the same time of the rep's day."""
    local_end = end.astimezone(zone)
    return _at(add_business_days(local_end.date(), 1 + CHECKIN_REMINDER_DAYS), local_end.time(), zone)


def feedback_at(*, end: datetime, zone: ZoneInfo) -> datetime:
    """Within 48 hours counted in working days (a Friday call: by Tuesday), and never in the thanks' sitting."""
    local_end = end.astimezone(zone)
    moment = _at(add_business_days(local_end.date(), 2), local_end.time(), zone)
    thanks = thanks_at(end=end, zone=zone)
    if moment < thanks + SITTING:
        moment = next_working_start(thanks + SITTING, zone)
    return moment


def reminder_at(*, call_at: datetime, zone: ZoneInfo) -> datetime:
    """On the working day before the call in the advocate's zone (Friday for a Monday call)."""
    local_call = call_at.astimezone(zone)
    return _at(_working_day_before(local_call.date()), local_call.time(), zone)


def moment_for(kind: NudgeKind, *, call_at: datetime, minutes: int, zone: ZoneInfo) -> datetime | None:
    """Where `kind` belongs in the recipient's day around the call, or None when it has no such moment."""
    end = call_at + timedelta(minutes=minutes)
    if kind == NudgeKind.THANKS:
        return thanks_at(end=end, zone=zone)
    if kind == NudgeKind.REP_CHECKIN:
        return checkin_at(end=end, zone=zone)
    if kind == NudgeKind.CHECKIN_REMINDER:
        return checkin_reminder_at(end=end, zone=zone)
    if kind == NudgeKind.FEEDBACK:
        return feedback_at(end=end, zone=zone)
    if kind == NudgeKind.REMINDER:
        return reminder_at(call_at=call_at, zone=zone)
    return None


def earliest(kind: NudgeKind, *, call_at: datetime, minutes: int) -> datetime:
    """The earliest instant `kind` could be wanted in any time zone: a lower bound for planning."""
    moments = [moment_for(kind, call_at=call_at, minutes=minutes, zone=zone) for zone in EVERY_OFFSET]
    return min(m for m in moments if m is not None) - OFFSET_MARGIN


def day_phrase(moment: datetime, *, at: datetime, zone: ZoneInfo) -> str:
    """How `moment` reads to someone reading at `at` in `zone`: today, tomorrow, yesterday, on Monday, on 3 Dec."""
    days = (moment.astimezone(zone).date() - at.astimezone(zone).date()).days
    local = moment.astimezone(zone)
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    if -7 < days < 0:
        return f"on {local:%A}"
    if 1 < days < 7:
        return f"on {local:%A}"
    return f"on {local.day} {local:%B}"


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


def send_at(
    *,
    due: datetime,
    kind: NudgeKind,
    zone: ZoneInfo,
    call_at: datetime | None,
    minutes: int | None = None,
) -> datetime:
    """When a due nudge may go out: at its moment in the recipient's day, or on the day of the call it is about.

    Idempotent: a nudge released to the instant this returns gets that same instant back.
    """
    if kind in INTERNAL or kind in TO_CHANNEL:
        return due
    if call_at is not None and minutes is not None:
        moment = moment_for(kind, call_at=call_at, minutes=minutes, zone=zone)
        if moment is not None and moment > due:
            due = moment
    about_today = kind in ABOUT_THE_CALL and call_at is not None
    if about_today and due.astimezone(zone).date() == call_at.astimezone(zone).date():
        return due
    start = next_working_start(due, zone)
    if kind in ABOUT_THE_CALL and call_at is not None and start > call_at:
        return due  # waiting for the window would miss the call: better at an odd hour than never
    return start
