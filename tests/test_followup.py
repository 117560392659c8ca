"""After the call: feedback changes sentiment, check-ins, outcomes, appreciation, quarterly summaries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from modals.ids import Action, Block, Callback
from store.models import Advocate, Engagement, Nudge, ReferenceRequest
from tests.conftest import CS_CHANNEL, REP
from tests.support.pool import seed
from tests.test_outreach import schedule

AFTER_FEEDBACK = datetime(2026, 12, 4, 16, 25, tzinfo=UTC)
DANA = "U0DANA"


def prompt(harness, user: str, words: str) -> dict:
    return [m for m in harness.dms_to(user) if words in m["text"]][-1]


def engagement(harness) -> Engagement:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Engagement).order_by(Engagement.id.desc())).first()


def dana(harness) -> Advocate:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Advocate).where(Advocate.email == "dana@northwind.example")).one()


def through_the_call(harness) -> tuple[int, int]:
    request_id, engagement_id = schedule(harness)
    harness.dispatch(AFTER_FEEDBACK)
    return request_id, engagement_id


def test_feedback_buttons_store_the_rating_and_update_sentiment(harness):
    _, engagement_id = through_the_call(harness)
    feedback = prompt(harness, DANA, "how was the call")
    labels = [e["text"]["text"] for e in feedback["blocks"][-1]["elements"]]
    assert labels == ["Great", "Fine", "Not great", "Tell us more"]
    harness.click(f"{Action.FEEDBACK_RATE}_great", engagement_id, user=DANA, channel="D0DANA")
    assert engagement(harness).feedback_rating == "great"
    assert dana(harness).sentiment == 1.0
    harness.click(f"{Action.FEEDBACK_RATE}_not_great", engagement_id, user=DANA, channel="D0DANA")
    assert engagement(harness).feedback_rating == "great"  # the first answer counts
    assert "already told us" in harness.ephemerals_to(DANA)[-1]


def test_tell_us_more_stores_the_answers(harness):
    _, engagement_id = through_the_call(harness)
    harness.click(Action.FEEDBACK_MORE, engagement_id, user=DANA, channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.FEEDBACK_FORM
    harness.submit_view(
        view,
        {
            Block.FEEDBACK_RATING: "fine",
            Block.FEEDBACK_MATCH: "partly",
            Block.FEEDBACK_PREPARED: "yes",
            Block.FEEDBACK_ASKED: "Migration timeline",
            Block.FEEDBACK_EXPERIENCE: "",
            Block.FEEDBACK_CHANGE: "Share the agenda earlier",
        },
        user=DANA,
    )
    stored = engagement(harness)
    assert stored.feedback_rating == "fine"
    assert stored.feedback == {
        "good_match": "partly",
        "prepared": "yes",
        "asked": "Migration timeline",
        "change": "Share the agenda earlier",
    }
    # CS reads it in the request's thread, the advocate's words escaped.
    [note] = [m for m in harness.thread_replies() if "told us more" in m["text"]]
    assert "• Good match for their experience? *partly*" in note["text"]
    assert "• What we should change: “Share the agenda earlier”" in note["text"]


def test_not_great_in_the_form_alerts_cs_with_what_was_said(harness):
    _, engagement_id = through_the_call(harness)
    harness.click(Action.FEEDBACK_MORE, engagement_id, user=DANA, channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(
        view,
        {Block.FEEDBACK_RATING: "not_great", Block.FEEDBACK_CHANGE: "They wanted <pricing> & a discount"},
        user=DANA,
    )
    [alert] = [m for m in harness.thread_replies() if "*not great*" in m["text"]]
    assert "What they said:" in alert["text"]
    assert "“They wanted &lt;pricing&gt; &amp; a discount”" in alert["text"]


def test_not_great_alerts_cs_and_the_next_shortlist_sees_it(harness):
    _, engagement_id = through_the_call(harness)
    harness.click(f"{Action.FEEDBACK_RATE}_not_great", engagement_id, user=DANA, channel="D0DANA")
    assert any("*not great*" in m["text"] for m in harness.thread_replies())
    assert dana(harness).sentiment == 0.1
    request_id = harness.file_request(prospect_company="Globex")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    names = [
        b["text"]["text"]
        for b in harness.thread_replies()[-1]["blocks"]
        if b.get("block_id", "").startswith("shortlist_advocate_")
    ]
    assert not any("Dana" in n for n in names)


def test_the_rep_logs_the_check_in(harness):
    _, engagement_id = through_the_call(harness)
    checkin = prompt(harness, REP, "Check in with Acme Corp")
    assert [e["text"]["text"] for e in checkin["blocks"][-1]["elements"]] == [
        "Log the check-in",
        "The call didn't happen",
    ]
    harness.click(Action.CHECKIN_LOG, engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    missing = harness.submit_view(view, {}, user=REP)
    assert set(missing.json()["errors"]) == {Block.CHECKIN_HELPFUL, Block.CHECKIN_CONCERNS}
    harness.submit_view(
        view,
        {
            Block.CHECKIN_HELPFUL: "yes",
            Block.CHECKIN_CONCERNS: "partly",
            Block.CHECKIN_LEARNED: "Cutover took a weekend",
        },
        user=REP,
    )
    stored = engagement(harness)
    assert stored.checkin["helpful"] == "yes" and stored.checkin["learned"] == "Cutover took a weekend"
    [note] = [m for m in harness.thread_replies() if "checked in with Acme Corp" in m["text"]]
    assert "• What the prospect learned: “Cutover took a weekend”" in note["text"]


def test_the_call_did_not_happen_reschedule_or_cancel(harness):
    _, engagement_id = through_the_call(harness)
    harness.click(Action.NO_CALL, engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(view, {Block.NO_CALL_CHOICE: "reschedule"}, user=REP)
    assert engagement(harness).status == "accepted"
    ask = prompt(harness, DANA, "new times")
    assert ask["blocks"][-1]["elements"][0]["action_id"] == Action.RESCHEDULE
    with harness.db.unit_of_work() as session:
        assert not session.scalars(select(Nudge).where(Nudge.status == "pending")).all()

    harness.click(Action.NO_CALL, engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    reply = harness.submit_view(view, {Block.NO_CALL_CHOICE: "cancel"}, user=REP)
    assert reply.json()["errors"] == {Block.NO_CALL_CHOICE: "This call was already changed."}


def test_won_tells_every_advocate_and_a_big_win_alerts_cs(harness):
    request_id, engagement_id = through_the_call(harness)
    harness.dispatch(datetime(2027, 1, 15, 15, 5, tzinfo=UTC))  # the expected close date
    outcome = prompt(harness, REP, "How did the deal go")
    assert [e["text"]["text"] for e in outcome["blocks"][-1]["elements"]] == ["Won", "Lost", "Not yet"]
    harness.click(f"{Action.OUTCOME}_won", engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(view, {Block.OUTCOME_ARR: "300000"}, user=REP)
    with harness.db.unit_of_work() as session:
        request = session.get(ReferenceRequest, request_id)
        assert (request.outcome, request.final_arr) == ("won", 300_000)
    assert "Acme Corp signed" in prompt(harness, DANA, "signed")["text"]
    assert any(":gift:" in m["text"] for m in harness.slack.messages_to(CS_CHANNEL))
    harness.click(f"{Action.OUTCOME}_lost", engagement_id, user=REP, channel="D0REP")
    assert "already recorded" in harness.ephemerals_to(REP)[-1]


def test_not_yet_asks_again_in_two_weeks_and_lost_is_told_too(harness):
    _, engagement_id = through_the_call(harness)
    harness.dispatch(datetime(2027, 1, 15, 15, 5, tzinfo=UTC))
    harness.click(
        f"{Action.OUTCOME}_not_yet", engagement_id, user=REP, channel="D0REP", message_ts="1700000000.000901"
    )
    asked = len([m for m in harness.dms_to(REP) if "How did the deal go" in m["text"]])
    harness.dispatch(datetime(2027, 1, 29, 15, 10, tzinfo=UTC))
    assert len([m for m in harness.dms_to(REP) if "How did the deal go" in m["text"]]) == asked + 1
    harness.click(f"{Action.OUTCOME}_lost", engagement_id, user=REP, channel="D0REP")
    assert "decided not to go ahead" in harness.dms_to(DANA)[-1]["blocks"][0]["text"]["text"]


def test_three_references_in_a_year_prompt_cs_to_say_thank_you(harness):
    seed(
        harness,
        "dana@northwind.example,2026-03-02,Globex,software,call,won,1\n"
        "dana@northwind.example,2026-06-01,Initech,software,call,lost,1\n"
        # Lena was asked more recently, so rotation puts Dana first on the shortlist.
        "lena@fabrikam.example,2026-08-03,Hooli,media,call,won,1\n",
    )
    through_the_call(harness)
    [gift] = [
        m for m in harness.slack.messages_to(CS_CHANNEL) if "references in the last 12 months" in m["text"]
    ]
    assert "Dana Whitfield" in gift["text"] and "3 references" in gift["text"]


def test_each_quarter_advocates_get_a_summary_and_cs_a_report_with_a_chart(harness):
    request_id, engagement_id = through_the_call(harness)
    with harness.db.unit_of_work() as session:
        request = session.get(ReferenceRequest, request_id)
        request.outcome, request.final_arr = "won", 150_000
    harness.dispatch(datetime(2027, 1, 4, 10, 30, tzinfo=UTC))  # the first weekday of 2027Q1
    summary = prompt(harness, DANA, "Your 2026Q4 with us")
    assert (
        "1 reference this quarter" in summary["text"] and "$150,000" in summary["blocks"][0]["text"]["text"]
    )
    [upload] = [u for u in harness.slack.of("files.completeUploadExternal") if u["channel_id"] == CS_CHANNEL]
    assert upload["channel_id"] == CS_CHANNEL and "2026Q4" in upload["initial_comment"]
    assert harness.slack.of("file_upload")[-1]["content"].startswith(b"\x89PNG")
    again = harness.dispatch(datetime(2027, 1, 4, 11, 0, tzinfo=UTC))
    assert again.sent == 0


def test_an_unlogged_check_in_gets_one_reminder_then_cs_hears_it_in_the_thread(harness):
    _, engagement_id = through_the_call(harness)
    assert prompt(harness, REP, "Check in with Acme Corp")
    harness.dispatch(datetime(2026, 12, 9, 17, 0, tzinfo=UTC))  # two working days after the prompt
    reminder = prompt(harness, REP, "A reminder: check in with Acme Corp")
    assert [e["text"]["text"] for e in reminder["blocks"][-1]["elements"]][0] == "Log the check-in"
    assert not [m for m in harness.thread_replies() if "hasn't logged the check-in" in m["text"]]
    harness.dispatch(datetime(2026, 12, 11, 17, 0, tzinfo=UTC))
    [told] = [m for m in harness.thread_replies() if "hasn't logged the check-in" in m["text"]]
    assert f"<@{REP}>" in told["text"] and "Acme Corp" in told["text"]
    harness.dispatch(datetime(2026, 12, 18, 17, 0, tzinfo=UTC))
    assert len([m for m in harness.dms_to(REP) if "A reminder: check in" in m["text"]]) == 1


def test_a_logged_check_in_stops_the_reminder_and_the_note_to_cs(harness):
    _, engagement_id = through_the_call(harness)
    harness.click(Action.CHECKIN_LOG, engagement_id, user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(view, {Block.CHECKIN_HELPFUL: "yes", Block.CHECKIN_CONCERNS: "yes"}, user=REP)
    harness.dispatch(datetime(2026, 12, 18, 17, 0, tzinfo=UTC))
    assert not [m for m in harness.dms_to(REP) if "A reminder: check in" in m["text"]]
    assert not [m for m in harness.thread_replies() if "hasn't logged the check-in" in m["text"]]


def test_the_advocates_pool_entry_shows_what_was_said_after_their_calls(harness):
    _, engagement_id = through_the_call(harness)
    harness.click(Action.FEEDBACK_MORE, engagement_id, user=DANA, channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(
        view, {Block.FEEDBACK_RATING: "fine", Block.FEEDBACK_CHANGE: "Share the <agenda> earlier"}, user=DANA
    )
    harness.command("advocates", user="U0CS1")
    listing = [p for p in harness.slack.of("response_url") if p["_path"].endswith("cmd-U0CS1")][-1]
    text = str(listing["blocks"])
    assert "1 given this quarter · 1 ever" in text
    assert (
        ":speech_balloon: they said (Acme Corp, 4 Dec 2026) *fine* — What we should change: “Share the &lt;agenda&gt; earlier”"
        in text
    )


def test_a_call_thanked_just_before_a_stop_still_counts_as_held(harness):
    """A dispatcher records the calls its thank-yous hold at the end of a batch; if the process dies in between,
    the next dispatcher finds thanks sent for calls still `scheduled` and counts them, without thanking twice."""
    _, engagement_id = through_the_call(harness)
    thanks = [m for m in harness.dms_to(DANA) if "thank" in m["text"].lower()]
    assert thanks
    with harness.db.unit_of_work() as session:  # what a process that died after the send leaves behind
        row = session.get(Engagement, engagement_id)
        assert row.status == "held"
        row.status, row.held_at = "scheduled", None
    harness.dispatch(AFTER_FEEDBACK)
    assert engagement(harness).status == "held"
    assert [m for m in harness.dms_to(DANA) if "thank" in m["text"].lower()] == thanks
