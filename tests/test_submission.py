"""/reference → modal → stored request → approval card and the rep's receipt, through signed HTTP."""

from __future__ import annotations

from sqlalchemy import func, select

from modals.ids import Action, Block
from store import lifecycle
from store.models import ReferenceRequest, RequestEvent
from tests.conftest import CS_CHANNEL, REP
from tests.support.harness import VALID_ANSWERS


def count_requests(harness) -> int:
    with harness.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(ReferenceRequest))


def test_slash_command_opens_the_form_and_acks_empty(harness):
    reply = harness.command("")
    assert reply.status == 200 and reply.body == ""
    opened = harness.slack.of("views.open")
    assert len(opened) == 1
    assert opened[0]["trigger_id"].startswith("13345224609")
    assert opened[0]["view"]["title"]["text"] == "Request a reference"


def test_slash_command_text_prefills_the_prospect(harness):
    view = harness.open_form("Acme Corp")
    company = next(b for b in view["blocks"] if b.get("block_id") == Block.PROSPECT_COMPANY)
    assert company["element"]["initial_value"] == "Acme Corp"


def test_help_answers_ephemerally_in_the_ack(harness):
    reply = harness.command("help")
    assert reply.status == 200
    body = reply.json()
    assert "/reference list" in body["text"]
    assert body["response_type"] == "ephemeral"
    assert harness.slack.of("views.open") == []


def test_valid_submission_stores_posts_the_card_and_dms_the_rep(harness):
    reply = harness.submit_request()
    assert reply.status == 200 and reply.body == ""

    with harness.db.unit_of_work() as session:
        request = lifecycle.get_request(session=session, request_id=1)
        assert request is not None
        assert (request.prospect_company, request.deal_arr, request.status) == (
            "Acme Corp",
            120_000,
            "pending",
        )
        assert request.tried == ["demo", "trial"]
        actions = [e.action for e in lifecycle.list_events(session=session, request_id=1)]
    assert actions == ["submitted", "card_posted"]

    [card] = harness.cards()
    assert card["channel"] == CS_CHANNEL
    assert "Acme Corp" in card["text"]
    buttons = card["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [Action.APPROVE, Action.DECLINE]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Decline"]
    assert "No qualification flags" in str(card["blocks"])

    [dm] = harness.dms_to(REP)
    assert "Request #1 is with CS" in dm["text"]
    assert "$120,000" in str(dm["blocks"])


def test_card_location_is_remembered_for_updates(harness):
    harness.file_request()
    with harness.db.unit_of_work() as session:
        request = lifecycle.get_request(session=session, request_id=1)
        assert request.card_channel == CS_CHANNEL and request.card_ts


def test_invalid_submission_shows_inline_errors_and_stores_nothing(harness):
    reply = harness.submit_request(deal_arr="-3", close_date="2026-01-01", contact_concerns="")
    assert reply.status == 200
    assert reply.json()["response_action"] == "errors"
    assert set(reply.json()["errors"]) == {Block.DEAL_ARR, Block.CLOSE_DATE, Block.CONTACT_CONCERNS}
    assert count_requests(harness) == 0
    assert harness.cards() == [] and harness.dms_to(REP) == []


def test_a_redelivered_submission_is_stored_and_posted_once(harness):
    view = harness.open_form()
    answers = {**VALID_ANSWERS}
    first = harness.submit_view(view, answers, user=REP, view_id="V0SAME")
    second = harness.submit_view(view, answers, user=REP, view_id="V0SAME")
    assert first.status == second.status == 200
    assert count_requests(harness) == 1
    assert len(harness.cards()) == 1 and len(harness.dms_to(REP)) == 1


def test_qualification_flags_are_on_the_card(harness):
    harness.file_request(deal_stage="discovery", deal_arr="20000", tried=["none"], prior_references="2")
    text = str(harness.cards()[-1]["blocks"])
    assert "Too early: the deal is at Discovery" in text
    assert "Below $50,000 ARR ($20,000)" in text
    assert "Nothing tried first" in text
    assert "already heard from 2 references" in text


def test_references_already_given_to_the_prospect_count(harness):
    first = harness.file_request()
    harness.click(Action.APPROVE, first, user="U0CS1")
    harness.file_request(prospect_company="ACME  corp.")
    assert "already heard from" not in str(harness.cards()[-1]["blocks"])  # 1 < 2
    second = harness.file_request(prospect_company="Acme Corp")
    harness.click(Action.APPROVE, second, user="U0CS1")
    harness.file_request(prospect_company="acme corp")
    assert "already heard from 2 references" in str(harness.cards()[-1]["blocks"])


def test_a_request_filed_for_another_rep_tells_both(harness):
    harness.submit_request(user="U0MANAGER", rep=REP)
    assert len(harness.dms_to(REP)) == 1 and len(harness.dms_to("U0MANAGER")) == 1
    assert "Filed by <@U0MANAGER> for <@U0REP>" in harness.dms_to(REP)[0]["blocks"][0]["text"]["text"]


def test_card_that_cannot_be_posted_keeps_the_request_and_tells_the_rep(harness):
    harness.slack.fail("chat.postMessage", error="not_in_channel")
    harness.expect_errors = True
    reply = harness.submit_request()
    assert reply.status == 200
    assert count_requests(harness) == 1
    texts = [m["text"] for m in harness.dms_to(REP)]
    assert any("couldn't post it to the CS channel" in t and "not_in_channel" in t for t in texts)


def test_slack_rate_limit_is_waited_out_and_the_card_posts_once(harness):
    harness.slack.fail("chat.postMessage", status=429, retry_after=1)
    harness.submit_request()
    attempts = harness.slack.attempts("chat.postMessage")
    assert [a.ok for a in attempts][:2] == [False, True]
    assert attempts[1].at - attempts[0].at >= 0.9  # waited the Retry-After
    assert len(harness.cards()) == 1


def test_audit_trail_is_append_only(harness):
    harness.file_request()
    with harness.db.unit_of_work() as session:
        event = session.scalars(select(RequestEvent)).first()
        event.action = "tampered"
        try:
            session.flush()
        except ValueError as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError("an audit event was changed")
        session.rollback()
