"""Reading what the simulated Slack received: what reached a given person, and any live markup in it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from bot.demo.simulator.slack import Call

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")


def _dm_channels(users: Iterable[str]) -> set[str]:
    return {"D" + u[1:] for u in users} | set(users)


def _content(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, ensure_ascii=False, default=str)


def _to(call: Call, users: set[str], channels: set[str]) -> bool:
    p, method = call.params, call.method
    if method in ("chat.postMessage", "chat.update"):
        return p.get("channel") in channels
    if method == "chat.postEphemeral":
        return p.get("user") in users
    if method == "response_url":
        return any(p["_path"].endswith(f"-{u}") for u in users)
    if method in VIEW_METHODS:  # the harness names the clicker in each trigger id
        return p.get("user_id") in users or any(f"-{u}-" in str(p.get("trigger_id")) for u in users)
    return False


def addressed_to(calls: list[Call], users: set[str]) -> list[str]:
    """Everything Slack was asked to show `users`: DMs and their updates, ephemerals, their modals, files."""
    channels = _dm_channels(users)
    found: list[str] = []
    uploads: set[str] = set()
    for call in calls:
        p = call.params
        if _to(call, users, channels):
            found.append(_content(p))
        elif call.method == "files.completeUploadExternal" and p.get("channel_id") in channels:
            found.append(_content(p))
            files = p.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            uploads.update(f["id"] for f in files)
    found += [
        _content(c.params["content"])
        for c in calls
        if c.method == "file_upload" and c.params["file_id"] in uploads
    ]
    return found


def mrkdwn_texts(call: Call) -> Iterator[str]:
    """The strings Slack parses as mrkdwn in one call: the message text, file comments, mrkdwn objects."""
    p = call.params
    if call.method in MESSAGE_METHODS and isinstance(p.get("text"), str):
        yield p["text"]
    if isinstance(p.get("initial_comment"), str):
        yield p["initial_comment"]

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                yield node["text"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(p.get("blocks"))
    yield from walk(p.get("view"))


# The markup refdesk writes itself: mentions of the test's members (ids starting U0), the CS channel, dates.
_OWN_MARKUP = re.compile(r"^<(@U0[A-Z0-9]+|#C0[A-Z0-9]+|!date\^\d+\^[^|<>]*\|[^<>]*)>$")
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def live_markup(calls: list[Call]) -> list[str]:
    """Every `<…>` token that is not refdesk's own markup, and every unescaped `&`, in mrkdwn Slack received."""
    problems: list[str] = []
    for call in calls:
        for text in mrkdwn_texts(call):
            rest = text
            for token in re.findall(r"<[^<>]*>", text):
                if _OWN_MARKUP.match(token):
                    rest = rest.replace(token, "", 1)
                else:
                    problems.append(f"{call.method}: {token!r} in {text[:200]!r}")
            if "<" in rest and not problems:
                problems.append(f"{call.method}: unescaped < in {text[:200]!r}")
            if _BARE_AMPERSAND.search(text):
                problems.append(f"{call.method}: unescaped & in {text[:200]!r}")
    return problems
