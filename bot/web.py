"""HTTP mode: Bolt's ASGI adapter behind uvicorn, plus a health check for load balancers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.context.ack import Ack
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.verification import Refusal, SlackVerifier
from store.db import Database

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
ACK_THREADS = 32  # requests waiting for their listener's ack() at once, per process
ACK_PRIORITY_SECONDS = 0.25  # the longest the courier holds one send back while requests wait for acks
# The collector's first threshold (CPython's default is 700): a shortlist at 100k advocates builds ~1,000-3,000
# candidates with their rows, usage and grades, tens of thousands of objects that live until the page is rendered.
YOUNG_OBJECTS = 50_000

log = logging.getLogger(__name__)


class _Ack(Ack):
    """Bolt's ack(), which also hands its answer to the server the moment a listener calls it on its own thread.

    Bolt's thread runner notices a listener's ack() by polling every 10 ms (slack_bolt/listener/thread_runner.py),
    so every answer left ~10 ms after the listener had given it, and the courier's messages waited for that answer
    (RefdeskASGI.let_acks_first). An ack() on the request's own thread (Bolt acknowledging an event before it
    hands the listener on) is answered by Bolt at once, after the hand-off: left to Bolt.
    """

    def __init__(self, answered: Callable[[BoltResponse], None]) -> None:
        super().__init__()
        self._answered = answered
        self._request_thread = threading.get_ident()

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        if threading.get_ident() != self._request_thread:
            self._answered(response)
        return response


def _settle(answer: asyncio.Future[BoltResponse], response: BoltResponse) -> None:
    if not answer.done():  # the first ack() answers; a second one, or one after Bolt gave up, changes nothing
        answer.set_result(response)


def _left_behind(work: asyncio.Future[Any]) -> None:
    """Bolt's dispatch of a request already answered from its ack(): what it ends with is only logged."""
    if not work.cancelled() and (error := work.exception()) is not None:
        log.error("a request answered at its ack() failed afterwards", exc_info=error)


