"""Events: the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from modals.rep_views import LIST_LIMIT, build_home
from store import queries


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)


def publish_home(*, client: WebClient, deps: Deps, user_id: str) -> None:
    with deps.db.unit_of_work() as session:
        requests = queries.list_requests_for_user(session=session, user_id=user_id, limit=LIST_LIMIT)
        view = build_home(requests=requests)
    client.views_publish(user_id=user_id, view=view)


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab") != "home":
        return
    publish_home(client=client, deps=deps_of(context), user_id=event["user"])
