"""CS decides: Approve, Decline with a reason, and nothing happens twice."""

from __future__ import annotations

import threading

from modals.ids import Action, Block, Callback
from store import lifecycle
from tests.conftest import CS_CHANNEL, LEAD, OUTSIDER, REP


def status(harness, request_id: int) -> str:
    with harness.db.unit_of_work() as session:
        return lifecycle.get_request(session=session, request_id=request_id).status


def card_updates(harness) -> list[dict]:
    return [u for u in harness.slack.of("chat.update") if u["channel"] == CS_CHANNEL]


def test_cs_approves_the_card_changes_in_place_and_the_rep_is_told(harness):
    request_id = harness.file_request()
    with harness.db.unit_of_work() as session:
        card_ts = lifecycle.get_request(session=session, request_id=request_id).card_ts
    reply = harness.click(Action.APPROVE, request_id, user="U0CS1")
    assert reply.status == 200 and reply.body == ""
    assert status(harness, request_id) == "approved"

    [update] = card_updates(harness)
    assert update["ts"] == card_ts
    text = str(update["blocks"])
    assert "Approved* by <@U0CS1>" in text
    assert "<!date^" in text  # when, in each reader's own time zone
    assert not any(b["type"] == "actions" for b in update["blocks"])  # buttons gone

    approved = harness.dms_to(REP)[-1]
    assert "CS approved request #1" in approved["text"]
    with harness.db.unit_of_work() as session:
        assert [e.action for e in lifecycle.list_events(session=session, request_id=1)][-1] == "approved"


def test_someone_outside_cs_cannot_approve_or_decline(harness):
    request_id = harness.file_request()
    harness.slack.clear()
    harness.click(Action.APPROVE, request_id, user=OUTSIDER)
    harness.click(Action.DECLINE, request_id, user=OUTSIDER)
    assert status(harness, request_id) == "pending"
    assert harness.slack.of("chat.update") == [] and harness.slack.of("views.open") == []
    assert harness.slack.of("chat.postMessage") == []
    told = harness.ephemerals_to(OUTSIDER)
    assert len(told) == 2 and all("Only the CS team can approve" in t for t in told)
    assert {p["channel"] for p in harness.slack.of("chat.postEphemeral")} == {CS_CHANNEL}


def test_cs_membership_is_read_from_the_channel_and_cached(harness):
    harness.slack.members_page_size = 2  # four members: two pages
    first = harness.file_request()
    second = harness.file_request(prospect_company="Globex")
    harness.click(Action.APPROVE, first, user="U0CS3")  # on the second page
    harness.click(Action.APPROVE, second, user="U0CS3")
    assert status(harness, first) == status(harness, second) == "approved"
    pages = harness.slack.of("conversations.members")
    assert len(pages) == 2 and all(p["channel"] == CS_CHANNEL for p in pages)

    from datetime import timedelta

    harness.clock.advance(timedelta(minutes=6))
    third = harness.file_request(prospect_company="Initech")
    harness.click(Action.APPROVE, third, user="U0CS1")
    assert len(harness.slack.of("conversations.members")) == 4  # cache expired: read again


def test_a_small_deal_needs_a_cs_lead(harness):
    request_id = harness.file_request(deal_arr="30000")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    assert status(harness, request_id) == "pending"
    [told] = harness.ephemerals_to("U0CS1")
    assert "below $50,000 ARR" in told and f"<@{LEAD}>" in told
    assert card_updates(harness) == []

    harness.click(Action.APPROVE, request_id, user=LEAD)  # leads need not be in the channel
    assert status(harness, request_id) == "approved"
    assert len(card_updates(harness)) == 1


def test_double_approve_posts_once_and_tells_the_second_clicker(harness):
    request_id = harness.file_request()
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    dms = len(harness.dms_to(REP))
    harness.click(Action.APPROVE, request_id, user="U0CS1")  # double click
    harness.click(Action.APPROVE, request_id, user="U0CS2")  # a colleague, later
    assert len(card_updates(harness)) == 1
    assert len(harness.dms_to(REP)) == dms
    for user in ("U0CS1", "U0CS2"):
        [told] = harness.ephemerals_to(user)
        assert "already approved by <@U0CS1>" in told


