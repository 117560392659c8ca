"""Talking back to the person who acted: ephemeral where Slack allows, else a DM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.text import slack_date
from store.models import ReferenceRequest, RequestStatus

NOT_CS = "Only the CS team can approve or decline references. Ask in the CS channel if you need one decided."


def user_id_of(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    return body.get("user_id") or (body.get("event") or {}).get("user")


def tell(*, client: WebClient, body: dict[str, Any], respond: Respond | None, text: str) -> None:
    """Say `text` to whoever sent `body`, seen by them alone."""
    user = user_id_of(body)
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    if respond is not None and (container.get("is_ephemeral") or body.get("command")):
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif channel and user:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    elif user:
        client.chat_postMessage(channel=user, text=text)


def dm(*, client: WebClient, users: Sequence[str], text: str, blocks: Sequence[Block] | None = None) -> None:
    """A DM from the app to each user once."""
    for user in dict.fromkeys(u for u in users if u):
        client.chat_postMessage(channel=user, text=text, blocks=blocks)


def already_decided(request: ReferenceRequest) -> str:
    when = f" on {slack_date(request.decided_at)}" if request.decided_at else ""
    verb = {
        RequestStatus.APPROVED: "approved",
        RequestStatus.DECLINED: "declined",
        RequestStatus.CANCELLED: "cancelled",
    }.get(RequestStatus(request.status), request.status)
    return f"Request #{request.id} was already {verb} by <@{request.decided_by}>{when}. Nothing changed."
