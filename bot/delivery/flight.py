"""Scheduled messages on their way to Slack: a few at once, one per member, each landing in the order sent."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from bot.delivery.compose import Composed
from store.models import Nudge


class Flight:
    """At most `senders` messages in flight, never two to the same member (Slack paces per channel, and a
    member's messages keep their order). Each lands on the caller's thread: `landed` marks it sent or acts on
    Slack's answer, and returns the engagement a thank-you holds (collected in `thanked`). Without a pool each
    message lands before the next row is looked at, as if sent in turn."""

    def __init__(
        self,
        *,
        pool: ThreadPoolExecutor | None,
        senders: int,
        send: Callable[[str, Composed], None],
        landed: Callable[[Nudge, Composed, Future[None]], int | None],
    ) -> None:
        self.pool, self.senders, self.send, self.landed = pool, senders, send, landed
        self.flying: dict[str, tuple[Nudge, Composed, Future[None]]] = {}  # member → in flight, oldest first
        self.thanked: list[int] = []

    def take_off(self, nudge: Nudge, composed: Composed) -> None:
        if self.pool is None:
            sent: Future[None] = Future()
            try:
                self.send(nudge.recipient, composed)
                sent.set_result(None)
            except Exception as error:  # noqa: BLE001 - `landed` acts on Slack's and the network's, re-raises others
                sent.set_exception(error)
            self.flying[nudge.recipient] = (nudge, composed, sent)
            self.land(nudge.recipient)
            return
        while len(self.flying) >= self.senders:
            self.land(next(iter(self.flying)))
        self.flying[nudge.recipient] = (
            nudge,
            composed,
            self.pool.submit(self.send, nudge.recipient, composed),
        )

    def land(self, member: str) -> None:
        """The member's message in flight, if any, waited for and acted on."""
        flying = self.flying.pop(member, None)
        if flying is None:
            return
        engagement = self.landed(*flying)
        if engagement is not None:
            self.thanked.append(engagement)

    def land_all(self) -> None:
        while self.flying:
            self.land(next(iter(self.flying)))
