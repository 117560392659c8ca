"""Request bodies shaped like Slack's own (fixtures/, from Slack's SDK tests), filled in for refdesk."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from modals.ids import Block

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEAM = {"id": "T0TEAM", "domain": "example"}


@cache
def fixture(name: str) -> Any:
    path = FIXTURES / name
    if name.endswith(".txt"):
        return dict(parse_qsl(path.read_text().strip()))
    return json.loads(path.read_text())


def slash_command(
    *,
    text: str,
    user_id: str,
    response_url: str,
    channel_id: str = "C0SALES",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> dict[str, str]:
    body = dict(fixture("slash_command.form.txt"))
    body.update(
        command="/reference",
        text=text,
        user_id=user_id,
        user_name=user_id.lower(),
        channel_id=channel_id,
        team_id=TEAM["id"],
        response_url=response_url,
        trigger_id=trigger_id,
    )
    body.pop("enterprise_id", None)
    body.pop("enterprise_name", None)
    return body


def block_action(
    *,
    action_id: str,
    value: str,
    user_id: str,
    response_url: str,
    channel_id: str,
    message_ts: str = "1700000000.000001",
    ephemeral: bool = False,
    container_type: str = "message",
    block_id: str = "b",
) -> dict[str, Any]:
    body = copy.deepcopy(fixture("block_actions.json"))
    body["user"] = {
        "id": user_id,
        "username": user_id.lower(),
        "name": user_id.lower(),
        "team_id": TEAM["id"],
    }
    body["team"] = dict(TEAM)
    body["response_url"] = response_url
    body["trigger_id"] = f"trigger-{user_id}-{action_id}"
    if container_type == "view":
        body["container"] = {"type": "view", "view_id": "V0HOME"}
        body.pop("channel", None)
        body.pop("response_url", None)
    else:
        body["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        }
        body["channel"] = {"id": channel_id, "name": "channel"}
    body["actions"] = [{**body["actions"][0], "action_id": action_id, "block_id": block_id, "value": value}]
    return body


def view_submission(
    *, view: dict[str, Any], values: dict[str, Any], user_id: str, view_id: str = "V0FORM"
) -> dict[str, Any]:
    body = copy.deepcopy(fixture("view_submission.json"))
    body["team"] = dict(TEAM)
    body["user"] = {
        "id": user_id,
        "username": user_id.lower(),
        "name": user_id.lower(),
        "team_id": TEAM["id"],
    }
    body["response_urls"] = []
    submitted = body["view"]
    submitted.update(
        id=view_id,
        callback_id=view.get("callback_id", ""),
        private_metadata=view.get("private_metadata", ""),
        blocks=view.get("blocks", []),
        title=view.get("title"),
        state={"values": values},
        hash=f"hash-{view_id}",
    )
    return body


def app_home_opened(*, user_id: str, tab: str = "home") -> dict[str, Any]:
    body = copy.deepcopy(fixture("event_app_home_opened_org_install.json"))
    body.pop("enterprise_id", None)
    body["team_id"] = TEAM["id"]
    body["is_ext_shared_channel"] = False
    body["authorizations"] = [
        {
            "enterprise_id": None,
            "team_id": TEAM["id"],
            "user_id": "U0BOT",
            "is_bot": True,
            "is_enterprise_install": False,
        }
    ]
    body["event"] = {**body["event"], "user": user_id, "tab": tab, "channel": "D0HOME"}
    body["event_id"] = f"Ev{user_id}"
    return body


def state_values(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """state.values as Slack sends them for `view`, with `answers` keyed by block_id."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        block_id = block["block_id"]
        answer = answers.get(block_id)
        options = {o["value"]: o for o in element.get("options", [])}
        if kind in ("plain_text_input", "number_input"):
            value: dict[str, Any] = {"type": kind, "value": None if answer is None else str(answer)}
        elif kind in ("static_select", "radio_buttons"):
            value = {
                "type": kind,
                "selected_option": None
                if answer is None
                else options.get(
                    answer, {"value": answer, "text": {"type": "plain_text", "text": str(answer)}}
                ),
            }
        elif kind == "checkboxes":
            value = {"type": kind, "selected_options": [options.get(a, {"value": a}) for a in (answer or [])]}
        elif kind == "datepicker":
            value = {"type": kind, "selected_date": answer}
        elif kind == "datetimepicker":
            value = {"type": kind, "selected_date_time": None if answer is None else int(answer.timestamp())}
        elif kind == "users_select":
            value = {"type": kind, "selected_user": answer}
        else:
            raise AssertionError(f"no state shape for {kind}")
        values[block_id] = {element["action_id"]: value}
    return values


# A complete, valid request form, the rep left out: what tests and benches submit unless they say otherwise.
FORM_ANSWERS: dict[str, Any] = {
    Block.PROSPECT_COMPANY: "Acme Corp",
    Block.PROSPECT_INDUSTRY: "software",
    Block.PROSPECT_EMPLOYEES: "800",
    Block.PROSPECT_REVENUE: None,
    Block.DEAL_ARR: "120000",
    Block.CLOSE_DATE: "2027-01-15",
    Block.DEAL_STAGE: "negotiation",
    Block.CONTACT_ROLE: "VP of Engineering",
    Block.CONTACT_CONCERNS: "Will it scale past 200 services? How long did the migration take?",
    Block.WANTED_INDUSTRY: "software",
    Block.WANTED_SIZE: "201-1000",
    Block.WANTED_ROLE: "vp",
    Block.WANTED_FUNCTION: None,
    Block.WANTED_USE_CASE: "Migrating off a legacy job scheduler",
    Block.WANTED_KIND: "call",
    Block.URGENCY: "two_weeks",
    Block.WANTED_COUNTRY: None,
    Block.WANTED_REGION: None,
    Block.WHY_NOW: "Final decision meeting in two weeks; the CTO wants to hear from a peer.",
    Block.TRIED: ["demo", "trial"],
    Block.GOAL: "Confidence that the migration is doable in a quarter.",
    Block.BACKGROUND: "",
    Block.PRIOR_REFERENCES: None,
}
