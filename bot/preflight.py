"""Start-up checks of the database and of Slack: a failure is one line naming the problem and the fix."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from bot.delivery.courier import Courier
from bot.settings import APPS_PAGE, Settings
from store.db import Database, NotMigratedError, normalise_url

log = logging.getLogger("refdesk")
T = TypeVar("T")

# Slack's answers that mean "this token is no good", for auth.test and apps.connections.open alike.
TOKEN_REFUSALS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "no_permission"}
)
BOT_TOKEN_FIX = (
    f"copy the Bot User OAuth Token (xoxb-…) again from {APPS_PAGE} → your app → OAuth & Permissions"
)
APP_TOKEN_FIX = (
    f"generate an app-level token (xapp-…) with the connections:write scope under {APPS_PAGE} → your app → "
    "Basic Information → App-Level Tokens, and put it in SLACK_APP_TOKEN"
)


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the operator."""


# --- the database ---------------------------------------------------------------------------------


def open_database(settings: Settings) -> Database:
    """The store, migrated when it is the embedded SQLite, checked when it is shared."""
    db = database(settings.database_url)
    with database_errors(settings.database_url):
        db.check_connection()
        if db.is_sqlite:
            db.upgrade()
        else:
            try:
                db.ensure_migrated()
            except NotMigratedError as error:
                raise StartupError(str(error)) from None
    return db


def database(url: str) -> Database:
    try:
        return Database.from_url(url)
    except (ArgumentError, NoSuchModuleError, ValueError):  # messages quoting the URL, password and all
        raise StartupError(
            "DATABASE_URL cannot be read as a database URL: write sqlite:///refdesk.db or "
            "postgresql://user:password@host:5432/refdesk"
        ) from None


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns the driver's exceptions into a StartupError that names the server and the fix."""
    try:
        yield
    except SQLAlchemyError as error:
        raise StartupError(describe_database_error(error, url)) from None


def describe_database_error(error: SQLAlchemyError, url: str) -> str:
    """One line for a database that cannot be used: which server, what went wrong, what to do."""
    original = error.orig if isinstance(error, DBAPIError) else error
    message = str(original).strip()
    first_line = message.splitlines()[0] if message else type(original).__name__
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        return f"the database failed ({first_line}): check DATABASE_URL and that the server is up"
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ":memory:"
        if "unable to open database file" in message:
            return f"cannot open the SQLite database {path}: make sure its folder exists and is writable, or change DATABASE_URL"
        if "file is not a database" in message:
            return f"{path} is not a SQLite database: point DATABASE_URL at a new file or a refdesk database"
        return f"the SQLite database {path} failed ({first_line}): check the file, or change DATABASE_URL"

    host, port = parsed.host or "localhost", parsed.port or 5432
    server = f"PostgreSQL at {host}:{port}"
    user, name = parsed.username or "(none)", parsed.database or "(none)"
    code = getattr(original, "sqlstate", None)
    lowered = message.casefold()
    if code == "28P01" or "password authentication failed" in lowered:
        return f"{server} refused the password for user {user}: fix the password in DATABASE_URL"
    if code == "3D000" or (f'database "{name}" does not exist'.casefold() in lowered):
        return (
            f'{server} has no database "{name}": create it with `createdb -h {host} -p {port} -U {user} {name}`, '
            "then run `refdesk db upgrade`"
        )
    if code == "28000" or "role" in lowered and "does not exist" in lowered:
        return f"{server} does not let user {user} in ({first_line}): fix the user in DATABASE_URL"
    if "no password supplied" in lowered:
        return f"{server} wants a password for user {user}: add it to DATABASE_URL (postgresql://{user}:PASSWORD@…)"
    if "connection refused" in lowered:
        return f"cannot reach {server} (connection refused): start PostgreSQL there, or fix the host and port in DATABASE_URL"
    if (
        "resolve host" in lowered
        or "translate host name" in lowered
        or "name or service not known" in lowered
    ):
        return f"cannot find the database host {host!r} (the name does not resolve): fix the host in DATABASE_URL"
    if "timeout" in lowered or "timed out" in lowered:
        return f"{server} did not answer in time: check the host, the port and any firewall between here and there"
    if "does not exist" in lowered and "relation" in lowered:
        return f"{server}: the database has no refdesk tables ({first_line}): run `refdesk db upgrade`"
    return f"{server} failed ({first_line}): check DATABASE_URL and that the server is up"


