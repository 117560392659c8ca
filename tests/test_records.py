"""Builders render plain records (bot/flows/records.py): no database, no ORM row, a test of a card is a function call."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from bot.flows.records import RequestRecord, _snapshot_of
from modals.approval_card import build_approval_card, card_text
from modals.ids import Action
from modals.rep_views import build_request_list
from store.models import ReferenceRequest
from tests.support.blockkit import assert_valid
from tests.support.factories import request_values


def record(**overrides: object) -> RequestRecord:
    values = request_values(**overrides)
    return RequestRecord(**{f.name: values.get(f.name) for f in fields(RequestRecord)})


def _dicts(blocks: list) -> list[dict]:
    return [b.to_dict() for b in blocks]


def test_a_pending_card_is_built_from_a_record_without_a_database():
    blocks = _dicts(
        build_approval_card(request=record(status="pending", prospect_company="Initech"), flags=[])
    )
    assert_valid(blocks=blocks)
    assert "Initech" in blocks[0]["text"]["text"]
    buttons = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [Action.APPROVE, Action.DECLINE]
    assert "Initech" in card_text(record(prospect_company="Initech"))


def test_a_list_of_records_escapes_what_the_rep_typed():
    blocks = _dicts(build_request_list(requests=[record(prospect_company="<!channel> & Co")]))
    assert_valid(blocks=blocks)
    assert "&lt;!channel&gt; &amp; Co" in blocks[1]["text"]["text"]


def test_a_record_copies_a_row_and_its_lists_become_tuples():
    row = ReferenceRequest(**request_values(tried=["demo", "trial"]))
    copied = RequestRecord.of(row)
    assert copied.tried == ("demo", "trial") and copied.prospect_company == "Acme Corp"
    with pytest.raises(AttributeError):
        copied.status = "declined"  # type: ignore[misc]


def test_a_record_may_only_name_columns():
    with pytest.raises(TypeError, match="not columns of ReferenceRequest"):

        @_snapshot_of(ReferenceRequest)
        @dataclass(frozen=True)
        class Leaky:
            id: int
            password: str
