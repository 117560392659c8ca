"""One error handler: domain errors become their own message, unreadable payloads a refusal, the rest an apology.

It only ever sees requests Slack signed (bot/verification.py runs first), so whoever it answers is real. It never
answers 500: before the ack it chooses the HTTP answer itself (inline form errors, or 400 with nobody to tell).
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltResponse, Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from bot.errors import RefdeskError
from bot.text import Mrkdwn, mrkdwn, shown
from handlers.guard import UNKNOWN_BUTTON, UNREADABLE, UNREADABLE_ANSWER, Unreadable
from handlers.replies import tell, user_id_of
from modals.ids import FAMILIES, Action, Callback, family

log = logging.getLogger("refdesk.errors")

_CALLBACKS = frozenset(Callback)
_FAMILIES = tuple(family(action) for action in FAMILIES)  # the time picked, the rating, the deal's outcome
_ACTIONS = frozenset(Action) - frozenset(FAMILIES)


def register(app: App) -> None:
    app.error(handle_error)


def after_ack(listener: Callable[..., None]) -> Callable[..., None]:
    """`listener`, answering its own failures once it has called ack(); before, Bolt's error handler does.

    Bolt's thread runner races with a listener that fails after its ack(): while its request thread polls for the
    ack every 10 ms, the failure sets the shared answer to 500 and then back, and resets the ack, so Slack could
    get a 500 (the user sees an error beside the apology) or no answer for 3 s. Caught here, the failure never
    reaches Bolt: Slack gets the ack, the user the apology (or the domain error's own message), the log the id.
    Bolt passes a listener the arguments its own signature names (it unwraps this one): each has `ack` and
    `context` (the client and respond), and the payload as `body` (a slash command's as `command`).
    """

    @functools.wraps(listener)
    def answering(**kwargs: Any) -> None:
        try:
            listener(**kwargs)
        except Exception as error:
            ack, context = kwargs.get("ack"), kwargs.get("context")
            if ack is None or ack.response is None or context is None:
                raise  # not acknowledged: handle_error chooses the HTTP answer (inline errors, 400)
            body = kwargs.get("body") or kwargs.get("command") or {}
            handle_error(error, body, context.client, context.respond, None)

    answering.answers_after_ack = True  # type: ignore[attr-defined]
    return answering


def _first_input(body: Mapping[str, Any]) -> str | None:
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, Mapping) else None
    for block in blocks if isinstance(blocks, list) else []:
        if (
            isinstance(block, Mapping)
            and block.get("type") == "input"
            and isinstance(block.get("block_id"), str)
        ):
            return block["block_id"]
    return None


def _has_listener(body: Mapping[str, Any]) -> bool:
    """Whether one of refdesk's listeners takes this request (every id is defined once, in modals/ids.py)."""
    if body.get("command"):
        return True  # the manifest routes refdesk's own command here, and one listener takes it
    if body.get("type") == "view_submission":
        view = body.get("view")
        return isinstance(view, Mapping) and view.get("callback_id") in _CALLBACKS
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    action_id = action.get("action_id") if isinstance(action, Mapping) else None
    return isinstance(action_id, str) and (
        action_id in _ACTIONS or any(pattern.match(action_id) for pattern in _FAMILIES)
    )


def _form_errors(block_id: str, text: str) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps({"response_action": "errors", "errors": {block_id: text[:150]}}),
        headers={"content-type": "application/json"},
    )


def _answer(
    body: Mapping[str, Any],
    client: WebClient,
    respond: Respond | None,
    text: Mrkdwn,
    *,
    acked: bool,
    block_id: str | None = None,
) -> BoltResponse | None:
    """Tell whoever acted; before the ack, also choose the HTTP answer (a form keeps what was typed)."""
    if not acked and body.get("type") == "view_submission":
        block = block_id or _first_input(body)
        # Inline form errors are plain text: what Slack shows is what was escaped.
        return _form_errors(block, shown(text)) if block else BoltResponse(status=400)
    if user_id_of(body) is None:
        return None if acked else BoltResponse(status=400)
    try:
        tell(client=client, body=dict(body), respond=respond, text=text)
    except Exception:  # noqa: BLE001 - telling failed; the log has the reason
        log.exception("could not tell the user about the error")
    return None if acked else BoltResponse(status=200)


def handle_error(
    error: Exception,
    body: dict[str, Any],
    client: WebClient,
    respond: Respond | None,
    response: BoltResponse | None,
) -> BoltResponse | None:
    # Bolt passes the response it would send while the request is not acknowledged yet, else None; events
    # are acknowledged before their listener runs.
    acked = response is None or body.get("type") == "event_callback"
    if isinstance(error, BoltUnhandledRequestError):
        kind = body.get("type")
        if not (body.get("command") or kind in ("block_actions", "view_submission")):
            return BoltResponse(status=200)  # events and surfaces refdesk doesn't use: nothing to do
        if _has_listener(body):
            # A listener took it but its ack() came after Bolt stopped waiting (a loaded machine), or it failed
            # right after acking. Either way the listener speaks for itself (its answer, or the apology above);
            # "I couldn't read that" would be untrue. Slack has given up on this HTTP answer already.
            log.warning("a %s listener acknowledged too late for Slack", kind or "slash command")
            return BoltResponse(status=200)
        log.warning("unhandled %s request", kind or "slash command")
        text = UNKNOWN_BUTTON if kind == "block_actions" else UNREADABLE
        return _answer(body, client, respond, Mrkdwn(":warning: ") + text, acked=False)
    if isinstance(error, Unreadable):
        log.warning("unreadable %s payload: %s", body.get("type") or "slash command", error)
        text = UNREADABLE_ANSWER if error.block_id else UNREADABLE
        return _answer(
            body, client, respond, Mrkdwn(":warning: ") + text, acked=acked, block_id=error.block_id
        )
    if isinstance(error, RefdeskError):
        log.warning("refused: %s", error)
        return _answer(body, client, respond, error.text, acked=acked)
    error_id = uuid.uuid4().hex[:8]
    kind = body.get("type") or ("slash_command" if body.get("command") else "unknown")
    log.error("error %s while handling a %s request", error_id, kind, exc_info=error)
    text = mrkdwn(
        ":warning: Sorry, something went wrong on my side. "
        "If it happens again, tell your refdesk admin the error id `{}`.",
        error_id,
    )
    return _answer(body, client, respond, text, acked=acked)
