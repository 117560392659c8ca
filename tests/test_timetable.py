"""The timetable in the recipient's day (PROGRAM.md, "After the call"): pure functions, checked as tables.

Each row is a call (start in UTC, 20 minutes), a zone, and where each message must land in that zone's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.rules.nudges import (
    NudgeKind,
    call_plan,
    checkin_at,
    day_phrase,
    feedback_at,
    in_working_hours,
    reminder_at,
    send_at,
    thanks_at,
)

MIN = 20
LONDON, NY, TOKYO, LA, SYDNEY = (
    ZoneInfo(z)
    for z in ("Europe/London", "America/New_York", "Asia/Tokyo", "America/Los_Angeles", "Australia/Sydney")
)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def shown(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %H:%M")


# (call start, local to `zone`), zone, thanks, check-in, feedback — as the recipient's clock reads them.
AFTER_CALL = [
    # A Wednesday mid-morning call: thanks within the hour, check-in Thursday, feedback Friday.
    ((2026, 12, 2, 10, 0), LONDON, "Wed 11:20", "Thu 10:20", "Fri 10:20"),
    # Friday 17:00: thanks before the day ends, check-in Monday, feedback by Tuesday.
    ((2026, 11, 27, 17, 0), LONDON, "Fri 17:45", "Mon 17:00", "Tue 17:00"),
    # Friday evening (19:30): thanks the next working morning, feedback Tuesday, never the same minute.
    ((2026, 11, 27, 19, 30), NY, "Mon 09:00", "Mon 17:00", "Tue 17:00"),
    # A call that ends before the working day starts.
    ((2026, 12, 1, 7, 0), TOKYO, "Tue 09:00", "Wed 09:00", "Thu 09:00"),
    # A Saturday call (it happens): Monday morning thanks, Monday check-in, Tuesday feedback.
    ((2026, 11, 28, 11, 0), SYDNEY, "Mon 09:00", "Mon 11:20", "Tue 11:20"),
    # A call ending 17:50: too late for same-day thanks.
    ((2026, 12, 3, 17, 30), LA, "Fri 09:00", "Fri 17:00", "Mon 17:00"),
    # DST: Europe/London leaves summer time on Sun 25 Oct 2026; a Friday call's messages keep local hours.
    ((2026, 10, 23, 15, 0), LONDON, "Fri 16:20", "Mon 15:20", "Tue 15:20"),
    # DST: New York springs forward on Sun 8 Mar 2026.
    ((2026, 3, 6, 16, 0), NY, "Fri 17:20", "Mon 16:20", "Tue 16:20"),
    # Southern hemisphere DST: Sydney leaves summer time on Sun 5 Apr 2026.
    ((2026, 4, 3, 10, 0), SYDNEY, "Fri 11:20", "Mon 10:20", "Tue 10:20"),
]


@pytest.mark.parametrize(("start", "zone", "thanks", "checkin", "feedback"), AFTER_CALL)
def test_after_the_call_each_message_has_its_moment_in_the_recipients_day(
    start, zone, thanks, checkin, feedback
):
    call = local(zone, *start)
    end = call + timedelta(minutes=MIN)
    t, c, f = thanks_at(end=end, zone=zone), checkin_at(end=end, zone=zone), feedback_at(end=end, zone=zone)
    assert (shown(t, zone), shown(c, zone), shown(f, zone)) == (thanks, checkin, feedback)
    for moment in (t, c, f):
        assert in_working_hours(moment, zone) and moment > end
    assert f - t >= timedelta(hours=4), "the question never arrives in the thanks' sitting"
    assert len({t, c, f}) == 3
    # "Within 48 hours", counted in working days: never more than two working days after the call's day.
    assert (f.astimezone(zone).date() - call.astimezone(zone).date()).days <= 4


@pytest.mark.parametrize(
    ("call", "zone", "expected"),
    [
        ((2026, 11, 30, 10, 0), LONDON, "Fri 10:00"),  # a Monday call: reminded on Friday
        ((2026, 12, 2, 16, 0), LONDON, "Tue 16:00"),
        (
            (2026, 12, 2, 8, 0),
            TOKYO,
            "Tue 09:00",
        ),  # an early call: the reminder waits for 09:00 the day before
        ((2026, 12, 2, 19, 0), NY, "Tue 17:00"),  # an evening call: reminded before the day before ends
        ((2026, 3, 9, 9, 30), NY, "Fri 09:30"),  # across the spring-forward weekend
    ],
)
def test_the_reminder_lands_on_the_working_day_before_the_call(call, zone, expected):
    assert shown(reminder_at(call_at=local(zone, *call), zone=zone), zone) == expected


def test_the_plan_is_never_later_than_any_zone_wants_it():
    """due_at is a lower bound; the dispatcher moves each row to its moment in the recipient's own day."""
    zones = [
        ZoneInfo(z) for z in ("Etc/GMT+12", "Pacific/Kiritimati", "UTC", "Asia/Kathmandu", "Pacific/Chatham")
    ]
    zones += [ZoneInfo("America/St_Johns"), NY, SYDNEY]
    start = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a week across New York's spring-forward
    for step in range(0, 7 * 24, 5):
        call = start + timedelta(hours=step)
        planned = {
            p.kind: p.due_at
            for p in call_plan(
                engagement_id=1,
                call_at=call,
                minutes=MIN,
                advocate="U1",
                rep="U2",
                close_date=call.date() + timedelta(days=30),
                now=call - timedelta(days=10),
            )
        }
        for zone in zones:
            for kind in (NudgeKind.REMINDER, NudgeKind.THANKS, NudgeKind.REP_CHECKIN, NudgeKind.FEEDBACK):
                moment = send_at(due=planned[kind], kind=kind, zone=zone, call_at=call, minutes=MIN)
                wanted = send_at(
                    due=call - timedelta(days=9), kind=kind, zone=zone, call_at=call, minutes=MIN
                )
                assert moment == wanted, (call, zone, kind)
                # Idempotent: released to its moment, a row gets the same moment back.
                assert send_at(due=moment, kind=kind, zone=zone, call_at=call, minutes=MIN) == moment


