"""Verify before anything: unsigned, stale, malformed and oversized requests reach nothing; signed but unreadable
payloads get a clear refusal, never a 500."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.verification import MAX_BODY_BYTES, check_signature
from modals.ids import Action, Block
from store.models import Base
from tests.conftest import REP
from tests.support import payloads

SECRET = b"testsigningsecret123"
MARKER = "BODYMARKER-7f3a"  # if a body were logged, this would be in the log


def rows(harness) -> int:
    with harness.db.unit_of_work() as session:
        return sum(
            session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
        )


def hostile_command() -> dict[str, str]:
    """A slash command whose response_url and user a forger chose."""
    return payloads.slash_command(
        text=MARKER, user_id="U0VICTIM", response_url="http://127.0.0.1:9/forged", channel_id="C0VICTIM"
    )


@pytest.fixture
def refusals(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _assert_refused(harness, reply, status: int, caplog, before: int) -> None:
    harness.settle()
    assert reply.status == status, reply
    assert harness.slack.calls == [], "no Slack call for a refused request"
    assert rows(harness) == before, "no row written"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert MARKER not in logged, "the body is never logged"
    assert "refused POST /slack/events" in logged


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"timestamp": "abc"}, 400),  # Bolt's verifier used to raise here, and the error handler answered
        ({"timestamp": "1e9"}, 400),
        ({"timestamp": "-5"}, 400),
        ({"skew": -6 * 60}, 401),
        ({"skew": +6 * 60}, 401),
        ({"signature": "v0=" + "0" * 64}, 401),
        ({"signature": "v0=short"}, 401),
        ({"signature": "é" * 67}, 401),
        ({"signature": ""}, 401),
        ({"timestamp": ""}, 401),
        ({"content_type": "text/plain"}, 415),
        ({"content_type": "multipart/form-data; boundary=x"}, 415),
    ],
)
def test_unverified_requests_reach_nothing(harness, refusals, headers, status):
    before = rows(harness)
    body = urlencode(hostile_command())
    ts = headers.get("timestamp", str(int(time.time()) + headers.get("skew", 0)))
    signature = headers.get("signature")
    if signature is None:
        signature = harness.sender.verifier.generate_signature(timestamp=ts, body=body)
    reply = _raw(
        harness,
        body.encode(),
        {
            "Content-Type": headers.get("content_type", "application/x-www-form-urlencoded"),
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    _assert_refused(harness, reply, status, refusals, before)


def test_a_request_without_signature_headers_is_refused(harness, refusals):
    before = rows(harness)
    reply = _raw(harness, urlencode(hostile_command()).encode(), {"Content-Type": "application/json"})
    _assert_refused(harness, reply, 401, refusals, before)


def test_a_body_over_the_limit_is_refused_unread(harness, refusals):
    before = rows(harness)
    body = ("payload=" + MARKER + "x" * MAX_BODY_BYTES).encode()
    ts = str(int(time.time()))
    signed = harness.sender.verifier.generate_signature(timestamp=ts, body=body.decode())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signed,
    }
    _assert_refused(harness, _raw(harness, body, headers), 413, refusals, before)


def test_a_chunked_body_over_the_limit_is_refused(harness, refusals):
    """No Content-Length to trust: the reader stops at the limit."""
    before = rows(harness)
    chunk = b"x" * 65536
    connection = http.client.HTTPConnection("127.0.0.1", harness.sender.port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("X-Slack-Request-Timestamp", str(int(time.time())))
        connection.putheader("X-Slack-Signature", "v0=" + "0" * 64)
        connection.endheaders()
        try:
            for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        response = connection.getresponse()
        status = response.status
    finally:
        connection.close()
    harness.settle()
    assert status == 413
    assert harness.slack.calls == [] and rows(harness) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("{not json", "application/json"),
        ("payload=" + MARKER, "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ('{"type": "block_actions", "user": "U1", "team": [1]}', "application/json"),
        (b'{"type": "\xff\xfe"}', "application/json"),
    ],
)
def test_signed_but_malformed_bodies_get_400_not_500(harness, refusals, body, content_type):
    before = rows(harness)
    raw = body if isinstance(body, bytes) else body.encode()
    reply = _raw(harness, raw, {"Content-Type": content_type, **signed(raw)})
    harness.settle()
    assert reply.status == 400, reply
    assert harness.slack.calls == [] and rows(harness) == before
    assert MARKER not in "\n".join(r.getMessage() for r in refusals.records)


def test_the_signature_check_is_bolts_own_rule():
    body = b"token=x&text=hello"
    ts = str(int(time.time()))
    from slack_sdk.signature import SignatureVerifier

    good = SignatureVerifier(SECRET.decode()).generate_signature(timestamp=ts, body=body.decode())
    headers = {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts}
    assert (
        check_signature(headers={**headers, "x-slack-signature": good}, body=body, secret=SECRET, now=int(ts))
        is None
    )
    tampered = check_signature(
        headers={**headers, "x-slack-signature": good}, body=body + b"!", secret=SECRET, now=int(ts)
    )
    assert tampered is not None and tampered.status == 401


def signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def _raw(harness, body: bytes, headers: dict[str, str]):
    from bot.demo.simulator.signed import Reply

    connection = http.client.HTTPConnection("127.0.0.1", harness.sender.port, timeout=10)
    try:
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.read().decode())
    finally:
        connection.close()


# --- signed, but not what Slack sends --------------------------------------------------------------


def test_an_unknown_button_is_refused_privately(harness):
    reply = harness.click("made_up_action", "1", user="U0CS1")
    assert reply.status == 200
    [told] = harness.ephemerals_to("U0CS1")
    assert "I don't know that button" in told
    assert not harness.errors.records


def test_a_button_id_beyond_the_column_never_reaches_the_database(harness):
    harness.expect_errors = False
    for value in ("99999999999999999999999", "-1", "0", "١٢", "1e3", "12:99999999999999999999999:1"):
        harness.slack.clear()
        reply = harness.click(Action.APPROVE, value, user="U0CS1")
        assert reply.status == 200
        [told] = harness.ephemerals_to("U0CS1")
        assert "I couldn't read that" in told, value
    for action, value in (
        (Action.ASK, "1:99999999999999999999999:1"),
        (Action.SHOW_MORE, "1:99999999999999999999999"),
        (Action.ASK_YES, "99999999999999999999999"),
        (f"{Action.PICK_TIME}_1", "99999999999999999999999:2026-12-02T16:00:00+00:00"),
        (Action.POOL_MENU, None),
    ):
        harness.slack.clear()
        if value is None:
            body = payloads.block_action(
                action_id=action,
                value="",
                user_id="U0CS1",
                response_url=harness.slack.response_url("act-U0CS1"),
                channel_id="C0CSTEAM",
            )
            del body["actions"][0]["value"]
            body["actions"][0]["selected_option"] = {"value": "edit:99999999999999999999999:1"}
            harness.sender.interactive(body)
            harness.settle()
        else:
            harness.click(action, value, user="U0CS1")
        assert any("I couldn't read that" in t for t in harness.ephemerals_to("U0CS1")), action


def test_non_string_state_values_are_refused_inline(harness):
    view = harness.open_form()
    body = payloads.view_submission(
        view=view, values=payloads.state_values(view, {}), user_id=REP, view_id="V0000NUM"
    )
    body["view"]["state"]["values"][Block.PROSPECT_COMPANY]["value"]["value"] = 12345
    reply = harness.sender.interactive(body)
    harness.settle()
    assert reply.status == 200
    assert reply.json()["response_action"] == "errors"
    assert "couldn't read this answer" in reply.json()["errors"][Block.PROSPECT_COMPANY]
    assert rows(harness) == 0 and not harness.cards()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("user"),
        lambda b: b.__setitem__("user", {"id": 42}),
        lambda b: b.__setitem__("actions", "approve"),
        lambda b: b.__setitem__("actions", []),
        lambda b: b["actions"][0].__setitem__("value", {"id": 1}),
        lambda b: b.__setitem__("container", ["x"]),
    ],
)
def test_block_actions_with_missing_or_mistyped_fields_never_500(harness, mutate):
    body = payloads.block_action(
        action_id=Action.APPROVE,
        value="1",
        user_id="U0CS1",
        response_url=harness.slack.response_url("act-U0CS1"),
        channel_id="C0CSTEAM",
    )
    mutate(body)
    reply = harness.sender.interactive(body)
    harness.settle()
    assert reply.status in (200, 400), reply
    assert "Traceback" not in reply.body
    if reply.status == 200:
        assert any("I couldn't read that" in t for t in harness.ephemerals_to("U0CS1"))


def test_a_view_submission_without_state_is_refused(harness):
    view = harness.open_form()
    body = payloads.view_submission(view=view, values={}, user_id=REP)
    body["view"]["state"] = "nope"
    reply = harness.sender.interactive(body)
    harness.settle()
    assert reply.status == 200 and reply.json()["response_action"] == "errors"
    assert not harness.cards()


def test_an_unknown_view_and_event_do_nothing(harness):
    body = payloads.view_submission(
        view={"callback_id": "nobody_knows", "blocks": []}, values={}, user_id=REP
    )
    reply = harness.sender.interactive(body)
    assert reply.status == 400
    event = payloads.app_home_opened(user_id=REP)
    event["event"]["type"] = "member_joined_channel"
    reply = harness.sender.event(event)
    harness.settle()
    assert reply.status == 200
    assert [m for m in harness.slack.methods() if m != "conversations.members"] == []


def test_an_unsigned_request_cannot_make_the_error_handler_post(harness):
    """The issue's reproduction: a non-numeric timestamp used to reach the error handler with the body."""
    body = json.dumps(
        {
            "type": "block_actions",
            "user": {"id": "U0VICTIM"},
            "channel": {"id": "C0VICTIM"},
            "response_url": harness.slack.response_url("forged"),
            "actions": [{"action_id": Action.APPROVE, "value": "1"}],
        }
    )
    reply = harness.sender.post(
        urlencode({"payload": body}),
        "application/x-www-form-urlencoded",
        timestamp=None,
        extra_headers={"X-Slack-Request-Timestamp": "abc"},
    )
    harness.settle()
    assert reply.status == 400
    assert harness.slack.calls == []
