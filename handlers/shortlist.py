"""The shortlist in the card's thread: posted on approval, paged, and where CS picks an advocate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.delivery import surfaces
from bot.deps import Deps, deps_of
from bot.flows import effects, outreach, shortlist, workflow
from bot.text import mrkdwn, render
from handlers.engagements import load_request
from handlers.errors import after_ack
from handlers.guard import button_ids, refuse_unreadable
from handlers.replies import CS_ONLY_ASK, CS_ONLY_NO_MATCH, CS_ONLY_SHORTLIST, GONE, tell
from modals.ids import Action
from modals.rep_views import build_text_message
from store.models import Advocate, ReferenceRequest, RequestStatus


def register(app: App) -> None:
    app.action(Action.SHOW_MORE)(after_ack(handle_show_more))
    app.action(Action.ASK)(after_ack(handle_ask))
    app.action(Action.NO_MATCH)(after_ack(handle_no_match))


MAX_PAGE = 1000


def _numbers(body: dict[str, Any], count: int) -> list[int] | None:
    """The ids a button carries in its value, "request:advocate:page" or "request:page", range-checked."""
    numbers = button_ids(body["actions"][0].get("value"), count)
    if numbers is None or (count > 1 and numbers[-1] > MAX_PAGE):
        return None
    return numbers


def _refresh(
    client: WebClient, body: dict[str, Any], deps: Deps, request: ReferenceRequest, page: int
) -> None:
    container = body.get("container") or {}
    with deps.db.unit_of_work() as session:
        text, blocks = surfaces.render_page(
            session=session, request=request, policy=deps.policy, today=deps.clock.now().date(), page=page
        )
    client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text=text, blocks=blocks)


def _refresh_later(session: Session, body: dict[str, Any], request_id: int, page: int, now: datetime) -> None:
    """Re-render the clicked shortlist message from the state just committed, through the outbox."""
    container = body.get("container") or {}
    if container.get("channel_id") and container.get("message_ts"):
        effects.shortlist_update(
            session,
            now=now,
            request_id=request_id,
            channel=container["channel_id"],
            ts=container["message_ts"],
            page=page,
        )


def handle_show_more(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    numbers = _numbers(body, 2)
    if numbers is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    request_id, page = numbers
    if not deps.cs_team.is_cs(client, body["user"]["id"]):
        tell(client=client, body=body, respond=respond, text=CS_ONLY_SHORTLIST)
        return
    request = load_request(deps, request_id)
    if request is None:
        tell(client=client, body=body, respond=respond, text=GONE)
        return
    _refresh(client, body, deps, request, page=page)


def handle_ask(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    numbers = _numbers(body, 3)
    if numbers is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    request_id, advocate_id, page = numbers
    if not deps.cs_team.is_cs(client, user_id):
        tell(client=client, body=body, respond=respond, text=CS_ONLY_ASK)
        return
    request = load_request(deps, request_id)
    if request is None:
        tell(client=client, body=body, respond=respond, text=GONE)
        return
    if request.status != RequestStatus.APPROVED:
        tell(
            client=client,
            body=body,
            respond=respond,
            text=f"Request #{request.id} is {request.status.replace('_', ' ')}: nobody can be asked for it now.",
        )
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        if request.active_advocate_id:
            picked = session.get(Advocate, request.active_advocate_id)
            tell(
                client=client,
                body=body,
                respond=respond,
                text=mrkdwn(
                    "{} is already being asked for request #{}. Nothing changed.", picked.name, request.id
                ),
            )
            return
        chosen = session.get(Advocate, advocate_id)
        if deps.settings.require_written_yes and chosen is not None and chosen.agreed_on is None:
            tell(
                client=client,
                body=body,
                respond=respond,
                text=mrkdwn(
                    "{} hasn't said yes to the program in writing yet, and refdesk asks nobody before that "
                    "(REQUIRE_WRITTEN_YES). Send the welcome from `/reference advocates`, or ask someone else.",
                    chosen.name,
                ),
            )
            return
        ranked = shortlist.ranked_for(session=session, request=request, policy=deps.policy, today=now.date())
        assessment = next((a for a in ranked if a.candidate.advocate_id == advocate_id), None)
        if assessment is None or not shortlist.good_enough(assessment):
            why = "; ".join(e.reason for e in assessment.exclusions) if assessment else "no longer a match"
            tell(
                client=client,
                body=body,
                respond=respond,
                text=mrkdwn(
                    "{} can't be asked now: {}.",
                    assessment.candidate.name if assessment else "That advocate",
                    why,
                ),
            )
            return
        # The ask (and its thread note, once delivered) goes through the outbox with the state it announces.
        step = outreach.ask(
            session=session,
            request=request,
            advocate=session.get(Advocate, advocate_id),
            actor_id=user_id,
            now=now,
        )
        if step.won:
            _refresh_later(session, body, request.id, page, now)
    if not step.won:
        tell(
            client=client,
            body=body,
            respond=respond,
            text=mrkdwn(
                "{} is already being asked for request #{}. Nothing changed.", step.advocate.name, request.id
            ),
        )
        return


def handle_no_match(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    numbers = _numbers(body, 1)
    if numbers is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    (request_id,) = numbers
    if not deps.cs_team.is_cs(client, user_id):
        tell(client=client, body=body, respond=respond, text=CS_ONLY_NO_MATCH)
        return
    request = load_request(deps, request_id)
    if request is None:
        tell(client=client, body=body, respond=respond, text=GONE)
        return
    now = deps.clock.now()
    with deps.db.unit_of_work() as session:
        ranked = shortlist.ranked_for(session=session, request=request, policy=deps.policy, today=now.date())
        wider = shortlist.widened_for(session=session, request=request, policy=deps.policy, today=now.date())
        reasons = shortlist.no_match_reasons(ranked, wider)
        outcome = workflow.close_no_match(
            session=session, request_id=request_id, actor_id=user_id, reasons=reasons, now=now
        )
        if outcome is not None and outcome.won:
            closed = outcome.request
            text = render("request_no_match", r=closed, actor=user_id, reasons=reasons)
            effects.dm(
                session,
                now=now,
                users=[closed.rep_id, closed.requester_id],
                text=text,
                blocks=build_text_message(text),
                request_id=closed.id,
            )
            effects.card_update(session, now=now, request_id=closed.id)
            _refresh_later(session, body, closed.id, 1, now)
    if outcome is None or not outcome.won:
        current = outcome.request if outcome else request
        tell(
            client=client,
            body=body,
            respond=respond,
            text=f"Request #{request_id} is already {current.status.replace('_', ' ')}. Nothing changed.",
        )
        return
