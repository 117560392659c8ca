"""A peer conversation, logged from Slack: the button (CS's thread, the rep's DM), the modal and its submission."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps, deps_of
from bot.flows import effects, peer
from bot.flows.records import RequestRecord
from bot.text import Mrkdwn, blockquote, day, mention, mrkdwn
from handlers.engagements import load_request
from handlers.errors import after_ack
from handlers.guard import button_ids, refuse_unreadable
from handlers.replies import tell
from modals import peer as views
from modals.ids import Action, Callback
from modals.ids import Block as BlockId
from modals.rep_views import build_text_message
from store.models import Advocate, ReferenceRequest, RequestStatus

PEER_REFUSED = "Only CS or the rep on this request can log a peer conversation for it."
NOT_OPEN = "Request #{} is not an approved peer conversation waiting to be logged."
ALREADY = "A peer conversation was already logged for request #{}: {}."


def register(app: App) -> None:
    app.action(Action.LOG_PEER)(after_ack(handle_log_peer))
    app.view(Callback.PEER_FORM)(after_ack(handle_peer_submission))
    app.options(Action.PEER_SEARCH)(after_ack(handle_peer_search))


def may_log(deps: Deps, client: WebClient, user_id: str, request: ReferenceRequest) -> bool:
    """CS, like every CS action; and the rep who owns the request (or filed it): they know it happened."""
    return user_id in (request.rep_id, request.requester_id) or deps.cs_team.is_cs(client, user_id)


def _already(deps: Deps, request: ReferenceRequest) -> str | None:
    with deps.db.unit_of_work() as session:
        logged = peer.logged_for(session=session, request_id=request.id)
        if logged is None:
            return None
        advocate = session.get(Advocate, logged.advocate_id)
        return ALREADY.format(request.id, advocate.name if advocate else "an advocate")


def handle_log_peer(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    found = button_ids(body["actions"][0].get("value"), 1)
    if found is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    request = load_request(deps, found[0])
    if request is None:
        tell(client=client, body=body, respond=respond, text="I can't find that request any more.")
        return
    if not may_log(deps, client, body["user"]["id"], request):
        tell(client=client, body=body, respond=respond, text=PEER_REFUSED)
        return
    if (said := _already(deps, request)) is not None:
        tell(client=client, body=body, respond=respond, text=said)
        return
    if request.status != RequestStatus.APPROVED or not peer.is_peer(request) or request.active_advocate_id:
        tell(client=client, body=body, respond=respond, text=NOT_OPEN.format(request.id))
        return
    with deps.db.unit_of_work() as session:
        searchable = peer.pool_size(session=session) > peer.CHOICES_MAX
        choices = [] if searchable else peer.choices(session=session)
    container = body.get("container") or {}
    meta = views.PeerMeta(request.id, container.get("channel_id"), container.get("message_ts"))
    view = views.build_peer_modal(
        request=RequestRecord.of(request),
        choices=choices,
        searchable=searchable,
        today=deps.clock.now().date(),
        meta=meta,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_peer_search(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The external select's suggestions: advocates whose name or company holds what was typed."""
    deps = deps_of(context)
    query = body.get("value") if isinstance(body.get("value"), str) else ""
    with deps.db.unit_of_work() as session:
        found = peer.choices(session=session, query=query[:100])
    ack(options=[o.to_dict() for o in views.options(found)])


def handle_peer_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    now = deps.clock.now()
    meta = views.meta_of(view)
    request = load_request(deps, meta.request_id if meta else None)
    if meta is None or request is None:
        ack(response_action="errors", errors={BlockId.PEER_ADVOCATE: "This request no longer exists."})
        return
    if not may_log(deps, client, user_id, request):
        ack(response_action="errors", errors={BlockId.PEER_ADVOCATE: PEER_REFUSED})
        return
    parsed = views.parse_peer(view["state"]["values"], today=now.date())
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    view_id = str(view.get("id") or "")
    with deps.db.unit_of_work() as session:
        logged = peer.log(
            session=session,
            request_id=request.id,
            advocate_id=parsed.advocate_id,
            on=parsed.on,
            note=parsed.note,
            view_id=view_id,
            actor_id=user_id,
            appreciation_threshold=deps.settings.appreciation_threshold,
            cs_channel=deps.settings.cs_channel_id,
            now=now,
        )
        if logged is not None and logged.won:
            _logged(session, deps, logged, parsed, meta, user_id, now)
    if logged is None:
        refused = f"That advocate is not in the pool, or request #{request.id} is not waiting for a peer conversation."
        ack(response_action="errors", errors={BlockId.PEER_ADVOCATE: refused})
        return
    if logged.won or logged.engagement.source_view_id == view_id:
        ack()  # logged now, or the same submission again (a double click, a retry): logged once
        return
    ack(
        response_action="errors",
        errors={BlockId.PEER_ADVOCATE: ALREADY.format(request.id, logged.advocate.name)},
    )


def _logged(
    session: Session,
    deps: Deps,
    logged: peer.Logged,
    parsed: views.PeerLog,
    meta: views.PeerMeta,
    user_id: str,
    now: datetime,
) -> None:
    """The rep and CS's thread hear it; the message the button was on stops offering it."""
    request, advocate = logged.request, logged.advocate
    line = mrkdwn(
        ":speech_balloon: Logged by {}: a peer conversation between *{}* ({}) and {} on {}, for request #{}. "
        "It counts as a reference they gave, and the request is fulfilled.",
        mention(user_id),
        advocate.name,
        advocate.company,
        request.prospect_company,
        day(parsed.on),
        request.id,
    )
    with_note = line + (Mrkdwn("\n") + blockquote(parsed.note) if parsed.note else Mrkdwn(""))
    effects.note(session, now=now, request_id=request.id, text=with_note)
    effects.dm(
        session,
        now=now,
        users=[request.rep_id],
        text=line + Mrkdwn(" On the close date I'll ask you how the deal went."),
        request_id=request.id,
        engagement_id=logged.engagement.id,
    )
    if meta.channel and meta.ts:
        if meta.channel == deps.settings.cs_channel_id:
            effects.shortlist_update(
                session, now=now, request_id=request.id, channel=meta.channel, ts=meta.ts, page=1
            )
        else:
            effects.update(
                session,
                now=now,
                channel=meta.channel,
                ts=meta.ts,
                text=line,
                blocks=build_text_message(line),
                request_id=request.id,
            )
