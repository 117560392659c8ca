"""Outbound webhooks against a receiver on 127.0.0.1: signed like Slack, retried on 5xx, never sent twice."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from bot.delivery import webhooks
from bot.delivery.webhooks import WebhookSender, verify
from store import lifecycle
from store.models import NudgeStatus, WebhookDelivery
from tests.support.pool import ask_dana
from tests.test_outreach import schedule

SECRET = "webhook-secret-0123456789"


class Receiver:
    """Stores what it accepts, by event id; answers 500 to the first `fail_first` attempts of each event."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts: dict[str, int] = {}
        self.accepted: list[dict] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Refdesk-Request-Timestamp"]
                event_id = self.headers["X-Refdesk-Event-Id"]
                with receiver.lock:
                    if not verify(SECRET, timestamp, body, self.headers["X-Refdesk-Signature"]):
                        receiver.bad_signatures += 1
                        self.send_response(401)
                        self.end_headers()
                        return
                    seen = receiver.attempts[event_id] = receiver.attempts.get(event_id, 0) + 1
                    if seen <= receiver.fail_first:
                        self.send_response(500)
                        self.end_headers()
                        return
                    receiver.accepted.append({"event_id": event_id, **json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/refdesk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(fail_first: int = 0) -> Receiver:
        made.append(Receiver(fail_first))
        return made[-1]

    yield make
    for each in made:
        each.stop()


def sender(harness, **kwargs) -> WebhookSender:
    return WebhookSender(db=harness.db, clock=harness.clock, secret=SECRET, timeout_seconds=5, **kwargs)


def deliveries(harness, status: str | None = None) -> int:
    with harness.db.unit_of_work() as session:
        statement = select(func.count()).select_from(WebhookDelivery)
        if status:
            statement = statement.where(WebhookDelivery.status == status)
        return session.scalar(statement)


def test_each_audit_event_is_signed_retried_on_5xx_and_delivered_once_across_restarts(harness, receiver):
    crm = receiver(fail_first=1)
    webhooks.install(harness.db, [crm.url])
    request_id, _ = ask_dana(harness)
    queued = deliveries(harness)
    assert queued == 3  # filed, approved, advocate asked (the card being posted is refdesk's own business)

    first = sender(harness).run_pass()
    assert (first.claimed, first.sent, first.retried) == (3, 0, 3) and crm.accepted == []
    assert sender(harness).run_pass().claimed == 0  # nothing is due until the backoff has passed

    harness.clock.set(harness.clock.now() + timedelta(seconds=31))
    after_restart = sender(harness).run_pass()  # a new process: only the database remembers
    assert (after_restart.sent, after_restart.retried) == (3, 0)
    assert sender(harness).run_pass().claimed == 0
    harness.clock.set(harness.clock.now() + timedelta(hours=1))
    assert sender(harness).run_pass().claimed == 0

    assert crm.bad_signatures == 0
    assert [e["type"] for e in crm.accepted] == ["request.filed", "request.approved", "advocate.asked"]
    assert len({e["event_id"] for e in crm.accepted}) == 3
    assert all(e["id"] == e["event_id"] and e["request"]["id"] == request_id for e in crm.accepted)
    assert all(attempts == 2 for attempts in crm.attempts.values())
    assert deliveries(harness, NudgeStatus.SENT) == 3


def test_the_whole_life_of_a_request_reaches_every_url(harness, receiver):
    crm, warehouse = receiver(), receiver()
    webhooks.install(harness.db, [crm.url, warehouse.url])
    schedule(harness)
    assert sender(harness).run_pass().sent == deliveries(harness) == 10  # five events, two URLs
    for each in (crm, warehouse):
        assert [e["type"] for e in each.accepted] == [
            "request.filed", "request.approved", "advocate.asked", "advocate.answered", "call.scheduled",
        ] and each.accepted[3]["detail"]["answer"] == "yes"  # fmt: skip
    assert "opportunity_id" in crm.accepted[0]["request"]


def test_an_event_rolled_back_queues_nothing(harness, receiver):
    crm = receiver()
    webhooks.install(harness.db, [crm.url])
    request_id, _ = ask_dana(harness)
    before = deliveries(harness)
    with pytest.raises(RuntimeError), harness.db.unit_of_work() as session:
        lifecycle.add_event(session=session, request_id=request_id, at=harness.clock.now(), actor_id="U0CS1",
                          action="approved")  # fmt: skip
        session.flush()
        raise RuntimeError("the request's own change failed")
    assert deliveries(harness) == before


def test_a_sender_whose_lease_ran_out_does_not_send_what_another_took(harness, receiver):
    crm = receiver()
    webhooks.install(harness.db, [crm.url])
    ask_dana(harness)
    stalled = sender(harness, lease=timedelta(seconds=10))
    claimed = stalled._claim(harness.clock.now())  # it claims, then hangs (a GC pause, a dead process)
    harness.clock.set(harness.clock.now() + timedelta(seconds=11))
    assert sender(harness).run_pass().sent == 3
    result = webhooks.SendResult()
    for delivery_id, token in claimed:  # it wakes up and carries on
        stalled._deliver(delivery_id, token, harness.clock.now(), result)
    assert result.sent == 0 and len(crm.accepted) == 3


def test_two_senders_at_once_deliver_each_event_once(harness, receiver):
    crm = receiver()
    webhooks.install(harness.db, [crm.url])
    schedule(harness)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(sender(harness, batch=2).run_pass())) for _ in "ab"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in results) == 5 and len(crm.accepted) == 5
    assert len({e["event_id"] for e in crm.accepted}) == 5


def test_a_4xx_fails_for_good_and_no_url_means_no_outbox(harness, receiver):
    webhooks.install(harness.db, ["http://127.0.0.1:9/nothing-listens-here"])
    ask_dana(harness)
    refused = sender(harness, max_attempts=1).run_pass()  # connection refused: a network error, then give up
    assert refused.failed == 3 and deliveries(harness, NudgeStatus.FAILED) == 3
    webhooks.install(harness.db, [])
    harness.file_request(prospect_company="Globex")
    assert deliveries(harness) == 3
