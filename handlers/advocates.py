"""`/reference advocates`: CS manages the pool from Slack."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.deps import Deps, deps_of
from bot.exchange.pool_csv import check_advocate
from bot.flows import pool
from bot.flows.records import AdvocateRecord
from bot.rules.forms import parse_id
from bot.rules.vocabulary import AdvocateStatus
from bot.text import mrkdwn
from handlers.errors import after_ack
from handlers.guard import refuse_unreadable
from handlers.replies import CS_ONLY_POOL, tell
from modals.advocates import (
    advocate_cells,
    build_advocate_modal,
    build_break_modal,
    build_pool_list,
    metadata,
    wants_welcome,
)
from modals.ids import Action, Callback
from modals.ids import Block as BlockId
from store.models import Advocate

NOT_CS_POOL = CS_ONLY_POOL
MAX_PAGE = 1000
_EMPTY = {
    "kinds": "Tick at least one kind of reference they agreed to.",
}


def register(app: App) -> None:
    app.action(Action.POOL_PAGE)(after_ack(handle_pool_page))
    app.action(Action.POOL_ADD)(after_ack(handle_pool_add))
    app.action(Action.POOL_MENU)(after_ack(handle_pool_menu))
    app.view(Callback.ADVOCATE_FORM)(after_ack(handle_advocate_submission))
    app.view(Callback.BREAK_FORM)(after_ack(handle_break_submission))


def _pool_blocks(deps: Deps, page: int) -> list:
    today = deps.clock.now().date()
    with deps.db.unit_of_work() as session:
        found = pool.pool_page(session=session, page=page, policy=deps.policy, today=today)
        return build_pool_list(pool=found, today=today)


def show_pool(*, deps: Deps, client: WebClient, user_id: str, respond: Respond, page: int) -> None:
    """The slash command's answer: the pool, to CS only."""
    if not deps.cs_team.is_cs(client, user_id):
        respond(text=NOT_CS_POOL, response_type="ephemeral")
        return
    respond(text="Advocate pool", blocks=_pool_blocks(deps, page), response_type="ephemeral")


def _refresh_list(deps: Deps, context: dict[str, Any]) -> None:
    """Redraw the ephemeral list a modal was opened from (Slack allows a few uses of its response_url)."""
    url = context.get("response_url")
    if url:
        WebhookClient(url).send(
            text="Advocate pool",
            blocks=_pool_blocks(deps, page_of(context.get("page"))),
            replace_original=True,
            response_type="ephemeral",
        )


def _cs_only(deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond) -> bool:
    if deps.cs_team.is_cs(client, body["user"]["id"]):
        return True
    tell(client=client, body=body, respond=respond, text=NOT_CS_POOL)
    return False


