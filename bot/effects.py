"""Durable side effects: every Slack message that carries a change of state is a row in the outbox.

A handler writes the rows in the SAME transaction as the state they announce (due now); after the commit the
courier (bot/courier.py) sends them at once, and the periodic dispatcher pass retries what Slack refused
(429, 5xx, timeouts) with the same claim, lease and back-off as every other nudge. So a Slack failure means a
retry, never a state that changed without anyone hearing it.

Rows are `nudges` whose kind starts with "fx_". What a later step needs from an earlier Slack call (the card's
ts, the ask DM's channel and ts) is stored with its state in the transaction that marks the send done; a step
that needs it and finds it missing waits for the effect that provides it, and never returns silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.matching import Policy
from bot.qualification import Rules
from store.models import Engagement, EngagementStatus, Nudge, NudgeStatus, ReferenceRequest

WAKE_KEY = "refdesk_effects"  # set in session.info when a unit of work wrote effects: the courier is woken


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
    if blocks is None:
        return None
    return [b.to_dict() if hasattr(b, "to_dict") else dict(b) for b in blocks]


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
    session.info[WAKE_KEY] = True
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
    from modals import kit

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
    from modals import kit

    post(session, now=now, to=THREAD, text=kit.message_text(text), request_id=request_id)


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


# --- performing ------------------------------------------------------------------------------------------
@dataclass
class Context:
    client: WebClient
    policy: Policy
    rules: Rules | None
    cs_channel_id: str
    now: datetime


@dataclass
class Ready:
    """The Slack call to make, and what to store in the transaction that marks it sent."""

    call: Callable[[WebClient], Any]
    after: Callable[[Session, Any, datetime], None] | None = None
    thread: tuple[str, str] | None = None  # where CS hears it if it finally fails


@dataclass
class Wait:
    """A prerequisite (the card, the ask DM) is still on its way: try again at `until`, attempt not counted."""

    until: datetime
    reason: str


@dataclass
class Drop:
    """No longer possible or relevant: cancelled with `reason`."""

    reason: str


def _card_thread(request: ReferenceRequest | None) -> tuple[str, str] | None:
    if request is not None and request.card_channel and request.card_ts:
        return request.card_channel, request.card_ts
    return None


def _pending(session: Session, kind: Fx, **where: int | None) -> Nudge | None:
    statement = select(Nudge).where(
        Nudge.kind == kind, Nudge.status.in_([NudgeStatus.PENDING, NudgeStatus.SENDING])
    )
    for column, value in where.items():
        statement = statement.where(getattr(Nudge, column) == value)
    return session.scalars(statement.order_by(Nudge.due_at)).first()


def _wait_for(session: Session, kind: Fx, now: datetime, what: str, **where: int | None) -> Wait | Drop:
    provider = _pending(session, kind, **where)
    if provider is None:
        return Drop(f"{what} was never delivered")
    return Wait(max(provider.due_at, now + timedelta(seconds=1)), f"waiting for {what}")


def prepare(session: Session, row: Nudge, ctx: Context) -> Ready | Wait | Drop:
    """What sending `row` takes now, from the store as it stands."""
    kind = Fx(row.kind)
    payload = row.payload or {}
    request = session.get(ReferenceRequest, row.request_id) if row.request_id else None
    engagement = session.get(Engagement, row.engagement_id) if row.engagement_id else None
    thread = _card_thread(request)
    if kind in (Fx.CARD, Fx.CARD_UPDATE):
        return _prepare_card(session, row, request, ctx)
    if kind in (Fx.SHORTLIST, Fx.SHORTLIST_UPDATE):
        if request is None:
            return Drop("the request no longer exists")
        if kind == Fx.SHORTLIST and thread is None:
            return _wait_for(session, Fx.CARD, ctx.now, "the approval card", request_id=request.id)
        from handlers.shortlist import render_page

        text, blocks = render_page(
            session=session,
            request=request,
            policy=ctx.policy,
            today=ctx.now.date(),
            page=payload.get("page", 1),
        )
        blocks = serialise(blocks)
        if kind == Fx.SHORTLIST:
            channel, ts = thread
            return Ready(
                lambda c: c.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=blocks),
                thread=thread,
            )
        return Ready(
            lambda c: c.chat_update(channel=payload["channel"], ts=payload["ts"], text=text, blocks=blocks),
            thread=thread,
        )
    if kind == Fx.POST and payload.get("render") == TIMES_FOR_REP:
        return _prepare_times(session, row, engagement, ctx)
    if kind == Fx.POST:
        text, blocks = payload.get("text", ""), payload.get("blocks")
        if row.recipient == THREAD:
            if thread is None:
                if request is None:
                    return Drop("the request no longer exists")
                return _wait_for(session, Fx.CARD, ctx.now, "the approval card", request_id=request.id)
            channel, ts = thread
            return Ready(
                lambda c: c.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=blocks)
            )
        then = payload.get("then")
        after = _then(row, then) if then else None
        return Ready(
            lambda c: c.chat_postMessage(channel=row.recipient, text=text, blocks=blocks),
            after=after,
            thread=thread,
        )
    if kind == Fx.UPDATE:
        channel, ts = payload.get("channel"), payload.get("ts")
        if not channel:
            if engagement is None:
                return Drop("the engagement no longer exists")
            if not (engagement.ask_channel and engagement.ask_ts):
                return _wait_for(session, Fx.ASK, ctx.now, "the ask", engagement_id=engagement.id)
            channel, ts = engagement.ask_channel, engagement.ask_ts
        text, blocks = payload.get("text", ""), payload.get("blocks")
        return Ready(lambda c: c.chat_update(channel=channel, ts=ts, text=text, blocks=blocks), thread=thread)
    if kind == Fx.ASK:
        return _prepare_ask(session, row, engagement, ctx)
    if kind == Fx.ICS:
        content = payload["content"].encode()
        return Ready(
            lambda c: c.files_upload_v2(
                channel=payload["channel"],
                thread_ts=payload["ts"],
                content=content,
                filename="reference-call.ics",
                title="Calendar invite",
            ),
            thread=thread,
        )
    return Drop(f"unknown effect {kind}")


def _prepare_card(
    session: Session, row: Nudge, request: ReferenceRequest | None, ctx: Context
) -> Ready | Wait | Drop:
    from handlers.announce import card_blocks
    from modals.approval_card import card_text

    if request is None:
        return Drop("the request no longer exists")
    text, blocks = card_text(request), serialise(card_blocks(ctx.rules, request))
    if row.kind == Fx.CARD_UPDATE:
        thread = _card_thread(request)
        if thread is None:
            return _wait_for(session, Fx.CARD, ctx.now, "the approval card", request_id=request.id)
        channel, ts = thread
        return Ready(lambda c: c.chat_update(channel=channel, ts=ts, text=text, blocks=blocks), thread=thread)
    if request.card_ts:
        return Drop("the card was already posted")
    request_id = request.id

    def after(session: Session, response: Any, now: datetime) -> None:
        from bot import workflow

        workflow.record_card(
            session=session, request_id=request_id, channel=response["channel"], ts=response["ts"], now=now
        )

    return Ready(
        lambda c: c.chat_postMessage(channel=ctx.cs_channel_id, text=text, blocks=blocks, unfurl_links=False),
        after=after,
    )


def _prepare_ask(session: Session, row: Nudge, engagement: Engagement | None, ctx: Context) -> Ready | Drop:
    """The ask: by DM on Slack, or a draft for the CS owner. An advocate given by email alone is looked up in
    Slack when first asked (users.lookupByEmail): found, they get the DM and their member id is kept; not
    found, the CS owner gets the draft and the pool says so."""
    from bot import nudges, outreach
    from bot.audience import Brief
    from bot.text import Mrkdwn, mention, mrkdwn
    from modals import outreach as views
    from store import queries
    from store.models import Advocate

    if engagement is None or engagement.status != EngagementStatus.ASKED:
        return Drop("the ask was answered, cancelled or lapsed before it was sent")
    if engagement.ask_ts:
        return Drop("the ask was already sent")
    request = session.get(ReferenceRequest, engagement.request_id)
    advocate = session.get(Advocate, engagement.advocate_id)
    brief = Brief.of(request, advocate, engagement)
    dm_text, dm_blocks = views.build_ask(brief=brief)
    dm_blocks = serialise(dm_blocks)
    draft_text, draft_blocks = views.build_owner_draft(brief=brief, email=advocate.email)
    draft_blocks = serialise(draft_blocks)
    owner, email, known = advocate.owner_slack_user_id, advocate.email, advocate.slack_user_id
    look_up = not known and advocate.slack_not_found_at is None and bool(email)
    channel = engagement.asked_via
    engagement_id, request_id, advocate_id, name = engagement.id, request.id, advocate.id, advocate.name
    actor = (row.payload or {}).get("actor") or engagement.chosen_by

    def call(client: WebClient) -> dict[str, Any]:
        if known:
            return {
                "posted": client.chat_postMessage(channel=known, text=dm_text, blocks=dm_blocks),
                "to": known,
            }
        if look_up:
            try:
                found = client.users_lookupByEmail(email=email)["user"]["id"]
            except SlackApiError as error:
                if error.response.get("error") != "users_not_found":
                    raise
            else:
                posted = client.chat_postMessage(channel=found, text=dm_text, blocks=dm_blocks)
                return {"posted": posted, "to": found, "found": found}
        if not owner:
            refused = {"ok": False, "error": "not_in_slack_and_no_cs_owner"}
            raise SlackApiError(
                "nobody to send the ask to",
                SlackResponse(
                    client=client,
                    http_verb="POST",
                    api_url="",
                    req_args={},
                    data=refused,
                    headers={},
                    status_code=200,
                ),
            )
        posted = client.chat_postMessage(channel=owner, text=draft_text, blocks=draft_blocks)
        return {"posted": posted, "to": owner, "not_found": look_up}

    def after(session: Session, response: Any, now: datetime) -> None:
        posted, to = response["posted"], response["to"]
        outreach.record_ask_message(
            session=session, engagement_id=engagement_id, channel=posted["channel"], ts=posted["ts"]
        )
        sent_to = session.get(Advocate, advocate_id)
        if response.get("found"):
            sent_to.slack_user_id, sent_to.slack_not_found_at = response["found"], None
        elif response.get("not_found"):
            sent_to.slack_not_found_at = now
        session.get(Engagement, engagement_id).asked_via = to
        how = (
            Mrkdwn("by DM")
            if to != owner or known or response.get("found")
            else mrkdwn(
                "through their CS owner {}{}",
                mention(owner),
                " (not found in Slack by email)" if response.get("not_found") else "",
            )
        )
        # The reminder and the lapse count from the moment the ask reached the advocate.
        queries.plan_nudges(
            session=session,
            planned=nudges.ask_plan(engagement_id=engagement_id, asked_at=now, recipient=to or channel),
            engagement_id=engagement_id,
            request_id=request_id,
            now=now,
        )
        note(
            session,
            now=now,
            request_id=request_id,
            text=mrkdwn(
                ":outbox_tray: {} asked *{}* {}. Waiting for their answer.", mention(actor), name, how
            ),
        )

    return Ready(call, after=after, thread=_card_thread(request))


def _zone_of(client: WebClient, user_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(client.users_info(user=user_id)["user"].get("tz") or "UTC")
    except (SlackApiError, OSError, ZoneInfoNotFoundError, KeyError, ValueError):
        return ZoneInfo("UTC")


def _prepare_times(session: Session, row: Nudge, engagement: Engagement | None, ctx: Context) -> Ready | Drop:
    from bot.audience import Brief
    from modals import outreach as views
    from store.models import Advocate

    if engagement is None or engagement.status != EngagementStatus.ACCEPTED:
        return Drop("the times were picked, replaced or cancelled before they were sent")
    request = session.get(ReferenceRequest, engagement.request_id)
    brief = Brief.of(request, session.get(Advocate, engagement.advocate_id), engagement)
    text, blocks = views.build_times_for_rep(brief=brief, zone=_zone_of(ctx.client, row.recipient))
    blocks = serialise(blocks)
    return Ready(
        lambda c: c.chat_postMessage(channel=row.recipient, text=text, blocks=blocks),
        thread=_card_thread(request),
    )


def _then(row: Nudge, then: dict[str, Any]) -> Callable[[Session, Any, datetime], None]:
    """A follow-up that needs the delivered message: the calendar invite in the confirmation's thread."""

    def after(session: Session, response: Any, now: datetime) -> None:
        if then.get("ics"):
            enqueue(
                session,
                Fx.ICS,
                now=now,
                recipient=response["channel"],
                request_id=row.request_id,
                engagement_id=row.engagement_id,
                payload={"channel": response["channel"], "ts": response["ts"], "content": then["ics"]},
            )

    return after
