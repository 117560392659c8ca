"""When a message can't be sent after its last try: undo what would be stuck, and tell the people who can act."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.flows import effects, lapses
from bot.text import Mrkdwn, channel_link, esc, mention, mrkdwn
from store.db import Database
from store.models import Nudge, ReferenceRequest

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
