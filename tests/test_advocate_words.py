"""Every advocate-facing message, for a full reference, says what the program lists for it (PROGRAM.md,
"Asking the advocate", "Scheduling and prep", "After the call"; seeds/000: "Protocolo de Solicitud al Cliente",
"Preparación Pre-Llamada", "Acciones Post-Referencia"). One test per template, its elements listed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.flows.audience import AdvocateBrief, Brief, CallBrief, ProspectBrief
from bot.text import render, shown
from modals.nudges import build_nudge
from modals.outreach import build_ask, render_for

CALL = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # a Monday
FULL = Brief(
    prospect=ProspectBrief(
        id=7,
        rep_id="U0REP",
        prospect_company="Acme Corp",
        prospect_industry="software",
        prospect_employees=800,
        contact_role="VP of Engineering",
        contact_name="Jordan Lee",
        contact_concerns="Will it scale past 200 services?",
        wanted_use_case="Migrating off a legacy job scheduler",
        wanted_kind="call",
        urgency="two_weeks",
        outcome=None,
    ),
    advocate=AdvocateBrief(
        name="Dana Whitfield",
        title="VP Engineering",
        company="Northwind Systems",
        industry="software",
        employees=900,
        region="California",
        country="US",
        use_cases=("job scheduling", "cloud migration"),
        story="Moved 300 nightly jobs off cron in six weeks; failures fell by 80%.",
        product_areas=("Workflow engine", "Audit trail"),
        owner_slack_user_id="U0CS1",
    ),
    call=CallBrief(
        id=3,
        call_at=CALL,
        call_format="video",
        call_minutes=20,
        proposed_times=(CALL.isoformat(),),
        meeting_link="https://meet.example.com/abc-defg",
    ),
)
LONDON = ZoneInfo("Europe/London")


def text_of(blocks) -> str:
    return shown(" ".join(b.to_dict().get("text", {}).get("text", "") for b in blocks))


def buttons(blocks) -> list[str]:
    return [e.text.text for b in blocks for e in getattr(b, "elements", []) or [] if getattr(e, "text", None)]


def nudge(kind: str, at: datetime) -> tuple[str, list[str]]:
    _, blocks = build_nudge(kind=kind, brief=FULL, on_slack=True, zone=LONDON, now=at)
    return text_of(blocks), buttons(blocks)


def assert_all(text: str, elements: dict[str, str]) -> None:
    missing = {what: words for what, words in elements.items() if words not in text}
    assert not missing, f"missing {missing} in:\n{text}"


def test_the_ask():
    _, blocks = build_ask(brief=FULL)
    assert_all(
        text_of(blocks),
        {
            "the prospect company": "Acme Corp",
            "its industry": "software & internet",
            "its size": "800 employees",
            "the contact's role and name": "Jordan Lee, their VP of Engineering",
            "why they're interested (the use case)": "Migrating off a legacy job scheduler",
            "what they want to understand": "Will it scale past 200 services?",
            "the time needed": "20 minutes",
            "the proposed timing": "Within 2 weeks",
            "tied to their own success": "This is about *job scheduling*, where I know you've had real success",
            "their results": "failures fell by 80%",
            "an easy no": "completely fine to say no",
        },
    )
    assert buttons(blocks) == ["Yes, happy to", "Not this time", "Pause me until…", "What I'm happy to do"]


def test_the_ask_by_email_through_the_cs_owner():
    assert_all(
        shown(render_for("ask_email", FULL)),
        {
            "tied to their own success": "This is about job scheduling, where I know you've had real success",
            "the contact": "Jordan Lee, their VP of Engineering",
            "the use case": "Migrating off a legacy job scheduler",
            "the questions": "Will it scale past 200 services?",
            "time": "20 minutes",
            "an easy no": "simply say so",
        },
    )


def test_the_advocates_prep():
    text, controls = nudge("prep_advocate", datetime(2026, 12, 3, 16, 0, tzinfo=UTC))
    assert_all(
        text,
        {
            "who: name": "Jordan Lee",
            "who: title": "VP of Engineering",
            "who: company": "Acme Corp",
            "where they are": "evaluating us now",
            "when": "<!date^",
            "the meeting link": "<https://meet.example.com/abc-defg|Join the call>",
            "why: use case": "Migrating off a legacy job scheduler",
            "why: their questions": "Will it scale past 200 services?",
            "topic: results with specific features": "your results with Workflow engine, Audit trail",
            "topic: implementation and timeline": "how implementation went and how long it took",
            "topic: day-to-day use": "day to day",
            "topic: ROI": "ROI",
            "topic: support": "support",
            "avoid: pricing": "specific pricing",
            "avoid: roadmap": "roadmap",
            "avoid: internal complaints": "internal complaints",
            "avoid: competitors": "competitors",
            "duration": "15–20 minutes",
            "be honest": "Feel free to be honest",
            "their CS owner to call": "Call your CS contact, <@U0CS1>",
        },
    )
    assert controls == ["Ask CS to join"]


def test_the_prospects_prep_through_the_rep():
    text, _ = nudge("prep_rep", datetime(2026, 12, 3, 16, 0, tzinfo=UTC))
    assert_all(
        text,
        {
            "the reference": "Dana Whitfield, VP Engineering at Northwind Systems",
            "their background and results": "Moved 300 nightly jobs off cron in six weeks",
            "best topics": "Will it scale past 200 services?",
            "best topics: their features": "their results with Workflow engine, Audit trail",
            "call details": "20-minute video",
            "the link": "<https://meet.example.com/abc-defg|Join the call>",
            "come with questions": "Come with questions",
            "for the contact by name": "please pass this to Jordan Lee",
        },
    )


def test_the_reminder_is_worded_for_when_it_arrives():
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    text, controls = nudge("reminder", friday)
    assert_all(text, {"the day": "is on Monday", "when": "<!date^", "link": "meet.example.com", "time": "20 min"})
    assert "tomorrow" not in text
    assert nudge("reminder", datetime(2026, 12, 6, 16, 0, tzinfo=UTC))[0].count("is tomorrow") == 1
    assert controls == ["Ask CS to join"]


def test_the_thanks_is_short_and_asks_nothing():
    text, controls = nudge("thanks", datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    assert_all(text, {"thanks by name": "Thank you, Dana", "the prospect": "Acme Corp", "when": "yesterday"})
    assert "?" not in text and len(text) < 200
    assert controls == ["Pause me until…", "What I'm happy to do"]


def test_the_feedback_ask():
    text, controls = nudge("feedback", datetime(2026, 12, 9, 16, 0, tzinfo=UTC))
    assert_all(
        text,
        {
            "how was it": "how was the call",
            "a good match": "good match for your experience",
            "prepared enough": "prepared enough",
            "what they asked": "What did they ask",
            "what to change": "what should we change",
        },
    )
    assert controls[:3] == ["Great", "Fine", "Not great"]


def test_the_welcome():
    text = shown(render("welcome", advocate=FULL.advocate, cap=2, min_days=21))
    assert_all(
        text,
        {
            "what the program is": "What it is:",
            "what an ask looks like": "What an ask looks like:",
            "the time asked": "15–20 minute",
            "the caps that protect them": "at most 2 asks a quarter, at least 21 days between two asks",
            "pausing": "Pause me until…",
            "their say": "we'll only ask for that",
            "consent": "Nothing names you in public without your permission",
            "a written yes": "a written yes",
        },
    )
