"""The rep's side: /reference list, Cancel, and the Home tab."""

from __future__ import annotations

from modals.ids import Action
from store import lifecycle
from tests.conftest import CS_CHANNEL, REP
from tests.support import payloads


def listing(harness, user: str = REP) -> dict:
    harness.command("list", user=user)
    return [p for p in harness.slack.of("response_url") if p["_path"].endswith(f"cmd-{user}")][-1]


def test_list_shows_the_reps_requests_newest_first_with_cancel_on_pending_ones(harness):
    first = harness.file_request(prospect_company="Acme Corp")
    harness.file_request(prospect_company="Globex")
    harness.click(Action.APPROVE, first, user="U0CS1")
    reply = listing(harness)
    assert reply["response_type"] == "ephemeral"
    sections = [b for b in reply["blocks"] if b["type"] == "section"]
    assert "#2 · Globex" in sections[0]["text"]["text"] and "Waiting for CS" in sections[0]["text"]["text"]
    assert sections[0]["accessory"]["action_id"] == Action.CANCEL
    assert "#1 · Acme Corp" in sections[1]["text"]["text"] and "Approved" in sections[1]["text"]["text"]
    assert "accessory" not in sections[1]


def test_list_with_no_requests_says_how_to_start(harness):
    reply = listing(harness, user="U0NEWREP")
    assert "Type `/reference` to file one" in str(reply["blocks"])


def test_list_shows_only_your_own_requests(harness):
    harness.file_request()
    assert "Acme" not in str(listing(harness, user="U0OTHERREP")["blocks"])


def test_cancel_from_the_list_updates_the_card_and_the_list(harness):
    request_id = harness.file_request()
    listing(harness)
    harness.click(Action.CANCEL, request_id, user=REP, channel="C0SALES", ephemeral=True)
    with harness.db.unit_of_work() as session:
        assert lifecycle.get_request(session=session, request_id=request_id).status == "cancelled"
    [update] = harness.slack.of("chat.update")
    assert update["channel"] == CS_CHANNEL and "Cancelled* by <@U0REP>" in str(update["blocks"])
    refreshed = [p for p in harness.slack.of("response_url") if p.get("replace_original")][-1]
    assert "Cancelled" in str(refreshed["blocks"]) and "accessory" not in str(refreshed["blocks"])
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    assert "already cancelled by <@U0REP>" in harness.ephemerals_to("U0CS1")[0]


def test_cancel_from_the_receipt_dm_updates_that_message(harness):
    request_id = harness.file_request()
    harness.click(Action.CANCEL, request_id, user=REP, channel="D0REP", message_ts="1700000000.000777")
    updates = {u["channel"]: u for u in harness.slack.of("chat.update")}
    assert updates["D0REP"]["ts"] == "1700000000.000777"
    assert "Cancelled" in str(updates["D0REP"]["blocks"])


def test_only_the_rep_can_cancel(harness):
    request_id = harness.file_request()
    harness.click(Action.CANCEL, request_id, user="U0CS1")
    with harness.db.unit_of_work() as session:
        assert lifecycle.get_request(session=session, request_id=request_id).status == "pending"
    assert "Only <@U0REP>" in harness.ephemerals_to("U0CS1")[0]


def test_a_decided_request_cannot_be_cancelled(harness):
    request_id = harness.file_request()
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    harness.click(Action.CANCEL, request_id, user=REP, channel="D0REP")
    assert "already approved" in harness.ephemerals_to(REP)[0]
    with harness.db.unit_of_work() as session:
        assert lifecycle.get_request(session=session, request_id=request_id).status == "approved"


def test_home_tab_shows_the_reps_requests(harness):
    harness.file_request()
    reply = harness.sender.event(payloads.app_home_opened(user_id=REP))
    harness.settle()
    assert reply.status == 200
    [published] = harness.slack.of("views.publish")
    assert published["user_id"] == REP and published["view"]["type"] == "home"
    assert "#1 · Acme Corp" in str(published["view"]["blocks"])


def test_cancel_from_the_home_tab_republishes_it(harness):
    request_id = harness.file_request()
    harness.click(Action.CANCEL, request_id, user=REP, container_type="view")
    [published] = harness.slack.of("views.publish")
    assert "Cancelled" in str(published["view"]["blocks"])
