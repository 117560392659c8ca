"""Events: the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.reporting import dashboard
from modals.home import REP_SHOWN, build_rep_home, cs_home
from modals.wire import as_dict


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)


def publish_home(*, client: WebClient, deps: Deps, user_id: str) -> None:
    """CS sees the program's dashboard; everyone else their own requests and what happens next."""
    now = deps.clock.now()
    cs = deps.cs_team.is_cs(client, user_id)
    with deps.db.unit_of_work() as session:
        if cs:
            view = cs_home(dashboard=dashboard.cs_dashboard(session=session, now=now, policy=deps.policy))
        else:
            requests = dashboard.rep_requests(session=session, user_id=user_id, now=now, limit=REP_SHOWN)
            # modals/wire.py: the same dict as slack_sdk's to_dict, validators included, 2.9 → 0.5 ms.
            view = as_dict(build_rep_home(requests=requests))
    client.views_publish(user_id=user_id, view=view)


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab") != "home":
        return
    publish_home(client=client, deps=deps_of(context), user_id=event["user"])