def test_a_friday_evening_call_spreads_over_monday_and_tuesday_in_the_dispatcher():
    zone = LONDON
    call = local(zone, 2026, 11, 27, 18, 30)
    moments = {
        kind: send_at(due=call + timedelta(minutes=MIN), kind=kind, zone=zone, call_at=call, minutes=MIN)
        for kind in (NudgeKind.THANKS, NudgeKind.REP_CHECKIN, NudgeKind.FEEDBACK)
    }
    assert {k: shown(v, zone) for k, v in moments.items()} == {
        NudgeKind.THANKS: "Mon 09:00",
        NudgeKind.REP_CHECKIN: "Mon 17:00",
        NudgeKind.FEEDBACK: "Tue 17:00",
    }


@pytest.mark.parametrize(
    ("moment", "at", "zone", "words"),
    [
        (
            (2026, 11, 30, 10, 0),
            (2026, 11, 27, 10, 0),
            LONDON,
            "on Monday",
        ),  # Friday's reminder of a Monday call
        ((2026, 12, 2, 10, 0), (2026, 12, 1, 10, 0), LONDON, "tomorrow"),
        ((2026, 12, 2, 10, 0), (2026, 12, 2, 8, 0), LONDON, "today"),
        ((2026, 11, 27, 19, 0), (2026, 11, 30, 9, 0), NY, "on Friday"),  # Monday's thanks for Friday's call
        ((2026, 12, 2, 10, 0), (2026, 12, 3, 10, 0), LONDON, "yesterday"),
        ((2026, 12, 20, 10, 0), (2026, 12, 3, 10, 0), LONDON, "on 20 December"),
    ],
)
def test_time_words_are_for_the_moment_of_reading_in_the_readers_zone(moment, at, zone, words):
    assert day_phrase(local(zone, *moment), at=local(zone, *at), zone=zone) == words


def test_the_same_instant_reads_differently_on_each_side_of_utc():
    call = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # Wednesday night in London, Thursday morning in Tokyo
    read = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert day_phrase(call, at=read, zone=LONDON) == "today"
    assert day_phrase(call, at=read, zone=TOKYO) == "tomorrow"
