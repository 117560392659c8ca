"""Sending an outbox effect (bot/flows/effects.py): the Slack call it takes now, read from the store as it stands, and
what to record in the transaction that marks it sent. The dispatcher (bot/delivery/dispatcher.py) calls `prepare`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery import surfaces
from bot.flows import outreach, workflow
from bot.flows.audience import Brief
from bot.flows.effects import THREAD, TIMES_FOR_REP, Fx, enqueue, note, serialise
from bot.flows.records import RequestRecord
from bot.rules import nudges
from bot.rules.matching import Policy
from bot.rules.qualification import Rules
from bot.text import Mrkdwn, mention, mrkdwn
from modals import outreach as views
from modals.approval_card import card_text
from store import lifecycle
from store.models import Advocate, Engagement, EngagementStatus, Nudge, NudgeStatus, ReferenceRequest


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
        text, blocks = surfaces.render_page(
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
    if request is None:
        return Drop("the request no longer exists")
    text, blocks = card_text(RequestRecord.of(request)), serialise(surfaces.card_blocks(ctx.rules, request))
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
        lifecycle.plan_nudges(
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
