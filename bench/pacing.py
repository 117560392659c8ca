"""Scenario B of the dispatcher bench: Slack's pacing (1 message a second per channel; B2 also a burst limit).

    python -m bench.dispatch --only B1 --only B2 [...]   (the options are bench/dispatch.py's)

N due thank-yous over --recipients recipients (shuffled with --seed), passes back to back with a clock that
follows real time, against a fake Slack that answers 429 (Retry-After: 1) to a second message to the same
channel within 1 s; variant B2 also refuses everything once --burst messages were accepted within the last
second workspace-wide. The time limit is checked between passes; a pass still running when it expires is ended
the app's own way (its clock jumps past half a lease).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench.outbox import (
    NOW,
    QuietSlack,
    TimedDatabase,
    add,
    attempts,
    closest,
    delivered,
    exactly_once,
    recipients_for,
    seed,
    settings_for,
    statuses,
)
from bot.clock import FrozenClock
from bot.delivery.dispatcher import Dispatcher, PassResult
from bot.delivery.scheduler import make_dispatcher
from tests.support.fake_slack import Failure


class PacedSlack(QuietSlack):
    """Slack's pacing for chat.postMessage: about 1 message a second per channel, and (when `burst` is set) no
    more than `burst` messages in any one second workspace-wide. Over either: HTTP 429, Retry-After: 1."""

    def __init__(self, *, burst: int | None, check_blocks: bool = False) -> None:
        super().__init__(check_blocks=check_blocks)
        self.burst = burst
        self.accepted: list[tuple[str, float]] = []  # (channel, time.monotonic() of the decision)
        self.refused_channel = 0
        self.refused_burst = 0
        self._last: dict[str, float] = {}
        self._window: deque[float] = deque()
        self._pace = threading.Lock()

    def _check_blocks(self, method: str, params: dict[str, Any]) -> Failure | None:
        invalid = super()._check_blocks(method, params)
        if invalid is not None or method != "chat.postMessage":
            return invalid
        channel = str(params.get("channel", ""))
        with self._pace:
            now = time.monotonic()
            last = self._last.get(channel)
            if last is not None and now - last < 1.0:
                self.refused_channel += 1
                return Failure(status=429, retry_after=1)
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if self.burst is not None and len(self._window) >= self.burst:
                self.refused_burst += 1
                return Failure(status=429, retry_after=1)
            self._last[channel] = now
            self._window.append(now)
            self.accepted.append((channel, now))
        return None


@dataclass
class Paced:
    total: PassResult = field(default_factory=PassResult)
    passes: int = 0
    empty_passes: int = 0
    longest_pass: float = 0.0
    wall: float = 0.0
    timed_out: bool = False
    users_info: int = 0
    posts: int = 0
    refused_channel: int = 0
    refused_burst: int = 0
    once: int = 0
    never: int = 0
    twice: int = 0
    misrouted: int = 0
    other: int = 0
    watchdog: bool = False
    min_gap_decided: float = 0.0
    under_1s_decided: int = 0
    min_gap_recorded: float = 0.0
    under_1s_recorded: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)


def paced(
    db: TimedDatabase,
    count: int,
    recipients: int,
    rng: random.Random,
    *,
    burst: int | None,
    limit: float,
    check_blocks: bool,
    senders: int = 1,
) -> Paced:
    ids = recipients_for(count, recipients, rng)
    seed(db, ids)
    slack = PacedSlack(burst=burst, check_blocks=check_blocks).start()
    out = Paced()
    try:
        clock = FrozenClock(NOW)
        dispatcher: Dispatcher = make_dispatcher(
            settings=settings_for(slack, senders=senders), db=db, clock=clock
        )

        def stop_the_pass() -> None:
            # The limit is checked between passes; a pass in flight is stopped the app's own way: its clock
            # passes half a lease, so it returns after the batch in hand.
            out.watchdog = True
            clock.advance(dispatcher.lease)

        watchdog = threading.Timer(limit, stop_the_pass)
        watchdog.daemon = True
        began = time.monotonic()
        watchdog.start()
        while True:
            elapsed = time.monotonic() - began
            if elapsed > limit:
                out.timed_out = True
                break
            clock.set(NOW + timedelta(seconds=elapsed))
            result = dispatcher.run_pass()
            out.passes += 1
            out.empty_passes += result.claimed == 0
            out.longest_pass = max(out.longest_pass, time.monotonic() - began - elapsed)
            add(out.total, result)
            if out.total.sent + out.total.failed + out.total.cancelled >= count:
                break
        watchdog.cancel()
        out.wall = time.monotonic() - began
        out.users_info = len(slack.attempts("users.info"))
        out.posts = len(slack.attempts("chat.postMessage"))
        out.refused_channel, out.refused_burst = slack.refused_channel, slack.refused_burst
        per_nudge, out.misrouted, out.other = delivered(slack, ids)
        out.once, out.never, out.twice = exactly_once(per_nudge, count)
        out.min_gap_decided, out.under_1s_decided = closest(iter(slack.accepted))
        recorded = ((str(c.params.get("channel")), c.at) for c in slack.attempts("chat.postMessage") if c.ok)
        out.min_gap_recorded, out.under_1s_recorded = closest(recorded)
        out.statuses, out.attempts = statuses(db), attempts(db)
        return out
    finally:
        slack.stop()


def show_paced(name: str, p: Paced, count: int, recipients: int, burst: int | None, dialect: str) -> str:
    t = p.total
    limits = "1 msg/s per channel" + (f" + {burst} msg/s workspace-wide burst" if burst else "")
    clean = not p.twice and not p.misrouted and not p.other
    if clean and p.once == count:
        verdict = "yes, every nudge"
    elif clean:
        verdict = f"no duplicates, but {p.never:,} not sent before the limit"
    else:
        verdict = "NO"
    paced_ok = p.under_1s_decided == 0
    return (
        f"\nScenario {name} — Slack's pacing ({limits}): {count:,} thank-yous over {recipients:,} recipients  [{dialect}]\n"
        f"  outcome              {'all sent' if t.sent >= count else 'NOT all sent'} in {p.wall:.1f} s"
        + (" (stopped at the time limit)" if p.timed_out else "")
        + (" — the watchdog moved the clock to end a pass in flight" if p.watchdog else "")
        + "\n"
        f"  passes               {p.passes:,} ({p.passes - p.empty_passes:,} claimed something, {p.empty_passes:,} empty); "
        f"longest {p.longest_pass:.2f} s\n"
        f"  totals               {t}\n"
        f"  sent / deferred      {t.sent:,} / {t.deferred:,}  →  {t.sent / p.wall:,.1f} messages/s overall\n"
        f"  Slack saw            chat.postMessage {p.posts:,} (refused 429: per channel {p.refused_channel:,}, "
        f"burst {p.refused_burst:,}); users.info {p.users_info:,}\n"
        f"  seconds_in_database  {t.seconds_in_database:.3f} s  ← PassResult's own figure, read off the injected clock"
        + (" (may include the watchdog's clock jump)" if p.watchdog else "")
        + "\n"
        f"  per-channel pacing   {'kept' if paced_ok else 'BROKEN'}: accepted messages to one recipient under 1 s apart "
        f"{p.under_1s_decided} (closest {p.min_gap_decided:.3f} s at the fake's decision; "
        f"{p.under_1s_recorded} / {p.min_gap_recorded:.3f} s by the recorded call times)\n"
        f"  exactly once         {verdict}: once {p.once:,}, never {p.never:,}, more than once "
        f"{p.twice:,}, misrouted {p.misrouted:,}, other messages {p.other:,}; rows {p.statuses}; "
        f"attempts {p.attempts}"
    )