class RefdeskASGI(SlackRequestHandler):
    """`POST /slack/events` for Slack (verified first: bot/verification.py), `GET /healthz` for the load balancer."""

    def __init__(
        self, app: App, db: Database, *, signing_secret: str, ack_threads: int = ACK_THREADS
    ) -> None:
        super().__init__(app, path=EVENTS_PATH)
        self.db = db
        self.verifier = SlackVerifier(signing_secret)
        # Bolt's App is synchronous, and each request's thread waits there until its listener calls ack().
        # Those threads are refdesk's own, never shared with slow work (asyncio's default pool, six threads
        # on two cores, also ran the health check and anything else sent to_thread): listeners run in Bolt's
        # listener pool, and what is slow after the ack (rendering, Slack calls) goes through the outbox.
        self._acks = ThreadPoolExecutor(max_workers=ack_threads, thread_name_prefix="ack")
        self.in_flight = 0  # requests not answered yet (changed on the event loop only)
        self._answered = threading.Event()  # set while no request waits: the courier goes on the moment it is
        self._answered.set()

    def let_acks_first(self, budget: float = ACK_PRIORITY_SECONDS) -> None:
        """The courier's pause before each send while requests wait for their ack (at most `budget`): in a
        burst, the process's CPU goes to answering Slack within 3 s; the messages follow right after. It ends
        when the last request is answered, not at the next tick of a timer (a 5 ms poll made every shortlist
        after a click wait up to 5 ms more)."""
        self._answered.wait(budget)

    def answer(
        self, scope: dict[str, Any], body: bytes, answered: Callable[[BoltResponse], None] | None = None
    ) -> BoltResponse | Refusal:
        """On the request's own thread: the signature, one parse, and Bolt until the listener's ack().
        `answered` hears the listener's ack() as it is called (see _Ack)."""
        headers = self.verifier.headers_of(scope)
        checked = self.verifier.check(headers, body)
        if isinstance(checked, Refusal):
            return checked
        # Bolt gets the payload the verifier already parsed (a form submission is 20 KB of URL-encoded JSON;
        # parsing it twice was a third of the loop's work) and the raw text, for its own signature check.
        request = BoltRequest(
            body=checked,
            query=str(scope.get("query_string", b""), "latin-1"),
            headers=headers,
            mode="socket_mode",
        )
        request.raw_body = body.decode("utf-8")
        request.mode = "http"
        if answered is not None:
            request.context["ack"] = _Ack(answered)
        return self.app.dispatch(request)

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
            # The event loop only moves bytes: everything CPU-bound happens on the request's thread, so a burst
            # of requests is accepted and answered as fast as their listeners ack.
            body, refusal, size = await self.verifier.receive_body(scope, receive)
            if refusal is None:
                self.in_flight += 1
                self._answered.clear()
                try:
                    answer = await self._answer_at_ack(scope, body)
                finally:
                    self.in_flight -= 1
                    if not self.in_flight:
                        self._answered.set()
                if isinstance(answer, BoltResponse):
                    response = AsgiHttpResponse(
                        status=answer.status, headers=answer.headers, body=answer.body
                    )
                    await send(response.get_response_start())
                    await send(response.get_response_body())
                    return
                refusal = answer
            await self.verifier.refuse(scope, send, refusal, size)
            return
        await super().__call__(scope, receive, send)

    async def _answer_at_ack(self, scope: dict[str, Any], body: bytes) -> BoltResponse | Refusal:
        """Bolt's answer to the request, sent as soon as the listener calls ack(): what Bolt would answer once
        its poll saw that ack(), ~10 ms sooner. Without an ack() (refused, no listener, a middleware's own
        answer, Bolt giving up at 3 s), or when Bolt finishes first, Bolt's own answer."""
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[BoltResponse] = loop.create_future()

        def answered(response: BoltResponse) -> None:  # on the listener's thread
            # RuntimeError: the loop is closed (the server shutting down); Bolt's own answer, if any, stands
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, acked, response)

        work = loop.run_in_executor(self._acks, self.answer, scope, body, answered)
        await asyncio.wait((work, acked), return_when=asyncio.FIRST_COMPLETED)
        if work.done():
            return work.result()
        work.add_done_callback(_left_behind)
        return acked.result()


def serve_app() -> RefdeskASGI:
    """`refdesk serve`'s app factory (uvicorn `factory=True`): each worker process builds its own app, database
    engine, courier and scheduler from the environment. The database's claims keep every message sent once."""
    from bot.delivery.scheduler import start_scheduler
    from bot.logs import announce_rules, configure_logging
    from bot.preflight import build_app, open_database
    from bot.settings import load_settings

    settings = load_settings(require=("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "CS_CHANNEL_ID"))
    configure_logging(settings.log_level)
    from bot.delivery.scheduler import make_courier

    db = open_database(settings)
    courier = make_courier(settings=settings, db=db)
    app = build_app(settings, db, courier=courier)
    start_scheduler(settings=settings, db=db)
    announce_rules(settings)
    asgi = RefdeskASGI(app, db, signing_secret=settings.slack_signing_secret)
    courier.dispatcher.yield_to = asgi.let_acks_first
    settle_heap()
    return asgi


def settle_heap() -> None:
    """What start-up built (modules, the app, the engine) is kept out of the collector's way, and the young
    generation is made large enough for one shortlist's objects.

    With CPython's defaults every shortlist at 100k advocates ran a dozen young collections over its own live
    candidates, and one in six a full collection over the whole heap (100-150 ms on this 2-core machine): the
    render's tail. Rendering 100 shortlists in one process, collector time per shortlist: mean 33 ms, p95 162
    ms with the defaults; frozen after start-up 16 / 58 ms; frozen and YOUNG_OBJECTS 0.7 / 0 ms.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
