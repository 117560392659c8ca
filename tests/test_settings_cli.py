"""Settings and the command line: clear one-line refusals, a real server, migrations on start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.settings import SettingsError, load_settings
from tests.support.cli import refdesk

GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "abcdef0123456789",
    "SLACK_APP_TOKEN": "xapp-1-A1-abc",
    "CS_CHANNEL_ID": "C0123ABCD",
    "CS_LEAD_USER_IDS": "U01LEAD, U02LEAD",
}


def test_good_settings_load_with_program_defaults():
    settings = load_settings(GOOD, require=GOOD.keys())
    assert settings.cs_lead_user_ids == frozenset({"U01LEAD", "U02LEAD"})
    assert settings.min_deal_arr == 50_000 and settings.max_prior_references == 2
    assert settings.early_stages == ("discovery", "qualification")
    assert settings.database_url == "sqlite:///refdesk.db"


@pytest.mark.parametrize(
    ("changes", "named", "hint"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is missing", "OAuth & Permissions"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN is malformed", "OAuth & Permissions"),
        ({"SLACK_APP_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN is malformed", "App-Level Tokens"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is missing", "App Credentials"),
        ({"CS_CHANNEL_ID": "#cs-team"}, "CS_CHANNEL_ID is malformed", "About tab"),
        ({"CS_LEAD_USER_IDS": "U01LEAD,@maria"}, "CS_LEAD_USER_IDS has '@maria'", "Copy member ID"),
        ({"MIN_DEAL_ARR": "fifty"}, "MIN_DEAL_ARR must be a whole number", ".env.example"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL is malformed", "DEBUG"),
        ({"SLACK_API_URL": "slack.test"}, "SLACK_API_URL is malformed", "/api/"),
    ],
)
def test_a_bad_setting_is_named_with_where_to_find_it(changes, named, hint):
    with pytest.raises(SettingsError) as caught:
        load_settings({**GOOD, **changes}, require=GOOD.keys())
    message = str(caught.value)
    assert named in message and hint in message and "\n" not in message


def test_run_without_tokens_names_every_missing_setting_at_once(tmp_path):
    result = refdesk("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(" is ")[0] for line in lines] == [
        "refdesk: SLACK_BOT_TOKEN",
        "refdesk: SLACK_APP_TOKEN",
        "refdesk: CS_CHANNEL_ID",
    ]
    assert all("missing: set it" in line for line in lines)


def test_a_token_slack_refuses_stops_start_up(tmp_path, slack):
    slack.fail("auth.test", error="invalid_auth")
    env = {**GOOD, "SLACK_API_URL": slack.base_url}
    result = refdesk("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN" in result.stderr and "invalid_auth" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_come_from_dot_env(tmp_path, slack):
    slack.fail("auth.test", error="invalid_auth")
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in {**GOOD, "SLACK_API_URL": slack.base_url}.items())
    )
    result = refdesk("serve", "--port", "1", env={}, cwd=tmp_path)
    assert "invalid_auth" in result.stderr  # it got as far as asking Slack: every setting was read


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_sqlite_and_answers_health_checks(tmp_path, slack):
    port = free_port()
    env = {**GOOD, "SLACK_API_URL": slack.base_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CS_", "DATABASE_URL"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**base, **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(
                        server.stdout.read().decode() if server.poll() is not None else "no answer"
                    ) from None
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert (tmp_path / "r.db").exists()


def test_db_upgrade_creates_the_schema(tmp_path):
    result = refdesk("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
