"""The rows of a claim that send nothing themselves (an ask lapsing, a missed check-in reaching CS), and the calls
a pass's thank-yous mark as held: each in one transaction of its own (bot/flows/lapses.py, held.py)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from bot.delivery.claims import Claim, PassResult
from bot.flows import held as held_calls
from bot.flows import lapses
from bot.rules.nudges import NudgeKind
from store.db import Database
from store.models import Nudge, NudgeStatus

log = logging.getLogger(__name__)


def run_internal(db: Database, claim: Claim, nudge: Nudge, now: datetime) -> None:
    """The ask lapses, or the missed check-in reaches CS."""
    with db.unit_of_work() as session:
        if nudge.kind == NudgeKind.CHECKIN_MISSED:
            applies = lapses.checkin_missed(
                session=session, engagement_id=nudge.engagement_id, request_id=nudge.request_id, now=now
            )
        else:
            lapses.lapse_ask(session=session, engagement_id=nudge.engagement_id, now=now)
            applies = True  # answered meanwhile: the lapse is moot, and done all the same
    if not applies:
        claim.finish(nudge.id, status=NudgeStatus.CANCELLED, last_error="no longer relevant")
        claim.result.cancelled += 1
        return
    claim.finish(nudge.id, status=NudgeStatus.SENT, sent_at=now)
    claim.result.sent += 1


def hold_calls_already_thanked(
    db: Database, now: datetime, *, appreciation_threshold: int, cs_channel: str
) -> None:
    """A pass records the calls its thank-yous hold at its end: a process that died in between left thanks
    sent for calls still `scheduled`. The first pass of each dispatcher finishes them, so the caps, the
    Home and the appreciation prompts count them."""
    with db.unit_of_work() as session:
        thanked = held_calls.thanked_but_not_held(session=session)
    if thanked:
        log.warning(
            "%d call(s) thanked before a stop were not yet counted as held: now they are", len(thanked)
        )
        mark_held(
            db,
            thanked,
            now,
            PassResult(),
            appreciation_threshold=appreciation_threshold,
            cs_channel=cs_channel,
        )


def mark_held(
    db: Database,
    engagement_ids: list[int],
    now: datetime,
    result: PassResult,
    *,
    appreciation_threshold: int,
    cs_channel: str,
) -> None:
    """One transaction for these held calls (a pass's, up to the dispatcher's HOLD_EVERY)."""
    started = time.monotonic()
    with db.unit_of_work() as session:
        held_calls.mark_held(
            session=session,
            engagement_ids=engagement_ids,
            now=now,
            appreciation_threshold=appreciation_threshold,
            cs_channel=cs_channel,
        )
    result.seconds_in_database += time.monotonic() - started
