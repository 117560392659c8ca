"""modals/wire.py turns blocks into the same dicts as slack_sdk's own to_dict, and refuses the same blocks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import SectionBlock

from modals import kit
from modals.advocate_side import controls
from modals.nudges import build_nudge
from modals.outreach import build_ask, build_confirmation, build_times_for_rep, build_times_modal
from modals.request_form import build_request_modal
from modals.wire import as_dict, as_dicts
from tests.test_advocate_words import FULL, LONDON

AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def same(blocks) -> None:
    assert as_dicts(blocks) == [b.to_dict() for b in blocks]


@pytest.mark.parametrize("on_slack", [True, False])
def test_every_scheduled_message_is_sent_as_slack_sdk_would(on_slack: bool) -> None:
    from modals.nudges import _TEMPLATE

    for kind in _TEMPLATE:
        built = build_nudge(
            kind=kind, brief=FULL, on_slack=on_slack, close_date=date(2027, 1, 29), zone=LONDON, now=AT
        )
        same(built[1])


def test_other_surfaces_options_selects_and_views_too() -> None:
    for _, blocks in (build_ask(brief=FULL), build_confirmation(brief=FULL), build_times_for_rep(brief=FULL)):
        same(blocks)
    same(kit.text_message("*plain*") + [controls(advocate_id=4)])
    for view in (build_times_modal(brief=FULL, rescheduling=True), build_request_modal(requester_id="U1")):
        same(view.blocks)
        assert as_dict(view) == view.to_dict()


def test_dicts_pass_through_and_a_block_slack_would_refuse_is_refused_the_same_way() -> None:
    assert as_dicts([{"type": "divider"}]) == [{"type": "divider"}]
    too_long = SectionBlock(text="x" * 3001)
    with pytest.raises(SlackObjectFormationError) as theirs:
        too_long.to_dict()
    with pytest.raises(SlackObjectFormationError) as ours:
        as_dicts([too_long])
    assert str(ours.value) == str(theirs.value)


def test_the_outbox_serialises_the_card_and_the_shortlist_as_slack_sdk_would(harness) -> None:
    from bot.delivery import surfaces
    from bot.flows.effects import serialise
    from bot.rules.matching import Policy
    from store.models import ReferenceRequest
    from tests.support.pool import seed

    seed(harness)
    request_id = harness.file_request()
    with harness.db.unit_of_work() as session:
        request = session.get(ReferenceRequest, request_id)
        card = surfaces.card_blocks(None, request)
        _, page = surfaces.render_page(
            session=session, request=request, policy=Policy(), today=harness.clock.now().date(), page=1
        )
    assert len(page) > 3
    for blocks in (card, page):
        assert serialise(blocks) == [b.to_dict() for b in blocks]
