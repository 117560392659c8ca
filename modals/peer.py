"""Logging a peer conversation: the button, the modal (which advocate, the day it happened, a note), its parsing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.flows.records import RequestRecord
from bot.rules.forms import parse_id
from modals import kit
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId

NOTE_LIMIT = 1000
OLDEST = timedelta(days=365)  # further back is a slip of the date picker, and outside every limit's window
PICK_ADVOCATE = "Please pick the advocate the prospect talked to."
NO_DATE = "Please give the day the conversation happened."
FUTURE = "This day is still ahead: log a peer conversation once it has happened."
TOO_OLD = "Please pick a day within the last year."


@dataclass(frozen=True)
class PeerLog:
    advocate_id: int
    on: date
    note: str


@dataclass(frozen=True)
class PeerMeta:
    """What rides in the modal's private_metadata: the request, and the message the button was on (if any)."""

    request_id: int
    channel: str | None = None
    ts: str | None = None


def log_button(request_id: int) -> ActionsBlock:
    return kit.actions(
        kit.button(
            "Log a peer conversation", action_id=Action.LOG_PEER, value=str(request_id), style="primary"
        ),
        block_id=BlockId.PEER_ACTIONS,
    )


def options(choices: Sequence[tuple[int, str]]) -> list[Option]:
    return [kit.option(str(advocate_id), label) for advocate_id, label in choices]


def build_peer_modal(
    *,
    request: RequestRecord,
    choices: Sequence[tuple[int, str]],
    searchable: bool,
    today: date,
    meta: PeerMeta,
) -> View:
    """`choices`: the pool as a list; `searchable`: the pool is larger than a list holds, so it is searched."""
    advocate = (
        ExternalDataSelectElement(
            action_id=Action.PEER_SEARCH, placeholder="Type a name or company", min_query_length=1
        )
        if searchable
        else StaticSelectElement(action_id=VALUE, placeholder="Pick the advocate", options=options(choices))
    )
    return View(
        type="modal",
        callback_id=Callback.PEER_FORM,
        title=kit.title("Peer conversation"),
        submit=kit.title("Log it"),
        close=kit.title("Cancel"),
        private_metadata=json.dumps({"request_id": meta.request_id, "channel": meta.channel, "ts": meta.ts}),
        blocks=[
            kit.section(
                kit.safe(
                    f"A conversation between one of our advocates and {request.prospect_company} (request "
                    f"#{request.id}) that happened on its own: an event, an intro. Logging it closes the request "
                    "and counts it in the advocate's usage, like any reference they give.",
                    kit.FIELD_LIMIT,
                )
            ),
            InputBlock(block_id=BlockId.PEER_ADVOCATE, label="Who talked to them", element=advocate),
            InputBlock(
                block_id=BlockId.PEER_DATE,
                label="When it happened",
                element=DatePickerElement(action_id=VALUE, initial_date=today.isoformat()),
            ),
            InputBlock(
                block_id=BlockId.PEER_NOTE,
                label="Note",
                optional=True,
                element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=NOTE_LIMIT),
            ),
        ],
    )


def _element(values: Mapping[str, Mapping[str, Any]], block_id: str) -> Mapping[str, Any]:
    found = values.get(block_id) or {}
    return found.get(VALUE) or found.get(Action.PEER_SEARCH) or {}


def parse_peer(values: Mapping[str, Mapping[str, Any]], *, today: date) -> PeerLog | dict[str, str]:
    """The log, or errors by block for `ack(response_action="errors")`."""
    errors: dict[str, str] = {}
    chosen = (_element(values, BlockId.PEER_ADVOCATE).get("selected_option") or {}).get("value")
    advocate_id = parse_id(chosen) if chosen else None
    if advocate_id is None:
        errors[BlockId.PEER_ADVOCATE] = PICK_ADVOCATE
    raw_day = _element(values, BlockId.PEER_DATE).get("selected_date")
    on: date | None = None
    try:
        on = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        on = None
    if on is None:
        errors[BlockId.PEER_DATE] = NO_DATE
    elif on > today:
        errors[BlockId.PEER_DATE] = FUTURE
    elif on < today - OLDEST:
        errors[BlockId.PEER_DATE] = TOO_OLD
    note = _element(values, BlockId.PEER_NOTE).get("value") or ""
    if len(note) > NOTE_LIMIT:
        errors[BlockId.PEER_NOTE] = f"Please keep the note under {NOTE_LIMIT:,} characters."
    if errors:
        return errors
    return PeerLog(advocate_id=advocate_id, on=on, note=note.strip())  # type: ignore[arg-type]


def meta_of(view: Mapping[str, Any]) -> PeerMeta | None:
    try:
        raw = json.loads(view.get("private_metadata") or "{}")
        request_id = parse_id(raw["request_id"])
    except (ValueError, KeyError, TypeError):
        return None
    if request_id is None:
        return None
    channel, ts = raw.get("channel"), raw.get("ts")
    return PeerMeta(
        request_id, channel if isinstance(channel, str) else None, ts if isinstance(ts, str) else None
    )
