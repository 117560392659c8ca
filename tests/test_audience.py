"""Who sees what (PROGRAM.md): nothing internal to sales reaches an advocate, by construction and end to end."""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from bot.exchange import pool_csv
from bot.flows.audience import AdvocateBrief, CallBrief, ProspectBrief, shareable_columns
from bot.flows.followup import QuarterSummary
from bot.text import render
from modals.ids import Action, Block, Callback
from modals.request_form import advocate_reads, build_request_modal
from store.models import Advocate, Engagement, ReferenceRequest
from tests.conftest import REP
from tests.support.audit import addressed_to
from tests.support.pool import ask_value
from tests.test_outreach import CALL, OTHER, pick, say_yes

POOL = Path(__file__).parent / "fixtures" / "pool.csv"

# Every internal field of the request gets a marker no advocate-facing text could contain by chance.
MARKERS = {
    Block.WHY_NOW: "MKWHYNOW the incumbent MKCOMPETITOR is cheaper, decision in two weeks",
    Block.GOAL: "MKGOAL beat MKCOMPETITOR on price",
    Block.BACKGROUND: "MKBACKGROUND internal politics at the prospect",
    Block.WANTED_COUNTRY: "Mkcountryzz",
    Block.WANTED_REGION: "Mkregionzz",
    Block.DEAL_ARR: "987654",
    Block.PROSPECT_REVENUE: "55544433",
    Block.CLOSE_DATE: "2027-02-17",
    Block.DEAL_STAGE: "proposal",
    Block.TRIED: ["trial", "recorded_story"],
    Block.WANTED_SIZE: "1001-5000",
    Block.PRIOR_REFERENCES: "2",  # flags the request: "already heard from 2 references"
}
FORBIDDEN = [
    "MKWHYNOW",
    "MKCOMPETITOR",
    "MKGOAL",
    "MKBACKGROUND",
    "Mkcountryzz",
    "Mkregionzz",
    "MKNOTES",
    "987654",
    "987,654",
    "55544433",
    "55,544,433",
    "2027-02-17",
    "17 Feb",
    "Feb 17",
    "Proposal",
    "Trial / proof",
    "Recorded customer story",
    "1,001–5,000",
    "already heard from",
    "Below $",
]
DANA, RAVI_OWNER = "U0DANA", "U0CS2"


def test_every_field_of_the_request_and_the_advocate_declares_its_audience():
    for model in (ReferenceRequest, Advocate):
        undeclared = [c.key for c in inspect(model).columns if "audience" not in c.info]
        assert undeclared == [], f"{model.__name__} columns without an audience: {undeclared}"
    assert shareable_columns(ReferenceRequest) == {
        "id",
        "rep_id",
        "prospect_company",
        "prospect_industry",
        "prospect_employees",
        "contact_role",
        "contact_name",
        "contact_concerns",
        "wanted_use_case",
        "wanted_kind",
        "urgency",
        "outcome",
    }
    assert {"notes", "email", "tier", "sentiment", "account_trouble"}.isdisjoint(shareable_columns(Advocate))


def test_a_brief_cannot_name_an_internal_field():
    for brief, model in (
        (ProspectBrief, ReferenceRequest),
        (AdvocateBrief, Advocate),
        (CallBrief, Engagement),
    ):
        assert {f.name for f in fields(brief)} <= shareable_columns(model)
    from bot.flows.audience import _only_shareable

    with pytest.raises(TypeError, match="why_now"):

        @_only_shareable(ReferenceRequest)
        @dataclass(frozen=True)
        class Leaky(ProspectBrief):
            why_now: str = ""


def test_the_form_tells_the_rep_which_answers_the_advocate_reads():
    view = build_request_modal(requester_id=REP).to_dict()
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        hint = (block.get("hint") or {}).get("text", "")
        reads = advocate_reads(Block(block["block_id"]))
        assert ("The advocate reads this" in hint) == reads, block["block_id"]
    texts = str(view)
    assert "For CS only" in texts


def _pool_with_markers() -> str:
    text = POOL.read_text()
    return text.replace("California,US,", "Mkregionzz,Mkcountryzz,").replace(
        "Loves talking about the migration", "MKNOTES account is at risk and renewal is unsure"
    )


