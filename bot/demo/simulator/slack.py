"""A simulated Slack Web API on 127.0.0.1: records every call, answers like Slack, fails on demand."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass
class Call:
    method: str  # "chat.postMessage", …; "response_url" for posts to a response_url
    params: dict[str, Any]
    headers: dict[str, str]
    ok: bool = True  # False when the fake answered with an injected failure
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None  # Slack's {"ok": false, "error": ...}
    retry_after: int | None = None
    times: int = 1
    hang: float = 0.0  # a timeout: Slack never acts on the call and answers nothing for `hang` seconds


class FakeSlack:
    def __init__(self, validator: Callable[[str, dict[str, Any]], list[str]] | None = None) -> None:
        self.validator = validator
        self.calls: list[Call] = []
        self.cs_members: list[str] = []
        self.members_page_size = 2
        self.user_tz: dict[str, str] = {}
        self.users_by_email: dict[str, str] = {}  # users.lookupByEmail: who is in the workspace, by email
        self.invalid_blocks: list[str] = []  # what refdesk sent that Slack would refuse
        self.latency = 0.0  # seconds each Web API call takes, as over a real network
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out (a ws:// URL)
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval: stopping the server (every test does) waits at most this long.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/{name}"

    # --- scripting -------------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        hang: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` fail: HTTP `status` (429/5xx), Slack's ok=false `error`, or
        (`hang` seconds) no answer at all, so the caller's timeout fires; Slack did not act on it."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                Failure(status=status, error=error, retry_after=retry_after, times=times, hang=hang)
            )

    # --- reading -------------------------------------------------------------------------------
    def of(self, method: str) -> list[dict[str, Any]]:
        """The successful calls of `method`: what Slack acted on."""
        with self._lock:
            return [c.params for c in self.calls if c.method == method and c.ok]

    def attempts(self, method: str) -> list[Call]:
        """Every call of `method`, failed ones included."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def messages_to(self, channel: str) -> list[dict[str, Any]]:
        return [p for p in self.of("chat.postMessage") if p.get("channel") == channel]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"Slack never saw what was expected; calls: {self.methods()}")
            time.sleep(0.01)

    # --- answering -------------------------------------------------------------------------------
    def _next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _check_blocks(self, method: str, params: dict[str, Any]) -> Failure | None:
        """Slack refuses blocks it cannot render; tests plug a validator in (see tests/support/fake_slack.py)."""
        if self.validator is None:
            return None
        found = self.validator(method, params)
        if not found:
            return None
        with self._lock:
            self.invalid_blocks.extend(f"{method}: {p}" for p in found)
        return Failure(error="invalid_blocks")

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "refdesk",
                "team_id": "T0TEAM",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
            }
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            if channel.startswith(("U", "W")):
                channel = "D" + channel[1:]
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts},
            }
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **(params.get("view") or {})}}
        if method == "conversations.members":
            start = int(params.get("cursor") or 0)
            page = self.cs_members[start : start + self.members_page_size]
            more = start + self.members_page_size < len(self.cs_members)
            return {
                "ok": True,
                "members": page,
                "response_metadata": {"next_cursor": str(start + self.members_page_size) if more else ""},
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            port = self._server.server_address[1]
            return {"ok": True, "upload_url": f"http://127.0.0.1:{port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files or []]}
        if method == "users.info":
            user = str(params.get("user"))
            return {"ok": True, "user": {"id": user, "tz": self.user_tz.get(user, "UTC")}}
        if method == "users.list":  # the workspace: the members whose zone it was given, in that order
            start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 200)
            listed = list(self.user_tz.items())[start : start + limit]
            more = start + limit < len(self.user_tz)
            return {
                "ok": True,
                "members": [{"id": user, "tz": tz} for user, tz in listed],
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        if method == "users.lookupByEmail":
            found = self.users_by_email.get(str(params.get("email", "")).lower())
            if found is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": found, "tz": self.user_tz.get(found, "UTC")}}
        if method == "apps.connections.open":
            # Without a Socket Mode server of its own, an address where nothing listens: connecting fails.
            return {"ok": True, "url": self.socket_mode_url or "ws://127.0.0.1:1/link/"}
        if method == "conversations.open":
            user = str(params.get("users", "U0")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + user[1:]}}
        return {"ok": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if url.path.startswith("/upload/"):  # file contents: bytes, not text
                    with fake._lock:
                        file_id = url.path.rsplit("/", 1)[1]
                        fake.calls.append(
                            Call("file_upload", {"file_id": file_id, "content": data}, dict(self.headers))
                        )
                    self.send_response(200)
                    self._send_json('{"ok": true}')
                    return
                raw = data.decode()
                params: dict[str, Any] = dict(parse_qsl(url.query))
                if raw:
                    if (self.headers.get("Content-Type") or "").startswith("application/json"):
                        params.update(json.loads(raw))
                    else:
                        params.update(dict(parse_qsl(raw)))
                for key in JSON_FIELDS:
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                if url.path.startswith("/response/"):
                    method = "response_url"
                    params["_path"] = url.path
                elif url.path.startswith("/api/"):
                    method = url.path[len("/api/") :]
                else:
                    self.send_error(404)
                    return
                if fake.latency:
                    time.sleep(fake.latency)
                failure = fake._next_failure(method)
                if failure is None:
                    failure = fake._check_blocks(method, params)
                with fake._lock:
                    fake.calls.append(Call(method, params, dict(self.headers), ok=failure is None))
                if failure and failure.hang:
                    time.sleep(failure.hang)
                    self.close_connection = True
                    return
                if failure and failure.status != 200:
                    body = json.dumps(
                        {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal_error"}
                    )
                    self.send_response(failure.status)
                    if failure.retry_after is not None:
                        self.send_header("Retry-After", str(failure.retry_after))
                    self._send_json(body)
                    return
                if failure and failure.error:
                    answer: dict[str, Any] = {"ok": False, "error": failure.error}
                elif method == "response_url":
                    answer = {"ok": True}
                else:
                    answer = fake._answer(method, params)
                self.send_response(200)
                self._send_json(json.dumps(answer))

            def _send_json(self, body: str) -> None:
                data = body.encode()
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle  # noqa: N815 - http.server's naming
            do_POST = _handle  # noqa: N815

        return Handler
