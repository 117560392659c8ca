"""Members' time zones from Slack (users.list, users.info), remembered for a while: people rarely move.

A fresh dispatcher knows nobody's zone. Asking users.info for each member in turn, between sends, cost as long as
the sends themselves, so the zones are asked on a few threads of their own, side by side, and a batch can ask
ahead (`prefetch`) for the members of the next one while its own messages are on their way. When many members are
unknown at once (a cold start with a full outbox), the workspace is listed instead (users.list, 200 members a
call, the same users:read scope): a member it did not name (someone from another organisation, or a listing Slack
refused part-way) is asked with users.info as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

UTC_ZONE = ZoneInfo("UTC")

log = logging.getLogger(__name__)


@dataclass
class Zones:
    client: WebClient
    ttl: timedelta = timedelta(hours=6)  # a member's zone is asked again after this
    # When Slack could not say (a 429 from users.info, Tier 4, on a cold start; an outage), UTC stands in
    # only this long: the member's real zone is asked again soon, not after `ttl`.
    retry: timedelta = timedelta(minutes=5)
    lookups: int = 4  # users.info calls in flight at once
    # This many members unknown at once: the workspace is listed (a call per `page` members, up to `pages`
    # calls: users.list is Tier 2, users.info Tier 4), at most once per `ttl`, or per `retry` if Slack refused.
    bulk: int = 50
    page: int = 200  # what Slack advises for users.list's limit
    pages: int = 50
    _known: dict[str, tuple[ZoneInfo, float]] = field(default_factory=dict)  # member → (zone, good until)
    _asking: dict[str, Future[ZoneInfo]] = field(default_factory=dict)  # member → users.info on its way
    _listing: Future[None] | None = field(default=None, repr=False)  # users.list on its way (or done)
    _awaiting: set[str] = field(default_factory=set)  # members asked while it was on its way
    _list_again: float = 0.0  # the machine's timer: no listing before this
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

    def _lookups(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.lookups, thread_name_prefix="refdesk-zone")
        return self._pool

    def _ask(self, user_id: str) -> Future[ZoneInfo] | Future[None] | None:
        """users.info for the member on the lookup threads, unless known or already asked, or the listing on
        its way (the caller's thread is the only one that asks)."""
        if self._fresh(user_id) is not None:
            return None
        asking = self._asking.get(user_id)
        if asking is not None and not asking.done():
            return asking
        if self._listing is not None and not self._listing.done():
            self._awaiting.add(user_id)
            return self._listing
        self._asking[user_id] = future = self._lookups().submit(self.of, user_id)
        return future

    def _list_if_many(self, wanted: set[str]) -> None:
        """The workspace listed (users.list, on a lookup thread) when `bulk` of these members are unknown and
        not yet asked."""
        if time.monotonic() < self._list_again or (self._listing is not None and not self._listing.done()):
            return
        unknown = sum(
            1 for m in wanted if self._fresh(m) is None and m not in self._asking and m not in self._awaiting
        )
        if unknown >= self.bulk:
            self._list_again = time.monotonic() + self.ttl.total_seconds()
            self._listing = self._lookups().submit(self._list)

    def _list(self) -> None:
        """users.list, page by page: every listed member's zone learned. A refusal (a 429: users.list is Tier
        2; an error, the network) ends it early; members it did not name are then asked with users.info."""
        cursor: str | None = None
        try:
            for _ in range(self.pages):
                answer = self.client.users_list(limit=self.page, cursor=cursor)
                good_until = time.monotonic() + self.ttl.total_seconds()
                for member in answer.get("members") or []:
                    if member.get("id") and member.get("tz"):
                        try:
                            self._known[member["id"]] = (ZoneInfo(member["tz"]), good_until)
                        except (ZoneInfoNotFoundError, ValueError):
                            continue  # asked with users.info, which stands in UTC
                cursor = (answer.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return
        except (SlackApiError, OSError, KeyError, TypeError, ValueError) as error:
            log.warning("users.list failed (%s): zones asked member by member", type(error).__name__)
            self._list_again = time.monotonic() + self.retry.total_seconds()

    def ask(self, members: Iterable[str]) -> bool:
        """Ask Slack, side by side, for the zones of these members not known yet (`wait` has them). True when
        any was unknown or only asked ahead: a sign the members after them are unknown too (`prefetch`)."""
        wanted = set(members)
        self._list_if_many(wanted)
        cold = any([self._ask(member) is not None for member in wanted])
        cold = cold or not self._prefetched.isdisjoint(wanted)
        self._prefetched.difference_update(wanted)
        return cold

    def wait(self, members: Iterable[str]) -> dict[str, ZoneInfo]:
        """These members' zones, waiting for those on their way (UTC for any Slack could not say)."""
        wanted = set(members)
        if self._listing is not None and not self._awaiting.isdisjoint(wanted):
            self._listing.result()  # a refused listing raises nothing: its members are only left unknown
            for member in wanted & self._awaiting:
                self._awaiting.discard(member)
                self._ask(member)  # one the listing did not name: users.info, side by side
        zones = {}
        for member in wanted:
            asking = self._asking.pop(member, None)
            zones[member] = self.of(member) if asking is None else asking.result()
        return zones

    def prefetch(self, members: Iterable[str]) -> None:
        """Ask ahead for these members' zones without waiting: a later `ask` and `wait` find them known, or
        on their way."""
        wanted = set(members)
        self._list_if_many(wanted)
        for member in wanted:
            if self._ask(member) is not None:
                self._prefetched.add(member)
        if len(self._prefetched) > 10_000:  # asked ahead for rows another replica sent: forgotten
            self._prefetched.clear()
            self._awaiting.clear()
            self._asking = {m: f for m, f in self._asking.items() if not f.done()}
