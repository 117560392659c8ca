"""Outbound webhooks: every audit event POSTed as signed JSON to the configured URLs, through an outbox.

Each audit event (store.models.RequestEvent) inserted while webhooks are configured writes one delivery row per
URL in the same transaction (a mapper listener on the insert), so an event is never lost between the commit and
the POST. A sender claims due rows with a lease (like bot/delivery/dispatcher.py), POSTs them, retries 5xx, 429 and
network failures with backoff, and marks each sent once. The body and the event id are the same on every
attempt, so a receiver that sees a retry of something it already stored can tell by X-Refdesk-Event-Id.

Signature, the way Slack signs its own requests: X-Refdesk-Signature = "v0=" + hex HMAC-SHA256 of
"v0:{X-Refdesk-Request-Timestamp}:{body}" with the webhook secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection, Engine

from bot.clock import Clock
from store import leases
from store.db import Database
from store.models import NudgeStatus, ReferenceRequest, RequestEvent, WebhookDelivery

log = logging.getLogger(__name__)

# What a CRM hears: the audit trail's actions as event types. card_posted is refdesk's own bookkeeping.
EVENT_TYPES = {
    "submitted": "request.filed",
    "approved": "request.approved",
    "declined": "request.declined",
    "no_match": "request.declined",
    "cancelled": "request.cancelled",
    "advocate_asked": "advocate.asked",
    "advocate_accepted": "advocate.answered",
    "advocate_passed": "advocate.answered",
    "ask_expired": "advocate.ask_expired",
    "call_scheduled": "call.scheduled",
    "call_rescheduling": "call.rescheduling",
    "call_cancelled": "call.cancelled",
    "call_held": "call.held",
    "call_missed": "call.missed",
    "checkin_logged": "call.checkin_logged",
    "answers_sent": "reference.answered",
    "peer_logged": "reference.logged",
    "deal_won": "deal.outcome",
    "deal_lost": "deal.outcome",
}

_urls: WeakKeyDictionary[Engine, tuple[str, ...]] = WeakKeyDictionary()


def install(db: Database, urls: tuple[str, ...] | list[str]) -> None:
    """From now on, audit events written to `db` are queued for `urls` (none: webhooks off)."""
    _urls[db.engine] = tuple(urls)


@event.listens_for(RequestEvent, "after_insert")
def _queue(mapper: Any, connection: Connection, target: RequestEvent) -> None:
    urls = _urls.get(connection.engine)
    if not urls or target.action not in EVENT_TYPES:
        return
    connection.execute(
        insert(WebhookDelivery),
        [
            dict(event_id=target.id, url=url, status=NudgeStatus.PENDING, due_at=target.at, attempts=0,
                 created_at=target.at)
            for url in urls
        ],
    )  # fmt: skip


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests): recompute, compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(event_row: RequestEvent, request: ReferenceRequest | None) -> bytes:
    """The JSON sent: the same bytes on every attempt (nothing in it changes after the event)."""
    detail = dict(event_row.detail or {})
    if event_row.action in ("advocate_accepted", "advocate_passed"):
        detail.setdefault("answer", "yes" if event_row.action == "advocate_accepted" else "no")
    if event_row.action in ("deal_won", "deal_lost"):
        detail.setdefault("outcome", event_row.action.removeprefix("deal_"))
    if event_row.action == "no_match":
        detail.setdefault("reason", "no_match")
    payload = {
        "id": f"refdesk-event-{event_row.id}",
        "type": EVENT_TYPES[event_row.action],
        "action": event_row.action,
        "occurred_at": event_row.at.isoformat(),
        "actor_id": event_row.actor_id,
        "request": None
        if request is None
        else {
            "id": request.id,
            "opportunity_id": request.opportunity_id,
            "prospect_company": request.prospect_company,
            "rep_id": request.rep_id,
            "deal_arr": request.deal_arr,
        },
        "detail": detail,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass
class SendResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"claimed {self.claimed}: sent {self.sent}, retried {self.retried}, failed {self.failed}"


class _Retry(Exception):
    def __init__(self, reason: str, after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.after = after


@dataclass
class WebhookSender:
    db: Database
    clock: Clock
    secret: str
    timeout_seconds: float = 5.0
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=30)
    worker: str = field(default_factory=leases.this_process)

    def run_pass(self) -> SendResult:
        result = SendResult()
        started = time.monotonic()
        while True:
            now = self.clock.now()
            claimed = self._claim(now)
            if not claimed:
                return result
            result.claimed += len(claimed)
            for delivery_id, token in claimed:
                self._deliver(delivery_id, token, now, result)
            if time.monotonic() - started > self.lease.total_seconds() / 2:
                return result

    def _claim(self, now: datetime) -> list[tuple[int, str]]:
        token = leases.new_token(self.worker)
        with self.db.unit_of_work() as session:
            rows = leases.claim_due(
                session=session,
                model=WebhookDelivery,
                now=now,
                token=token,
                lease=self.lease,
                batch=self.batch,
                skip_locked=not self.db.is_sqlite,
            )
        return [(row.id, token) for row in rows]

    def _finish(self, delivery_id: int, token: str, **values: object) -> bool:
        with self.db.unit_of_work() as session:
            return leases.finish(
                session=session, model=WebhookDelivery, row_id=delivery_id, token=token, **values
            )

    def _deliver(self, delivery_id: int, token: str, now: datetime, result: SendResult) -> None:
        with self.db.unit_of_work() as session:
            renewed = leases.finish(
                session=session,
                model=WebhookDelivery,
                row_id=delivery_id,
                token=token,
                lease_until=max(now, self.clock.now()) + self.lease,
            )
            if not renewed:
                return  # our lease ran out and someone else holds the row now
            delivery = session.get(WebhookDelivery, delivery_id)
            event_row = session.get(RequestEvent, delivery.event_id)
            request = session.get(ReferenceRequest, event_row.request_id)
            body = body_of(event_row, request)
            url, attempts, event_id = delivery.url, delivery.attempts, event_row.id
        try:
            self._post(url, body, event_id)
        except _Retry as retry:
            if attempts >= self.max_attempts:
                self._finish(delivery_id, token, status=NudgeStatus.FAILED, last_error=str(retry)[:500])
                result.failed += 1
                log.error("webhook %s to %s failed for good: %s", delivery_id, url, retry)
                return
            delay = retry.after or self.backoff * (2 ** (attempts - 1))
            self._finish(
                delivery_id, token, status=NudgeStatus.PENDING, due_at=now + delay, claimed_by=None,
                lease_until=None, last_error=str(retry)[:500],
            )  # fmt: skip
            result.retried += 1
            return
        except PermissionError as refused:  # 4xx: sending the same again will not help
            self._finish(delivery_id, token, status=NudgeStatus.FAILED, last_error=str(refused)[:500])
            result.failed += 1
            log.error("webhook %s to %s refused: %s", delivery_id, url, refused)
            return
        # As with Slack messages, the one window for a duplicate: POSTed, and the process dies before this line.
        # The receiver deduplicates on X-Refdesk-Event-Id.
        self._finish(delivery_id, token, status=NudgeStatus.SENT, sent_at=now, last_error=None)
        result.sent += 1

    def _post(self, url: str, body: bytes, event_id: int) -> None:
        timestamp = str(int(self.clock.now().timestamp()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "refdesk-webhooks",
                "X-Refdesk-Request-Timestamp": timestamp,
                "X-Refdesk-Signature": sign(self.secret, timestamp, body),
                "X-Refdesk-Event-Id": f"refdesk-event-{event_id}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                after = error.headers.get("Retry-After") if error.headers else None
                wait = timedelta(seconds=int(after)) if after and after.isdigit() else None
                raise _Retry(f"HTTP {error.code}", wait) from None
            raise PermissionError(f"HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise _Retry(f"network: {error}") from None
