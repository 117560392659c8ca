"""Every way an operator's first day goes wrong ends in one line naming the problem and the fix."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.support.cli import one_line, refdesk
from tests.support.fake_postgres import PasswordRefusingPostgres

TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "abcdef0123456789",
    "SLACK_APP_TOKEN": "xapp-1-A1-abc",
    "CS_CHANNEL_ID": "C0123ABCD",
}
POOL = Path(__file__).parent / "fixtures" / "pool.csv"
# A command line for each path that opens the database.
COMMANDS = {
    "run": ("run",),
    "serve": ("serve", "--port", "1"),
    "db upgrade": ("db", "upgrade"),
    "advocates import": ("advocates", "import", str(POOL)),
    "advocates export": ("advocates", "export"),
    "history import": ("history", "import", str(POOL)),
    "dispatch": ("dispatch",),
    "report": ("report",),
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_database_names_host_and_port_on_every_command(cli, tmp_path, command):
    port = closed_port()
    env = {**TOKENS, "DATABASE_URL": f"postgres://refdesk:pw@127.0.0.1:{port}/refdesk"}
    line = cli(*COMMANDS[command], env=env, cwd=tmp_path).one_line()
    assert line == (
        f"refdesk: cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused): start PostgreSQL there, "
        "or fix the host and port in DATABASE_URL"
    )


def test_a_wrong_password_is_named_without_echoing_it(cli, tmp_path):
    server = PasswordRefusingPostgres().start()
    try:
        env = {"DATABASE_URL": f"postgresql://bob:s3cret@127.0.0.1:{server.port}/refdesk"}
        line = cli("db", "upgrade", env=env, cwd=tmp_path).one_line()
    finally:
        server.stop()
    assert line == (
        f"refdesk: PostgreSQL at 127.0.0.1:{server.port} refused the password for user bob: "
        "fix the password in DATABASE_URL"
    )
    assert "s3cret" not in line


def test_a_sqlite_file_in_a_missing_folder(cli, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/nowhere/refdesk.db"}
    line = cli("db", "upgrade", env=env, cwd=tmp_path).one_line()
    assert "cannot open the SQLite database" in line and "make sure its folder exists" in line


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_a_missing_database_gets_the_createdb_line(tmp_path):
    url = make_url(PG_URL).set(database="refdesk_no_such_db")
    line = one_line(refdesk("db", "upgrade", env={"DATABASE_URL": url.render_as_string(False)}, cwd=tmp_path))
    assert f'has no database "refdesk_no_such_db": create it with `createdb -h {url.host}' in line
    assert "then run `refdesk db upgrade`" in line


def test_postgres_urls_from_a_paas_are_postgresql_with_psycopg(tmp_path, empty_database):
    """postgres:// is what Heroku and others hand out; it migrates the database like postgresql+psycopg://."""
    if empty_database.is_sqlite:
        pytest.skip(
            "the PostgreSQL half runs with TEST_DATABASE_URL; the unreachable-port test covers the scheme"
        )
    url = empty_database.engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgres://"
    )
    assert url.startswith("postgres://")
    not_yet = one_line(refdesk("run", env={**TOKENS, "DATABASE_URL": url}, cwd=tmp_path))
    assert "the database has no refdesk tables yet" in not_yet and "run `refdesk db upgrade`" in not_yet
    result = refdesk("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database at postgresql+psycopg://") and result.stderr == ""


def test_cli_commands_are_quiet_when_they_work(tmp_path):
    """No Alembic INFO lines on a migration, and --version answers."""
    result = refdesk("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == f"database at sqlite:///{tmp_path}/r.db is up to date"
    version = refdesk("--version", env={}, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == "refdesk 0.1.0"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("advocates", "import", "missing.csv"),
            "refdesk: cannot read missing.csv: No such file or directory",
        ),
        (
            ("report", "-o", "no/such/folder/q.html"),
            "refdesk: no/such/folder/q.html: No such file or directory",
        ),
        (("dispatch", "--now", "tomorrow"), "refdesk: --now 'tomorrow' is not an ISO instant"),
        (("report", "--quarter", "2026Q9"), "refdesk: "),
    ],
)
def test_files_and_arguments_that_cannot_be_used(cli, tmp_path, args, expected):
    env = {**TOKENS, "DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    assert cli(*args, env=env, cwd=tmp_path).one_line().startswith(expected)


def test_settings_problems_all_at_once_one_line_each(tmp_path):
    env = {
        "SLACK_BOT_TOKEN": "xoxp-user",
        "CS_CHANNEL_ID": "#cs",
        "MIN_DEAL_ARR": "lots",
        "LOG_LEVEL": "LOUD",
    }
    result = refdesk("run", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    named = sorted(line.split()[1] for line in lines)
    assert named == ["CS_CHANNEL_ID", "LOG_LEVEL", "MIN_DEAL_ARR", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"]


def test_a_database_url_that_does_not_parse_is_named_without_echoing_it(cli, tmp_path):
    line = cli(
        "db", "upgrade", env={"DATABASE_URL": "postgresql://u:s3cret@db:port/refdesk"}, cwd=tmp_path
    ).one_line()
    assert line.startswith("refdesk: DATABASE_URL cannot be read as a database URL: write sqlite:///")
    assert "s3cret" not in line
