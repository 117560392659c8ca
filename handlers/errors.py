"""One error handler: domain errors become their own message, the rest an apology with an id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.errors import RefdeskError
from handlers.replies import tell

log = logging.getLogger("refdesk.errors")


def register(app: App) -> None:
    app.error(handle_error)


def handle_error(error: Exception, body: dict[str, Any], client: WebClient, respond: Respond | None) -> None:
    if isinstance(error, RefdeskError):
        log.warning("refused: %s", error)
        text = str(error)
    else:
        error_id = uuid.uuid4().hex[:8]
        kind = body.get("type") or ("slash_command" if body.get("command") else "unknown")
        log.error("error %s while handling a %s request", error_id, kind, exc_info=error)
        text = (
            f":warning: Sorry, something went wrong on my side. "
            f"If it happens again, tell your refdesk admin the error id `{error_id}`."
        )
    try:
        tell(client=client, body=body, respond=respond, text=text)
    except Exception:  # noqa: BLE001 - the apology itself failed; the log already has the id
        log.exception("could not tell the user about the error")
