"""manifest.yml is valid Slack app-manifest YAML and declares what the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "slack"

# The bot scope each Web API method the code calls needs (methods without a scope map to None).
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "conversations_members": {"channels:read", "groups:read"},
    "views_open": None,
    "views_publish": None,
    "views_update": None,
    "users_info": "users:read",
    "users_list": "users:read",
    "users_lookupByEmail": "users:read.email",
    "conversations_open": "im:write",
    "files_upload_v2": "files:write",
    "apps_connections_open": None,  # the app-level token's connections:write, not a bot scope of the manifest
}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def called_methods() -> set[str]:
    """Web API methods the app calls (the simulated Slack in bot/demo/simulator is not the app)."""
    files = [p for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py") if "simulator" not in p.parts]
    source = "\n".join(p.read_text() for p in files)
    return set(re.findall(r"(?<!http\.)client\.(\w+)\(", source))


def test_manifest_is_valid_against_slacks_schema():
    schema = json.loads((FIXTURES / "manifest.schema.1.0.0.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(manifest()))
    assert errors == []


def test_every_method_called_has_its_scope_and_no_scope_is_unused():
    methods = called_methods()
    assert methods, "no Web API calls found: the scan is broken"
    unknown = methods - SCOPES.keys()
    assert not unknown, f"add the scope of {unknown} to SCOPES and manifest.yml"
    needed: set[str] = {"commands"}
    for method in methods:
        scope = SCOPES[method]
        needed |= scope if isinstance(scope, set) else ({scope} if scope else set())
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert declared == needed


def test_the_command_and_events_the_code_listens_to_are_declared():
    source = "\n".join(p.read_text() for p in (ROOT / "handlers").rglob("*.py"))
    commands = set(re.findall(r'COMMAND = "(/\w+)"', source))
    events = set(re.findall(r'app\.event\("(\w+)"\)', source))
    declared = manifest()
    assert commands == {c["command"] for c in declared["features"]["slash_commands"]}
    assert events <= set(declared["settings"]["event_subscriptions"]["bot_events"])
    assert declared["settings"]["socket_mode_enabled"] is True
    assert declared["settings"]["interactivity"]["is_enabled"] is True
