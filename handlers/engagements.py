"""Who may act on a reference, and how a button finds the request or engagement it is about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import outreach
from bot.deps import Deps
from handlers.replies import tell
from store import queries
from store.models import ReferenceRequest

Allowed = Callable[[Deps, WebClient, str, outreach.Step], bool]


def load_request(deps: Deps, request_id: int | None) -> ReferenceRequest | None:
    if request_id is None:
        return None
    with deps.db.unit_of_work() as session:
        return queries.get_request(session=session, request_id=request_id)


def load_step(deps: Deps, raw: Any) -> outreach.Step | None:
    """The engagement named by a button value ("id" or "id:…") or a modal's metadata."""
    try:
        engagement_id = int(str(raw).split(":")[0])
    except (TypeError, ValueError):
        return None
    with deps.db.unit_of_work() as session:
        return outreach.load(session=session, engagement_id=engagement_id)


def advocate_side(deps: Deps, client: WebClient, user_id: str, step: outreach.Step) -> bool:
    """The person the ask went to (the advocate, or their CS owner); CS may act for them."""
    return user_id == step.engagement.asked_via or deps.cs_team.is_cs(client, user_id)


def rep_side(deps: Deps, client: WebClient, user_id: str, step: outreach.Step) -> bool:
    return user_id in (step.request.rep_id, step.request.requester_id) or deps.cs_team.is_cs(client, user_id)


def either_side(deps: Deps, client: WebClient, user_id: str, step: outreach.Step) -> bool:
    return advocate_side(deps, client, user_id, step) or rep_side(deps, client, user_id, step)


def clicked_step(
    *, deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, allowed: Allowed, refusal: str
) -> outreach.Step | None:
    """The engagement a button is about, when the clicker may act on it; otherwise they are told why."""
    step = load_step(deps, (body.get("actions") or [{}])[0].get("value"))
    if step is None:
        tell(client=client, body=body, respond=respond, text="I can't find that reference any more.")
        return None
    if not allowed(deps, client, body["user"]["id"], step):
        tell(client=client, body=body, respond=respond, text=refusal)
        return None
    return step
