"""Blocks as the JSON Slack receives: what slack_sdk's `to_dict()` makes of them, in a fifth of the time.

`JsonObject.to_dict()` finds each object's validators by walking `dir(self)` and reading every attribute (each
property computed) on every call: ~0.75 ms for a two-block thank-you, half of what the send itself costs. Here
the validators of each class are found once and remembered; they still run on every object, so a block Slack
would refuse raises the same `SlackObjectFormationError`, and the dicts are the same (tests/test_wire.py).
A class that writes its own `to_dict` (an option, a confirm dialog) keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)
_STOCK = ("to_dict", "validate_json", "get_non_null_attributes", "get_object_attribute")
# class → its validators' names and its attributes in order; None: its own to_dict
_classes: dict[type, tuple[tuple[str, ...], tuple[str, ...]] | None] = {}
_PLAIN = (str, int, float, bool)  # values that are their own JSON


def _class_of(block: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The validators and the sorted attribute names of the block's class, found once. slack_sdk computes
    `attributes` by a chain of set unions on every read, never from the instance (each class names its own)."""
    cls = type(block)
    if cls not in _classes:
        stock = all(getattr(cls, name) is getattr(JsonObject, name) for name in _STOCK)
        found = ((name, getattr(cls, name, None)) for name in dir(cls) if not name.startswith("__"))
        checks = tuple(name for name, f in found if callable(f) and hasattr(f, "validator"))
        _classes[cls] = (checks, tuple(sorted(block.attributes))) if stock else None
    return _classes[cls]


def _value(value: Any) -> Any:
    """slack_sdk's `to_dict_compatible`: lists element by element, objects by their dict, the rest as is."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if to_dict is None or not callable(to_dict):
        return value
    return {k: _value(v) for k, v in as_dict(value).items()}


def as_dict(block: Any) -> dict[str, Any]:
    """One object's `to_dict()`."""
    known = _class_of(block) if isinstance(block, JsonObject) else None
    if known is None:
        return block.to_dict()
    checks, attributes = known
    for name in checks:
        getattr(block, name)()
    kind = getattr(block, "type", None)
    found: dict[str, Any] = {}
    for key in attributes:
        value = getattr(block, key, None)
        if value is None:
            continue
        empty = getattr(value, "__len__", None) is not None and len(value) == 0
        if empty and (kind, key) not in _EMPTY_ALLOWED:
            continue
        found[key] = _value(value)
    return found


def as_dicts(blocks: Sequence[Any]) -> list[Any]:
    """A message's blocks as WebClient would send them (dicts pass through)."""
    return [as_dict(b) if isinstance(b, JsonObject) else b for b in blocks]
