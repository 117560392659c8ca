"""Signed but unreadable payloads: refused in one place, before any listener reads them.

Slack signed the request (bot/verification.py checked), but its shape is not what Slack sends: a field of the
wrong type, a state value that is not text, a date that is not a date. The person who acted is told "I couldn't
read that" (inline in a form, or privately), or Slack gets a 400 when there is nobody to tell; never a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.rules.forms import parse_id
from handlers.replies import tell

log = logging.getLogger("refdesk.errors")

UNREADABLE = (
    "I couldn't read that (the request from Slack was not in the shape I expect), so nothing changed."
)
UNREADABLE_ANSWER = "I couldn't read this answer: please enter it again."
UNKNOWN_BUTTON = "I don't know that button (it may be from an older version of refdesk), so nothing changed."

_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z: beyond it, no date can be made of it


class Unreadable(Exception):
    """A signed payload that is not shaped like Slack's; `block_id` names the form answer at fault."""

    def __init__(self, reason: str, *, block_id: str | None = None) -> None:
        super().__init__(reason)
        self.block_id = block_id


def button_ids(raw: object, count: int) -> list[int] | None:
    """The `count` ids a button value carries ("12", "12:3:1"), each range-checked; None when it is not ours.

    Listeners check this right after their ack and refuse with `refuse_unreadable` (no exception: an error
    raised just after an ack races Bolt's own bookkeeping of it).
    """
    parts = str(raw if raw is not None else "").split(":")
    numbers = [parse_id(part) for part in parts]
    if len(numbers) != count or None in numbers:
        return None
    return numbers  # type: ignore[return-value]


def refuse_unreadable(*, client: WebClient, body: dict[str, Any], respond: Respond | None) -> None:
    log.warning("unreadable %s value", body.get("type") or "slash command")
    tell(client=client, body=body, respond=respond, text=":warning: " + UNREADABLE)


def register(app: App) -> None:
    app.use(check_payload)


def check_payload(body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002 - Bolt's name
    problem(body)
    next()


def _text(value: Any, *, optional: bool = True) -> bool:
    return isinstance(value, str) or (optional and value is None)


def _mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _option(value: Any) -> bool:
    return value is None or (_mapping(value) and _text(value.get("value"), optional=False))


def _iso_date(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _timestamp(value: Any) -> bool:
    return value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TIMESTAMP
    )


# What each kind of state value carries, as Slack sends it.
_STATE_FIELDS: dict[str, Callable[[Any], bool]] = {
    "type": lambda v: _text(v, optional=False),
    "value": _text,
    "selected_option": _option,
    "selected_options": lambda v: v is None or (isinstance(v, list) and all(_option(o) and o for o in v)),
    "selected_date": _iso_date,
    "selected_time": _text,
    "selected_date_time": _timestamp,
    "selected_user": _text,
    "selected_users": lambda v: v is None or (isinstance(v, list) and all(isinstance(u, str) for u in v)),
    "selected_conversation": _text,
    "selected_channel": _text,
}


def _user_id(body: Mapping[str, Any]) -> str | None:
    user = body.get("user")
    raw = user.get("id") if _mapping(user) else body.get("user_id")
    return raw if isinstance(raw, str) and _SLACK_ID.match(raw) else None


def _state(values: Any) -> None:
    if not _mapping(values):
        raise Unreadable("state.values is not an object")
    for block_id, elements in values.items():
        if not _mapping(elements):
            raise Unreadable("a state block is not an object", block_id=block_id)
        for element in elements.values():
            if not _mapping(element):
                raise Unreadable("a state value is not an object", block_id=block_id)
            for name, valid in _STATE_FIELDS.items():
                if name in element and not valid(element[name]):
                    raise Unreadable(f"state field {name} is not what Slack sends", block_id=block_id)


def _storable(node: Any, depth: int = 0) -> bool:
    """No NUL and no lone surrogate anywhere: Slack never sends them, and no database stores them."""
    if isinstance(node, str):
        return _UNSTORABLE.search(node) is None
    if isinstance(node, Mapping):
        return depth < 32 and all(_storable(k) and _storable(v, depth + 1) for k, v in node.items())
    if isinstance(node, list):
        return depth < 32 and all(_storable(v, depth + 1) for v in node)
    return True


def problem(body: Mapping[str, Any]) -> None:
    """Raises Unreadable when `body` is not shaped the way Slack shapes what refdesk listens to."""
    if not _storable(body):
        raise Unreadable("text with a NUL or a lone surrogate, or nested too deep")
    kind = body.get("type")
    if body.get("command") is not None:
        if not all(_text(body.get(k), optional=False) for k in ("command", "text", "trigger_id")):
            raise Unreadable("a slash command field is not text")
        if _user_id(body) is None:
            raise Unreadable("no user")
    elif kind == "block_actions":
        actions = body.get("actions")
        if _user_id(body) is None:
            raise Unreadable("no user")
        if not (isinstance(actions, list) and actions and all(_mapping(a) for a in actions)):
            raise Unreadable("no actions")
        action = actions[0]
        if not (_text(action.get("action_id"), optional=False) and _text(action.get("value"))):
            raise Unreadable("an action's id or value is not text")
        if not _option(action.get("selected_option")):
            raise Unreadable("an action's selected option is not an option")
        for key in ("container", "channel"):
            if body.get(key) is not None and not _mapping(body[key]):
                raise Unreadable(f"{key} is not an object")
        if not _text(body.get("trigger_id"), optional=False) or not _text(body.get("response_url")):
            raise Unreadable("no trigger_id, or a response_url that is not text")
    elif kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if _user_id(body) is None:
            raise Unreadable("no user")
        if not _mapping(view) or not (
            all(_text(view.get(k), optional=False) for k in ("id", "callback_id"))
            and _text(view.get("private_metadata"))
        ):
            raise Unreadable("the view is not an object with text ids")
        if kind == "view_submission":
            _state((view.get("state") or {}).get("values") if _mapping(view.get("state")) else None)
    elif kind == "event_callback":
        event = body.get("event")
        if not _mapping(event) or not _text(event.get("type"), optional=False):
            raise Unreadable("the event is not an object")
        if event.get("type") == "app_home_opened" and (
            not isinstance(event.get("user"), str) or not _SLACK_ID.match(event["user"])
        ):
            raise Unreadable("app_home_opened without a user")
