"""When Slack refuses a send: wait out a 429, try a 5xx or the network again with back-off (`Refusals`); after the
last try, undo what would be stuck and tell the people who can act (`tell`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.delivery.claims import Claim
from bot.flows import effects, lapses
from bot.text import Mrkdwn, channel_link, esc, mention, mrkdwn
from store import versions
from store.db import Database
from store.models import Nudge, NudgeStatus, ReferenceRequest

log = logging.getLogger(__name__)


def _recipient(recipient: str) -> Mrkdwn:
    """A member's mention, or a channel's link (the quarter's report goes to the CS channel)."""
    try:
        return channel_link(recipient) if recipient[:1] in "CGD" else mention(recipient)
    except ValueError:
        return esc(recipient)


def tell(
    *,
    db: Database,
    client: WebClient,
    clock: Clock,
    cs_channel_id: str,
    nudge: Nudge,
    reason: str,
    thread: tuple[str, str] | None,
) -> None:
    """A failed effect is handled by its kind where it can be (the card, the invite, the ask); anything else is
    reported to CS, in the request's thread when there is one."""
    if nudge.kind in effects.EFFECTS and _effect_failed(db, client, clock, nudge, reason):
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
            client.chat_postMessage(channel=thread[0], thread_ts=thread[1], text=text)
        else:
            client.chat_postMessage(channel=cs_channel_id, text=text)
    except SlackApiError:
        log.exception("could not tell CS that nudge %s failed", nudge.id)


def _effect_failed(db: Database, client: WebClient, clock: Clock, nudge: Nudge, reason: str) -> bool:
    """True when the failure was handled and whoever can act was told."""
    if nudge.kind == effects.Fx.CARD:
        with db.unit_of_work() as session:
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
                client.chat_postMessage(channel=requester, text=text)
            except (SlackApiError, OSError):
                log.exception("could not tell the requester that card %s failed", nudge.request_id)
        return True
    if nudge.kind == effects.Fx.ICS:
        payload = nudge.payload or {}
        try:
            client.chat_postMessage(
                channel=payload["channel"],
                thread_ts=payload["ts"],
                text="I couldn't attach the calendar invite; please add the time above to your calendar.",
            )
        except (SlackApiError, OSError, KeyError):
            log.warning("could not say that the invite for engagement %s is missing", nudge.engagement_id)
        return True
    if nudge.kind == effects.Fx.ASK:
        with db.unit_of_work() as session:
            return lapses.ask_undeliverable(
                session=session, engagement_id=nudge.engagement_id, reason=reason, now=clock.now()
            )
    return False


@dataclass(frozen=True)
class Refusals:
    """What a send Slack refused does to its row: a 429 waits out Retry-After, a 5xx or the network is tried again
    with back-off until the last attempt, anything else fails at once; a failed row is undone and told
    (`tell`)."""

    db: Database
    client: WebClient
    clock: Clock
    cs_channel_id: str
    max_attempts: int
    backoff: timedelta

    def after_slack_error(
        self,
        claim: Claim,
        nudge: Nudge,
        now: datetime,
        error: SlackApiError,
        slowed: set[str],
        thread: tuple[str, str] | None,
    ) -> None:
        status = error.response.status_code
        if status == 429:
            headers = error.response.headers or {}
            wait = int(headers.get("Retry-After") or headers.get("retry-after") or 1)
            slowed.add(nudge.recipient)
            claim.release(nudge.id, due_at=now + timedelta(seconds=wait), count_attempt=False)
            claim.result.deferred += 1
        elif status >= 500:
            self.retry_or_fail(claim, nudge, now, f"Slack answered {status}", thread)
        else:
            self.fail(claim, nudge, str(error.response.get("error")), thread)

    def retry_or_fail(
        self, claim: Claim, nudge: Nudge, now: datetime, reason: str, thread: tuple[str, str] | None
    ) -> None:
        attempts = nudge.attempts  # read after the claim, which counted this attempt
        if attempts >= self.max_attempts:
            self.fail(claim, nudge, reason, thread)
            return
        claim.finish(
            nudge.id,
            status=NudgeStatus.PENDING,
            due_at=now + self.backoff * (2 ** (attempts - 1)),
            claimed_by=None,
            lease_until=None,
            last_error=reason[:500],
        )
        claim.result.retried += 1

    def fail(self, claim: Claim, nudge: Nudge, reason: str, thread: tuple[str, str] | None) -> None:
        # Failed, and Home's queue told (it counts the messages that could not be sent), in one transaction: Home
        # remembers its queue until the program's version moves, so a failure must never commit without it.
        with self.db.unit_of_work() as session:
            failed = claim.finish(
                nudge.id, connection=session.connection(), status=NudgeStatus.FAILED, last_error=reason[:500]
            )
            if failed:
                versions.bump(session)
        if not failed:
            return
        claim.result.failed += 1
        # A missing calendar file leaves the call confirmed: people add it by hand, as they are told.
        level = logging.WARNING if nudge.kind == effects.Fx.ICS else logging.ERROR
        log.log(level, "nudge %s (%s) failed: %s", nudge.id, nudge.kind, reason)
        tell(
            db=self.db,
            client=self.client,
            clock=self.clock,
            cs_channel_id=self.cs_channel_id,
            nudge=nudge,
            reason=reason,
            thread=thread,
        )
