"""The dispatcher: claims due nudges in the database, sends each once, and survives Slack's bad days."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, or_, select, update

from bot import outreach
from bot.clock import Clock
from bot.nudges import INTERNAL, NudgeKind, send_at
from modals.nudges import build_nudge, still_relevant
from store.db import Database
from store.models import Advocate, Engagement, EngagementStatus, Nudge, NudgeStatus, ReferenceRequest

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0  # outside the recipient's working hours, or Slack asked us to slow down
    retried: int = 0  # Slack or the network failed; tried again later
    failed: int = 0
    cancelled: int = 0  # no longer relevant (answered, rescheduled, cancelled)
    seconds_in_database: float = 0.0

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed}: sent {self.sent}, deferred {self.deferred}, retried {self.retried}, "
            f"failed {self.failed}, cancelled {self.cancelled}"
        )


@dataclass
class Dispatcher:
    db: Database
    client: WebClient
    clock: Clock
    cs_channel_id: str
    lease: timedelta = timedelta(minutes=2)
    batch: int = 500
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _zones: dict[str, ZoneInfo] = field(default_factory=dict)

    def run_pass(self) -> PassResult:
        """Claim what is due, send it, repeat until nothing due is left (bounded by one lease)."""
        result = PassResult()
        started = self.clock.now()
        while True:
            now = self.clock.now()
            claimed = self._claim(now, result)
            if not claimed:
                return result
            result.claimed += len(claimed)
            slowed: set[str] = set()
            for nudge_id, token in claimed:
                self._deliver(nudge_id, token, now, result, slowed)
            if self.clock.now() - started > self.lease / 2:
                return result  # leave the rest to the next pass rather than outlive our own lease

    # --- claiming --------------------------------------------------------------------------------
    def _claim(self, now: datetime, result: PassResult) -> list[tuple[int, str]]:
        """Atomically take up to `batch` due rows (and rows whose claimer died); returns (id, claim token)."""
        token = f"{self.worker}:{uuid.uuid4().hex[:8]}"
        due = or_(
            and_(Nudge.status == NudgeStatus.PENDING, Nudge.due_at <= now),
            and_(Nudge.status == NudgeStatus.SENDING, Nudge.lease_until < now),
        )
        candidates = select(Nudge.id).where(due).order_by(Nudge.due_at, Nudge.id).limit(self.batch)
        if not self.db.is_sqlite:
            # PostgreSQL: replicas skip each other's rows instead of queueing behind them.
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(Nudge)
            .where(Nudge.id.in_(candidates.scalar_subquery()), due)
            .values(
                status=NudgeStatus.SENDING,
                claimed_by=token,
                lease_until=now + self.lease,
                attempts=Nudge.attempts + 1,
            )
            .returning(Nudge.id)
            .execution_options(synchronize_session=False)
        )
        started = self.clock.now()
        with self.db.unit_of_work() as session:
            ids = sorted(session.scalars(statement))
        result.seconds_in_database += (self.clock.now() - started).total_seconds()
        return [(nudge_id, token) for nudge_id in ids]

    def _finish(self, nudge_id: int, token: str, result: PassResult, **values: object) -> bool:
        """Update a claimed row only if this pass still holds it (a reclaimed row is someone else's now)."""
        started = self.clock.now()
        with self.db.unit_of_work() as session:
            done = (
                session.execute(
                    update(Nudge)
                    .where(
                        Nudge.id == nudge_id, Nudge.claimed_by == token, Nudge.status == NudgeStatus.SENDING
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ).rowcount
                == 1
            )
        result.seconds_in_database += (self.clock.now() - started).total_seconds()
        return done

    def _release(
        self, nudge_id: int, token: str, result: PassResult, *, due_at: datetime, count_attempt: bool
    ) -> None:
        values: dict[str, object] = {
            "status": NudgeStatus.PENDING,
            "due_at": due_at,
            "claimed_by": None,
            "lease_until": None,
        }
        if not count_attempt:
            values["attempts"] = Nudge.attempts - 1
        self._finish(nudge_id, token, result, **values)

    # --- delivering ------------------------------------------------------------------------------
    def _zone(self, user_id: str) -> ZoneInfo:
        if user_id not in self._zones:
            try:
                tz = self.client.users_info(user=user_id)["user"].get("tz") or "UTC"
                self._zones[user_id] = ZoneInfo(tz)
            except (SlackApiError, ZoneInfoNotFoundError, KeyError, ValueError):
                self._zones[user_id] = UTC_ZONE
        return self._zones[user_id]

    def _deliver(
        self, nudge_id: int, token: str, now: datetime, result: PassResult, slowed: set[str]
    ) -> None:
        with self.db.unit_of_work() as session:
            nudge = session.get(Nudge, nudge_id)
            engagement = session.get(Engagement, nudge.engagement_id) if nudge.engagement_id else None
            request = session.get(ReferenceRequest, nudge.request_id) if nudge.request_id else None
            advocate = session.get(Advocate, engagement.advocate_id) if engagement else None
        if engagement is None or request is None or advocate is None:
            self._finish(
                nudge_id, token, result, status=NudgeStatus.CANCELLED, last_error="nothing to send about"
            )
            result.cancelled += 1
            return
        if nudge.kind in INTERNAL:
            self._run_internal(nudge, token, now, result)
            return
        if not still_relevant(nudge.kind, engagement):
            self._finish(
                nudge_id, token, result, status=NudgeStatus.CANCELLED, last_error="no longer relevant"
            )
            result.cancelled += 1
            return
        if nudge.recipient in slowed:
            self._release(nudge_id, token, result, due_at=now + timedelta(seconds=1), count_attempt=False)
            result.deferred += 1
            return
        window = send_at(
            due=nudge.due_at,
            kind=NudgeKind(nudge.kind),
            zone=self._zone(nudge.recipient),
            call_at=engagement.call_at,
        )
        if window > now:
            self._release(nudge_id, token, result, due_at=window, count_attempt=False)
            result.deferred += 1
            return
        text, blocks = build_nudge(kind=nudge.kind, request=request, advocate=advocate, engagement=engagement)
        try:
            self.client.chat_postMessage(channel=nudge.recipient, text=text, blocks=blocks)
        except SlackApiError as error:
            self._after_slack_error(nudge, token, now, error, result, slowed, request)
            return
        except OSError as error:  # the network: try again later, like a 5xx
            self._retry_or_fail(nudge, token, now, f"network: {error}", result, request)
            return
        # The one window where a message can go twice: sent above, and the process dies before this line.
        self._finish(nudge_id, token, result, status=NudgeStatus.SENT, sent_at=now, last_error=None)
        result.sent += 1
        if nudge.kind == NudgeKind.THANKS:
            self._mark_held(engagement.id)

    def _after_slack_error(
        self,
        nudge: Nudge,
        token: str,
        now: datetime,
        error: SlackApiError,
        result: PassResult,
        slowed: set[str],
        request: ReferenceRequest,
    ) -> None:
        status = error.response.status_code
        if status == 429:
            wait = int(
                error.response.headers.get("Retry-After", error.response.headers.get("retry-after", 1)) or 1
            )
            slowed.add(nudge.recipient)
            self._release(nudge.id, token, result, due_at=now + timedelta(seconds=wait), count_attempt=False)
            result.deferred += 1
        elif status >= 500:
            self._retry_or_fail(nudge, token, now, f"Slack answered {status}", result, request)
        else:
            reason = str(error.response.get("error"))
            self._fail(nudge, token, reason, result, request)

    def _retry_or_fail(
        self,
        nudge: Nudge,
        token: str,
        now: datetime,
        reason: str,
        result: PassResult,
        request: ReferenceRequest,
    ) -> None:
        attempts = nudge.attempts  # read after the claim, which counted this attempt
        if attempts >= self.max_attempts:
            self._fail(nudge, token, reason, result, request)
            return
        delay = self.backoff * (2 ** (attempts - 1))
        self._finish(
            nudge.id,
            token,
            result,
            status=NudgeStatus.PENDING,
            due_at=now + delay,
            claimed_by=None,
            lease_until=None,
            last_error=reason[:500],
        )
        result.retried += 1

    def _fail(
        self, nudge: Nudge, token: str, reason: str, result: PassResult, request: ReferenceRequest
    ) -> None:
        if not self._finish(nudge.id, token, result, status=NudgeStatus.FAILED, last_error=reason[:500]):
            return
        result.failed += 1
        log.error("nudge %s (%s) failed: %s", nudge.id, nudge.kind, reason)
        text = (
            f":warning: I couldn't send the *{nudge.kind.replace('_', ' ')}* message to <@{nudge.recipient}> "
            f"for request #{request.id} (Slack said `{reason}`). Please follow up by hand."
        )
        try:
            if request.card_channel and request.card_ts:
                self.client.chat_postMessage(
                    channel=request.card_channel, thread_ts=request.card_ts, text=text
                )
            else:
                self.client.chat_postMessage(channel=self.cs_channel_id, text=text)
        except SlackApiError:
            log.exception("could not tell CS that nudge %s failed", nudge.id)

    def _run_internal(self, nudge: Nudge, token: str, now: datetime, result: PassResult) -> None:
        """ASK_EXPIRY: the ask lapses and CS hears it in the request's thread."""
        with self.db.unit_of_work() as session:
            step = outreach.expire_ask(session=session, engagement_id=nudge.engagement_id, now=now)
        if step.won:
            request = step.request
            text = (
                f":hourglass: *{step.advocate.name}* didn't answer in 4 business days, so the ask lapsed "
                "(it doesn't count against them). Ask the next candidate from the shortlist."
            )
            try:
                if request.card_channel and request.card_ts:
                    self.client.chat_postMessage(
                        channel=request.card_channel, thread_ts=request.card_ts, text=text
                    )
            except SlackApiError as error:
                self._retry_or_fail(nudge, token, now, str(error.response.get("error")), result, request)
                return
        self._finish(nudge.id, token, result, status=NudgeStatus.SENT, sent_at=now)
        result.sent += 1

    def _mark_held(self, engagement_id: int) -> None:
        """Thanks went out after the call: it counts as held unless the rep later says it didn't happen."""
        with self.db.unit_of_work() as session:
            session.execute(
                update(Engagement)
                .where(Engagement.id == engagement_id, Engagement.status == EngagementStatus.SCHEDULED)
                .values(status=EngagementStatus.HELD, held_at=Engagement.call_at)
                .execution_options(synchronize_session=False)
            )