def test_no_internal_field_reaches_an_advocate_in_a_whole_reference(harness):
    with harness.db.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session, source=io.StringIO(_pool_with_markers()), now=harness.clock.now()
        )
    request_id = harness.file_request(**MARKERS)
    card = harness.cards()[-1]
    assert "MKWHYNOW" in str(card["blocks"]), "CS sees the justification"
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    shortlist = harness.thread_replies()[-1]
    ask = ask_value(shortlist, "Dana")
    harness.click(Action.ASK, ask, user="U0CS1")
    with harness.db.unit_of_work() as session:
        engagement_id = session.scalars(
            select(Engagement.id).where(Engagement.request_id == request_id)
        ).one()

    # Yes, times, the rep's pick: confirmation and .ics to both sides.
    say_yes(harness, engagement_id, times=(CALL, OTHER))
    pick(harness, engagement_id)
    # Prep and reminder before the call (a pass after it would rightly cancel them: tests/test_catchup.py),
    # then thanks, the rep's check-in, the feedback prompt.
    harness.dispatch(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    harness.dispatch(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    harness.dispatch(datetime(2026, 12, 4, 16, 25, tzinfo=UTC))
    harness.click(f"{Action.FEEDBACK_RATE}_great", engagement_id, user=DANA, channel="D0DANA")
    harness.click(Action.FEEDBACK_MORE, engagement_id, user=DANA, channel="D0DANA")
    assert harness.slack.of("views.open")[-1]["view"]["callback_id"] == Callback.FEEDBACK_FORM
    # Reschedule opens the times modal for the advocate again (the call details, nothing else).
    harness.click(Action.RESCHEDULE, engagement_id, user=DANA, channel="D0DANA")
    # The deal is won; every advocate hears it; the quarter's summary follows.
    harness.click(f"{Action.OUTCOME}_won", engagement_id, user=REP, channel="D0REP")
    outcome = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(outcome, {Block.OUTCOME_ARR: "250000"}, user=REP)
    harness.dispatch(datetime(2027, 1, 4, 10, 30, tzinfo=UTC))

    # An advocate without Slack: their CS owner gets the ready-to-send email, then the gentle reminder.
    second = harness.file_request(
        **{
            **MARKERS,
            Block.CLOSE_DATE: "2027-03-17",
            Block.PROSPECT_COMPANY: "Globex",
            Block.WANTED_ROLE: "c_level",
            Block.WANTED_KIND: "executive",
            Block.WANTED_COUNTRY: None,
            Block.WANTED_REGION: None,
        }
    )
    harness.click(Action.APPROVE, second, user="U0CS1")
    ravi = next(
        b["accessory"]["value"]
        for b in harness.thread_replies()[-1]["blocks"]
        if "accessory" in b and "Ravi" in b["accessory"]["text"]["text"]
    )
    harness.click(Action.ASK, ravi, user="U0CS1")
    harness.dispatch(datetime(2027, 1, 7, 10, 30, tzinfo=UTC))

    to_dana = addressed_to(harness.slack.calls, {DANA})
    to_owner = addressed_to(harness.slack.calls, {RAVI_OWNER})
    kinds = " ".join(to_dana)
    for expected in (
        "would you be open",
        "confirmed",
        "BEGIN:VCALENDAR",
        "Your reference call is",
        "A reminder",
        "Thank you, Dana",
        "how was the call",
        "signed",
        "with us, Dana",
        "Pick times",
    ):
        assert expected in kinds, f"the story did not reach the advocate's {expected!r}"
    assert "Subject: Would you talk to Globex" in " ".join(to_owner)
    assert any("gentle nudge" in t for t in to_owner)
    for marker in FORBIDDEN:
        for text in to_dana + to_owner:
            assert marker not in text, f"{marker!r} reached an advocate: {text[:300]}"

    # The prospect's prep, through the rep, carries the advocate's public profile, not CS's notes about them.
    prep = [m for m in harness.dms_to(REP) if "Prep for" in m["text"]]
    assert prep and all("MKNOTES" not in str(m) for m in prep)


def test_the_quarter_summary_shows_the_signed_total_program_md_names():
    """PROGRAM.md's appreciation: "your 3 references this quarter helped close $150K" — the deals' signed total."""
    dana = AdvocateBrief(
        name="Dana Whitfield",
        title="VP",
        company="Northwind",
        industry="software",
        employees=900,
        region=None,
        country=None,
        use_cases=(),
        story="",
        product_areas=(),
        owner_slack_user_id=None,
    )
    text = render("quarter_summary", advocate=dana, summary=QuarterSummary(3, 2, 150_000), quarter="2026Q4")
    assert "3 references" in text and "$150,000" in text