def test_two_cs_members_clicking_at_once_one_wins(harness):
    request_id = harness.file_request()
    harness.slack.clear()
    barrier = threading.Barrier(4)
    users = ["U0CS1", "U0CS2", "U0CS3", LEAD]

    def click(user: str) -> None:
        barrier.wait()
        harness.click(Action.APPROVE, request_id, user=user)

    threads = [threading.Thread(target=click, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    assert len(card_updates(harness)) == 1
    assert len(harness.dms_to(REP)) == 1
    with harness.db.unit_of_work() as session:
        request = lifecycle.get_request(session=session, request_id=request_id)
        approvals = [
            e for e in lifecycle.list_events(session=session, request_id=request_id) if e.action == "approved"
        ]
    assert len(approvals) == 1 and approvals[0].actor_id == request.decided_by
    losers = [u for u in users if u != request.decided_by]
    assert all(len(harness.ephemerals_to(u)) == 1 for u in losers)


def test_decline_asks_for_a_reason_and_tells_the_rep(harness):
    request_id = harness.file_request(deal_stage="discovery")
    harness.click(Action.DECLINE, request_id, user="U0CS2")
    [opened] = harness.slack.of("views.open")[-1:]
    view = opened["view"]
    assert view["callback_id"] == Callback.DECLINE_FORM
    reason_block = next(b for b in view["blocks"] if b.get("block_id") == Block.DECLINE_REASON)
    assert reason_block["element"]["initial_option"]["value"] == "too_early"  # suggested by the flag

    reply = harness.submit_view(
        view,
        {Block.DECLINE_REASON: "too_early", Block.DECLINE_NOTE: "Come back after the demo."},
        user="U0CS2",
    )
    assert reply.status == 200 and reply.body == ""
    assert status(harness, request_id) == "declined"
    [update] = card_updates(harness)
    assert "Declined* by <@U0CS2>" in str(update["blocks"]) and "Come back after the demo." in str(
        update["blocks"]
    )
    declined = harness.dms_to(REP)[-1]
    text = declined["blocks"][0]["text"]["text"]
    assert "CS declined request #1" in text and "too early" in text and "Come back after the demo." in text


def test_another_reason_needs_a_note(harness):
    request_id = harness.file_request()
    harness.click(Action.DECLINE, request_id, user="U0CS2")
    view = harness.slack.of("views.open")[-1]["view"]
    reply = harness.submit_view(view, {Block.DECLINE_REASON: "other"}, user="U0CS2")
    assert reply.json() == {
        "response_action": "errors",
        "errors": {Block.DECLINE_NOTE: "Please tell the rep the reason."},
    }
    assert status(harness, request_id) == "pending"


def test_decline_after_someone_approved_changes_nothing(harness):
    request_id = harness.file_request()
    harness.click(Action.DECLINE, request_id, user="U0CS2")
    view = harness.slack.of("views.open")[-1]["view"]
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    reply = harness.submit_view(view, {Block.DECLINE_REASON: "no_match"}, user="U0CS2")
    body = reply.json()
    assert body["response_action"] == "update"
    assert "already approved by <@U0CS1>" in str(body["view"])
    assert status(harness, request_id) == "approved"
    assert len(card_updates(harness)) == 1

    harness.click(Action.DECLINE, request_id, user="U0CS3")
    assert "already approved" in harness.ephemerals_to("U0CS3")[0]
    assert len(harness.slack.of("views.open")) == 2  # the form's and the first decline's, no third


def test_an_unknown_request_number_is_answered_plainly(harness):
    harness.click(Action.APPROVE, 999, user="U0CS1")
    assert harness.ephemerals_to("U0CS1") == ["I can't find that request any more."]
