"""The dispatcher: claims due nudges in the database, sends each once, and survives Slack's bad days.

What a claim is and how its rows end lives in `claims.py`; what a message says in `compose.py` (scheduled) and
`sending.py` (effects); the rows that send nothing and the calls thanked in `bookkeeping.py`, what they mean in
`bot/flows/` (lapses, held); Block Kit as the JSON sent in `modals/wire.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, exists, select

from bot.clock import Clock
from bot.delivery import bookkeeping, failures, sending
from bot.delivery.claims import Claim, PassResult
from bot.delivery.compose import Composed, compose_batch
from bot.delivery.flight import Flight
from bot.delivery.zones import UTC_ZONE, Zones
from bot.flows import effects, followup
from bot.rules.matching import Policy
from bot.rules.nudges import ABOUT_THE_CALL, INTERNAL, TO_CHANNEL, NudgeKind, send_at
from bot.rules.qualification import Rules
from modals.wire import as_dicts
from store import leases
from store.db import Database
from store.models import Nudge, NudgeStatus, ReferenceRequest

__all__ = ["Dispatcher", "PassResult"]

log = logging.getLogger(__name__)

# What a click waits on: a new shortlist (one post per approval, in its card's thread, which it waits for anyway)
# is sent ahead of a courier pass in progress. Nothing claimed before it has to arrive first; shortlist updates
# stay in line (two of the same message must not swap).
URGENT = frozenset({effects.Fx.SHORTLIST.value})
# A pass records the calls its thank-yous hold once nothing more is due, or per this many: a ten-statement
# transaction per batch of 100 was a fifth of a message's time on PostgreSQL.
HOLD_EVERY = 1_000

# The scheduled messages sent to a member, in the member's working hours (their zone asked of Slack).
TO_MEMBERS = sorted(kind.value for kind in NudgeKind if kind not in TO_CHANNEL and kind not in INTERNAL)


def _urgent_first(ids: list[int], rows: dict[int, Nudge]) -> list[int]:
    """A claim's rows in the order they go: each new shortlist (URGENT) first, with the rows of its own request
    claimed before it (its card, whose thread it is posted in; the line saying why a fresh shortlist follows),
    then the rest, each in the order claimed. A shortlist claimed with the card updates and DMs of the approvals
    before it (clicks back to back) is not sent after them: CS is waiting on it, and nothing about another
    request needs to go before it."""
    last: dict[int, int] = {}  # request -> the place of its last new shortlist in the claim
    for place, row_id in enumerate(ids):
        row = rows.get(row_id)
        if row is not None and row.kind in URGENT and row.request_id is not None:
            last[row.request_id] = place
    if not last:
        return ids
    first = [
        row_id
        for place, row_id in enumerate(ids)
        if row_id in rows and place <= last.get(rows[row_id].request_id, -1)
    ]
    ahead = set(first)
    return first + [i for i in ids if i not in ahead]


@dataclass
class Dispatcher:
    db: Database
    client: WebClient
    clock: Clock
    cs_channel_id: str
    policy: Policy = field(default_factory=Policy)
    appreciation_threshold: int = 3
    lease: timedelta = timedelta(minutes=2)
    batch: int = 100  # small claims: a row waits for at most a batch's sends under one lease
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    worker: str = field(default_factory=leases.this_process)
    rules: Rules | None = None  # the card's qualification flags, when the card is (re-)rendered
    yield_to: Callable[[], None] | None = None  # called before each send: the courier waits out a burst
    jump_queue: Callable[[], None] | None = None  # before each row: the courier sends URGENT rows first
    zone_ttl: timedelta = timedelta(hours=6)  # a member's zone from users.info is asked again after this
    # Scheduled messages in flight at once, each to a different member (Slack paces per channel): while one
    # waits on the network the next is prepared. 1 sends each in turn.
    senders: int = 1
    _zones: Zones | None = field(default=None, init=False, repr=False)
    _recovered: bool = field(default=False, init=False)  # what a dead process left half-done was finished
    _planned_on: date | None = field(default=None, init=False)  # the day the quarter and year were planned
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    def _senders(self) -> ThreadPoolExecutor | None:
        if self.senders > 1 and self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.senders, thread_name_prefix="refdesk-send")
        return self._pool

    @property
    def _refusals(self) -> failures.Refusals:
        """What a send Slack refused does to its row (built when needed: tests and benches swap the client)."""
        return failures.Refusals(
            db=self.db,
            client=self.client,
            clock=self.clock,
            cs_channel_id=self.cs_channel_id,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
        )

    def run_pass(self) -> PassResult:
        """Claim what is due, send it, repeat until nothing due is left (bounded by one lease)."""
        if not self._recovered:
            bookkeeping.hold_calls_already_thanked(
                self.db,
                self.clock.now(),
                appreciation_threshold=self.appreciation_threshold,
                cs_channel=self.cs_channel_id,
            )
            self._recovered = True
        now = self.clock.now()
        if self._planned_on != now.date():  # the quarter's and the year's prompts: the first pass of each day
            with self.db.unit_of_work() as session:
                followup.plan_quarter(session=session, now=now, cs_channel=self.cs_channel_id)
                followup.plan_year(session=session, now=now, cs_channel=self.cs_channel_id)
            self._planned_on = now.date()
        return self._drain(kinds=None)

    def run_effects(self) -> PassResult:
        """The courier's pass: only the effects handlers just wrote (due now), nothing scheduled."""
        return self._drain(kinds=effects.EFFECTS)

    def run_urgent(self) -> PassResult:
        """Only the URGENT effects (a new shortlist): the courier's pass ahead of the rows it already holds."""
        return self._drain(kinds=URGENT)

    def _drain(self, *, kinds: frozenset[str] | None) -> PassResult:
        result = PassResult()
        thanked: list[int] = []  # the calls the pass's thank-yous hold, recorded together (`_hold`)
        # Elapsed time is measured on the machine's own timer: the injected clock may stand still.
        started, now = time.monotonic(), self.clock.now()
        try:
            while True:
                now = self.clock.now()
                claim = self._claim(now, result, kinds=kinds)
                if not claim.ids and thanked:
                    self._hold(result, thanked, now)  # the prompts it plans may be due now: claimed next
                    continue
                if not claim.ids:
                    return result
                result.claimed += len(claim.ids)
                self._deliver(claim, now, set(), thanked)
                if len(thanked) >= HOLD_EVERY:
                    self._hold(result, thanked, now)
                if time.monotonic() - started > self.lease.total_seconds() / 2:
                    return result  # leave the rest to the next pass rather than outlive our own lease
        finally:
            if thanked:
                self._hold(result, thanked, now)

    def _claim(self, now: datetime, result: PassResult, *, kinds: frozenset[str] | None = None) -> Claim:
        return Claim.take(
            db=self.db,
            clock=self.clock,
            lease=self.lease,
            worker=self.worker,
            batch=self.batch,
            now=now,
            result=result,
            where=self._where(kinds),
        )

    @staticmethod
    def _where(kinds: frozenset[str] | None) -> ColumnElement[bool] | None:
        if kinds is None:
            return None
        of_kinds = Nudge.kind.in_(sorted(kinds))
        if kinds is not URGENT:
            return of_kinds
        # Ahead of the queue only a shortlist whose card is in Slack: one whose card is still queued (an Approve
        # quicker than the card's bookkeeping) stays in line behind it, rather than wait a dispatcher pass.
        card = ReferenceRequest
        return of_kinds & exists().where(
            card.id == Nudge.request_id, card.card_channel.is_not(None), card.card_ts.is_not(None)
        )

    # --- delivering a claim ----------------------------------------------------------------------
    def _deliver(
        self, claim: Claim, now: datetime, slowed: set[str], thanked: list[int], *, stale: bool = False
    ) -> None:
        """A claim's rows (as the claim returned them), in order. The bookkeeping is per batch: what they are about
        is read in a few statements, scheduled messages composed together; then each send is followed by the one statement
        that marks it sent (handed to the database before the next one goes: so if the process dies, at most the
        message in flight can go twice). The calls the thank-yous hold are added to `thanked`, for the pass to
        record (`_hold`). `stale`: the claim may have outlived its lease, so what it still holds is checked
        first (a row someone else took meanwhile is left alone)."""
        ids = claim.ids
        if stale:
            still = claim.hold(ids, now)
            ids = [i for i in ids if i in still]
        if not ids:
            return
        rows = {i: claim.taken[i] for i in ids}  # as the claim returned them: held since, so unchanged
        ids = _urgent_first(ids, rows)
        scheduled = [
            rows[i]
            for i in ids
            if i in rows and rows[i].kind not in effects.EFFECTS and rows[i].kind not in INTERNAL
        ]
        # Zones first (Slack, outside any transaction), then every scheduled message composed in one session.
        if self._zones is None:
            self._zones = Zones(self.client, self.zone_ttl)
        members = [n.recipient for n in scheduled if NudgeKind(n.kind) not in TO_CHANNEL]
        # A cold start (zones unknown): the next batch's members are asked for while this one sends.
        if self._zones.ask(members):
            self._ask_ahead(claim, now)
        known = self._zones.wait(members)
        zones = {n.id: known.get(n.recipient, UTC_ZONE) for n in scheduled}
        composed: dict[int, Composed | None] = {}
        if scheduled:
            with claim.timed(), self.db.unit_of_work() as session:
                composed, claim.thanks_pending = compose_batch(
                    session=session, nudges=scheduled, zones=zones, policy=self.policy, now=now
                )
        flight = Flight(
            pool=self._senders(),
            senders=self.senders,
            send=self._send,
            landed=lambda nudge, composed, sent: self._landed(claim, nudge, now, slowed, composed, sent),
        )
        lost: set[int] = set()  # rows whose lease ran out and another replica took: theirs to send
        try:
            for index, nudge_id in enumerate(ids):
                nudge = rows.get(nudge_id)
                if nudge is None:
                    continue
                if self.yield_to is not None:
                    self.yield_to()  # the courier lets acks go first (bot/web.py)
                if self.jump_queue is not None:
                    self.jump_queue()  # a shortlist CS just asked for goes before the rest of this batch
                if not claim.is_fresh():  # a slow batch: renew what is left of it before sending on
                    flight.land_all()  # what was sent is marked while the lease still holds
                    lost |= set(ids[index:]) - claim.hold(ids[index:], now)
                if nudge_id in lost:
                    continue
                if nudge.kind in effects.EFFECTS or nudge.kind in INTERNAL:
                    flight.land_all()  # effects and internal rows keep their order after what was sent
                    if nudge.kind in effects.EFFECTS:
                        self._deliver_effect(claim, nudge, now)
                    else:
                        bookkeeping.run_internal(self.db, claim, nudge, now)
                    continue
                flight.land(nudge.recipient)  # one message at a time per member, in order
                ready = self._ready(claim, nudge, now, slowed, zones[nudge_id], composed[nudge_id])
                if ready is not None:
                    flight.take_off(nudge, ready)
        finally:
            try:
                flight.land_all()  # every mark answered before the connection goes back
            finally:
                thanked.extend(flight.thanked)  # the pass records them, whatever happens next
                claim.disconnect()

    def _hold(self, result: PassResult, thanked: list[int], now: datetime) -> None:
        """The calls a pass's thank-yous hold, in one transaction (`thanked` is emptied). A process that dies
        first leaves them to `hold_calls_already_thanked` at its next start."""
        threshold, channel = self.appreciation_threshold, self.cs_channel_id
        bookkeeping.mark_held(
            self.db, thanked, now, result, appreciation_threshold=threshold, cs_channel=channel
        )
        thanked.clear()

    def _ask_ahead(self, claim: Claim, now: datetime) -> None:
        """The zones of the members the next batch will likely take (read, not claimed: a guess that costs
        nothing if another replica takes them)."""
        with claim.timed(), self.db.unit_of_work() as session:
            upcoming = session.scalars(
                select(Nudge.recipient)
                .where(
                    Nudge.status == leases.constant(NudgeStatus.PENDING),
                    Nudge.due_at <= now,
                    Nudge.kind.in_(TO_MEMBERS),
                )
                .order_by(Nudge.due_at, Nudge.id)
                .limit(self.batch)
            ).all()
        self._zones.prefetch(upcoming)

    def _ready(
        self,
        claim: Claim,
        nudge: Nudge,
        now: datetime,
        slowed: set[str],
        zone: ZoneInfo,
        composed: Composed | None,
    ) -> Composed | None:
        """The message if it should go now; else the row is cancelled or put back for later, and None."""
        kind, result = NudgeKind(nudge.kind), claim.result
        if composed is None:
            claim.finish(
                nudge.id,
                status=NudgeStatus.CANCELLED,
                last_error="no longer relevant",
                reason="no longer relevant: answered, moved or cancelled",
            )
            result.cancelled += 1
            return None
        if kind in ABOUT_THE_CALL and composed.call_at is not None and now >= composed.call_at:
            # Catching up long after (a dispatcher that was down, `refdesk dispatch --now`): prep and reminders
            # for a call that has started are wrong, not late. Cancelled, with the reason, never sent.
            claim.finish(
                nudge.id,
                status=NudgeStatus.CANCELLED,
                reason=f"its moment passed: the call started at {composed.call_at:%Y-%m-%d %H:%M} UTC",
            )
            result.cancelled += 1
            return None
        if nudge.recipient in slowed:
            claim.release(nudge.id, due_at=now + timedelta(seconds=1), count_attempt=False)
            result.deferred += 1
            return None
        window = send_at(
            due=nudge.due_at, kind=kind, zone=zone, call_at=composed.call_at, minutes=composed.call_minutes
        )
        if window <= now and kind == NudgeKind.FEEDBACK and nudge.engagement_id in claim.thanks_pending:
            window = now + self.backoff  # the question about the call never arrives before the thanks
        if window > now:
            claim.release(nudge.id, due_at=window, count_attempt=False)
            result.deferred += 1
            return None
        return composed

    def _landed(
        self,
        claim: Claim,
        nudge: Nudge,
        now: datetime,
        slowed: set[str],
        composed: Composed,
        sent: Future[None],
    ) -> int | None:
        """After a send: the row marked sent, or Slack's answer acted on. Returns the engagement a delivered
        thank-you marks as held."""
        try:
            sent.result()
        except SlackApiError as error:
            self._refusals.after_slack_error(claim, nudge, now, error, slowed, composed.thread)
            return None
        except OSError as error:  # the network: try again later, like a 5xx
            self._refusals.retry_or_fail(claim, nudge, now, f"network: {error}", composed.thread)
            return None
        # The one window where a message can go twice: sent, and the process dies before this line.
        claim.mark_sent(nudge.id, now)
        claim.result.sent += 1
        if NudgeKind(nudge.kind) == NudgeKind.THANKS and composed.engagement_id is not None:
            claim.thanks_pending.discard(composed.engagement_id)  # a feedback later in this batch may go now
            return composed.engagement_id
        return None

    def _send(self, recipient: str, composed: Composed) -> None:
        if composed.attachment is None:
            # The blocks as dicts from modals/wire.py: what slack_sdk's to_dict makes of them, ~5x sooner.
            self.client.chat_postMessage(
                channel=recipient, text=composed.text, blocks=as_dicts(composed.blocks)
            )
            return
        content, filename = composed.attachment
        self.client.files_upload_v2(
            channel=recipient, content=content, filename=filename, initial_comment=composed.text
        )

    # --- effects (bot/flows/effects.py, bot/delivery/sending.py) ---------------------------------
    def _deliver_effect(self, claim: Claim, row: Nudge, now: datetime) -> None:
        """`row` as the batch read it (this claim holds it: nobody else changes it meanwhile)."""
        context = sending.Context(
            client=self.client,
            policy=self.policy,
            rules=self.rules,
            cs_channel_id=self.cs_channel_id,
            now=now,
        )
        with claim.timed(), self.db.unit_of_work() as session:
            nudge = session.merge(row, load=False)  # into this session as read, without reading it again
            prepared = sending.prepare(session, nudge, context)
        if isinstance(prepared, sending.Drop):
            claim.finish(nudge.id, status=NudgeStatus.CANCELLED, reason=prepared.reason[:200])
            claim.result.cancelled += 1
            return
        if isinstance(prepared, sending.Wait):
            claim.release(nudge.id, due_at=prepared.until, count_attempt=False)
            claim.result.deferred += 1
            return
        try:
            response = prepared.call(self.client)
        except SlackApiError as error:
            self._refusals.after_slack_error(claim, nudge, now, error, set(), prepared.thread)
            return
        except OSError as error:  # the network or a timeout: try again later, like a 5xx
            self._refusals.retry_or_fail(claim, nudge, now, f"network: {error}", prepared.thread)
            return
        if prepared.after is None:
            # Nothing to store with it: marked sent as a scheduled message is, in one statement (claims.py).
            claim.mark_sent(nudge.id, now)
            claim.result.sent += 1
            return
        with claim.timed(), self.db.unit_of_work() as session:
            # What later steps need from this call (the card's ts, the ask's channel) is stored in the same
            # transaction that marks the send done.
            done = leases.finish(
                session=session,
                model=Nudge,
                row_id=nudge.id,
                token=claim.token,
                status=NudgeStatus.SENT,
                sent_at=now,
                last_error=None,
            )
            if done:
                prepared.after(session, response, now)
        claim.result.sent += 1
