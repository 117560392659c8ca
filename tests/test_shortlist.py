"""Approval posts a ranked, explained shortlist in the card's thread; CS pages it, picks, or says no match."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.flows import effects, workflow
from modals.ids import Action
from store import lifecycle
from store.models import Advocate, Engagement
from tests.conftest import CS_CHANNEL, OUTSIDER, REP
from tests.support.pool import ask_value, seed


def approve(harness, **changes) -> tuple[int, dict]:
    request_id = harness.file_request(**changes)
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    [shortlist] = harness.thread_replies()[-1:]
    return request_id, shortlist


def names_in(blocks: list[dict]) -> list[str]:
    return [
        b["text"]["text"].split("*")[1]
        for b in blocks
        if b.get("block_id", "").startswith("shortlist_advocate_")
    ]


def excluded_in(blocks: list[dict]) -> dict[str, str]:
    found = {}
    for block in blocks:
        if block.get("block_id", "").startswith("shortlist_excluded_"):
            text = block["text"]["text"]
            found[text.split("*")[1]] = text.split("\n", 1)[1]
    return found


def test_approval_posts_a_ranked_explained_shortlist_in_the_cards_thread(harness):
    seed(harness)
    request_id, shortlist = approve(harness)
    with harness.db.unit_of_work() as session:
        card_ts = lifecycle.get_request(session=session, request_id=request_id).card_ts
    assert shortlist["channel"] == CS_CHANNEL and shortlist["thread_ts"] == card_ts
    blocks = shortlist["blocks"]
    # Ravi is strategic and this deal is small: reserved, so after every advocate of his grade, not excluded.
    # Lena (a director, two kinds) fits fewer requests than Dana (a VP, who fits every wanted level): among
    # equals the narrower profile goes first, and Dana is kept for what only she fits.
    assert names_in(blocks) == ["Lena Vogel", "Dana Whitfield", "Ravi Menon"]
    text = str(blocks)
    # Nobody has feedback yet, so nobody is Excellent: the matrix wants recent positive sentiment too.
    assert "*Good*" in text and "*Excellent*" not in text
    assert "Exact industry" in text and "0 of 2 this quarter (standard)" in text and "never asked" in text
    asks = [b["accessory"] for b in blocks if "accessory" in b]
    assert [a["text"]["text"] for a in asks] == ["Ask Lena Vogel", "Ask Dana Whitfield", "Ask Ravi Menon"]
    # Protected and poorly matched advocates are never on the first page.
    for name in ("Mia Chen", "Jonas Berg", "Tom Okafor", "Priya Shah"):
        assert name not in text


def test_a_shortlist_goes_before_the_messages_the_courier_is_still_sending(harness):
    """CS clicked Approve and waits on the thread: a courier busy with earlier messages sends the shortlist
    before the rest of them, not after."""
    seed(harness)
    request_id = harness.file_request()
    busy, answer = "U0BUSY", harness.slack._answer

    def slowly(method, params):
        if params.get("channel") == busy:
            time.sleep(0.15)
        return answer(method, params)

    harness.slack._answer = slowly
    with harness.db.unit_of_work() as session:  # its commit wakes the courier: eight slow messages to send
        for n in range(8):
            effects.post(session, now=harness.clock.now(), to=busy, text=f"Receipt {n}")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    calls = harness.slack.attempts("chat.postMessage")
    receipts = [c.at for c in calls if c.params.get("channel") == busy]
    [shortlist] = [c.at for c in calls if str(c.params.get("text", "")).startswith("Shortlist")]
    assert len(receipts) == 8
    assert shortlist < receipts[-1], "the shortlist waited for every message queued before it"
    assert names_in(harness.thread_replies()[-1]["blocks"]) == ["Lena Vogel", "Dana Whitfield", "Ravi Menon"]


def test_a_shortlist_claimed_behind_other_messages_is_sent_before_them(harness):
    """Clicks back to back: the courier claims a new shortlist together with messages written before it (the last
    approval's card update and the rep's DM); the shortlist goes first, the others after it, each once."""
    seed(harness)
    request_id = harness.file_request()
    harness.settle()
    sent_before = len(harness.slack.attempts("chat.postMessage"))
    # One commit, one wake: one claim holds all four, the shortlist last.
    with harness.db.unit_of_work() as session:
        now = harness.clock.now()
        for n in range(3):
            effects.post(session, now=now, to="U0OTHER", text=f"Receipt {n}")
        outcome = workflow.approve(session=session, request_id=request_id, actor_id="U0CS1", now=now)
        assert outcome is not None and outcome.won
        effects.shortlist(session, now=now, request_id=request_id)
    harness.settle()
    texts = [str(c.params.get("text", "")) for c in harness.slack.attempts("chat.postMessage")[sent_before:]]
    assert texts[0].startswith("Shortlist"), texts
    assert texts[1:] == ["Receipt 0", "Receipt 1", "Receipt 2"]


def test_show_more_lists_who_is_excluded_and_why(harness):
    seed(harness)
    request_id, _ = approve(harness)
    harness.click(Action.SHOW_MORE, f"{request_id}:2", user="U0CS2", message_ts="1700000000.000500")
    [update] = [u for u in harness.slack.of("chat.update") if u["ts"] == "1700000000.000500"]
    excluded = excluded_in(update["blocks"])
    assert "On a break" in excluded["Mia Chen"] or "break" in excluded["Mia Chen"].lower()
    assert "trouble" in excluded["Jonas Berg"].lower()
    assert "Ravi Menon" not in excluded  # reserved for bigger deals is a ranking, not an exclusion
    assert "poor match" in excluded["Tom Okafor"]
    back = [e for b in update["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["value"] for e in back] == [f"{request_id}:1"]


def test_usage_from_history_counts_toward_caps_and_recency(harness):
    seed(
        harness,
        "dana@northwind.example,2026-10-05,Globex,software,call,won,1\n"
        "dana@northwind.example,2026-10-20,Initech,software,call,lost,1\n"
        "lena@fabrikam.example,2026-09-01,Hooli,media,call,won,1\n",
    )
    request_id, shortlist = approve(harness)
    assert names_in(shortlist["blocks"]) == ["Lena Vogel", "Ravi Menon"]
    assert "1 ever" in str(shortlist["blocks"]) and "last asked 80 days ago" in str(shortlist["blocks"])
    harness.click(Action.SHOW_MORE, f"{request_id}:2", user="U0CS1", message_ts="1700000000.000501")
    [update] = [u for u in harness.slack.of("chat.update") if u["ts"] == "1700000000.000501"]
    assert "2 of 2" in excluded_in(update["blocks"])["Dana Whitfield"]


def test_the_same_prospect_is_not_given_the_same_advocate_twice(harness):
    seed(harness, "dana@northwind.example,2026-03-01,Acme Corp,software,call,lost,1\n")
    _, shortlist = approve(harness)
    assert names_in(shortlist["blocks"]) == ["Lena Vogel", "Ravi Menon"]


def test_ask_happens_once_and_removes_the_buttons(harness):
    seed(harness)
    request_id, shortlist = approve(harness)
    dana = ask_value(shortlist, "Dana")
    harness.click(Action.ASK, dana, user="U0CS2", message_ts="1700000000.000600")
    harness.click(Action.ASK, dana, user="U0CS3", message_ts="1700000000.000600")
    with harness.db.unit_of_work() as session:
        engagements = list(session.scalars(select(Engagement).where(Engagement.request_id == request_id)))
        request = lifecycle.get_request(session=session, request_id=request_id)
    assert [(e.status, e.chosen_by) for e in engagements] == [("asked", "U0CS2")]
    assert request.active_advocate_id == engagements[0].advocate_id
    [update] = [u for u in harness.slack.of("chat.update") if u["ts"] == "1700000000.000600"]
    assert "<@U0CS2> asked *Dana Whitfield*" in str(update["blocks"])
    assert not any("accessory" in b for b in update["blocks"])
    assert "Dana Whitfield is already being asked" in harness.ephemerals_to("U0CS3")[0]


def test_a_picked_advocate_is_busy_for_other_requests(harness):
    seed(harness)
    first, shortlist = approve(harness)
    dana = ask_value(shortlist, "Dana")
    harness.click(Action.ASK, dana, user="U0CS1")
    _, second = approve(harness, prospect_company="Globex")
    assert names_in(second["blocks"]) == ["Lena Vogel", "Ravi Menon"]


def test_only_cs_can_ask(harness):
    seed(harness)
    request_id, shortlist = approve(harness)
    dana = ask_value(shortlist, "Dana")
    harness.click(Action.ASK, dana, user=OUTSIDER)
    assert "Only the CS team" in harness.ephemerals_to(OUTSIDER)[0]
    with harness.db.unit_of_work() as session:
        assert lifecycle.get_request(session=session, request_id=request_id).active_advocate_id is None


def test_no_good_match_says_so_and_tells_the_rep_why(harness):
    seed(harness)
    request_id, shortlist = approve(harness, wanted_industry="other", prospect_industry="other")
    text = str(shortlist["blocks"])
    assert "No advocate reaches Good" in text
    [button] = [
        e
        for b in shortlist["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == Action.NO_MATCH
    ]
    harness.click(Action.NO_MATCH, button["value"], user="U0CS1", message_ts="1700000000.000700")
    harness.click(Action.NO_MATCH, button["value"], user="U0CS2", message_ts="1700000000.000700")
    with harness.db.unit_of_work() as session:
        assert lifecycle.get_request(session=session, request_id=request_id).status == "no_match"
    told = [m for m in harness.dms_to(REP) if "No good match" in m["text"]]
    assert len(told) == 1
    assert "No advocate in the pool works in or near this industry" in told[0]["blocks"][0]["text"]["text"]
    card = [u for u in harness.slack.of("chat.update") if "no good match" in str(u["blocks"])]
    assert card, "the card shows the outcome"
    assert "already no match" in harness.ephemerals_to("U0CS2")[0]


def test_poor_matches_are_explained_to_the_rep(harness):
    seed(harness)
    request_id, shortlist = approve(
        harness, wanted_use_case="Quantum chemistry simulations", wanted_role_level="c_level"
    )
    assert names_in(shortlist["blocks"]) == []
    excluded = excluded_in(shortlist["blocks"])
    assert "Dana Whitfield" in excluded and "poor match" in excluded["Dana Whitfield"]
    harness.click(Action.NO_MATCH, str(request_id), user="U0CS1")
    told = [m for m in harness.dms_to(REP) if "No good match" in m["text"]][0]["blocks"][0]["text"]["text"]
    assert "know a different use case" in told


def test_a_strategic_advocate_keeps_the_last_of_the_quarter_for_big_deals(harness):
    seed(
        harness,
        "ravi@contoso.example,2026-10-01,Globex,software,call,won,1\n"
        "ravi@contoso.example,2026-10-02,Initech,software,call,won,1\n"
        "ravi@contoso.example,2026-10-03,Hooli,software,call,won,1\n",
    )
    request_id, small = approve(harness, prospect_company="Small Co", deal_arr=60_000)
    assert "Ravi Menon" not in names_in(small["blocks"])
    harness.click(Action.SHOW_MORE, f"{request_id}:2", user="U0CS1", message_ts="1700000000.000800")
    [update] = [u for u in harness.slack.of("chat.update") if u["ts"] == "1700000000.000800"]
    assert "kept for deals of $250,000+ ARR" in excluded_in(update["blocks"])["Ravi Menon"]
    _, big = approve(harness, prospect_company="Big Co", deal_arr=400_000)
    assert "Ravi Menon" in names_in(big["blocks"])


def test_no_match_counts_no_fit_before_rest_and_says_when_someone_is_free(harness):
    seed(
        harness,
        "dana@northwind.example,2026-10-05,Globex,software,call,won,1\n"
        "dana@northwind.example,2026-10-20,Initech,software,call,lost,1\n",
    )
    request_id, shortlist = approve(harness, wanted_use_case="Cloud migration")
    assert names_in(shortlist["blocks"]) == []
    harness.click(Action.NO_MATCH, str(request_id), user="U0CS1")
    [told] = [m for m in harness.dms_to(REP) if "No good match" in m["text"]]
    text = told["blocks"][0]["text"]["text"]
    # Dana (capped) and Mia (on a break) fit; the others would not fit whatever their usage.
    assert "2 advocates fit but are resting: the earliest is free on 1 Jan 2027." in text
    assert "reached their quarterly limit" not in text
    assert "know a different use case" in text


def test_written_pieces_are_their_own_ledger_not_calls(harness):
    seed(
        harness,
        "dana@northwind.example,2026-11-02,Globex,software,case_study,won,1\n"
        "dana@northwind.example,2026-11-16,Initech,software,quote,lost,1\n",
    )
    _, shortlist = approve(harness)
    # Two written pieces this quarter, the last four days ago: no cap reached, no 30-day rest, no 21-day gap.
    assert "Dana Whitfield" in names_in(shortlist["blocks"])
    assert "0 of 2 this quarter (standard)" in str(shortlist["blocks"])


def test_the_wanted_function_is_stored_and_graded(harness):
    seed(harness)
    with harness.db.unit_of_work() as session:
        for advocate in session.scalars(select(Advocate)):
            advocate.function = {"Dana Whitfield": "it", "Lena Vogel": "finance"}.get(advocate.name)
    request_id, shortlist = approve(harness, wanted_function="finance", wanted_role_level="director")
    with harness.db.unit_of_work() as session:
        assert lifecycle.get_request(session=session, request_id=request_id).wanted_function == "finance"
    # A finance leader is wanted: Dana leads IT (Poor), Lena leads finance; the others' functions are not known.
    assert names_in(shortlist["blocks"]) == ["Lena Vogel", "Tom Okafor", "Ravi Menon"]
    assert "same function (Finance)" in str(shortlist["blocks"])


def test_a_peer_conversation_is_logged_not_brokered(harness):
    seed(harness)
    _, shortlist = approve(harness, wanted_kind="peer")
    text = str(shortlist["blocks"])
    assert "A peer conversation is logged, not brokered" in text
    assert "No advocate reaches Good" not in text and Action.NO_MATCH not in text
    assert names_in(shortlist["blocks"]) == []


def test_a_site_visit_on_a_smaller_deal_warns_cs(harness):
    seed(harness)
    _, small = approve(harness, wanted_kind="site_visit", deal_arr=120_000)
    assert "Site visit is for the largest deals ($250,000+ ARR; this one: $120,000)" in str(small["blocks"])
    _, big = approve(harness, prospect_company="Big Co", wanted_kind="site_visit", deal_arr=400_000)
    assert "for the largest deals" not in str(big["blocks"])
