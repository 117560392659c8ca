"""`refdesk run` as most teams start it: Socket Mode against a local Slack, envelopes in, acks out."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from modals.ids import Action, Block, Callback
from store.db import Database
from tests.conftest import CS_CHANNEL, CS_MEMBERS, REP
from tests.support import payloads
from tests.support.cli import clean_environment
from tests.support.fake_slack import FakeSlack
from tests.support.harness import VALID_ANSWERS
from tests.support.socket_mode import FakeSocketMode

TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_APP_TOKEN": "xapp-1-A0REFDESK-abc",
    "CS_CHANNEL_ID": CS_CHANNEL,
}


def environment(slack: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    return {**TOKENS, "SLACK_API_URL": slack.base_url, "DATABASE_URL": database_url, **extra}


@pytest.fixture
def socket_mode(slack: FakeSlack) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode().start()
    slack.socket_mode_url = server.url
    yield server
    server.stop()


def run_refdesk(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=clean_environment(**env),
        cwd=cwd,
        stdout=open(cwd / "stdout.log", "w"),  # noqa: SIM115 - the process outlives this function
        stderr=open(cwd / "stderr.log", "w"),  # noqa: SIM115
    )


def wait_for(predicate: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def test_run_acknowledges_a_command_a_submission_and_a_button_over_the_socket(
    tmp_path: Path, slack: FakeSlack, socket_mode: FakeSocketMode, empty_database: Database
):
    slack.cs_members = [*CS_MEMBERS, "U0BOT"]
    if not empty_database.is_sqlite:
        empty_database.upgrade()  # PostgreSQL is migrated by `refdesk db upgrade`; SQLite migrates itself on start
    url = empty_database.engine.url.render_as_string(hide_password=False)
    # CS_LEAD_USER_IDS left blank, as .env.example ships it; a dispatcher pass every second, to hear it (not).
    env = environment(slack, url, DISPATCH_INTERVAL_SECONDS="1")
    process = run_refdesk(env, tmp_path)
    try:
        socket_mode.wait_connected()
        assert socket_mode.paths == ["/link/?ticket=refdesk-test&app_id=A0REFDESK"]
        [opened] = slack.attempts("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {TOKENS['SLACK_APP_TOKEN']}"
        assert slack.of("auth.test"), "the bot token was checked at start-up"

        # 1. /reference: acked at once with no body; the form opens.
        command = payloads.slash_command(text="", user_id=REP, response_url=slack.response_url("cmd"))
        envelope = socket_mode.send("slash_commands", command)
        assert socket_mode.ack(envelope) == {"envelope_id": envelope}
        wait_for(lambda: slack.of("views.open"), "the request form opened")
        form = slack.of("views.open")[-1]["view"]
        assert form["callback_id"] == Callback.REQUEST_FORM

        # 2. A submission with a close date in the past: the ack carries the inline error.
        answers = {**VALID_ANSWERS, Block.CLOSE_DATE: "2020-01-15", Block.DEAL_ARR: "40000"}
        submission = payloads.view_submission(
            view=form, values=payloads.state_values(form, answers), user_id=REP, view_id="V0SOCKET"
        )
        envelope = socket_mode.send("interactive", submission)
        ack = socket_mode.ack(envelope)
        assert ack["envelope_id"] == envelope
        assert ack["payload"]["response_action"] == "errors"
        assert set(ack["payload"]["errors"]) == {Block.CLOSE_DATE}

        # The same form, fixed: acked with no payload, and the card reaches the CS channel.
        answers[Block.CLOSE_DATE] = (date.today() + timedelta(days=60)).isoformat()
        submission["view"]["state"]["values"] = payloads.state_values(form, answers)
        envelope = socket_mode.send("interactive", submission)
        assert socket_mode.ack(envelope) == {"envelope_id": envelope}
        wait_for(lambda: slack.messages_to(CS_CHANNEL), "the approval card was posted")
        card = slack.messages_to(CS_CHANNEL)[0]
        assert "no CS leads are configured, so any CS member may approve" in json.dumps(card["blocks"])

        # 3. Approve, by a CS member who is not a lead: with no leads configured, a $40,000 deal is theirs to approve.
        request_id = card["blocks"][-1]["elements"][0]["value"]
        click = payloads.block_action(
            action_id=Action.APPROVE,
            value=request_id,
            user_id=CS_MEMBERS[0],
            response_url=slack.response_url("act"),
            channel_id=CS_CHANNEL,
        )
        envelope = socket_mode.send("interactive", click)
        assert socket_mode.ack(envelope) == {"envelope_id": envelope}
        wait_for(
            lambda: any("Approved* by" in json.dumps(u.get("blocks")) for u in slack.of("chat.update")),
            "the card shows the approval",
        )
        time.sleep(1.5)  # at least one dispatcher pass, whose scheduler lines must not reach the log
        assert process.poll() is None, "refdesk run stopped"
    finally:
        process.terminate()
        process.wait(timeout=10)
    log = (tmp_path / "stderr.log").read_text()
    assert "Traceback" not in log and "ERROR" not in log, log
    assert "token` will be unused" not in log  # Bolt's spurious warning
    assert "apscheduler" not in log and "alembic" not in log, log
    assert log.count("no CS leads are configured, so any CS member may approve") == 1
    assert "connected to Slack over Socket Mode" in log


@pytest.mark.parametrize(
    ("method", "error", "expected"),
    [
        (
            "auth.test",
            "invalid_auth",
            "refdesk: Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User",
        ),
        ("auth.test", "token_revoked", "refdesk: Slack refused SLACK_BOT_TOKEN (token_revoked)"),
        (
            "apps.connections.open",
            "invalid_auth",
            "refdesk: Slack refused SLACK_APP_TOKEN (invalid_auth): generate an app-level token (xapp-…) with "
            "the connections:write scope",
        ),
        (
            "apps.connections.open",
            "not_allowed_token_type",
            "refdesk: SLACK_APP_TOKEN is not an app-level token (Slack said not_allowed_token_type)",
        ),
    ],
)
def test_a_token_slack_refuses_stops_run_in_one_line(cli, tmp_path, slack, method, error, expected):
    slack.fail(method, error=error)
    line = cli("run", env=environment(slack, f"sqlite:///{tmp_path / 'r.db'}"), cwd=tmp_path).one_line()
    assert line.startswith(expected), line


def test_slack_out_of_reach_stops_run_in_one_line(cli, tmp_path, slack):
    slack.stop()  # nothing answers at SLACK_API_URL any more
    line = cli("run", env=environment(slack, f"sqlite:///{tmp_path / 'r.db'}"), cwd=tmp_path).one_line()
    assert line.startswith(f"refdesk: cannot reach Slack at {slack.base_url} to check SLACK_BOT_TOKEN"), line


def test_a_socket_address_that_does_not_answer_stops_run_in_one_line(cli, tmp_path, slack):
    slack.socket_mode_url = None  # apps.connections.open hands out an address where nothing listens
    line = cli("run", env=environment(slack, f"sqlite:///{tmp_path / 'r.db'}"), cwd=tmp_path).one_line()
    assert line.startswith("refdesk: Slack gave a Socket Mode address but connecting to it failed ("), line
