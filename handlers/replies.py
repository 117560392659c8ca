"""Talking back to the person who acted: ephemeral where Slack allows, else a DM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.text import Mrkdwn, mention, mrkdwn, slack_date
from modals import kit
from store.models import ReferenceRequest, RequestStatus

NOT_CS = "Only the CS team can approve or decline references. Ask in the CS channel if you need one decided."
# What only CS may do, each said with its reason (PROGRAM.md: only CS may approve, decline or contact an advocate).
CS_ONLY_ASK = "Only the CS team can ask an advocate: CS owns the relationship with advocates."
CS_ONLY_SHORTLIST = "Only the CS team can page through the shortlist: it is CS's view of who may be asked."
CS_ONLY_NO_MATCH = "Only the CS team can close a request for lack of a match."
CS_ONLY_POOL = "Only the CS team can see and change the advocate pool."
CS_ONLY_STATS = "The program's stats are for the CS team. `/reference list` shows your own requests."
GONE = "I can't find that request any more."


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def user_id_of(body: dict[str, Any]) -> str | None:
    """Who sent `body` (None when it names nobody readable)."""
    user = body.get("user")
    if isinstance(user, dict):
        return _text(user.get("id"))
    return _text(body.get("user_id")) or _text(_object(body.get("event")).get("user"))


def tell(*, client: WebClient, body: dict[str, Any], respond: Respond | None, text: str) -> None:
    """Say `text` to whoever sent `body`, seen by them alone (escaped for mrkdwn unless it is `Mrkdwn`)."""
    text = kit.message_text(text)
    user = user_id_of(body)
    container = _object(body.get("container"))
    channel = _text(_object(body.get("channel")).get("id")) or _text(body.get("channel_id"))
    if respond is not None and (container.get("is_ephemeral") or body.get("command")):
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif channel and user:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    elif user:
        client.chat_postMessage(channel=user, text=text)


def dm(*, client: WebClient, users: Sequence[str], text: str, blocks: Sequence[Block] | None = None) -> None:
    """A DM from the app to each user once; `text` is escaped for mrkdwn unless it is `Mrkdwn`."""
    text = kit.notification(text) if blocks else kit.message_text(text)
    for user in dict.fromkeys(u for u in users if u):
        client.chat_postMessage(channel=user, text=text, blocks=blocks)


def already_decided(request: ReferenceRequest) -> Mrkdwn:
    when = mrkdwn(" on {}", slack_date(request.decided_at)) if request.decided_at else ""
    verb = {
        RequestStatus.APPROVED: "approved",
        RequestStatus.DECLINED: "declined",
        RequestStatus.CANCELLED: "cancelled",
    }.get(RequestStatus(request.status), request.status.replace("_", " "))
    by = mention(request.decided_by) if request.decided_by else Mrkdwn("CS")
    return mrkdwn("Request #{} was already {} by {}{}. Nothing changed.", request.id, verb, by, when)
