"""Slack's request signing, checked on the raw bytes before anything else reads a request.

Nothing of an unverified request reaches Bolt: no parser, middleware, listener or error handler sees its body,
so nothing can answer a `response_url` or a user that a forger chose. A refusal is logged with the method,
path, size and reason only, never the body. See the README, "How requests are verified".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.context import BoltContext
from slack_bolt.request import payload_utils
from slack_bolt.request.internals import build_context, parse_body

log = logging.getLogger("refdesk.http")

# Slack's payloads are small (a modal of 100 blocks is tens of kilobytes); anything bigger is not Slack.
MAX_BODY_BYTES = 1024 * 1024
# Slack's own rule: a request signed more than five minutes ago (or ahead) may be a replay.
MAX_SKEW_SECONDS = 5 * 60
CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
_SIGNATURE_LENGTH = len("v0=") + 64
_BOLT_EXTRACTORS = (
    payload_utils.to_options,
    payload_utils.to_shortcut,
    payload_utils.to_action,
    payload_utils.to_view,
    payload_utils.to_command,
    payload_utils.to_event,
    payload_utils.to_message,
    payload_utils.to_step,
)


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def _content_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def check_signature(*, headers: Mapping[str, str], body: bytes, secret: bytes, now: float) -> Refusal | None:
    """None when `body` is what Slack signed within the last five minutes; else why not. Headers lower-cased."""
    if _content_type(headers) not in CONTENT_TYPES:
        return Refusal(415, "content type is not Slack's")
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Refusal(400, "timestamp is not a number")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return Refusal(401, "timestamp more than 5 minutes away")
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    # Compared as bytes of a fixed length, in constant time: the header may hold anything.
    given = signature.encode("utf-8", "replace")
    if len(given) != _SIGNATURE_LENGTH or not hmac.compare_digest(given, expected.encode()):
        return Refusal(401, "signature mismatch")
    return None


def parse_envelope(*, headers: Mapping[str, str], body: bytes) -> dict[str, Any] | Refusal:
    """A signed body Bolt can read, parsed: UTF-8, a JSON object (or a form whose `payload` is one)."""
    try:
        text = body.decode("utf-8")
        parsed = parse_body(text, _content_type(headers))
        if not isinstance(parsed, dict):
            return Refusal(400, "payload is not an object")
        # What Bolt reads from every payload before any of our code runs: ids, and the pieces it hands listeners.
        build_context(BoltContext({}), parsed)
        for extract in _BOLT_EXTRACTORS:
            extract(parsed)
    except Exception:  # noqa: BLE001 - any way a signed body fails to parse is "malformed", never a 500
        return Refusal(400, "malformed payload")
    return parsed


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SlackVerifier:
    """Reads a request's body (at most MAX_BODY_BYTES) and lets it through only when Slack signed it."""

    def __init__(
        self, signing_secret: str, *, max_body: int = MAX_BODY_BYTES, clock: Callable[[], float] = time.time
    ) -> None:
        if not signing_secret:
            raise ValueError("a signing secret is required to verify Slack's requests")
        self._secret = signing_secret.encode()
        self.max_body = max_body
        # Wall time, not the app's injected clock: freshness is judged against the clock Slack signed with.
        self._clock = clock

    @staticmethod
    def headers_of(scope: Mapping[str, Any]) -> dict[str, str]:
        return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}

    async def receive_body(
        self, scope: Mapping[str, Any], receive: Receive
    ) -> tuple[bytes, Refusal | None, int]:
        """(body, None, size) for a body within MAX_BODY_BYTES, unchecked; else (b"", why not, the size seen).

        The only part that runs on the event loop: checking the signature and parsing (`check`) are CPU work,
        done on the request's own thread so the loop keeps accepting and answering."""
        declared = self.headers_of(scope).get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                return b"", Refusal(400, "bad content length"), 0
            if int(declared) > self.max_body:
                return b"", Refusal(413, f"body over {self.max_body} bytes"), int(declared)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", Refusal(400, "client went away"), size
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", Refusal(413, f"body over {self.max_body} bytes"), size
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None, size

    def check(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any] | Refusal:
        """The parsed payload of a request Slack signed within the last five minutes; else why not."""
        refusal = check_signature(headers=headers, body=body, secret=self._secret, now=self._clock())
        return refusal or parse_envelope(headers=headers, body=body)

    @staticmethod
    async def refuse(scope: Mapping[str, Any], send: Send, refusal: Refusal, size: int) -> None:
        """Answer `refusal.status`; the log line names the request, never its content."""
        log.warning(
            "refused %s %s (%d bytes): %s", scope.get("method"), scope.get("path"), size, refusal.reason
        )
        body = json.dumps({"ok": False, "error": refusal.reason}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": refusal.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
