"""The shortlist in the card's thread: posted on approval, paged, and where CS picks an advocate."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import outreach, shortlist, workflow
from bot.deps import Deps, deps_of
from bot.text import render
from handlers.announce import update_card
from handlers.engagements import load_request
from handlers.outreach import send_ask
from handlers.replies import NOT_CS, dm, tell
from modals.ids import Action
from modals.rep_views import build_text_message
from modals.shortlist import build_shortlist, shortlist_text
from store import queries
from store.models import Advocate, ReferenceRequest, RequestStatus


def register(app: App) -> None:
    app.action(Action.SHOW_MORE)(handle_show_more)
    app.action(Action.ASK)(handle_ask)
    app.action(Action.NO_MATCH)(handle_no_match)


def _numbers(body: dict[str, Any]) -> list[int] | None:
    """The ids a button carries in its value, "request:advocate:page" or "request:page"."""
    try:
        return [int(part) for part in body["actions"][0]["value"].split(":")]
    except (KeyError, IndexError, ValueError, AttributeError):
        return None


def _render(deps: Deps, request: ReferenceRequest, *, page: int) -> tuple[str, list]:
    """The shortlist page as it stands now: ranking, and what was already picked or closed."""
    today = deps.clock.now().date()
    with deps.db.unit_of_work() as session:
        # Page 1 needs only those who could be shortlisted; Show more (and an empty page 1) shows the rest.
        ranked = shortlist.ranked_for(
            session=session, request=request, policy=deps.policy, today=today, strict=page == 1
        )
        if page == 1 and not any(shortlist.good_enough(a) for a in ranked):
            ranked = shortlist.ranked_for(session=session, request=request, policy=deps.policy, today=today)
        picked = closed = None
        if request.active_advocate_id:
            advocate = session.get(Advocate, request.active_advocate_id)
            chosen = queries.open_engagement_for_request(session=session, request_id=request.id)
            who = f"<@{chosen.chosen_by}>" if chosen and chosen.chosen_by else "CS"
            picked = f":raised_hand: {who} asked *{advocate.name if advocate else 'an advocate'}* for this request."
        if request.status == RequestStatus.NO_MATCH:
            closed = f":no_entry_sign: No good match: <@{request.decided_by}> told the rep why."
    blocks = build_shortlist(
        request=request,
        ranked=ranked,
        page=page,
        policy=deps.policy,
        today=today,
        picked=picked,
        closed=closed,
    )
    return shortlist_text(request), blocks


def post_shortlist(*, client: WebClient, deps: Deps, request: ReferenceRequest) -> None:
    """Page 1 of the shortlist, in the approval card's thread."""
    if not (request.card_channel and request.card_ts):
        return
    text, blocks = _render(deps, request, page=1)
    client.chat_postMessage(channel=request.card_channel, thread_ts=request.card_ts, text=text, blocks=blocks)


def _refresh(
    client: WebClient, body: dict[str, Any], deps: Deps, request: ReferenceRequest, page: int
) -> None:
    container = body.get("container") or {}
    text, blocks = _render(deps, request, page=page)
    client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text=text, blocks=blocks)


def handle_show_more(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    numbers = _numbers(body)
    request = load_request(deps, numbers[0]) if numbers and len(numbers) == 2 else None
    if request is None:
        tell(client=client, body=body, respond=respond, text="I can't find that request any more.")
        return
    if not deps.cs_team.is_cs(client, body["user"]["id"]):
        tell(client=client, body=body, respond=respond, text=NOT_CS)
        return
    _refresh(client, body, deps, request, page=numbers[1])


def handle_ask(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    numbers = _numbers(body)
    request = load_request(deps, numbers[0]) if numbers and len(numbers) == 3 else None
    if request is None:
        tell(client=client, body=body, respond=respond, text="I can't find that request any more.")
        return
    _, advocate_id, page = numbers
    if not deps.cs_team.is_cs(client, user_id):
        tell(client=client, body=body, respond=respond, text=NOT_CS)
        return
    if request.status != RequestStatus.APPROVED:
        tell(
            client=client,
            body=body,
            respond=respond,
            text=f"Request #{request.id} is {request.status.replace('_', ' ')}: nobody can be asked for it now.",
        )
        return
    today = deps.clock.now().date()
    with deps.db.unit_of_work() as session:
        if request.active_advocate_id:
            picked = session.get(Advocate, request.active_advocate_id)
            tell(
                client=client,
                body=body,
                respond=respond,
                text=f"{picked.name} is already being asked for request #{request.id}. Nothing changed.",
            )
            return
        ranked = shortlist.ranked_for(session=session, request=request, policy=deps.policy, today=today)
        assessment = next((a for a in ranked if a.candidate.advocate_id == advocate_id), None)
        if assessment is None or not shortlist.good_enough(assessment):
            why = "; ".join(e.reason for e in assessment.exclusions) if assessment else "no longer a match"
            tell(
                client=client,
                body=body,
                respond=respond,
                text=f"{assessment.candidate.name if assessment else 'That advocate'} can't be asked now: {why}.",
            )
            return
        step = outreach.ask(
            session=session,
            request=request,
            advocate=session.get(Advocate, advocate_id),
            actor_id=user_id,
            now=deps.clock.now(),
        )
    if not step.won:
        tell(
            client=client,
            body=body,
            respond=respond,
            text=f"{step.advocate.name} is already being asked for request #{request.id}. Nothing changed.",
        )
        return
    _refresh(client, body, deps, step.request, page=page)
    send_ask(client=client, deps=deps, step=step, actor_id=user_id)


def handle_no_match(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    numbers = _numbers(body)
    request_id = numbers[0] if numbers else 0
    request = load_request(deps, request_id)
    if request is None:
        tell(client=client, body=body, respond=respond, text="I can't find that request any more.")
        return
    if not deps.cs_team.is_cs(client, user_id):
        tell(client=client, body=body, respond=respond, text=NOT_CS)
        return
    today = deps.clock.now().date()
    with deps.db.unit_of_work() as session:
        ranked = shortlist.ranked_for(session=session, request=request, policy=deps.policy, today=today)
        reasons = shortlist.no_match_reasons(ranked)
        outcome = workflow.close_no_match(
            session=session, request_id=request_id, actor_id=user_id, reasons=reasons, now=deps.clock.now()
        )
    if outcome is None or not outcome.won:
        current = outcome.request if outcome else request
        tell(
            client=client,
            body=body,
            respond=respond,
            text=f"Request #{request_id} is already {current.status.replace('_', ' ')}. Nothing changed.",
        )
        return
    closed = outcome.request
    text = render("request_no_match", r=closed, actor=user_id, reasons=reasons)
    dm(
        client=client,
        users=[closed.rep_id, closed.requester_id],
        text=text.splitlines()[0],
        blocks=build_text_message(text),
    )
    update_card(client=client, deps=deps, request=closed)
    _refresh(client, body, deps, closed, page=1)