def handle_pool_page(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    if _cs_only(deps, client, body, respond):
        page = page_of(body["actions"][0].get("value"))
        respond(
            text="Advocate pool",
            blocks=_pool_blocks(deps, page),
            replace_original=True,
            response_type="ephemeral",
        )


def page_of(raw: object) -> int:
    """A page number from a button or the modal's context; an unreadable one is page 1."""
    page = parse_id(raw)
    return page if page is not None and page <= MAX_PAGE else 1


def _list_context(body: dict[str, Any], page: int) -> dict[str, Any]:
    return {"response_url": body.get("response_url"), "page": page}


def handle_pool_add(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    if _cs_only(deps, client, body, respond):
        page = page_of(body["actions"][0].get("value"))
        client.views_open(
            trigger_id=body["trigger_id"],
            view=build_advocate_modal(advocate=None, context=_list_context(body, page)),
        )


def handle_pool_menu(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    if not _cs_only(deps, client, body, respond):
        return
    selected = body["actions"][0].get("selected_option") or {}
    verb, raw_id, raw_page = (str(selected.get("value") or "").split(":") + ["", ""])[:3]
    advocate_id = parse_id(raw_id)
    if verb not in ("edit", "break", "retire", "reactivate", "welcome") or advocate_id is None:
        refuse_unreadable(client=client, body=body, respond=respond)
        return
    page = page_of(raw_page)
    now = deps.clock.now()
    if verb == "welcome":
        _welcome(deps=deps, client=client, body=body, respond=respond, advocate_id=advocate_id)
        return
    with deps.db.unit_of_work() as session:
        advocate = session.get(Advocate, advocate_id)
        if advocate is None:
            tell(client=client, body=body, respond=respond, text="That advocate is no longer in the pool.")
            return
        if verb == "edit":
            view = build_advocate_modal(
                advocate=AdvocateRecord.of(advocate), context=_list_context(body, page)
            )
        elif verb == "break":
            view = build_break_modal(advocate=AdvocateRecord.of(advocate), context=_list_context(body, page))
        else:
            status = AdvocateStatus.RETIRED if verb == "retire" else AdvocateStatus.ACTIVE
            pool.set_status(
                session=session,
                advocate_id=advocate.id,
                status=status,
                now=now,
                note=f"{status.label} by <@{body['user']['id']}>",
            )
            view = None
    if view is not None:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    else:
        respond(
            text="Advocate pool",
            blocks=_pool_blocks(deps, page),
            replace_original=True,
            response_type="ephemeral",
        )


def _welcome(
    *, deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, advocate_id: int
) -> None:
    from handlers.advocate_side import send_welcome

    with deps.db.unit_of_work() as session:
        advocate = session.get(Advocate, advocate_id)
        name = advocate.name if advocate else None
    if name is None:
        tell(client=client, body=body, respond=respond, text="That advocate is no longer in the pool.")
        return
    sent_to = send_welcome(deps=deps, client=client, advocate_id=advocate_id)
    text = (
        mrkdwn("Welcome sent to {} ({}).", name, "by DM" if sent_to and sent_to[0] in "UW" else "")
        if sent_to
        else mrkdwn("{} was welcomed before, or has neither Slack nor a CS owner: nothing sent.", name)
    )
    tell(client=client, body=body, respond=respond, text=text)


def handle_advocate_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    if not deps.cs_team.is_cs(client, body["user"]["id"]):
        ack(response_action="errors", errors={"name": NOT_CS_POOL})
        return
    meta = metadata(view)
    advocate_id = meta.get("advocate_id")
    welcome = wants_welcome(view["state"]["values"])
    with deps.db.unit_of_work() as session:
        existing = session.get(Advocate, advocate_id) if advocate_id else None
        cells = advocate_cells(view["state"]["values"], AdvocateRecord.of(existing) if existing else None)
        row, problems = check_advocate(cells)
        errors = {}
        for problem in problems:
            block = problem.column if problem.column in view["state"]["values"] else "name"
            if problem.message.startswith("is empty"):
                message = _EMPTY.get(problem.column, "Please fill this in.")
            else:
                message = problem.message[0].upper() + problem.message[1:]
            errors.setdefault(block, message)
        saved_id = None
        if row is not None:
            try:
                saved_id = pool.save_advocate(
                    session=session, advocate_id=advocate_id, row=row, now=deps.clock.now()
                ).id
            except pool.EmailTaken as taken:
                errors["email"] = str(taken)
        if errors:
            session.rollback()
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    if welcome and saved_id is not None:
        from handlers.advocate_side import send_welcome

        send_welcome(deps=deps, client=client, advocate_id=saved_id)
    _refresh_list(deps, meta)


def handle_break_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    values = view["state"]["values"]
    raw = (values.get(BlockId.BREAK_UNTIL, {}).get("value") or {}).get("selected_date")
    note = ((values.get(BlockId.BREAK_NOTE, {}).get("value") or {}).get("value") or "").strip()
    today = deps.clock.now().date()
    until = date.fromisoformat(raw) if raw else None
    if until is None or until <= today:
        ack(response_action="errors", errors={BlockId.BREAK_UNTIL: "Please pick a date after today."})
        return
    if not deps.cs_team.is_cs(client, body["user"]["id"]):
        ack(response_action="errors", errors={BlockId.BREAK_UNTIL: NOT_CS_POOL})
        return
    meta = metadata(view)
    with deps.db.unit_of_work() as session:
        pool.set_status(
            session=session,
            advocate_id=int(meta.get("advocate_id") or 0),
            status=AdvocateStatus.BREAK,
            until=until,
            now=deps.clock.now(),
            note=f"break until {until.isoformat()}" + (f": {note}" if note else ""),
        )
    ack()
    _refresh_list(deps, meta)
