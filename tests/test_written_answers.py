"""An email Q&A is answered in writing: ask → yes → "Write my answers" → the rep gets them; no call, ever."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.rules.questions import MAX_QUESTIONS, key_questions
from bot.text import shown
from modals.ids import Action, Callback
from modals.written import NEED_ONE, answer_block_id
from store import usage
from store.models import AdvocateUsage, Engagement, Nudge, RequestEvent
from tests.conftest import CS_CHANNEL, OUTSIDER, REP
from tests.support.pool import ask_dana, ask_value, seed

QUESTIONS = ["Will it scale past 200 services?", "How long did the migration take?"]
CALL_ONLY = {"prep_advocate", "prep_rep", "reminder", "rep_checkin", "checkin_reminder", "checkin_missed"}


def ask_dana_in_writing(harness) -> tuple[int, int]:
    return ask_dana(harness, wanted_kind="email")


def say_yes(harness, engagement_id: int) -> dict:
    harness.click(Action.ASK_YES, engagement_id, user="U0DANA", channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.ANSWERS_FORM
    return view


def answer(harness, view: dict, *answers: str | None, user: str = "U0DANA", view_id: str | None = None):
    given = {answer_block_id(n): a for n, a in enumerate(answers, start=1)}
    return harness.submit_view(view, given, user=user, view_id=view_id)


def every_text(message: dict) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks") or [])


def nudge_kinds(harness) -> list[str]:
    with harness.db.unit_of_work() as session:
        return sorted(n.kind for n in session.scalars(select(Nudge)) if not n.kind.startswith("fx_"))


def test_the_ask_is_for_written_answers_to_the_key_questions_not_a_call(harness):
    ask_dana_in_writing(harness)
    [ask] = harness.dms_to("U0DANA")
    text = shown(ask["blocks"][0]["text"]["text"])
    assert "in writing" in ask["text"] and "minutes" not in ask["text"]
    for question in QUESTIONS:
        assert f"• {question}" in text
    assert "No meeting, nothing to schedule" in text and "minutes" not in text
    assert "Final decision meeting" not in text, "the justification stays with CS"
    assert [e["text"]["text"] for e in ask["blocks"][1]["elements"]] == ["Yes, happy to", "Not this time"]
    assert nudge_kinds(harness) == ["ask_expiry", "ask_reminder"]


def test_yes_opens_the_questions_and_the_rep_hears_the_yes(harness):
    request_id, engagement_id = ask_dana_in_writing(harness)
    view = say_yes(harness, engagement_id)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["label"]["text"] for b in inputs] == QUESTIONS
    assert all(b["element"]["multiline"] and b.get("optional") for b in inputs)
    assert "Justification" not in json.dumps(view) and "Final decision" not in json.dumps(view)
    [updated] = [u for u in harness.slack.of("chat.update") if u["channel"] == "D0DANA"]
    assert updated["blocks"][-1]["elements"][0]["action_id"] == Action.WRITE_ANSWERS
    [to_rep] = harness.dms_to(REP)[-1:]
    assert "said yes to answering Acme Corp's questions in writing" in to_rep["text"]
    assert any("said yes to the email Q&A" in m["text"] for m in harness.thread_replies())
    assert nudge_kinds(harness) == ["answers_reminder", "ask_expiry", "ask_reminder"]
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "accepted"
        pending = session.scalars(select(Nudge.kind).where(Nudge.status == "pending")).all()
        assert pending == ["answers_reminder"]
    # A second Yes (a double click) opens the questions again and records nothing twice.
    harness.slack.clear()
    say_yes(harness, engagement_id)
    harness.click(Action.WRITE_ANSWERS, engagement_id, user="U0DANA", channel="D0DANA")
    assert len(harness.slack.of("views.open")) == 2 and harness.slack.of("chat.postMessage") == []
    with harness.db.unit_of_work() as session:
        accepted = select(func.count()).where(RequestEvent.action == "advocate_accepted")
        assert session.scalar(accepted) == 1


def test_the_answers_reach_the_rep_once_escaped_and_the_reference_counts_as_given(harness):
    request_id, engagement_id = ask_dana_in_writing(harness)
    view = say_yes(harness, engagement_id)
    harness.clock.advance(timedelta(hours=3))
    harness.slack.clear()
    reply = answer(harness, view, "Yes: <@U0CEO> & 400 services, no trouble.", None, view_id="V0ANSWERS")
    assert reply.status == 200 and reply.body == "", reply.body
    [to_rep] = harness.dms_to(REP)
    blocks = json.dumps(to_rep["blocks"])
    assert "Dana Whitfield" in to_rep["text"] and "Acme Corp" in to_rep["text"]
    assert "&lt;@U0CEO&gt; &amp; 400 services" in blocks and "<@U0CEO>" not in blocks
    assert QUESTIONS[0] in blocks and QUESTIONS[1] not in blocks  # skipped: left out
    assert harness.dms_to("U0DANA") == []  # the advocate gets no copy of the rep's message
    [went] = [u for u in harness.slack.of("chat.update") if u["channel"] == "D0DANA"]
    assert "Your answers for Acme Corp went to" in went["text"] and len(went["blocks"]) == 1
    [note] = [m for m in harness.thread_replies() if "sent written answers" in m["text"]]
    assert "(1 of 2 questions)" in note["text"]
    with harness.db.unit_of_work() as session:
        engagement = session.get(Engagement, engagement_id)
        assert (engagement.status, engagement.held_at) == ("held", harness.clock.now())
        assert engagement.written_answers == [
            {"question": QUESTIONS[0], "answer": "Yes: <@U0CEO> & 400 services, no trouble."}
        ]
        kept = session.get(AdvocateUsage, engagement.advocate_id)
        assert (kept.given, kept.total, kept.pending) == (1, 1, 0)
        assert usage.check(session.connection()) == []  # kept counters agree with the history
    # Slack sends the same submission again: acknowledged, nothing sent twice. Another form: told inline.
    harness.slack.clear()
    assert answer(harness, view, "Again", None, view_id="V0ANSWERS").body == ""
    again = answer(harness, view, "Again", None, view_id="V0OTHER")
    assert again.json()["errors"] == {answer_block_id(1): "Your answers were already sent. Thank you!"}
    harness.click(Action.WRITE_ANSWERS, engagement_id, user="U0DANA", channel="D0DANA")
    assert "already sent" in harness.ephemerals_to("U0DANA")[-1]
    assert harness.slack.of("chat.postMessage") == [] and harness.slack.of("views.open") == []


def test_no_call_only_message_is_ever_sent_for_an_email_q_and_a(harness):
    request_id, engagement_id = ask_dana_in_writing(harness)
    view = say_yes(harness, engagement_id)
    answer(harness, view, "It scaled fine.", "Six weeks.")
    harness.slack.clear()
    moments = [datetime(2026, 11, 20, 16, 5, tzinfo=UTC)] + [
        datetime(2026, 11, 20, 15, 0, tzinfo=UTC) + timedelta(days=d, hours=h)
        for d in range(1, 70)
        for h in (0, 3)
    ]
    for at in moments:
        harness.dispatch(at)
    to_dana = [m for m in harness.slack.of("chat.postMessage") if m["channel"] == "U0DANA"]
    to_rep = [m for m in harness.slack.of("chat.postMessage") if m["channel"] == REP]
    words = ("Thank you, Dana", "how was answering", "you gave 1 reference this quarter")
    assert [[w in m["text"] for w in words].index(True) for m in to_dana] == [
        0,
        1,
        2,
    ]  # the quarter counts it
    assert "answer Acme Corp's questions" in to_dana[0]["text"]
    assert [e["action_id"] for e in to_dana[1]["blocks"][1]["elements"]][-1] == Action.FEEDBACK_MORE
    [outcome] = to_rep
    assert "How did the deal go?" in outcome["text"] or "How did the deal go?" in every_text(outcome)
    for message in to_dana + to_rep:
        assert "call" not in every_text(message).lower().replace("callback", ""), message["text"]
    assert not set(nudge_kinds(harness)) & CALL_ONLY
    invites = [u for u in harness.slack.of("file_upload") if u["content"].startswith(b"BEGIN:VCALENDAR")]
    assert invites == [], "no calendar invite: nothing was scheduled"


def test_one_reminder_when_the_answers_do_not_come(harness):
    request_id, engagement_id = ask_dana_in_writing(harness)
    view = say_yes(harness, engagement_id)  # Friday 20 Nov
    harness.slack.clear()
    harness.dispatch(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # Monday: one business day
    assert harness.slack.of("chat.postMessage") == []
    harness.dispatch(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))  # Tuesday: two
    [reminder] = harness.slack.of("chat.postMessage")
    assert (
        reminder["channel"] == "U0DANA"
        and "written answers for *Acme Corp*" in reminder["blocks"][0]["text"]["text"]
    )
    assert reminder["blocks"][1]["elements"][0]["action_id"] == Action.WRITE_ANSWERS
    assert "call" not in every_text(reminder).lower()
    harness.dispatch(datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    assert len(harness.slack.of("chat.postMessage")) == 1
    answer(harness, view, "Fine.", None)
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "held"


def test_bad_answers_and_other_people_are_told_inline(harness):
    request_id, engagement_id = ask_dana_in_writing(harness)
    view = say_yes(harness, engagement_id)
    reply = answer(harness, view, "   ", None)
    assert reply.json()["errors"] == {answer_block_id(1): NEED_ONE}
    reply = answer(harness, view, "x" * 2001, None)
    assert "under 2,000 characters" in reply.json()["errors"][answer_block_id(1)]
    reply = answer(harness, view, "Sneaky", None, user=OUTSIDER)
    assert "Only the advocate this was sent to" in reply.json()["errors"][answer_block_id(1)]
    harness.click(Action.WRITE_ANSWERS, engagement_id, user=OUTSIDER, channel="D0X")
    assert "Only the advocate this was sent to" in harness.ephemerals_to(OUTSIDER)[-1]
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "accepted"
    assert not [m for m in harness.dms_to(REP) if "written answers" in m["text"]]
    assert not any("sent written answers" in m["text"] for m in harness.slack.messages_to(CS_CHANNEL))


def test_key_questions_one_per_line_or_question_mark_at_most_ten():
    assert key_questions("Will it scale? How long did it take?") == [
        "Will it scale?",
        "How long did it take?",
    ]
    assert key_questions("- Pricing model\n* Support quality\n\n1) Onboarding time") == [
        "Pricing model",
        "Support quality",
        "Onboarding time",
    ]
    many = key_questions("\n".join(f"Question {n}?" for n in range(1, 15)))
    assert len(many) == MAX_QUESTIONS and many[-1].startswith("Question 10?") and many[-1].endswith("14?")
    assert key_questions("  ") == ["What would you tell them about your experience?"]


def test_the_reps_home_says_what_comes_next_for_written_answers(harness):
    from bot.reporting.dashboard import rep_requests

    request_id, engagement_id = ask_dana_in_writing(harness)
    view = say_yes(harness, engagement_id)

    def step() -> str:
        with harness.db.unit_of_work() as session:
            [mine] = rep_requests(session=session, user_id=REP, now=harness.clock.now(), limit=5)
            return str(mine.next_step)

    assert "their written answers will come to you" in step() and "pick a time" not in step()
    answer(harness, view, "Fine.", None)
    assert "Tell us the outcome" in step() and "Check in" not in step()


def test_an_advocate_without_slack_answers_through_their_cs_owner(harness):
    seed(harness)
    request_id = harness.file_request(deal_arr="400000", wanted_role_level="c_level", wanted_kind="email")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    shortlist = harness.thread_replies()[-1]
    ravi = ask_value(shortlist, "Ravi")
    harness.click(Action.ASK, ravi, user="U0CS1")
    [draft] = harness.dms_to("U0CS2")  # Ravi's CS owner
    body = shown(json.dumps(draft["blocks"]))
    assert "Subject: Would you answer a few questions from Acme Corp in writing?" in body
    assert QUESTIONS[0] in body and "reply to this email with your answers" in body and "minutes" not in body
    assert [e["text"]["text"] for e in draft["blocks"][-1]["elements"]] == ["They said yes", "They said no"]
    with harness.db.unit_of_work() as session:
        engagement_id = session.scalars(
            select(Engagement.id).where(Engagement.request_id == request_id)
        ).one()
    harness.click(Action.ASK_YES, engagement_id, user="U0CS2", channel="D0CS2")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.ANSWERS_FORM
    [recorded] = [u for u in harness.slack.of("chat.update") if u["channel"] == "D0CS2"]
    assert "Recorded: Ravi Menon said yes" in recorded["text"]
    harness.slack.clear()
    assert answer(harness, view, "We run 600 services on it.", None, user="U0CS2").body == ""
    [to_rep] = harness.dms_to(REP)
    assert "Ravi Menon" in to_rep["text"] and "We run 600 services on it." in json.dumps(to_rep["blocks"])
    harness.dispatch(harness.clock.now() + timedelta(hours=2))
    [thanks] = harness.dms_to("U0CS2")
    assert "who isn't on Slack" in thanks["text"] or "who isn't on Slack" in json.dumps(thanks["blocks"])
    assert "answer Acme Corp's questions" in json.dumps(thanks["blocks"])
