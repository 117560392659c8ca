"""The dispatcher: claims due nudges in the database, sends each once, and survives Slack's bad days."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Connection, bindparam, exists, select, update

from bot.clock import Clock
from bot.delivery import sending
from bot.delivery.compose import Composed, compose
from bot.flows import effects, followup, outreach
from bot.rules.matching import Policy
from bot.rules.nudges import ABOUT_THE_CALL, INTERNAL, TO_CHANNEL, NudgeKind, send_at
from bot.rules.qualification import Rules
from bot.text import Mrkdwn, channel_link, day, esc, mention, mrkdwn
from store import leases, queries, versions
from store import usage as kept_usage
from store.db import Database
from store.models import Advocate, Engagement, EngagementStatus, Nudge, NudgeStatus, ReferenceRequest

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


def _recipient(recipient: str) -> Mrkdwn:
    """A member's mention, or a channel's link (the quarter's report goes to the CS channel)."""
    try:
        return channel_link(recipient) if recipient[:1] in "CGD" else mention(recipient)
    except ValueError:
        return esc(recipient)


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
class _Batch:
    """One claim being delivered: its token, when its lease was last taken (machine timer, injected clock),
    and the engagements among its feedback questions whose thank-you is still due."""

    token: str
    held_since: tuple[float, datetime]
    thanks_pending: set[int] = field(default_factory=set)
    connection: Connection | None = None  # held for the batch, in autocommit: each send is marked on it


# Marking a send done is the one statement every message costs: built once (its compiled form is cached).
MARK_SENT = (
    update(Nudge)
    .where(
        Nudge.id == bindparam("nudge_id"),
        Nudge.claimed_by == bindparam("token"),
        Nudge.status == NudgeStatus.SENDING,
    )
    .values(status=NudgeStatus.SENT, sent_at=bindparam("sent_at"), last_error=None)
)


@dataclass
class Dispatcher:
    db: Database
    client: WebClient
    clock: Clock
    cs_channel_id: str
    policy: Policy = field(default_factory=Policy)
    appreciation_threshold: int = 3
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50  # small claims: a row waits for at most a batch's sends under one lease
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    rules: Rules | None = None  # the card's qualification flags, when the card is (re-)rendered
    yield_to: Callable[[], None] | None = None  # called before each send: the courier waits out a burst
    zone_ttl: timedelta = timedelta(hours=6)  # a member's zone from users.info is asked again after this
    _zones: dict[str, tuple[ZoneInfo, float]] = field(default_factory=dict)  # member → (zone, when asked)
    _recovered: bool = field(default=False, init=False)  # what a dead process left half-done was finished

    def run_pass(self) -> PassResult:
        """Claim what is due, send it, repeat until nothing due is left (bounded by one lease)."""
        if not self._recovered:
            self._hold_calls_already_thanked()
            self._recovered = True
        with self.db.unit_of_work() as session:
            followup.plan_quarter(session=session, now=self.clock.now(), cs_channel=self.cs_channel_id)
            followup.plan_year(session=session, now=self.clock.now(), cs_channel=self.cs_channel_id)
        return self._drain(effects_only=False)

    def run_effects(self) -> PassResult:
        """The courier's pass: only the effects handlers just wrote (due now), nothing scheduled."""
        return self._drain(effects_only=True)

    def _drain(self, *, effects_only: bool) -> PassResult:
        result = PassResult()
        # Elapsed time is measured on the machine's own timer: the injected clock may stand still.
        started = time.monotonic()
        while True:
            now = self.clock.now()
            claimed = self._claim(now, result, effects_only=effects_only)
            if not claimed:
                return result
            result.claimed += len(claimed)
            token = claimed[0][1]  # one claim, one token
            self._deliver_batch([nudge_id for nudge_id, _ in claimed], token, now, result, set(), fresh=True)
            if time.monotonic() - started > self.lease.total_seconds() / 2:
                return result  # leave the rest to the next pass rather than outlive our own lease

    # --- claiming --------------------------------------------------------------------------------
    def _claim(
        self, now: datetime, result: PassResult, *, effects_only: bool = False
    ) -> list[tuple[int, str]]:
        """Atomically take up to `batch` due rows (and rows whose claimer died); returns (id, claim token)."""
        token = f"{self.worker}:{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            ids = leases.claim_due(
                session=session,
                model=Nudge,
                now=now,
                token=token,
                lease=self.lease,
                batch=self.batch,
                skip_locked=not self.db.is_sqlite,
                where=Nudge.kind.in_(sorted(effects.EFFECTS)) if effects_only else None,
            )
        result.seconds_in_database += time.monotonic() - started
        return [(nudge_id, token) for nudge_id in ids]

    def _finish(self, nudge_id: int, token: str, result: PassResult, **values: object) -> bool:
        """Update a claimed row only if this pass still holds it (a reclaimed row is someone else's now)."""
        started = time.monotonic()
        # A connection's own transaction, not a Session: one statement needs no unit of work around it.
        with self.db.engine.begin() as connection:
            done = (
                connection.execute(
                    update(Nudge)
                    .where(
                        Nudge.id == nudge_id, Nudge.claimed_by == token, Nudge.status == NudgeStatus.SENDING
                    )
                    .values(**values)
                ).rowcount
                == 1
            )
        result.seconds_in_database += time.monotonic() - started
        return done

    def _mark_sent(self, batch: _Batch, nudge_id: int, now: datetime, result: PassResult) -> None:
        """The row is sent, if this pass still holds it: one statement on the batch's connection, which is in
        autocommit (the statement is its own transaction: one round trip, not BEGIN, UPDATE and COMMIT)."""
        if batch.connection is None:
            self._finish(nudge_id, batch.token, result, status=NudgeStatus.SENT, sent_at=now, last_error=None)
            return
        started = time.monotonic()
        batch.connection.execute(MARK_SENT, {"nudge_id": nudge_id, "token": batch.token, "sent_at": now})
        result.seconds_in_database += time.monotonic() - started

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
        """The member's zone from Slack, remembered across passes for `zone_ttl` (people rarely move)."""
        known = self._zones.get(user_id)
        if known is not None and time.monotonic() - known[1] < self.zone_ttl.total_seconds():
            return known[0]
        try:
            tz = self.client.users_info(user=user_id)["user"].get("tz") or "UTC"
            zone = ZoneInfo(tz)
        except (SlackApiError, OSError, ZoneInfoNotFoundError, KeyError, ValueError):
            zone = UTC_ZONE
        self._zones[user_id] = (zone, time.monotonic())
        return zone

    # --- the lease over a batch ------------------------------------------------------------------
    def _hold(self, ids: list[int], batch: _Batch, now: datetime, result: PassResult) -> set[int]:
        """Renew the lease on the rows of `ids` this pass still holds; returns them (one statement)."""
        token = batch.token
        renewed_at = max(now, self.clock.now())
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            held = set(
                session.scalars(
                    update(Nudge)
                    .where(Nudge.id.in_(ids), Nudge.claimed_by == token, Nudge.status == NudgeStatus.SENDING)
                    .values(lease_until=renewed_at + self.lease)
                    .returning(Nudge.id)
                    .execution_options(synchronize_session=False)
                )
            )
        result.seconds_in_database += time.monotonic() - started
        batch.held_since = (time.monotonic(), renewed_at)
        return held

    def _lease_is_fresh(self, batch: _Batch) -> bool:
        """True while the batch's lease was taken or renewed less than a quarter lease ago, by the machine's
        timer and by the injected clock alike: at least three quarters of it are left, so no other replica can
        have taken a row from us (a reclaim needs the lease to have run out)."""
        monotonic, at = batch.held_since
        quarter = self.lease / 4
        return time.monotonic() - monotonic < quarter.total_seconds() and self.clock.now() - at < quarter

    # --- delivering ------------------------------------------------------------------------------
    def _deliver(
        self, nudge_id: int, token: str, now: datetime, result: PassResult, slowed: set[str]
    ) -> None:
        """One claimed row, its lease checked first (a row someone else took meanwhile is left alone)."""
        self._deliver_batch([nudge_id], token, now, result, slowed, fresh=False)

    def _deliver_batch(
        self, ids: list[int], token: str, now: datetime, result: PassResult, slowed: set[str], *, fresh: bool
    ) -> None:
        """A claim's rows, in order. The bookkeeping is per batch: the rows and what they are about are read in
        a few statements, scheduled messages composed together; then each send is followed by the one statement
        that marks it sent (so at most the message in flight can go twice if the process dies), and the calls
        the thank-yous mark as held are recorded together at the end."""
        batch = _Batch(token, (time.monotonic(), max(now, self.clock.now())))
        if not fresh and not (held := self._hold(ids, batch, now, result)):
            return
        if not fresh:
            ids = [i for i in ids if i in held]
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            rows = {n.id: n for n in session.scalars(select(Nudge).where(Nudge.id.in_(ids)))}
        result.seconds_in_database += time.monotonic() - started
        scheduled = [
            rows[i]
            for i in ids
            if i in rows and rows[i].kind not in effects.EFFECTS and rows[i].kind not in INTERNAL
        ]
        # Zones first (Slack, outside any transaction), then every scheduled message composed in one session.
        zones = {
            n.id: UTC_ZONE if NudgeKind(n.kind) in TO_CHANNEL else self._zone(n.recipient) for n in scheduled
        }
        composed = self._compose_all(scheduled, zones, batch, now, result)
        thanked: list[int] = []
        lost: set[int] = set()  # rows whose lease ran out and another replica took: theirs to send
        try:
            batch.connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            for index, nudge_id in enumerate(ids):
                nudge = rows.get(nudge_id)
                if nudge is None:
                    continue
                if self.yield_to is not None:
                    self.yield_to()  # the courier lets acks go first (bot/web.py)
                if not self._lease_is_fresh(
                    batch
                ):  # a slow batch: renew what is left of it before sending on
                    lost |= set(ids[index:]) - self._hold(ids[index:], batch, now, result)
                if nudge_id in lost:
                    continue
                if nudge.kind in effects.EFFECTS:
                    self._deliver_effect(nudge_id, token, now, result)
                elif nudge.kind in INTERNAL:
                    self._run_internal(nudge, token, now, result)
                else:
                    engagement = self._send_scheduled(
                        nudge, batch, now, result, slowed, zones[nudge_id], composed[nudge_id]
                    )
                    if engagement is not None:
                        thanked.append(engagement)
        finally:
            if batch.connection is not None:
                batch.connection.close()
            if thanked:
                self._mark_held(thanked, now, result)

    def _compose_all(
        self,
        scheduled: list[Nudge],
        zones: dict[int, ZoneInfo],
        batch: _Batch,
        now: datetime,
        result: PassResult,
    ) -> dict[int, Composed | None]:
        """Each scheduled message, composed from the store as it stands: what they are about is read with a
        statement per table for the whole batch, so composing finds it in the session."""
        if not scheduled:
            return {}
        started = time.monotonic()
        out: dict[int, Composed | None] = {}
        with self.db.unit_of_work() as session:
            # Read for the whole batch and held here: the session's identity map keeps only what is referenced,
            # and compose's session.get then finds each row without a statement of its own.
            loaded: list[object] = []
            engagement_ids = {n.engagement_id for n in scheduled if n.engagement_id}
            request_ids = {n.request_id for n in scheduled if n.request_id}
            if engagement_ids:
                loaded += session.scalars(select(Engagement).where(Engagement.id.in_(engagement_ids))).all()
            if request_ids:
                loaded += session.scalars(
                    select(ReferenceRequest).where(ReferenceRequest.id.in_(request_ids))
                ).all()
            advocate_ids = {e.advocate_id for e in loaded if isinstance(e, Engagement)}
            if advocate_ids:
                loaded += session.scalars(select(Advocate).where(Advocate.id.in_(advocate_ids))).all()
            feedback = [
                n.engagement_id for n in scheduled if n.kind == NudgeKind.FEEDBACK and n.engagement_id
            ]
            batch.thanks_pending = (
                set(
                    session.scalars(
                        select(Nudge.engagement_id).where(
                            Nudge.engagement_id.in_(feedback),
                            Nudge.kind == NudgeKind.THANKS,
                            Nudge.status.in_((NudgeStatus.PENDING, NudgeStatus.SENDING)),
                        )
                    )
                )
                if feedback
                else set()
            )
            for nudge in scheduled:
                out[nudge.id] = compose(
                    session=session,
                    nudge=nudge,
                    policy=self.policy,
                    today=now.date(),
                    zone=zones[nudge.id],
                    now=now,
                )
        result.seconds_in_database += time.monotonic() - started
        return out

    def _deliver_effect(self, nudge_id: int, token: str, now: datetime, result: PassResult) -> None:
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            nudge = session.get(Nudge, nudge_id)
            prepared = sending.prepare(session, nudge, self._context(now))
        result.seconds_in_database += time.monotonic() - started
        self._run_effect(nudge, token, now, result, prepared)

    def _send_scheduled(
        self,
        nudge: Nudge,
        batch: _Batch,
        now: datetime,
        result: PassResult,
        slowed: set[str],
        zone: ZoneInfo,
        composed: Composed | None,
    ) -> int | None:
        """Send one scheduled message; returns the engagement a delivered thank-you marks as held."""
        nudge_id, token = nudge.id, batch.token
        kind = NudgeKind(nudge.kind)
        if composed is None:
            self._finish(
                nudge_id,
                token,
                result,
                status=NudgeStatus.CANCELLED,
                last_error="no longer relevant",
                reason="no longer relevant: answered, moved or cancelled",
            )
            result.cancelled += 1
            return None
        if kind in ABOUT_THE_CALL and composed.call_at is not None and now >= composed.call_at:
            # Catching up long after (a dispatcher that was down, `refdesk dispatch --now`): prep and reminders
            # for a call that has started are wrong, not late. Cancelled, with the reason, never sent.
            self._finish(
                nudge_id,
                token,
                result,
                status=NudgeStatus.CANCELLED,
                reason=f"its moment passed: the call started at {composed.call_at:%Y-%m-%d %H:%M} UTC",
            )
            result.cancelled += 1
            return None
        if nudge.recipient in slowed:
            self._release(nudge_id, token, result, due_at=now + timedelta(seconds=1), count_attempt=False)
            result.deferred += 1
            return None
        window = send_at(
            due=nudge.due_at, kind=kind, zone=zone, call_at=composed.call_at, minutes=composed.call_minutes
        )
        if window <= now and kind == NudgeKind.FEEDBACK and nudge.engagement_id in batch.thanks_pending:
            window = now + self.backoff  # the question about the call never arrives before the thanks
        if window > now:
            self._release(nudge_id, token, result, due_at=window, count_attempt=False)
            result.deferred += 1
            return None
        try:
            self._send(nudge.recipient, composed)
        except SlackApiError as error:
            self._after_slack_error(nudge, token, now, error, result, slowed, composed.thread)
            return None
        except OSError as error:  # the network: try again later, like a 5xx
            self._retry_or_fail(nudge, token, now, f"network: {error}", result, composed.thread)
            return None
        # The one window where a message can go twice: sent above, and the process dies before this line.
        self._mark_sent(batch, nudge_id, now, result)
        result.sent += 1
        if kind == NudgeKind.THANKS and composed.engagement_id is not None:
            batch.thanks_pending.discard(composed.engagement_id)  # a feedback later in this batch may go now
            return composed.engagement_id
        return None

    # --- effects (bot/flows/effects.py, bot/delivery/sending.py) ---------------------------------------------------------------------
    def _context(self, now: datetime) -> sending.Context:
        return sending.Context(
            client=self.client,
            policy=self.policy,
            rules=self.rules,
            cs_channel_id=self.cs_channel_id,
            now=now,
        )

    def _run_effect(
        self,
        nudge: Nudge,
        token: str,
        now: datetime,
        result: PassResult,
        prepared: sending.Ready | sending.Wait | sending.Drop,
    ) -> None:
        if isinstance(prepared, sending.Drop):
            self._finish(nudge.id, token, result, status=NudgeStatus.CANCELLED, reason=prepared.reason[:200])
            result.cancelled += 1
            return
        if isinstance(prepared, sending.Wait):
            self._release(nudge.id, token, result, due_at=prepared.until, count_attempt=False)
            result.deferred += 1
            return
        try:
            response = prepared.call(self.client)
        except SlackApiError as error:
            self._after_slack_error(nudge, token, now, error, result, set(), prepared.thread)
            return
        except OSError as error:  # the network or a timeout: try again later, like a 5xx
            self._retry_or_fail(nudge, token, now, f"network: {error}", result, prepared.thread)
            return
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            # What later steps need from this call (the card's ts, the ask's channel) is stored in the same
            # transaction that marks the send done.
            done = (
                session.execute(
                    update(Nudge)
                    .where(
                        Nudge.id == nudge.id, Nudge.claimed_by == token, Nudge.status == NudgeStatus.SENDING
                    )
                    .values(status=NudgeStatus.SENT, sent_at=now, last_error=None)
                    .execution_options(synchronize_session=False)
                ).rowcount
                == 1
            )
            if done and prepared.after is not None:
                prepared.after(session, response, now)
        result.seconds_in_database += time.monotonic() - started
        result.sent += 1

    def _effect_failed(self, nudge: Nudge, reason: str, thread: tuple[str, str] | None) -> bool:
        """After the last retry of an effect: undo what would be stuck, and tell who can act. True when told."""
        if nudge.kind == effects.Fx.CARD:
            with self.db.unit_of_work() as session:
                request = session.get(ReferenceRequest, nudge.request_id)
                requester = request.requester_id if request else None
            if requester:
                text = mrkdwn(
                    ":warning: Request #{} is saved, but I couldn't post it to the CS channel "
                    "(Slack said `{}`). Please ask an admin to invite me there with `/invite @refdesk`.",
                    nudge.request_id,
                    reason,
                )
                try:
                    self.client.chat_postMessage(channel=requester, text=text)
                except (SlackApiError, OSError):
                    log.exception("could not tell the requester that card %s failed", nudge.request_id)
            return True
        if nudge.kind == effects.Fx.ICS:
            payload = nudge.payload or {}
            try:
                self.client.chat_postMessage(
                    channel=payload["channel"],
                    thread_ts=payload["ts"],
                    text="I couldn't attach the calendar invite; please add the time above to your calendar.",
                )
            except (SlackApiError, OSError, KeyError):
                log.warning("could not say that the invite for engagement %s is missing", nudge.engagement_id)
            return True
        if nudge.kind == effects.Fx.ASK:
            now = self.clock.now()
            with self.db.unit_of_work() as session:
                step = outreach.ask_undelivered(session=session, engagement_id=nudge.engagement_id, now=now)
                if step is not None and step.won:
                    effects.note(
                        session,
                        now=now,
                        request_id=step.request.id,
                        text=mrkdwn(
                            ":warning: I couldn't deliver the ask to *{}* (Slack said `{}`), so nothing reached "
                            "them and it doesn't count against them. The shortlist below is live again: "
                            "ask them again or pick someone else.",
                            step.advocate.name,
                            reason,
                        ),
                    )
                    effects.shortlist(session, now=now, request_id=step.request.id)
            return step is not None and step.won
        return False

    def _send(self, recipient: str, composed: Composed) -> None:
        if composed.attachment is None:
            self.client.chat_postMessage(channel=recipient, text=composed.text, blocks=composed.blocks)
            return
        content, filename = composed.attachment
        self.client.files_upload_v2(
            channel=recipient, content=content, filename=filename, initial_comment=composed.text
        )

    def _after_slack_error(
        self,
        nudge: Nudge,
        token: str,
        now: datetime,
        error: SlackApiError,
        result: PassResult,
        slowed: set[str],
        thread: tuple[str, str] | None,
    ) -> None:
        status = error.response.status_code
        if status == 429:
            headers = error.response.headers or {}
            wait = int(headers.get("Retry-After") or headers.get("retry-after") or 1)
            slowed.add(nudge.recipient)
            self._release(nudge.id, token, result, due_at=now + timedelta(seconds=wait), count_attempt=False)
            result.deferred += 1
        elif status >= 500:
            self._retry_or_fail(nudge, token, now, f"Slack answered {status}", result, thread)
        else:
            self._fail(nudge, token, str(error.response.get("error")), result, thread)

    def _retry_or_fail(
        self,
        nudge: Nudge,
        token: str,
        now: datetime,
        reason: str,
        result: PassResult,
        thread: tuple[str, str] | None,
    ) -> None:
        attempts = nudge.attempts  # read after the claim, which counted this attempt
        if attempts >= self.max_attempts:
            self._fail(nudge, token, reason, result, thread)
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
        self, nudge: Nudge, token: str, reason: str, result: PassResult, thread: tuple[str, str] | None
    ) -> None:
        if not self._finish(nudge.id, token, result, status=NudgeStatus.FAILED, last_error=reason[:500]):
            return
        result.failed += 1
        with self.db.unit_of_work() as session:
            versions.bump(session)  # Home's queue counts the messages that could not be sent
        # A missing calendar file leaves the call confirmed: people add it by hand, as they are told.
        level = logging.WARNING if nudge.kind == effects.Fx.ICS else logging.ERROR
        log.log(level, "nudge %s (%s) failed: %s", nudge.id, nudge.kind, reason)
        if nudge.kind in effects.EFFECTS and self._effect_failed(nudge, reason, thread):
            return
        where = f" for request #{nudge.request_id}" if nudge.request_id else ""
        text = mrkdwn(
            ":warning: I couldn't send the *{}* message to {}{} (Slack said `{}`). Please follow up by hand.",
            effects.LABELS.get(nudge.kind, nudge.kind.replace("_", " ")),
            Mrkdwn("CS's thread") if nudge.recipient == effects.THREAD else _recipient(nudge.recipient),
            where,
            reason,
        )
        try:
            if thread is not None:
                self.client.chat_postMessage(channel=thread[0], thread_ts=thread[1], text=text)
            else:
                self.client.chat_postMessage(channel=self.cs_channel_id, text=text)
        except SlackApiError:
            log.exception("could not tell CS that nudge %s failed", nudge.id)

    def _run_internal(self, nudge: Nudge, token: str, now: datetime, result: PassResult) -> None:
        """ASK_EXPIRY: the ask lapses and CS hears it in the request's thread. CHECKIN_MISSED: likewise."""
        if nudge.kind == NudgeKind.CHECKIN_MISSED:
            self._checkin_missed(nudge, token, now, result)
            return
        with self.db.unit_of_work() as session:
            step = outreach.expire_ask(session=session, engagement_id=nudge.engagement_id, now=now)
            if step.won:
                # Said in the thread, with a fresh shortlist whose Ask buttons are live: both outbox rows, so
                # a Slack failure here is retried like any other message.
                effects.note(
                    session,
                    now=now,
                    request_id=step.request.id,
                    text=mrkdwn(
                        ":hourglass: *{}* didn't answer in 4 business days, so the ask lapsed "
                        "(it doesn't count against them). Ask the next candidate from the shortlist below.",
                        step.advocate.name,
                    ),
                )
                effects.shortlist(session, now=now, request_id=step.request.id)
        self._finish(nudge.id, token, result, status=NudgeStatus.SENT, sent_at=now)
        result.sent += 1

    def _checkin_missed(self, nudge: Nudge, token: str, now: datetime, result: PassResult) -> None:
        """The rep never logged the check-in, after the prompt and a reminder: CS hears it in the thread
        (an outbox row written in this transaction, like the lapsed ask's note)."""
        with self.db.unit_of_work() as session:
            engagement = session.get(Engagement, nudge.engagement_id)
            request = session.get(ReferenceRequest, nudge.request_id) if nudge.request_id else None
            advocate = session.get(Advocate, engagement.advocate_id) if engagement else None
            missing = (
                engagement is not None
                and request is not None
                and engagement.checkin_at is None
                and engagement.status in (EngagementStatus.SCHEDULED, EngagementStatus.HELD)
            )
            if missing:
                effects.note(
                    session,
                    now=now,
                    request_id=request.id,
                    text=mrkdwn(
                        ":speech_balloon: {} hasn't logged the check-in with {} after the call with {}{}, after "
                        "a reminder. Could someone ask them how it went?",
                        mention(request.rep_id),
                        request.prospect_company,
                        advocate.name if advocate else "the advocate",
                        mrkdwn(" on {}", day(engagement.call_at)) if engagement.call_at else "",
                    ),
                )
        if not missing:
            self._finish(
                nudge.id, token, result, status=NudgeStatus.CANCELLED, last_error="no longer relevant"
            )
            result.cancelled += 1
            return
        self._finish(nudge.id, token, result, status=NudgeStatus.SENT, sent_at=now)
        result.sent += 1

    def _hold_calls_already_thanked(self) -> None:
        """A batch records the calls its thank-yous hold at its end: a process that died in between left thanks
        sent for calls still `scheduled`. The first pass of each dispatcher finishes them (one query over the
        scheduled calls, which are few), so the caps, the Home and the appreciation prompts count them."""
        with self.db.unit_of_work() as session:
            thanked = list(
                session.scalars(
                    select(Engagement.id).where(
                        Engagement.status == EngagementStatus.SCHEDULED,
                        exists().where(
                            Nudge.engagement_id == Engagement.id,
                            Nudge.kind == NudgeKind.THANKS,
                            Nudge.status == NudgeStatus.SENT,
                        ),
                    )
                )
            )
        if thanked:
            log.warning(
                "%d call(s) thanked before a stop were not yet counted as held: now they are", len(thanked)
            )
            self._mark_held(thanked, self.clock.now(), PassResult())

    def _mark_held(self, engagement_ids: list[int], now: datetime, result: PassResult) -> None:
        """Thanks went out after these calls: each counts as held unless the rep later says it didn't happen.
        One transaction for the batch: the engagements, their audit events, and CS's appreciation prompts."""
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            held = session.execute(
                update(Engagement)
                .where(Engagement.id.in_(engagement_ids), Engagement.status == EngagementStatus.SCHEDULED)
                .values(status=EngagementStatus.HELD, held_at=Engagement.call_at)
                .returning(Engagement.id, Engagement.advocate_id, Engagement.request_id)
                .execution_options(synchronize_session=False)
            ).all()
            # The advocates' kept usage, in this transaction: once for the batch.
            kept_usage.refresh(session, {advocate_id for _, advocate_id, _ in held})
            for engagement_id, advocate_id, request_id in sorted(held):
                if request_id is not None:
                    queries.add_event(
                        session=session,
                        request_id=request_id,
                        at=now,
                        actor_id="refdesk",
                        action="call_held",
                        detail={"engagement_id": engagement_id, "advocate_id": advocate_id},
                    )
            if held:
                followup.plan_appreciations(
                    session=session,
                    advocate_ids=sorted({advocate_id for _, advocate_id, _ in held}),
                    threshold=self.appreciation_threshold,
                    cs_channel=self.cs_channel_id,
                    now=now,
                )
        result.seconds_in_database += time.monotonic() - started
