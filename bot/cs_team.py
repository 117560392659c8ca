"""Who is CS: the members of the CS channel, asked of Slack and remembered for a few minutes."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.errors import CsChannelUnreadable


class CsTeam:
    def __init__(self, *, channel_id: str, lead_ids: frozenset[str], clock: Clock, ttl_seconds: int) -> None:
        self.channel_id = channel_id
        self.lead_ids = lead_ids
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._members: frozenset[str] = frozenset()
        self._fetched_at: datetime | None = None
        self._lock = threading.Lock()

    def members(self, client: WebClient) -> frozenset[str]:
        with self._lock:
            now = self._clock.now()
            if self._fetched_at is None or now - self._fetched_at >= self._ttl:
                self._members = self._fetch(client)
                self._fetched_at = now
            return self._members

    def _fetch(self, client: WebClient) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                response = client.conversations_members(channel=self.channel_id, cursor=cursor, limit=1000)
                members.update(response.get("members") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return frozenset(members)
        except SlackApiError as error:
            raise CsChannelUnreadable(self.channel_id, str(error.response.get("error"))) from error

    def is_cs(self, client: WebClient, user_id: str) -> bool:
        """CS leads count as CS even when they are not in the channel."""
        return user_id in self.lead_ids or user_id in self.members(client)

    def is_lead(self, user_id: str) -> bool:
        return user_id in self.lead_ids
