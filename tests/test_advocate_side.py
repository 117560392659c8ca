"""The advocate's side through the HTTP app against the fake Slack: profile and contact name in the words,
the meeting link, their own controls, the welcome and written yes (issue 12)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.exchange import history_csv, pool_csv
from bot.exchange.csv_input import ImportRefused
from bot.flows import followup
from bot.text import shown
from modals.ids import Action, Block, Callback
from store.models import Advocate, Engagement
from tests.conftest import CS_CHANNEL, OUTSIDER, REP
from tests.support.pool import ask_dana, ask_value, seed
from tests.test_outreach import CALL, pick, say_yes
from tests.test_pool_slack import menu

DANA = "U0DANA"


def dana(harness) -> Advocate:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Advocate).where(Advocate.email == "dana@northwind.example")).one()


def give_dana_a_profile(harness) -> None:
    seed(harness)
    with harness.db.unit_of_work() as session:
        advocate = session.scalars(select(Advocate).where(Advocate.email == "dana@northwind.example")).one()
        advocate.story = "Moved 300 nightly jobs off cron in six weeks."
        advocate.product_areas = ["Workflow engine"]


def thread_texts(harness) -> list[str]:
    return [m["text"] for m in harness.thread_replies()]


def test_the_ask_names_the_contact_and_ties_it_to_dana_s_success(harness):
    give_dana_a_profile(harness)
    request_id = harness.file_request(contact_name="Jordan Lee")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    shortlist = harness.thread_replies()[-1]
    ask = ask_value(shortlist, "Dana")
    harness.click(Action.ASK, ask, user="U0CS1")
    [message] = harness.dms_to(DANA)
    text = shown(message["blocks"][0]["text"]["text"])
    assert "You'd talk with Jordan Lee, their VP of Engineering" in text
    assert "This is about *job scheduling*, where I know you've had real success" in text
    assert "Moved 300 nightly jobs off cron" in text


def test_the_rep_adds_the_meeting_link_and_both_preps_carry_it(harness):
    _, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    pick(harness, engagement_id)
    harness.click(Action.MEETING_LINK, f"e{engagement_id}", user=REP, channel="D0REP")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.MEETING_LINK_FORM
    bad = harness.submit_view(view, {Block.MEETING_LINK: "javascript:alert(1)"}, user=REP)
    assert "https://" in bad.json()["errors"][Block.MEETING_LINK]
    ok = harness.submit_view(view, {Block.MEETING_LINK: "https://meet.example.com/abc?x=1&y=2"}, user=REP)
    assert ok.status == 200 and ok.body == ""
    again = harness.submit_view(view, {Block.MEETING_LINK: "https://meet.example.com/abc?x=1&y=2"}, user=REP)
    assert again.status == 200 and again.body == "", "a retried submission is fine and tells nobody twice"
    told = [m["channel"] for m in harness.slack.of("chat.postMessage") if "Meeting link for" in m["text"]]
    assert sorted(told) == sorted([DANA, REP])
    harness.slack.clear()
    harness.dispatch(datetime(2026, 11, 30, 16, 5, tzinfo=CALL.tzinfo))  # the preps
    preps = {m["channel"]: m["blocks"][0]["text"]["text"] for m in harness.slack.of("chat.postMessage")}
    for text in (preps[DANA], preps[REP]):
        assert "<https://meet.example.com/abc?x=1&amp;y=2|Join the call>" in text
    assert harness.click(Action.MEETING_LINK, f"e{engagement_id}", user=OUTSIDER).status == 200
    assert "Only the rep, the advocate or CS" in harness.ephemerals_to(OUTSIDER)[-1]


def test_pause_me_on_the_ask_answers_it_and_reaches_cs_and_the_pool(harness):
    _, engagement_id = ask_dana(harness)
    [ask] = harness.dms_to(DANA)
    pause = next(e for b in ask["blocks"] for e in b.get("elements", []) if e["action_id"] == Action.PAUSE_ME)
    harness.click(Action.PAUSE_ME, pause["value"], user=DANA, channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.PAUSE_FORM
    past = harness.submit_view(view, {Block.PAUSE_UNTIL: "2026-11-01", Block.PAUSE_NOTE: None}, user=DANA)
    assert past.json()["errors"][Block.PAUSE_UNTIL] == "Please pick a date after today."
    reply = harness.submit_view(
        view, {Block.PAUSE_UNTIL: "2027-03-01", Block.PAUSE_NOTE: "Busy <quarter> end"}, user=DANA
    )
    assert reply.status == 200 and reply.body == ""
    retried = harness.submit_view(
        view, {Block.PAUSE_UNTIL: "2027-03-01", Block.PAUSE_NOTE: "Busy <quarter> end"}, user=DANA
    )
    assert retried.status == 200 and retried.body == ""
    assert len([t for t in thread_texts(harness) if "paused themselves" in t]) == 1
    paused = dana(harness)
    assert (paused.status, paused.break_until) == ("break", date(2027, 3, 1))
    assert "paused themselves until 2027-03-01 (Busy <quarter> end)" in paused.notes
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "passed"
    note = next(t for t in thread_texts(harness) if "paused themselves" in t)
    assert "*Dana Whitfield* paused themselves until 1 Mar 2027" in note and "&lt;quarter&gt;" in note
    assert "ask the next candidate" in note
    assert any("won't ask you for anything until 1 Mar 2027" in m["text"] for m in harness.dms_to(DANA))
    # Someone else's click changes nothing.
    harness.click(Action.PAUSE_ME, pause["value"], user=OUTSIDER, channel="D0X")
    assert "Only the advocate" in harness.ephemerals_to(OUTSIDER)[-1]


def test_what_i_m_happy_to_do_updates_the_kinds_and_tells_cs(harness):
    _, engagement_id = ask_dana(harness)
    harness.click(Action.HAPPY_TO_DO, f"e{engagement_id}", user=DANA, channel="D0DANA")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.HAPPY_FORM
    harness.submit_view(view, {Block.HAPPY_KINDS: ["quote", "email"]}, user=DANA)
    assert dana(harness).kinds == ["quote", "email"]
    assert any(
        "updated what they're happy to do: Written quote, Email Q&amp;A" in t for t in thread_texts(harness)
    )
    assert "said they're happy to do: Written quote, Email Q&A" in dana(harness).notes


def test_ask_cs_to_join_reaches_the_thread_once(harness):
    _, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    pick(harness, engagement_id)
    confirmation = next(m for m in harness.dms_to(DANA) if "confirmed" in m["text"])
    labels = [e["text"]["text"] for b in confirmation["blocks"] for e in b.get("elements", [])]
    assert "Ask CS to join" in labels and "Add the meeting link" in labels
    harness.click(Action.CS_JOIN, f"e{engagement_id}", user=DANA, channel="D0DANA")
    harness.click(Action.CS_JOIN, f"e{engagement_id}", user=DANA, channel="D0DANA")
    asked = [t for t in thread_texts(harness) if "asked CS to join the call" in t]
    assert len(asked) == 1 and "<@U0CS1>" in asked[0]
    assert "CS already knows" in harness.ephemerals_to(DANA)[-1]
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).cs_join_asked_at == harness.clock.now()


def test_welcome_from_the_pool_then_a_written_yes_recorded_with_its_date(harness):
    seed(harness)
    menu(harness, "welcome", "dana@northwind.example")
    menu(harness, "welcome", "dana@northwind.example")  # a double click sends nothing twice
    [welcome] = [m for m in harness.dms_to(DANA) if "Welcome to our customer reference program" in m["text"]]
    text = welcome["blocks"][0]["text"]["text"]
    assert "at most 2 asks a quarter, at least 21 days between two asks" in text
    harness.click(Action.WRITTEN_YES, f"a{dana(harness).id}", user=DANA, channel="D0DANA")
    harness.click(Action.WRITTEN_YES, f"a{dana(harness).id}", user=DANA, channel="D0DANA")
    assert dana(harness).agreed_on == harness.clock.now().date()
    yes = [
        m["text"]
        for m in harness.slack.messages_to(CS_CHANNEL)
        if "said yes to the reference program" in m["text"]
    ]
    assert len(yes) == 1 and "20 Nov 2026" in yes[0]
    # Ravi is not on Slack: his CS owner gets the welcome to pass on, and may record his yes.
    menu(harness, "welcome", "ravi@contoso.example")
    [forwarded] = [m for m in harness.dms_to("U0CS2") if "Welcome" in m["text"]]
    assert "who isn't on Slack" in forwarded["blocks"][0]["text"]["text"]


def test_adding_an_advocate_can_send_the_welcome(harness):
    seed(harness)
    harness.click(Action.POOL_ADD, "1", user="U0CS1", ephemeral=True)
    view = harness.slack.of("views.open")[-1]["view"]
    answers = {b["block_id"]: None for b in view["blocks"] if b["type"] == "input"}
    answers.update(
        {
            "name": "Ada Park",
            "email": "ada@park.example",
            "role_level": "vp",
            "company": "Park Labs",
            "industry": "software",
            "employees": "300",
            "use_cases": "job scheduling",
            "product_areas": "Workflow engine; Audit trail",
            "story": "Cut on-call pages by half.",
            "consent": ["named_publicly"],
            "kinds": ["call"],
            "tier": "new",
            "slack_user_id": "U0ADA",
            "welcome": ["welcome"],
        }
    )
    reply = harness.submit_view(view, answers, user="U0CS1")
    assert reply.status == 200 and reply.body == ""
    with harness.db.unit_of_work() as session:
        ada = session.scalars(select(Advocate).where(Advocate.email == "ada@park.example")).one()
        assert (ada.product_areas, ada.story, ada.named_publicly, ada.logo_use) == (
            ["Workflow engine", "Audit trail"],
            "Cut on-call pages by half.",
            True,
            False,
        )
        assert ada.welcomed_at == harness.clock.now()
    assert any("at most 1 ask a quarter" in m["blocks"][0]["text"]["text"] for m in harness.dms_to("U0ADA"))


def test_the_csv_carries_the_profile_and_consent_and_a_file_without_them_keeps_them(harness):
    header = ",".join(pool_csv.ADVOCATE_COLUMNS + pool_csv.PROFILE_COLUMNS)  # no function column: optional
    row = (
        "Ada Park,ada@park.example,VP,vp,Park Labs,software,300,,US,job scheduling,call;quote,new,U0ADA,,"
        "active,,no,,,Cut pages by half.,Workflow engine;Audit trail,yes,no,no,2026-11-02"
    )
    with harness.db.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session, source=io.StringIO(f"{header}\n{row}\n"), now=harness.clock.now()
        )
        sink = io.StringIO()
        pool_csv.export_advocates(session=session, sink=sink)
    exported = sink.getvalue().splitlines()[1]
    assert exported.endswith("Cut pages by half.,Workflow engine;Audit trail,yes,no,no,2026-11-02,")  # , function
    short = ",".join(pool_csv.ADVOCATE_COLUMNS)
    with harness.db.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session,
            source=io.StringIO(f"{short}\n{row.rsplit(',', 6)[0]}\n"),
            now=harness.clock.now(),
        )
    with harness.db.unit_of_work() as session:
        ada = session.scalars(select(Advocate)).one()
        assert (ada.story, ada.named_publicly, ada.agreed_on) == (
            "Cut pages by half.",
            True,
            date(2026, 11, 2),
        )
    contradiction = row.replace("yes,no,no,2026-11-02", "yes,no,yes,")
    with harness.db.unit_of_work() as session, pytest.raises(ImportRefused, match="private_only"):
        pool_csv.import_advocates(
            session=session, source=io.StringIO(f"{header}\n{contradiction}\n"), now=harness.clock.now()
        )


def test_the_thanks_carries_the_advocate_s_controls(harness):
    _, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    pick(harness, engagement_id)
    harness.dispatch(CALL + timedelta(hours=1, minutes=25))
    thanks = next(m for m in harness.dms_to(DANA) if "Thank you, Dana" in m["text"])
    labels = [e["text"]["text"] for b in thanks["blocks"] for e in b.get("elements", [])]
    assert labels == ["Pause me until…", "What I'm happy to do"]


HISTORY = "advocate_email,date,prospect_company,prospect_industry,kind,outcome,deal_arr\n"


def import_history(harness, rows: str) -> None:
    with harness.db.unit_of_work() as session:
        history_csv.import_history(session=session, source=io.StringIO(HISTORY + rows), now=harness.clock.now())


def through_the_call(harness) -> tuple[int, int]:
    _, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    pick(harness, engagement_id)
    harness.dispatch(datetime(2026, 12, 4, 16, 25, tzinfo=UTC))  # thanks, check-in, feedback
    with harness.db.unit_of_work() as session:
        request_id = session.get(Engagement, engagement_id).request_id
    return request_id, engagement_id


def test_imported_history_counts_and_each_crossing_prompts_once(harness):
    seed(harness)
    import_history(
        harness,
        "dana@northwind.example,2026-02-02,Globex,software,call,won,1\n"
        "dana@northwind.example,2026-05-04,Initech,software,call,lost,1\n"
        "dana@northwind.example,2026-08-03,Umbrella,software,call,open,1\n"
        # Lena was asked more recently, so rotation puts Dana first on the shortlist.
        "lena@fabrikam.example,2026-09-07,Hooli,media,call,won,1\n",
    )
    through_the_call(harness)  # the 4th reference in 12 months: 3 imported and 1 live cross 3
    gifts = [m["text"] for m in harness.slack.messages_to(CS_CHANNEL) if "in the last 12 months" in m["text"]]
    assert len(gifts) == 1 and "*Dana Whitfield*" in gifts[0] and "4 references" in gifts[0]
    with harness.db.unit_of_work() as session:
        again = followup.plan_appreciation(
            session=session,
            advocate_id=dana(harness).id,
            threshold=3,
            cs_channel=CS_CHANNEL,
            now=harness.clock.now(),
        )
    assert again is False, "one prompt per crossing"


def test_a_great_call_and_a_won_deal_suggest_the_next_rung_consent_allows(harness):
    seed(harness)
    _, engagement_id = through_the_call(harness)
    harness.click(f"{Action.FEEDBACK_RATE}_great", engagement_id, user=DANA, channel="D0DANA")
    [great] = [t for t in thread_texts(harness) if ":ladder:" in t]
    # Dana does calls and case studies, and has not agreed to be named publicly: not speaking, the board.
    assert "rated the call with Acme Corp *Great*" in great and "*Advisory board*" in great
    assert "for <@U0CS1> to send" in great and "\n> Hi Dana, thank you again" in great
    with harness.db.unit_of_work() as session:
        session.scalars(
            select(Advocate).where(Advocate.email == "dana@northwind.example")
        ).one().named_publicly = True
    harness.dispatch(datetime(2027, 1, 15, 15, 5, tzinfo=UTC))  # the close date: how did the deal go?
    harness.click(f"{Action.OUTCOME}_won", engagement_id, user=REP, channel="D0REP")
    harness.submit_view(harness.slack.of("views.open")[-1]["view"], {Block.OUTCOME_ARR: "90000"}, user=REP)
    won = [t for t in thread_texts(harness) if ":ladder:" in t][-1]
    assert "helped Acme Corp sign" in won and "*Speaking / content*" in won


def test_each_january_cs_is_prompted_to_recognise_the_top_advocates(harness):
    seed(harness)
    import_history(
        harness,
        "dana@northwind.example,2026-02-02,Globex,software,call,won,1\n"
        "dana@northwind.example,2026-05-04,Initech,software,call,lost,1\n"
        "dana@northwind.example,2026-08-03,Umbrella,software,call,open,1\n"
        "ravi@contoso.example,2026-09-01,Hooli,software,call,won,1\n"
        "ravi@contoso.example,2025-09-01,Hooli,software,call,won,1\n",
    )
    with harness.db.unit_of_work() as session:
        session.scalars(
            select(Advocate).where(Advocate.email == "ravi@contoso.example")
        ).one().named_publicly = True
    harness.dispatch(datetime(2027, 1, 4, 10, 5, tzinfo=UTC))
    harness.dispatch(datetime(2027, 1, 5, 10, 5, tzinfo=UTC))
    [prompt] = [
        m["blocks"][0]["text"]["text"]
        for m in harness.slack.messages_to(CS_CHANNEL)
        if "time to recognise" in m["text"]
    ]
    assert "*2026: time to recognise our top advocates.*" in prompt
    assert "*Dana Whitfield* (Northwind Systems): 3 references · a $300 gift · private thanks only" in prompt
    assert "*Ravi Menon* (Contoso Cloud): 1 reference · a $100 gift · may be recognised publicly" in prompt


def test_the_gentle_nudge_carries_not_this_time_and_the_controls(harness):
    _, engagement_id = ask_dana(harness)
    harness.dispatch(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))  # two business days after the ask
    reminder = next(m for m in harness.dms_to(DANA) if "gentle nudge" in m["text"])
    labels = [e["text"]["text"] for b in reminder["blocks"] for e in b.get("elements", [])]
    assert labels == ["Yes, happy to", "Not this time", "Pause me until…", "What I'm happy to do"]
    harness.click(Action.ASK_NO, engagement_id, user=DANA, channel="D0DANA")
    with harness.db.unit_of_work() as session:
        assert session.get(Engagement, engagement_id).status == "passed"
