"""Durable side effects: every Slack message that carries a change of state is a row in the outbox.

A handler writes the rows in the SAME transaction as the state they announce (due now); after the commit the
courier (bot/delivery/courier.py) sends them at once (what each takes is bot/delivery/sending.py), and the periodic dispatcher pass retries what Slack refused
(429, 5xx, timeouts) with the same claim, lease and back-off as every other nudge. So a Slack failure means a
retry, never a state that changed without anyone hearing it.

Rows are `nudges` whose kind starts with "fx_". What a later step needs from an earlier Slack call (the card's
ts, the ask DM's channel and ts) is stored with its state in the transaction that marks the send done; a step
that needs it and finds it missing waits for the effect that provides it, and never returns silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bot.text import mrkdwn
from modals import kit
from modals.wire import as_dict
from store.models import Nudge

WAKE_KEY = "refdesk_effects"  # session.info: the kinds of effect a unit of work wrote (the courier wakes)


class Fx(StrEnum):
    CARD = "fx_card"  # post the approval card; its channel and ts are stored with the request
    CARD_UPDATE = "fx_card_update"  # re-render the card from the request as it stands
    SHORTLIST = "fx_shortlist"  # post page 1 of the shortlist in the card's thread, rendered at send time
    SHORTLIST_UPDATE = "fx_shortlist_update"  # re-render a shortlist message (channel, ts, page) in place
    POST = (
        "fx_post"  # a message rendered when the state changed: to a person, a channel, or the card's thread
    )
    UPDATE = "fx_update"  # replace a message: a given (channel, ts), or the engagement's ask DM
    ASK = "fx_ask"  # the ask DM (or CS owner's draft): its (channel, ts) stored and the reminder planned on send
    ICS = "fx_ics"  # the calendar invite, in the thread of a confirmation that was delivered


EFFECTS = frozenset(Fx)
LABELS = {
    Fx.CARD: "approval card",
    Fx.CARD_UPDATE: "approval card update",
    Fx.SHORTLIST: "shortlist",
    Fx.SHORTLIST_UPDATE: "shortlist update",
    Fx.POST: "message",
    Fx.UPDATE: "message update",
    Fx.ASK: "ask",
    Fx.ICS: "calendar invite",
}
THREAD = "thread"  # recipient of a message for the request's card thread
TIMES_FOR_REP = "times_for_rep"  # a POST rendered when sent: the advocate's times, in the rep's zone


def serialise(blocks: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    """Blocks as the JSON Slack receives (modals/wire.py: slack_sdk's dicts, in a fifth of its time: a shortlist
    page's 2.7 ms of to_dict between its render and its post)."""
    if blocks is None:
        return None
    return [as_dict(b) if hasattr(b, "to_dict") else dict(b) for b in blocks]


def enqueue(
    session: Session,
    kind: Fx,
    *,
    now: datetime,
    recipient: str = "refdesk",
    request_id: int | None = None,
    engagement_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Nudge:
    """One effect, due now, in the caller's transaction (the courier is woken when it commits)."""
    row = Nudge(
        key=f"{kind}:{uuid.uuid4().hex}",
        kind=kind,
        recipient=recipient[:32],
        engagement_id=engagement_id,
        request_id=request_id,
        due_at=now,
        created_at=now,
        payload=payload or {},
    )
    session.add(row)
    session.info.setdefault(WAKE_KEY, set()).add(str(kind))
    return row


def post(
    session: Session,
    *,
    now: datetime,
    to: str,
    text: str,
    blocks: Sequence[Any] | None = None,
    request_id: int | None = None,
    engagement_id: int | None = None,
    then: dict[str, Any] | None = None,
) -> Nudge:
    """A message to a person or channel (`to`), or to the request's card thread (`to=THREAD`)."""
    payload: dict[str, Any] = {"text": str(text), "blocks": serialise(blocks)}
    if then:
        payload["then"] = then
    return enqueue(
        session,
        Fx.POST,
        now=now,
        recipient=to,
        request_id=request_id,
        engagement_id=engagement_id,
        payload=payload,
    )


def dm(
    session: Session,
    *,
    now: datetime,
    users: Sequence[str | None],
    text: str,
    blocks: Sequence[Any] | None = None,
    request_id: int | None = None,
    engagement_id: int | None = None,
) -> None:
    """A DM to each user once (escaped for mrkdwn unless `text` is Mrkdwn), as effects."""
    text = kit.notification(text) if blocks else kit.message_text(text)
    for user in dict.fromkeys(u for u in users if u):
        post(
            session,
            now=now,
            to=user,
            text=text,
            blocks=blocks,
            request_id=request_id,
            engagement_id=engagement_id,
        )


def note(session: Session, *, now: datetime, request_id: int, text: str) -> None:
    """A line in CS's thread under the approval card (escaped unless `text` is Mrkdwn)."""
    post(session, now=now, to=THREAD, text=kit.message_text(text), request_id=request_id)


def say(session: Session, now: datetime, request_id: int, template: str, *values: object) -> None:
    """note() of a mrkdwn template, the values escaped (bot.text.mrkdwn): what CS's thread hears of a step."""
    note(session, now=now, request_id=request_id, text=mrkdwn(template, *values))


def update(
    session: Session,
    *,
    now: datetime,
    text: str,
    blocks: Sequence[Any] | None,
    channel: str | None = None,
    ts: str | None = None,
    engagement_id: int | None = None,
    request_id: int | None = None,
) -> None:
    """Replace a message: (channel, ts) when known, else the engagement's ask DM once it exists."""
    enqueue(
        session,
        Fx.UPDATE,
        now=now,
        recipient=channel or "ask",
        request_id=request_id,
        engagement_id=engagement_id,
        payload={"channel": channel, "ts": ts, "text": str(text), "blocks": serialise(blocks)},
    )


def card_update(session: Session, *, now: datetime, request_id: int) -> None:
    enqueue(session, Fx.CARD_UPDATE, now=now, recipient="card", request_id=request_id)


def shortlist(session: Session, *, now: datetime, request_id: int) -> None:
    enqueue(session, Fx.SHORTLIST, now=now, recipient=THREAD, request_id=request_id)


def shortlist_update(
    session: Session, *, now: datetime, request_id: int, channel: str, ts: str, page: int
) -> None:
    enqueue(
        session,
        Fx.SHORTLIST_UPDATE,
        now=now,
        recipient=channel,
        request_id=request_id,
        payload={"channel": channel, "ts": ts, "page": page},
    )
