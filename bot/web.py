"""HTTP mode: Bolt's ASGI adapter behind uvicorn, plus a health check for load balancers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.verification import SlackVerifier, replay
from store.db import Database

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class RefdeskASGI(SlackRequestHandler):
    """`POST /slack/events` for Slack (verified first: bot/verification.py), `GET /healthz` for the load balancer."""

    def __init__(self, app: App, db: Database, *, signing_secret: str) -> None:
        super().__init__(app, path=EVENTS_PATH)
        self.db = db
        self.verifier = SlackVerifier(signing_secret)

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        # Bolt's App is synchronous: run it off the event loop so one slow request never stalls the rest.
        bolt_request = BoltRequest(
            body=await request.get_raw_body(), query=request.query_string, headers=request.get_headers()
        )
        return await asyncio.to_thread(self.app.dispatch, bolt_request)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            healthy = await asyncio.to_thread(self.db.ping)
            body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200 if healthy else 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http" and scope["path"] == EVENTS_PATH and scope["method"] == "POST":
            body, refusal, size = await self.verifier.read(scope, receive)
            if refusal is not None:
                await self.verifier.refuse(scope, send, refusal, size)
                return
            receive = replay(body)
        await super().__call__(scope, receive, send)
