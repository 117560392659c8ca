"""Ask → yes → times → pick → confirmation with .ics; then the nudges, each once, in working hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.text import shown
from modals.ids import Action, Block, Callback
from store.models import Engagement, Nudge
from tests.conftest import CS_CHANNEL, REP
from tests.support.pool import ask_dana, seed

CALL = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # a Wednesday
OTHER = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def say_yes(harness, engagement_id: int, times=(CALL, OTHER), user="U0DANA") -> None:
    harness.click(Action.ASK_YES, engagement_id, user=user, channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.TIMES_FORM
    answers = {
        Block.TIME_1: times[0],
        Block.TIME_2: times[1] if len(times) > 1 else None,
        Block.TIME_3: None,
        Block.CALL_FORMAT: "video",
    }
    reply = harness.submit_view(view, answers, user=user)
    assert reply.status == 200 and reply.body == "", reply.body


def pick(harness, engagement_id: int, when: datetime = CALL) -> None:
    harness.click(
        f"{Action.PICK_TIME}_1",
        f"{engagement_id}:{when.isoformat()}",
        user=REP,
        channel="D0REP",
        message_ts="1700000000.000900",
    )


def schedule(harness) -> tuple[int, int]:
    request_id, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    pick(harness, engagement_id)
    return request_id, engagement_id


def sent_to(harness, user: str) -> list[str]:
    return [m["text"] for m in harness.dms_to(user)]


def test_the_ask_says_what_program_md_says_and_makes_no_easy(harness):
    ask_dana(harness)
    [ask] = harness.dms_to("U0DANA")
    text = shown(ask["blocks"][0]["text"]["text"])
    for expected in (
        "Acme Corp",
        "software & internet",
        "800 employees",
        "VP of Engineering",
        "Migrating off a legacy job scheduler",  # why they're interested: the use case, not the rep's "why now"
        "Will it scale",
        "20 minutes",
        "Within 2 weeks",
        "completely fine to say no",
    ):
        assert expected in text, expected
    assert "Final decision meeting" not in text, "the justification stays with CS"
    assert [e["text"]["text"] for e in ask["blocks"][1]["elements"]] == ["Yes, happy to", "Not this time"]
    assert any("asked *Dana Whitfield* by DM" in m["text"] for m in harness.thread_replies())
    with harness.db.unit_of_work() as session:
        kinds = sorted(n.kind for n in session.scalars(select(Nudge)) if not n.kind.startswith("fx_"))
    assert kinds == ["ask_expiry", "ask_reminder"]


def test_an_advocate_without_slack_is_asked_through_their_cs_owner(harness):
    seed(harness)
    request_id = harness.file_request(deal_arr="400000", wanted_role_level="c_level", wanted_kind="executive")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    shortlist = harness.thread_replies()[-1]
    ravi = next(
        b["accessory"]["value"]
        for b in shortlist["blocks"]
        if "accessory" in b and "Ravi" in b["accessory"]["text"]["text"]
    )
    harness.click(Action.ASK, ravi, user="U0CS1")
    [draft] = harness.dms_to("U0CS2")  # Ravi's CS owner
    assert "Subject: Would you talk to Acme Corp" in str(draft["blocks"])
    assert [e["text"]["text"] for e in draft["blocks"][-1]["elements"]] == ["They said yes", "They said no"]


def test_not_this_time_thanks_them_and_the_next_candidate_is_one_click_away(harness):
    request_id, engagement_id = ask_dana(harness)
    harness.clock.advance(timedelta(hours=5))
    harness.click(Action.ASK_NO, engagement_id, user="U0DANA", channel="D0DANA")
    [thanks] = [u for u in harness.slack.of("chat.update") if u["channel"] == "D0DANA"]
    assert "Thank you for letting us know" in thanks["text"] and len(thanks["blocks"]) == 1
    with harness.db.unit_of_work() as session:
        engagement = session.get(Engagement, engagement_id)
        assert (engagement.status, engagement.reply_seconds) == ("passed", 5 * 3600)
        assert session.scalars(select(Nudge).where(Nudge.status == "pending")).all() == []
    fresh = harness.thread_replies()[-1]
    assert [b["accessory"]["text"]["text"] for b in fresh["blocks"] if "accessory" in b] == [
        "Ask Lena Vogel",
        "Ask Ravi Menon",  # strategic on a smaller deal: reserved, so last
    ]
    harness.click(Action.ASK_NO, engagement_id, user="U0DANA", channel="D0DANA")
    assert "already answered" in harness.ephemerals_to("U0DANA")[-1]


def test_yes_times_pick_confirmation_with_an_ics_invite(harness):
    request_id, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    assert not any("said yes" in t for t in sent_to(harness, REP)[:-1])
    offer = harness.dms_to(REP)[-1]
    assert "Dana Whitfield" in offer["text"] and "said yes" in offer["text"]
    buttons = offer["blocks"][-1]["elements"]
    # Labelled with the times themselves, in the rep's zone (buttons are plain text: no date tokens).
    assert [b["text"]["text"] for b in buttons] == ["Wed 02 Dec, 16:00 UTC", "Thu 03 Dec, 10:00 UTC"]
    assert "<!date^" + str(int(CALL.timestamp())) in offer["blocks"][0]["text"]["text"]

    pick(harness, engagement_id)
    confirmations = [m for m in harness.slack.of("chat.postMessage") if "confirmed" in m["text"]]
    assert {m["channel"] for m in confirmations} == {"U0DANA", REP}
    uploads = harness.slack.of("file_upload")
    assert len(uploads) == 2
    ics = uploads[0]["content"].decode()
    assert "BEGIN:VCALENDAR" in ics and "DTSTART:20261202T160000Z" in ics and "Agenda" in ics
    completed = harness.slack.of("files.completeUploadExternal")
    assert {c["channel_id"] for c in completed} == {"D0DANA", "D0REP"}
    assert any("Call scheduled" in m["text"] for m in harness.thread_replies())
    with harness.db.unit_of_work() as session:
        engagement = session.get(Engagement, engagement_id)
        assert (engagement.status, engagement.call_at, engagement.call_format) == ("scheduled", CALL, "video")
    pick(harness, engagement_id, OTHER)  # a second click on the other option
    assert "no longer open" in harness.ephemerals_to(REP)[-1]


def test_times_in_the_past_are_refused_inline(harness):
    _, engagement_id = ask_dana(harness)
    harness.click(Action.ASK_YES, engagement_id, user="U0DANA", channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    reply = harness.submit_view(
        view, {Block.TIME_1: datetime(2026, 11, 1, tzinfo=UTC), Block.CALL_FORMAT: "video"}, user="U0DANA"
    )
    assert reply.json()["errors"] == {Block.TIME_1: "This time has passed: please pick a time in the future."}
    reply = harness.submit_view(
        view, {Block.TIME_1: datetime(2028, 1, 1, 16, tzinfo=UTC), Block.CALL_FORMAT: "video"}, user="U0DANA"
    )
    assert reply.json()["errors"] == {Block.TIME_1: "Please pick a time within the next year."}


def test_someone_else_cannot_answer_the_ask(harness):
    _, engagement_id = ask_dana(harness)
    harness.click(Action.ASK_NO, engagement_id, user="U0LENA", channel="D0LENA")
    assert "Only the advocate this was sent to" in harness.ephemerals_to("U0LENA")[0]
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "asked"


def test_nudges_go_out_once_each_at_the_right_time(harness):
    schedule(harness)
    harness.slack.clear()
    moments = {
        "prep": datetime(2026, 11, 30, 16, 5, tzinfo=UTC),
        "reminder": datetime(2026, 12, 1, 16, 5, tzinfo=UTC),
        "thanks": datetime(2026, 12, 2, 17, 25, tzinfo=UTC),
        "checkin": datetime(2026, 12, 3, 16, 25, tzinfo=UTC),
        "feedback": datetime(2026, 12, 4, 16, 25, tzinfo=UTC),
    }
    expected = {
        "prep": [("U0DANA", "Your reference call is"), (REP, "Prep for Acme Corp")],
        "reminder": [("U0DANA", "A reminder")],
        "thanks": [("U0DANA", "Thank you, Dana")],
        "checkin": [(REP, "Check in with Acme Corp")],
        "feedback": [("U0DANA", "how was the call")],
    }
    for step, at in moments.items():
        before = len(harness.slack.of("chat.postMessage"))
        result = harness.dispatch(at)
        again = harness.dispatch(at)  # running the same pass twice sends nothing new
        new = harness.slack.of("chat.postMessage")[before:]
        assert again.sent == 0
        assert [(m["channel"], m["text"][:0]) for m in new] == [(c, "") for c, _ in expected[step]], step
        for message, (_, words) in zip(new, expected[step], strict=True):
            assert words in message["blocks"][0]["text"]["text"], (step, message["text"])
        assert result.sent == len(expected[step])
    prep = harness.slack.of("chat.postMessage")[0]["blocks"][0]["text"]["text"]
    assert "Please avoid:* specific pricing, unreleased features" in prep and "20 minutes" in prep
    with harness.db.unit_of_work() as session:
        assert session.scalars(select(Engagement)).one().status == "held"


def test_a_nudge_outside_working_hours_waits_for_the_morning(harness):
    schedule(harness)
    harness.dispatch(datetime(2026, 12, 3, 16, 25, tzinfo=UTC))  # everything up to the rep's check-in
    harness.slack.user_tz["U0DANA"] = "America/Los_Angeles"
    harness.slack.clear()
    # Feedback is due Fri 16:20 UTC, 08:20 in Los Angeles: before Dana's working day.
    result = harness.dispatch(datetime(2026, 12, 4, 16, 25, tzinfo=UTC))
    assert harness.slack.of("chat.postMessage") == [] and result.deferred == 1
    harness.dispatch(datetime(2026, 12, 4, 16, 50, tzinfo=UTC))
    assert harness.slack.of("chat.postMessage") == []
    harness.dispatch(datetime(2026, 12, 4, 17, 1, tzinfo=UTC))  # 09:01 in Los Angeles
    [feedback] = harness.slack.of("chat.postMessage")
    assert "how was the call" in feedback["text"]
    assert harness.slack.of("users.info")[0]["user"] == "U0DANA"


def test_the_feedback_ask_never_overtakes_a_thanks_slack_held_back(harness):
    schedule(harness)
    harness.dispatch(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # prep and reminder
    harness.slack.clear()
    harness.slack.fail("chat.postMessage", status=429, retry_after=3 * 86400)  # Slack: come back in 3 days
    assert harness.dispatch(datetime(2026, 12, 2, 17, 25, tzinfo=UTC)).deferred == 1  # the thanks
    harness.dispatch(datetime(2026, 12, 3, 16, 25, tzinfo=UTC))  # the rep's check-in goes
    harness.dispatch(
        datetime(2026, 12, 4, 16, 25, tzinfo=UTC)
    )  # the feedback's moment: the thanks is waiting
    to_dana = [m["text"] for m in harness.slack.of("chat.postMessage") if m["channel"] == "U0DANA"]
    assert to_dana == []
    harness.dispatch(datetime(2026, 12, 7, 9, 1, tzinfo=UTC))  # Monday: the thanks first
    harness.dispatch(datetime(2026, 12, 7, 9, 2, tzinfo=UTC))
    to_dana = [m["text"] for m in harness.slack.of("chat.postMessage") if m["channel"] == "U0DANA"]
    assert [("Thank you" in t, "how was the call" in t) for t in to_dana] == [(True, False), (False, True)]


def test_silence_gets_one_reminder_then_the_ask_lapses(harness):
    request_id, engagement_id = ask_dana(harness)
    harness.slack.clear()
    harness.dispatch(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # Monday: 1 business day
    assert harness.slack.of("chat.postMessage") == []
    harness.dispatch(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))  # Tuesday: 2 business days
    [reminder] = harness.slack.of("chat.postMessage")
    assert reminder["channel"] == "U0DANA" and "gentle nudge" in reminder["text"]
    harness.dispatch(datetime(2026, 11, 26, 15, 30, tzinfo=UTC))  # Thursday: 4 business days
    lapsed, fresh = harness.thread_replies()[-2:]
    # The thread offers the next candidates at once: a fresh shortlist with live Ask buttons.
    buttons = [b["accessory"] for b in fresh["blocks"] if "accessory" in b]
    assert fresh["text"].startswith("Shortlist for request")
    assert any(b["action_id"] == Action.ASK for b in buttons)
    assert "didn't answer in 4 business days" in lapsed["text"]
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "expired"
    harness.click(Action.ASK_YES, engagement_id, user="U0DANA", channel="D0DANA")
    assert "already answered" in harness.ephemerals_to("U0DANA")[-1]


def test_reschedule_moves_every_nudge_and_cancel_stops_them(harness):
    _, engagement_id = schedule(harness)
    later = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)
    harness.click(Action.RESCHEDULE, engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(view, {Block.TIME_1: later, Block.CALL_FORMAT: "video"}, user=REP)
    pick(harness, engagement_id, later)
    with harness.db.unit_of_work() as session:
        pending = session.scalars(select(Nudge).where(Nudge.status == "pending")).all()
        assert min(n.due_at for n in pending) == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    harness.slack.clear()
    harness.dispatch(datetime(2026, 11, 30, 16, 5, tzinfo=UTC))  # the old prep time: nothing
    assert harness.slack.of("chat.postMessage") == []

    harness.click(Action.CANCEL_CALL, engagement_id, user="U0DANA", channel="D0DANA")
    told = {m["channel"] for m in harness.slack.of("chat.postMessage") if "is cancelled" in m["text"]}
    assert {"U0DANA", REP, CS_CHANNEL} <= told
    harness.slack.clear()
    harness.dispatch(datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    assert harness.slack.of("chat.postMessage") == []


def test_a_failed_invite_upload_does_not_undo_the_confirmation(harness):
    _, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    harness.slack.fail("files.getUploadURLExternal", error="not_allowed_token_type", times=2)
    pick(harness, engagement_id)
    confirmed = [m for m in harness.slack.of("chat.postMessage") if "confirmed" in m["text"]]
    assert {m["channel"] for m in confirmed} == {"U0DANA", REP}
    notes = [
        m for m in harness.slack.of("chat.postMessage") if "couldn't attach the calendar invite" in m["text"]
    ]
    assert len(notes) == 2
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "scheduled"
