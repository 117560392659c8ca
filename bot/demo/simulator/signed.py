"""Sends requests to refdesk's HTTP endpoint the way Slack does: form or JSON bodies, signed."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    def __init__(self, *, host: str, port: int, signing_secret: str, path: str = "/slack/events") -> None:
        self.host, self.port, self.path = host, port, path
        self.verifier = SignatureVerifier(signing_secret)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.verifier.generate_signature(timestamp=ts, body=body),
            **(extra_headers or {}),
        }
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("POST", self.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.read().decode())
        finally:
            connection.close()

    def command(self, form: dict[str, str], **kwargs: Any) -> Reply:
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kwargs)

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kwargs
        )

    def event(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(json.dumps(payload), "application/json", **kwargs)

    def get(self, path: str) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return Reply(response.status, response.read().decode())
        finally:
            connection.close()
