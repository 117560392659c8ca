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
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot import effects, followup, outreach, sending
from bot.clock import Clock
from bot.compose import Composed, compose
from bot.matching import Policy
from bot.nudges import ABOUT_THE_CALL, INTERNAL, TO_CHANNEL, NudgeKind, send_at
from bot.qualification import Rules
from bot.text import Mrkdwn, channel_link, day, esc, mention, mrkdwn
from store import queries
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
    _zones: dict[str, ZoneInfo] = field(default_factory=dict)

    def run_pass(self) -> PassResult:
        """Claim what is due, send it, repeat until nothing due is left (bounded by one lease)."""
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
            slowed: set[str] = set()
            for nudge_id, token in claimed:
                if self.yield_to is not None:
                    self.yield_to()  # the courier lets acks go first (bot/web.py)
                self._deliver(nudge_id, token, now, result, slowed)
            if time.monotonic() - started > self.lease.total_seconds() / 2:
                return result  # leave the rest to the next pass rather than outlive our own lease

    # --- claiming --------------------------------------------------------------------------------
    def _claim(
        self, now: datetime, result: PassResult, *, effects_only: bool = False
    ) -> list[tuple[int, str]]:
        """Atomically take up to `batch` due rows (and rows whose claimer died); returns (id, claim token)."""
        token = f"{self.worker}:{uuid.uuid4().hex[:8]}"
        due = or_(
            and_(Nudge.status == NudgeStatus.PENDING, Nudge.due_at <= now),
            and_(Nudge.status == NudgeStatus.SENDING, Nudge.lease_until < now),
        )
        if effects_only:
            due = and_(due, Nudge.kind.in_(sorted(effects.EFFECTS)))
        candidates = select(Nudge.id).where(due).order_by(Nudge.due_at, Nudge.id).limit(self.batch)
        if not self.db.is_sqlite:
            # PostgreSQL: replicas skip each other's rows instead of queueing behind them.
            candidates = candidates.with_for_update(skip_locked=True)
        # A CTE joined in, not `id IN (subquery)`: PostgreSQL may run an IN subquery again for each row it
        # updates, and with SKIP LOCKED each run finds fresh rows, so one claim took the whole outbox.
        picked = candidates.cte("picked")
        statement = (
            update(Nudge)
            .where(Nudge.id == picked.c.id, due)
            .values(
                status=NudgeStatus.SENDING,
                claimed_by=token,
                lease_until=now + self.lease,
                attempts=Nudge.attempts + 1,
            )
            .returning(Nudge.id)
            .execution_options(synchronize_session=False)
        )
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            ids = sorted(session.scalars(statement))
        result.seconds_in_database += time.monotonic() - started
        return [(nudge_id, token) for nudge_id in ids]

    def _finish(self, nudge_id: int, token: str, result: PassResult, **values: object) -> bool:
        """Update a claimed row only if this pass still holds it (a reclaimed row is someone else's now)."""
        started = time.monotonic()
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
        result.seconds_in_database += time.monotonic() - started
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
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            # Renew the claim before sending: a row this pass no longer holds (its lease ran out and another
            # dispatcher took it) is left alone, so a slow pass can never send what someone else sends.
            if not self._renew(session, nudge_id, token, now):
                result.seconds_in_database += time.monotonic() - started
                return
            nudge = session.get(Nudge, nudge_id)
            if nudge.kind in effects.EFFECTS:
                prepared = sending.prepare(session, nudge, self._context(now))
            internal = nudge.kind in INTERNAL
        result.seconds_in_database += time.monotonic() - started
        if nudge.kind in effects.EFFECTS:
            self._run_effect(nudge, token, now, result, prepared)
            return
        if internal:
            self._run_internal(nudge, token, now, result)
            return
        kind = NudgeKind(nudge.kind)
        # The recipient's zone words the message ("tomorrow", "on Monday") and places it in their day.
        zone = UTC_ZONE if kind in TO_CHANNEL else self._zone(nudge.recipient)
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            nudge = session.get(Nudge, nudge_id)
            composed = compose(
                session=session, nudge=nudge, policy=self.policy, today=now.date(), zone=zone, now=now
            )
        result.seconds_in_database += time.monotonic() - started
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
            return
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
            return
        if nudge.recipient in slowed:
            self._release(nudge_id, token, result, due_at=now + timedelta(seconds=1), count_attempt=False)
            result.deferred += 1
            return
        window = send_at(
            due=nudge.due_at, kind=kind, zone=zone, call_at=composed.call_at, minutes=composed.call_minutes
        )
        if window <= now and kind == NudgeKind.FEEDBACK and self._thanks_waiting(nudge.engagement_id):
            window = now + self.backoff  # the question about the call never arrives before the thanks
        if window > now:
            self._release(nudge_id, token, result, due_at=window, count_attempt=False)
            result.deferred += 1
            return
        try:
            self._send(nudge.recipient, composed)
        except SlackApiError as error:
            self._after_slack_error(nudge, token, now, error, result, slowed, composed.thread)
            return
        except OSError as error:  # the network: try again later, like a 5xx
            self._retry_or_fail(nudge, token, now, f"network: {error}", result, composed.thread)
            return
        # The one window where a message can go twice: sent above, and the process dies before this line.
        self._finish(nudge_id, token, result, status=NudgeStatus.SENT, sent_at=now, last_error=None)
        result.sent += 1
        if kind == NudgeKind.THANKS and composed.engagement_id is not None:
            self._mark_held(composed.engagement_id, now)

    def _thanks_waiting(self, engagement_id: int | None) -> bool:
        with self.db.unit_of_work() as session:
            waiting = session.scalar(
                select(Nudge.id).where(
                    Nudge.engagement_id == engagement_id,
                    Nudge.kind == NudgeKind.THANKS,
                    Nudge.status.in_((NudgeStatus.PENDING, NudgeStatus.SENDING)),
                )
            )
        return waiting is not None

    # --- effects (bot/effects.py, bot/sending.py) ---------------------------------------------------------------------
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

    def _renew(self, session: Session, nudge_id: int, token: str, now: datetime) -> bool:
        renewed = session.execute(
            update(Nudge)
            .where(Nudge.id == nudge_id, Nudge.claimed_by == token, Nudge.status == NudgeStatus.SENDING)
            .values(lease_until=max(now, self.clock.now()) + self.lease)
            .execution_options(synchronize_session=False)
        ).rowcount
        return renewed == 1

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

    def _mark_held(self, engagement_id: int, now: datetime) -> None:
        """Thanks went out after the call: it counts as held unless the rep later says it didn't happen."""
        with self.db.unit_of_work() as session:
            held = (
                session.execute(
                    update(Engagement)
                    .where(Engagement.id == engagement_id, Engagement.status == EngagementStatus.SCHEDULED)
                    .values(status=EngagementStatus.HELD, held_at=Engagement.call_at)
                    .execution_options(synchronize_session=False)
                ).rowcount
                == 1
            )
            if held:
                engagement = session.get(Engagement, engagement_id)
                if engagement.request_id is not None:
                    queries.add_event(
                        session=session,
                        request_id=engagement.request_id,
                        at=now,
                        actor_id="refdesk",
                        action="call_held",
                        detail={"engagement_id": engagement_id, "advocate_id": engagement.advocate_id},
                    )
                followup.plan_appreciation(
                    session=session,
                    advocate_id=engagement.advocate_id,
                    threshold=self.appreciation_threshold,
                    cs_channel=self.cs_channel_id,
                    now=now,
                )
