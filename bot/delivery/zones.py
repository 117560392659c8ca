"""Members' time zones from Slack (users.info), remembered for a while: people rarely move.

A fresh dispatcher knows nobody's zone. Asking users.info for each member in turn, between sends, cost as long as
the sends themselves, so the zones are asked on a few threads of their own, side by side, and a batch can ask
ahead (`prefetch`) for the members of the next one while its own messages are on their way.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

UTC_ZONE = ZoneInfo("UTC")


@dataclass
class Zones:
    client: WebClient
    ttl: timedelta = timedelta(hours=6)  # a member's zone is asked again after this
    # When Slack could not say (a 429 from users.info, Tier 4, on a cold start; an outage), UTC stands in
    # only this long: the member's real zone is asked again soon, not after `ttl`.
    retry: timedelta = timedelta(minutes=5)
    lookups: int = 4  # users.info calls in flight at once
    _known: dict[str, tuple[ZoneInfo, float]] = field(default_factory=dict)  # member → (zone, good until)
    _asking: dict[str, Future[ZoneInfo]] = field(default_factory=dict)  # member → users.info on its way
    _prefetched: set[str] = field(default_factory=set)  # asked ahead, not yet wanted by a batch
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def _fresh(self, user_id: str) -> ZoneInfo | None:
        known = self._known.get(user_id)
        if known is not None and time.monotonic() < known[1]:
            return known[0]
        return None

    def of(self, user_id: str) -> ZoneInfo:
        """The member's zone; UTC when Slack can't say (a failure here never holds a message back)."""
        zone = self._fresh(user_id)
        if zone is not None:
            return zone
        try:
            zone, keep = ZoneInfo(self.client.users_info(user=user_id)["user"].get("tz") or "UTC"), self.ttl
        except (SlackApiError, OSError, ZoneInfoNotFoundError, KeyError, ValueError):
            zone, keep = UTC_ZONE, self.retry
        self._known[user_id] = (zone, time.monotonic() + keep.total_seconds())
        return zone

    def _ask(self, user_id: str) -> Future[ZoneInfo] | None:
        """users.info for the member on the lookup threads, unless known or already asked (the caller's
        thread is the only one that asks)."""
        if self._fresh(user_id) is not None:
            return None
        asking = self._asking.get(user_id)
        if asking is not None and not asking.done():
            return asking
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.lookups, thread_name_prefix="refdesk-zone")
        self._asking[user_id] = future = self._pool.submit(self.of, user_id)
        return future

    def ask(self, members: Iterable[str]) -> bool:
        """Ask Slack, side by side, for the zones of these members not known yet (`wait` has them). True when
        any was unknown or only asked ahead: a sign the members after them are unknown too (`prefetch`)."""
        wanted = set(members)
        cold = any([self._ask(member) is not None for member in wanted])
        cold = cold or not self._prefetched.isdisjoint(wanted)
        self._prefetched.difference_update(wanted)
        return cold

    def wait(self, members: Iterable[str]) -> dict[str, ZoneInfo]:
        """These members' zones, waiting for those on their way (UTC for any Slack could not say)."""
        zones = {}
        for member in set(members):
            asking = self._asking.pop(member, None)
            zones[member] = self.of(member) if asking is None else asking.result()
        return zones

    def prefetch(self, members: Iterable[str]) -> None:
        """Ask ahead for these members' zones without waiting: a later `ask` and `wait` find them known, or
        on their way."""
        for member in set(members):
            if self._ask(member) is not None:
                self._prefetched.add(member)
        if len(self._prefetched) > 10_000:  # asked ahead for rows another replica sent: forgotten
            self._prefetched.clear()
            self._asking = {m: f for m, f in self._asking.items() if not f.done()}
