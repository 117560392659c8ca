"""The calendar invite both sides get when a reference call is confirmed (.ics, via icalendar)."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from bot.flows.audience import Brief


def invite(*, brief: Brief, now: datetime) -> bytes:
    """One VEVENT whose UID stays the same across reschedules, so calendars move the event, not copy it.

    Both sides get it, so it is written from the brief: nothing internal to sales can be in it.
    """
    request, advocate, call = brief.prospect, brief.advocate, brief.call
    assert call.call_at is not None
    calendar = Calendar()
    calendar.add("prodid", "-//refdesk//reference calls//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"refdesk-engagement-{call.id}@refdesk")
    event.add("dtstamp", now)
    event.add("sequence", int(now.timestamp()))
    event.add("dtstart", call.call_at)
    event.add("dtend", call.call_at + timedelta(minutes=call.minutes))
    event.add("summary", f"Reference call: {advocate.name} ({advocate.company}) × {request.prospect_company}")
    event.add(
        "description",
        "\n".join(
            [
                f"A {call.minutes}-minute customer reference {call.how}.",
                "",
                "Agenda",
                "1. Introductions (2 min)",
                f"2. Their questions: {request.contact_concerns}",
                f"3. How {advocate.company} uses us for {request.wanted_use_case}",
                "4. Wrap-up",
                "",
                "Please keep away from pricing, roadmap, internal complaints and competitor comparisons.",
            ]
        ),
    )
    calendar.add_component(event)
    return calendar.to_ical()
