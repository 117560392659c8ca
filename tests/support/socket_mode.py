"""Slack's Socket Mode endpoint on 127.0.0.1: says hello, sends envelopes, records the app's acks.

The simulated Web API hands out its URL from apps.connections.open (FakeSlack.socket_mode_url).
The WebSocket side is the `websockets` library's synchronous server: the protocol is not ours to write.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

ENVELOPE = json.loads(
    (
        Path(__file__).parent.parent / "fixtures/slack/payloads/socket_mode_envelope_slash_command.json"
    ).read_text()
)


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> what the app sent back
        self.paths: list[str] = []  # the URL path of each connection the app opened
        self._connection: ServerConnection | None = None
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=refdesk-test&app_id=A0REFDESK"

    def _session(self, connection: ServerConnection) -> None:
        with self._lock:
            self.paths.append(connection.request.path if connection.request else "")
            self._connection = connection
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A0REFDESK"},
                }
            )
        )
        self._connected.set()
        try:
            for message in connection:
                ack = json.loads(message)
                with self._lock:
                    self.acks[ack["envelope_id"]] = ack
        except ConnectionClosed:
            pass

    def wait_connected(self, timeout: float = 30) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the app never opened the Socket Mode connection")

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        """One envelope as Slack sends it ("slash_commands", "interactive", "events_api"); its envelope_id."""
        envelope_id = f"envelope-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
        }
        assert self._connection is not None, "no app is connected"
        self._connection.send(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        """The app's ack of one envelope, waiting for it as Slack does (3 s is Slack's limit; we allow more)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if envelope_id in self.acks:
                    return self.acks[envelope_id]
            time.sleep(0.01)
        raise AssertionError(f"no ack for {envelope_id}; acked: {sorted(self.acks)}")
