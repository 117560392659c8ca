"""Buttons: Approve and Decline on the CS card, Cancel on the rep's requests."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.flows import effects, workflow
from bot.flows.records import RequestRecord
from bot.rules.qualification import needs_lead
from bot.text import Mrkdwn, mention, mrkdwn
from handlers.announce import announce_decision, flags_of
from handlers.engagements import load_request
from handlers.errors import after_ack
from handlers.events import publish_home
from handlers.guard import button_ids, refuse_unreadable
from handlers.replies import GONE, NOT_CS, already_decided, tell
from modals.decline_form import build_decline_modal
from modals.ids import Action
from modals.rep_views import LIST_LIMIT, build_request_list, build_submitted_message
from store import lifecycle
from store.models import ReferenceRequest, RequestStatus


def register(app: App) -> None:
    app.action(Action.APPROVE)(after_ack(handle_approve))
    app.action(Action.DECLINE)(after_ack(handle_decline_click))
    app.action(Action.CANCEL)(after_ack(handle_cancel))


def _request_id(body: dict[str, Any]) -> int | None:
    found = button_ids(body["actions"][0].get("value"), 1)
    return found[0] if found else None


def refusal(
    *, deps: Deps, client: WebClient, user_id: str, request: ReferenceRequest, approving: bool
) -> Mrkdwn | str | None:
    """Why this user may not decide this request, or None when they may."""
    if not deps.cs_team.is_cs(client, user_id):
        return NOT_CS
    if (
        approving
        and needs_lead(rules=deps.rules, deal_arr=request.deal_arr)
        and not deps.cs_team.is_lead(user_id)
    ):
        leads = Mrkdwn(", ").join(mention(lead) for lead in sorted(deps.cs_team.lead_ids)) or "a CS lead"
        return mrkdwn(
            "Request #{} is below ${:,} ARR, so a CS lead must approve it: {}.",
            request.id,
            deps.rules.min_deal_arr,
            leads,
        )
    return None


def _clicked_request(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond
) -> ReferenceRequest | None:
    """The request a card button is about; otherwise the clicker is told it can't be read or is gone."""
    request_id = _request_id(body)
    if request_id is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return None
    request = load_request(deps, request_id)
    if request is None:
        tell(client=client, body=body, respond=respond, text=GONE)
        return None
    return request


def _decidable(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, *, approving: bool
) -> ReferenceRequest | None:
    """The request a card button is about, when the clicker may decide it; otherwise they are told why."""
    request = _clicked_request(deps, client, body, respond)
    if request is None:
        return None
    reason = refusal(
        deps=deps, client=client, user_id=body["user"]["id"], request=request, approving=approving
    )
    if reason:
        tell(client=client, body=body, respond=respond, text=reason)
        return None
    return request


def _lost(
    outcome: workflow.Outcome | None,
    request: ReferenceRequest,
    client: WebClient,
    body: dict[str, Any],
    respond: Respond,
) -> bool:
    """True when someone else decided first (the flow's outcome did not win): the clicker is told who and how."""
    if outcome is not None and outcome.won:
        return False
    tell(
        client=client,
        body=body,
        respond=respond,
        text=already_decided(outcome.request if outcome else request),
    )
    return True


def handle_approve(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    request = _decidable(deps, client, body, respond, approving=True)
    if request is None:
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        outcome = workflow.approve(session=session, request_id=request.id, actor_id=user_id, now=now)
        if outcome is not None and outcome.won:
            # The shortlist first (it is what CS waits for), then the card and the rep's DM: outbox rows in the
            # approval's own transaction, computed and sent by the courier after the ack.
            effects.shortlist(session, now=now, request_id=request.id)
            announce_decision(session=session, request=outcome.request, now=now)
    if _lost(outcome, request, client, body, respond):
        return


def handle_decline_click(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    request = _decidable(deps, client, body, respond, approving=False)
    if request is None:
        return
    if request.status != RequestStatus.PENDING:
        tell(client=client, body=body, respond=respond, text=already_decided(request))
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=build_decline_modal(
            request_id=request.id, prospect_company=request.prospect_company, flags=flags_of(deps, request)
        ),
    )


def handle_cancel(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    request = _clicked_request(deps, client, body, respond)
    if request is None:
        return
    if user_id not in (request.rep_id, request.requester_id):
        tell(
            client=client,
            body=body,
            respond=respond,
            text=mrkdwn(
                "Only {}, the rep on request #{}, can cancel it (CS can decline it instead).",
                mention(request.rep_id),
                request.id,
            ),
        )
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        outcome = workflow.cancel(session=session, request_id=request.id, actor_id=user_id, now=now)
        if outcome is not None and outcome.won:
            effects.card_update(session, now=now, request_id=request.id)
    if _lost(outcome, request, client, body, respond):
        return
    container = body.get("container") or {}
    if container.get("is_ephemeral"):
        with deps.db.unit_of_work() as session:
            requests = lifecycle.list_requests_for_user(session=session, user_id=user_id, limit=LIST_LIMIT + 1)
            blocks = build_request_list(requests=[RequestRecord.of(r) for r in requests])
        respond(
            text="Your reference requests", blocks=blocks, replace_original=True, response_type="ephemeral"
        )
    elif container.get("type") == "view":
        publish_home(client=client, deps=deps, user_id=user_id)
    elif container.get("channel_id") and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=mrkdwn("Request #{} cancelled", request.id),
            blocks=build_submitted_message(request=RequestRecord.of(outcome.request)),
        )
