"""The HTTP edge: Slack's signature, the health check, and errors that never leak a stack trace."""

from __future__ import annotations

import re
import time

from sqlalchemy import create_engine

from bot.web import RefdeskASGI
from modals.ids import Action
from store.db import Database
from tests.conftest import REP, SIGNING_SECRET
from tests.support import payloads


def test_a_forged_signature_is_refused_and_slack_hears_nothing(harness):
    form = payloads.slash_command(text="", user_id=REP, response_url=harness.slack.response_url())
    reply = harness.sender.command(form, signature="v0=" + "0" * 64)
    harness.settle()
    assert reply.status == 401
    assert harness.slack.calls == []


def test_a_replayed_old_request_is_refused(harness):
    form = payloads.slash_command(text="", user_id=REP, response_url=harness.slack.response_url())
    reply = harness.sender.command(form, timestamp=int(time.time()) - 6 * 60)
    harness.settle()
    assert reply.status == 401
    assert harness.slack.calls == []


def test_an_unsigned_interaction_is_refused(harness):
    body = payloads.block_action(
        action_id=Action.APPROVE,
        value="1",
        user_id="U0CS1",
        response_url=harness.slack.response_url(),
        channel_id="C0",
    )
    reply = harness.sender.interactive(body, signature="v0=nope")
    assert reply.status == 401


def test_healthz_answers_when_the_database_does(harness):
    reply = harness.sender.get("/healthz")
    assert reply.status == 200 and reply.json() == {"ok": True, "database": "up"}


def test_healthz_fails_when_the_database_is_gone(harness, http_server):
    switch, _ = http_server
    broken = Database(create_engine("sqlite:////nonexistent/dir/refdesk.db"))
    switch.target = RefdeskASGI(switch.target.app, broken, signing_secret=SIGNING_SECRET)
    reply = harness.sender.get("/healthz")
    assert reply.status == 503 and reply.json()["database"] == "down"


def test_unknown_paths_are_404(harness):
    assert harness.sender.get("/admin").status == 404


def test_an_unexpected_error_reaches_the_user_as_an_apology_with_an_id(harness):
    """A listener that fails after its ack: Slack gets the ack (never a 500, never a late answer), the user one
    apology with an error id, the log the same id. Bolt left to itself raced here (handlers/errors.after_ack)."""
    request_id = harness.file_request()
    harness.expect_errors = True
    # Opening the decline form is the listener's own Slack call (messages go through the outbox instead).
    harness.slack.fail("views.open", error="internal_error", times=5)
    replies = [harness.click(Action.DECLINE, request_id, user="U0CS1") for _ in range(5)]
    assert [r.status for r in replies] == [200] * 5
    told = [t for t in harness.ephemerals_to("U0CS1") if "error id" in t]
    assert len(told) == 5
    logged = [r.getMessage() for r in harness.errors.records]
    for apology in told:
        match = re.search(r"error id `([0-9a-f]{8})`", apology)
        assert match and "Traceback" not in apology and "SlackApiError" not in apology
        assert any(match.group(1) in line for line in logged)
    assert not any("acknowledged too late" in line for line in logged)


def test_every_listener_that_acks_itself_answers_its_own_failures_after_the_ack():
    """Bolt races with a listener that fails after ack(): each one is wrapped (handlers/errors.after_ack)."""
    from slack_bolt import App

    from handlers import register_listeners

    app = App(signing_secret=SIGNING_SECRET, token="xoxb-test", token_verification_enabled=False)
    register_listeners(app)
    own_ack = [listener for listener in app._listeners if not listener.auto_acknowledgement]
    assert len(own_ack) > 30
    unwrapped = [
        listener.ack_function.__name__
        for listener in own_ack
        if not getattr(listener.ack_function, "answers_after_ack", False)
    ]
    assert unwrapped == []


def test_a_server_error_from_slack_is_retried(harness):
    request_id = harness.file_request()
    harness.slack.fail("chat.update", status=500)
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    attempts = harness.slack.attempts("chat.update")
    assert [a.ok for a in attempts] == [False, True]


def test_an_ack_that_comes_too_late_is_not_reported_as_unreadable(harness):
    """A loaded machine: the form's submission waits past Slack's 3 s for the database, then stores and acks.

    Bolt stops waiting at 3 s and calls the request unhandled; the rep must not be told "I couldn't read that"
    about a request that is then stored, carded and confirmed.
    """
    import threading

    from sqlalchemy import text

    holding, release = threading.Event(), threading.Event()

    def hold_the_table() -> None:
        with harness.db.unit_of_work() as session:
            if session.bind.dialect.name == "postgresql":
                session.execute(text("LOCK TABLE reference_requests IN EXCLUSIVE MODE"))
            else:  # one writer at a time: any write holds it
                session.execute(text("UPDATE reference_requests SET status = status"))
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    assert holding.wait(5)
    timer = threading.Timer(3.5, release.set)
    timer.start()
    try:
        reply = harness.submit_request()
    finally:
        timer.join()
        holder.join()
    harness.settle()
    assert "couldn't read" not in reply.body and "errors" not in reply.body
    told = harness.ephemerals_to(REP) + [m.get("text", "") for m in harness.dms_to(REP)]
    assert not [t for t in told if "couldn't read" in t or "don't know that button" in t]
    assert len(harness.cards()) == 1, "the request was stored and reached CS"


def test_the_answer_leaves_at_the_listeners_ack_not_when_bolt_notices_it(http_server, database, slack):
    """bot/web._Ack: Slack gets the answer the moment the listener calls ack(), while Bolt's own dispatch (which
    notices an ack by polling every 10 ms) is still running; without an ack, Bolt's own answer, when it has one."""
    import threading

    from slack_bolt import App
    from slack_sdk import WebClient

    from tests.support.signed import SlackSender

    switch, port = http_server
    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token="xoxb-test", base_url=slack.base_url))
    seen: list[str] = []

    @app.action("acks")
    def acks(ack, body) -> None:
        ack()
        seen.append(body["actions"][0]["value"])

    release, returned = threading.Event(), threading.Event()
    dispatch = app.dispatch

    def held(request):  # Bolt's dispatch, kept from returning until the test lets it
        response = dispatch(request)
        release.wait(5)
        returned.set()
        return response

    app.dispatch = held  # type: ignore[method-assign]
    switch.target = RefdeskASGI(app, database, signing_secret=SIGNING_SECRET)
    sender = SlackSender(host="127.0.0.1", port=port, signing_secret=SIGNING_SECRET)

    def click(action_id: str) -> dict:
        return payloads.block_action(
            action_id=action_id,
            value="7",
            user_id=REP,
            channel_id="C0CS",
            response_url="http://127.0.0.1:9/r",
        )

    reply = sender.interactive(click("acks"))
    assert reply.status == 200 and not returned.is_set()  # answered while Bolt's dispatch was still held
    release.set()
    assert returned.wait(5) and seen == ["7"]
    release.clear()
    returned.clear()
    threading.Timer(0.2, release.set).start()
    reply = sender.interactive(click("nobody_listens"))  # no listener, no ack(): Bolt's own answer
    assert reply.status == 404 and returned.is_set()
