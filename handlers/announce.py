"""What Slack hears after a request changes: the card in the CS channel and the rep's DMs."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.qualification import qualify
from bot.text import mrkdwn
from handlers.replies import dm
from modals.approval_card import build_approval_card, card_text
from modals.rep_views import build_decision_message, build_submitted_message, submitted_text
from store.models import ReferenceRequest, RequestStatus

log = logging.getLogger(__name__)


def flags_of(deps: Deps, request: ReferenceRequest) -> list:
    return qualify(
        rules=deps.rules,
        deal_stage=request.deal_stage,
        deal_arr=request.deal_arr,
        tried=request.tried,
        prior_references=request.prior_references,
    )


def post_card(*, client: WebClient, deps: Deps, request: ReferenceRequest) -> tuple[str, str] | None:
    """Post the approval card; (channel, ts), or None when Slack refused (the rep is told why)."""
    try:
        response = client.chat_postMessage(
            channel=deps.settings.cs_channel_id,
            text=card_text(request),
            blocks=build_approval_card(request=request, flags=flags_of(deps, request)),
            unfurl_links=False,
        )
    except SlackApiError as error:
        reason = error.response.get("error")
        log.error("approval card for request %s not posted: %s", request.id, reason)
        dm(
            client=client,
            users=[request.requester_id],
            text=mrkdwn(
                ":warning: Request #{} is saved, but I couldn't post it to the CS channel "
                "(Slack said `{}`). Please ask an admin to invite me there with `/invite @refdesk`.",
                request.id,
                reason,
            ),
        )
        return None
    return response["channel"], response["ts"]


def update_card(*, client: WebClient, deps: Deps, request: ReferenceRequest) -> None:
    if not (request.card_channel and request.card_ts):
        return
    client.chat_update(
        channel=request.card_channel,
        ts=request.card_ts,
        text=card_text(request),
        blocks=build_approval_card(request=request, flags=flags_of(deps, request)),
    )


def tell_rep_submitted(*, client: WebClient, request: ReferenceRequest) -> None:
    dm(
        client=client,
        users=[request.rep_id, request.requester_id],
        text=submitted_text(request),
        blocks=build_submitted_message(request=request),
    )


def announce_decision(*, client: WebClient, deps: Deps, request: ReferenceRequest) -> None:
    """The card shows the decision with its buttons gone; the rep (and whoever filed) hears it."""
    update_card(client=client, deps=deps, request=request)
    if request.status in (RequestStatus.APPROVED, RequestStatus.DECLINED):
        text, blocks = build_decision_message(request=request)
        dm(client=client, users=[request.rep_id, request.requester_id], text=text, blocks=blocks)
