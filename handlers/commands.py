"""`/reference`: open the request form, list your requests, or show help."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.flows.records import RequestRecord
from bot.reporting.metrics import Period
from bot.reporting.report import build_report, stats_text
from bot.text import render
from handlers.advocates import page_of, show_pool
from handlers.errors import after_ack
from handlers.replies import CS_ONLY_STATS
from modals.rep_views import LIST_LIMIT, build_request_list
from modals.request_form import request_modal_payload
from store import lifecycle

COMMAND = "/reference"


def register(app: App) -> None:
    app.command(COMMAND)(after_ack(handle_reference_command))


def show_stats(*, deps: Deps, client: WebClient, user_id: str, respond: Respond) -> None:
    """The quarter so far, for CS (reps see their own requests in /reference list)."""
    if not deps.cs_team.is_cs(client, user_id):
        respond(text=CS_ONLY_STATS, response_type="ephemeral")
        return
    today = deps.clock.now().date()
    with deps.db.unit_of_work() as session:
        report = build_report(session=session, period=Period.quarter(today), policy=deps.policy, today=today)
    respond(text=stats_text(report), response_type="ephemeral")


def handle_reference_command(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    text = (command.get("text") or "").strip()
    word = text.lower()
    deps = deps_of(context)
    if word in ("help", "?"):
        ack(text=render("help", min_arr=deps.rules.min_deal_arr), response_type="ephemeral")
        return
    ack()
    user_id = command["user_id"]
    if word.split(" ")[0] == "advocates":
        page = word.split(" ")[1] if " " in word else "1"
        show_pool(
            deps=deps,
            client=client,
            user_id=user_id,
            respond=respond,
            page=page_of(page),
        )
        return
    if word == "stats":
        show_stats(deps=deps, client=client, user_id=user_id, respond=respond)
        return
    if word == "list":
        with deps.db.unit_of_work() as session:
            requests = lifecycle.list_requests_for_user(session=session, user_id=user_id, limit=LIST_LIMIT + 1)
            blocks = build_request_list(requests=[RequestRecord.of(r) for r in requests])
        respond(text="Your reference requests", blocks=blocks, response_type="ephemeral")
        return
    client.views_open(
        trigger_id=command["trigger_id"],
        view=request_modal_payload(requester_id=user_id, prospect_company=text),
    )
