"""Who may act on a reference, and how a button finds the request or engagement it is about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.flows import advocate_side as advocate_flow
from bot.flows import outreach
from bot.text import Mrkdwn
from handlers.guard import button_ids, refuse_unreadable
from handlers.replies import tell
from store import lifecycle
from store.models import ReferenceRequest

Allowed = Callable[[Deps, WebClient, str, outreach.Step], bool]


def load_request(deps: Deps, request_id: int | None) -> ReferenceRequest | None:
    if request_id is None:
        return None
    with deps.db.unit_of_work() as session:
        return lifecycle.get_request(session=session, request_id=request_id)


def load_step(deps: Deps, engagement_id: int | None) -> outreach.Step | None:
    """The engagement a button or a modal's metadata names (None: none, or not one of our ids)."""
    if engagement_id is None:
        return None
    with deps.db.unit_of_work() as session:
        return outreach.load(session=session, engagement_id=engagement_id)


def advocate_side(deps: Deps, client: WebClient, user_id: str, step: outreach.Step) -> bool:
    """The advocate, or their account's CS owner (who asks for them when they aren't on Slack); CS may act too."""
    advocate = step.advocate
    own = {step.engagement.asked_via, advocate.slack_user_id, advocate.owner_slack_user_id} - {None, ""}
    return user_id in own or deps.cs_team.is_cs(client, user_id)


def rep_side(deps: Deps, client: WebClient, user_id: str, step: outreach.Step) -> bool:
    """The rep on the request (or whoever filed it); CS may act too."""
    return user_id in (step.request.rep_id, step.request.requester_id) or deps.cs_team.is_cs(client, user_id)


# Refusals, each naming the rule that refused.
ADVOCATE_ONLY = "Only the advocate this was sent to (or their account's CS owner, or CS) can answer it."
PICK_REFUSED = "Only the rep on this request (or CS) picks the time: the rep confirms it with the prospect."
TIMES_REFUSED = (
    "Only the advocate (or their CS owner), the rep on this request or CS can offer times for this call."
)
MOVE_REFUSED = "Only the advocate (or their CS owner), the rep on this request or CS can move this call."
CANCEL_REFUSED = "Only the advocate (or their CS owner), the rep on this request or CS can cancel this call."
CHECKIN_REFUSED = "Only the rep on this request (or CS) logs the check-in with the prospect."
NO_CALL_REFUSED = "Only the rep on this request (or CS) can say the call didn't happen."
OUTCOME_REFUSED = "Only the rep on this request (or CS) tells us how the deal went."


def either_side(deps: Deps, client: WebClient, user_id: str, step: outreach.Step) -> bool:
    return advocate_side(deps, client, user_id, step) or rep_side(deps, client, user_id, step)


def clicked_step(
    deps: Deps,
    client: WebClient,
    body: dict[str, Any],
    respond: Respond,
    /,
    *,
    allowed: Allowed,
    refusal: str,
) -> outreach.Step | None:
    """The engagement a button is about, when the clicker may act on it; otherwise they are told why."""
    # "id", or "id:ISO instant" on a time button (whose listener reads the time itself).
    found = button_ids(str(body["actions"][0].get("value")).split(":", 1)[0], 1)
    if found is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return None
    step = load_step(deps, found[0])
    if step is None:
        tell(client=client, body=body, respond=respond, text="I can't find that reference any more.")
        return None
    if not allowed(deps, client, body["user"]["id"], step):
        tell(client=client, body=body, respond=respond, text=refusal)
        return None
    return step


def advocate_click(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond
) -> outreach.Step | None:
    """clicked_step for a button sent to the advocate: theirs to press (or their CS owner's, or CS's)."""
    return clicked_step(deps, client, body, respond, allowed=advocate_side, refusal=ADVOCATE_ONLY)


def suggest_next_rung(deps: Deps, advocate_id: int, engagement_id: int, why: Mrkdwn) -> None:
    """After a Great rating or a won deal, CS hears the advocate's next rung (an outbox note, its own unit of work)."""
    with deps.db.unit_of_work() as session:
        advocate_flow.suggest_next_rung(
            session,
            now=deps.clock.now(),
            cs_channel_id=deps.settings.cs_channel_id,
            advocate_id=advocate_id,
            engagement_id=engagement_id,
            why=why,
        )