# --- Slack ------------------------------------------------------------------------------------------


def slack_call(what: str, call: Callable[[], T], *, settings: Settings) -> T:
    """Run one Web API call at start-up; a network failure becomes one line naming the URL."""
    base = settings.slack_api_url or "https://slack.com/api/"
    # The SDK logs its own ERROR line with the URL error before raising it: at start-up, ours says it better.
    try:
        with _silenced(logging.getLogger("slack_sdk.web.base_client")):
            return call()
    except OSError as error:  # URLError, timeouts, refused connections
        reason = getattr(error, "reason", None) or error
        raise StartupError(
            f"cannot reach Slack at {base} to {what} ({reason}): check the network, a proxy (HTTPS_PROXY), "
            "or SLACK_API_URL"
        ) from None


@contextmanager
def _silenced(logger: logging.Logger) -> Iterator[None]:
    """A library's own error lines muted while start-up words the failure itself (single-threaded here)."""
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def build_app(settings: Settings, db: Database, courier: Courier | None = None) -> App:
    """The Bolt app; its start-up auth.test proves SLACK_BOT_TOKEN works."""
    from bot.app import create_app

    try:
        return slack_call(
            "check SLACK_BOT_TOKEN",
            lambda: create_app(settings=settings, db=db, courier=courier),
            settings=settings,
        )
    except BoltError as error:
        refused = error.__context__
        code = refused.response.get("error") if isinstance(refused, SlackApiError) else str(error)
        raise StartupError(f"Slack refused SLACK_BOT_TOKEN ({code}): {BOT_TOKEN_FIX}") from None


def connect_socket_mode(settings: Settings, handler: SocketModeHandler) -> None:
    """Open the Socket Mode connection, or a StartupError saying which step failed and what to check."""
    # Asked here rather than inside connect(), so a refused app token reads as one line, not a logged stack.
    handler.client.wss_uri = open_socket_mode_url(settings, handler.app.client)
    socket = handler.client
    failures: list[Exception] = []
    socket.on_error_listeners.append(failures.append)
    # No reconnecting in the background until the first connection holds: a failure is reported, not retried.
    socket.default_auto_reconnect_enabled = False
    with _silenced(socket.logger):  # the SDK logs a failed connection three times, and carries on
        handler.connect()
        connected = socket.is_connected()
        if not connected:
            handler.close()
    socket.on_error_listeners.remove(failures.append)
    if not connected:
        reason = f" ({failures[0]})" if failures else ""
        raise StartupError(
            f"Slack gave a Socket Mode address but connecting to it failed{reason}: check the network, and any "
            "firewall or proxy that blocks WebSockets"
        )
    socket.default_auto_reconnect_enabled = socket.auto_reconnect_enabled = True


def open_socket_mode_url(settings: Settings, client: WebClient) -> str:
    """apps.connections.open: the WebSocket URL to connect to, or a StartupError saying what is wrong."""
    try:
        response = slack_call(
            "open a Socket Mode connection",
            lambda: client.apps_connections_open(app_token=settings.slack_app_token),
            settings=settings,
        )
    except SlackApiError as refused:
        code = str(refused.response.get("error"))
        if code == "not_allowed_token_type":
            raise StartupError(
                f"SLACK_APP_TOKEN is not an app-level token (Slack said not_allowed_token_type): {APP_TOKEN_FIX}"
            ) from None
        if code in TOKEN_REFUSALS:
            raise StartupError(f"Slack refused SLACK_APP_TOKEN ({code}): {APP_TOKEN_FIX}") from None
        raise StartupError(
            f"Slack would not open a Socket Mode connection ({code}): turn Socket Mode on under {APPS_PAGE} → "
            "your app → Socket Mode, and check SLACK_APP_TOKEN"
        ) from None
    return str(response["url"])
