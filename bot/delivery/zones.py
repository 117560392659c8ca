"""Members' time zones from Slack (users.info), remembered for a while: people rarely move."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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
    _known: dict[str, tuple[ZoneInfo, float]] = field(default_factory=dict)  # member → (zone, when asked)

    def of(self, user_id: str) -> ZoneInfo:
        """The member's zone; UTC when Slack can't say (a failure here never holds a message back)."""
        known = self._known.get(user_id)
        if known is not None and time.monotonic() - known[1] < self.ttl.total_seconds():
            return known[0]
        try:
            zone = ZoneInfo(self.client.users_info(user=user_id)["user"].get("tz") or "UTC")
        except (SlackApiError, OSError, ZoneInfoNotFoundError, KeyError, ValueError):
            zone = UTC_ZONE
        self._known[user_id] = (zone, time.monotonic())
        return zone

    def of_all(self, members: Iterable[str], pool: ThreadPoolExecutor | None) -> dict[str, ZoneInfo]:
        """Several members' zones, asked of Slack side by side when there is a pool."""
        wanted = sorted(set(members))
        return dict(zip(wanted, pool.map(self.of, wanted) if pool else map(self.of, wanted), strict=True))
