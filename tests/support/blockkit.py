"""Block Kit as Slack would judge it: slack_sdk's models, the Block Kit JSON Schema, and the limits neither checks."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"

LIMITS = {"message": 50, "modal": 100, "home": 100}
SERVER_KEYS = (
    "id",
    "hash",
    "state",
    "app_id",
    "bot_id",
    "team_id",
    "root_view_id",
    "previous_view_id",
    "app_installed_team_id",
)


@cache
def _validator(ref: str | None) -> jsonschema.Draft202012Validator:
    schema = json.loads((FIXTURES / "slack-block-kit.schema.json").read_text())
    if ref:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{ref}"}
    return jsonschema.Draft202012Validator(schema)


def problems(*, blocks: list[dict[str, Any]] | None = None, view: dict[str, Any] | None = None) -> list[str]:
    """Everything Slack would refuse in a message's blocks or a view; empty when valid."""
    found: list[str] = []
    if view is not None:
        surface = view.get("type", "modal")
        clean = {k: v for k, v in view.items() if k not in SERVER_KEYS}
        try:
            View(**clean).validate_json()
        except Exception as error:  # noqa: BLE001 - slack_sdk raises several kinds
            found.append(f"slack_sdk: {error}")
        found += [f"schema: {e.message[:300]}" for e in _validator(f"{surface}_view").iter_errors(clean)]
        blocks = view.get("blocks") or []
    else:
        surface = "message"
        blocks = blocks or []
        found += [f"schema: {e.message[:300]}" for e in _validator(None).iter_errors(blocks)]
    for raw in blocks:
        try:
            Block.parse(raw).validate_json()  # type: ignore[union-attr]
        except Exception as error:  # noqa: BLE001
            found.append(f"slack_sdk: {error}")
    if len(blocks) > LIMITS[surface]:
        found.append(f"{len(blocks)} blocks in a {surface}; Slack allows {LIMITS[surface]}")
    ids = Counter(b["block_id"] for b in blocks if "block_id" in b)
    found += [f"block_id {i!r} used {n} times" for i, n in ids.items() if n > 1]
    for block in blocks:
        elements = list(block.get("elements") or [])
        if "accessory" in block:
            elements.append(block["accessory"])
        if "element" in block:
            elements.append(block["element"])
        actions = Counter(e["action_id"] for e in elements if isinstance(e, dict) and "action_id" in e)
        found += [f"action_id {i!r} used {n} times in one block" for i, n in actions.items() if n > 1]
    return found


def assert_valid(*, blocks: list[dict[str, Any]] | None = None, view: dict[str, Any] | None = None) -> None:
    found = problems(blocks=blocks, view=view)
    assert not found, "\n".join(found)
