"""Modal submissions: the request form and the decline reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.flows import workflow
from handlers.announce import announce_decision, announce_submitted
from handlers.errors import after_ack
from handlers.replies import NOT_CS, already_decided
from modals.decline_form import build_notice_modal, decline_request_id, parse_decline_form
from modals.ids import Block, Callback
from modals.request_form import parse_request_form

# A close date is "in the past" only once it has passed everywhere on Earth (UTC-12).
_EARLIEST_ZONE = timedelta(hours=12)


def register(app: App) -> None:
    app.view(Callback.REQUEST_FORM)(after_ack(handle_request_submission))
    app.view(Callback.DECLINE_FORM)(after_ack(handle_decline_submission))


def handle_request_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    now = deps.clock.now()
    parsed = parse_request_form(view["state"]["values"], earliest_close=(now - _EARLIEST_ZONE).date())
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    # Stored before the ack, with the card and the rep's receipt as outbox rows in the same transaction: if the
    # database fails, the modal stays open with everything typed; if Slack fails, the courier retries.
    with deps.db.unit_of_work() as session:
        submitted = workflow.submit(
            session=session, form=parsed, requester_id=body["user"]["id"], view_id=view["id"], now=now
        )
        if submitted.created:
            announce_submitted(session=session, request=submitted.request, now=now)
    ack()


def handle_decline_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    request_id = decline_request_id(view.get("private_metadata") or "")
    parsed = parse_decline_form(view["state"]["values"])
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    if request_id is None:
        ack(
            response_action="errors",
            errors={Block.DECLINE_REASON: "This form is out of date: please close it."},
        )
        return
    if not deps.cs_team.is_cs(client, user_id):
        ack(response_action="errors", errors={Block.DECLINE_REASON: NOT_CS})
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        outcome = workflow.decline(
            session=session, request_id=request_id, actor_id=user_id, form=parsed, now=now
        )
        if outcome is not None and outcome.won:
            announce_decision(session=session, request=outcome.request, now=now)
    if outcome is None:
        ack(
            response_action="update",
            view=build_notice_modal(title="Not found", text=f"Request #{request_id} no longer exists."),
        )
        return
    if not outcome.won:
        ack(
            response_action="update",
            view=build_notice_modal(title="Already decided", text=already_decided(outcome.request)),
        )
        return
    ack()
