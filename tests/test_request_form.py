"""The request modal and its parser, as pure functions."""

from __future__ import annotations

from datetime import date

import pytest

from bot.rules.forms import RequestForm
from bot.rules.vocabulary import Tried
from modals.ids import Block, Callback
from modals.request_form import MAX_LENGTH, build_request_modal, parse_request_form, request_modal_payload
from tests.support.blockkit import assert_valid
from tests.support.harness import VALID_ANSWERS
from tests.support.payloads import state_values

TODAY = date(2026, 11, 20)


_FORM = {
    b
    for b in Block
    if b.value
    in {
        "prospect_company",
        "prospect_industry",
        "prospect_employees",
        "prospect_revenue",
        "deal_arr",
        "close_date",
        "deal_stage",
        "rep",
        "contact_role",
        "contact_name",
        "contact_concerns",
        "wanted_industry",
        "wanted_size_band",
        "wanted_role_level",
        "wanted_function",
        "wanted_use_case",
        "wanted_kind",
        "urgency",
        "wanted_country",
        "wanted_region",
        "why_now",
        "tried",
        "goal",
        "background",
        "prior_references",
        "opportunity_id",
    }
}


def modal() -> dict:
    return build_request_modal(requester_id="U0REP").to_dict()


def parse(**changes):
    view = modal()
    answers = {**VALID_ANSWERS, **{Block(k): v for k, v in changes.items()}}
    return parse_request_form(state_values(view, answers), earliest_close=TODAY)


def test_modal_is_valid_block_kit():
    assert_valid(view=modal())


def test_modal_groups_every_field_of_the_form_under_its_header():
    view = modal()
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == ["Deal", "Prospect contact", "Reference wanted", "Justification"]
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert set(inputs) == {b for b in Block if b in _FORM}
    assert view["callback_id"] == Callback.REQUEST_FORM


@pytest.mark.parametrize(
    ("block", "element", "label"),
    [
        (Block.PROSPECT_COMPANY, "plain_text_input", "Prospect company"),
        (Block.PROSPECT_INDUSTRY, "static_select", "Prospect's industry"),
        (Block.DEAL_ARR, "number_input", "Deal size (ARR, USD)"),
        (Block.PROSPECT_EMPLOYEES, "number_input", "Prospect's employees"),
        (Block.CLOSE_DATE, "datepicker", "Expected close date"),
        (Block.DEAL_STAGE, "static_select", "Deal stage"),
        (Block.WANTED_SIZE, "static_select", "Reference's company size"),
        (Block.WANTED_KIND, "static_select", "Kind of reference"),
        (Block.URGENCY, "static_select", "Timeline / urgency"),
        (Block.TRIED, "checkboxes", "What was already tried?"),
    ],
)
def test_fields_have_fitting_inputs_and_plain_labels(block, element, label):
    found = next(b for b in modal()["blocks"] if b.get("block_id") == block)
    assert found["element"]["type"] == element
    assert found["label"]["text"] == label


def test_already_tried_offers_the_program_options():
    found = next(b for b in modal()["blocks"] if b.get("block_id") == Block.TRIED)
    assert [o["value"] for o in found["element"]["options"]] == [t.value for t in Tried]


def test_prospect_company_is_prefilled():
    view = build_request_modal(requester_id="U0REP", prospect_company="Acme Corp").to_dict()
    company = next(b for b in view["blocks"] if b.get("block_id") == Block.PROSPECT_COMPANY)
    assert company["element"]["initial_value"] == "Acme Corp"


@pytest.mark.parametrize(
    ("rep", "typed"),
    [("U0REP", ""), ("U0OTHER", "Acme Corp"), ("U0REP", "   "), ("U0REP", "  <Acme & Co>  " + "x" * 200)],
)
def test_the_form_sent_per_person_is_the_built_form_filled_for_them(rep, typed):
    # views.open sends a per-process template filled per person: it must be the form built for that person.
    sent = request_modal_payload(requester_id=rep, prospect_company=typed)
    assert sent == build_request_modal(requester_id=rep, prospect_company=typed).to_dict()
    # Filling it for one person leaves nothing behind for the next.
    assert (
        request_modal_payload(requester_id="U0NEXT") == build_request_modal(requester_id="U0NEXT").to_dict()
    )


def test_a_valid_form_parses_into_typed_values():
    form = parse()
    assert isinstance(form, RequestForm)
    assert form.deal_arr == 120_000 and form.close_date == date(2027, 1, 15)
    assert form.tried == (Tried.DEMO, Tried.TRIAL) and form.prior_references == 0


@pytest.mark.parametrize(
    ("changes", "block", "message"),
    [
        ({Block.PROSPECT_COMPANY: "  "}, Block.PROSPECT_COMPANY, "Please fill this in."),
        ({Block.PROSPECT_COMPANY: "\u200b\u202e\ufeff"}, Block.PROSPECT_COMPANY, "Please fill this in."),
        ({Block.PROSPECT_INDUSTRY: None}, Block.PROSPECT_INDUSTRY, "Please choose one of the options."),
        ({Block.DEAL_ARR: "0"}, Block.DEAL_ARR, "Please enter a positive number."),
        ({Block.DEAL_ARR: "-5"}, Block.DEAL_ARR, "Please enter a positive number."),
        ({Block.DEAL_ARR: "12.5"}, Block.DEAL_ARR, "Please enter a whole number in digits"),
        ({Block.DEAL_ARR: "1_000"}, Block.DEAL_ARR, "Please enter a whole number in digits"),
        ({Block.DEAL_ARR: "1,2,3"}, Block.DEAL_ARR, "Please enter a whole number in digits"),
        ({Block.DEAL_ARR: "120,000 000"}, Block.DEAL_ARR, "Please enter a whole number in digits"),
        ({Block.DEAL_ARR: "١٢٠٠٠٠"}, Block.DEAL_ARR, "Please enter a whole number in digits"),
        ({Block.DEAL_ARR: "１２００００"}, Block.DEAL_ARR, "Please enter a whole number in digits"),
        ({Block.DEAL_ARR: "9" * 40}, Block.DEAL_ARR, "too large"),
        ({Block.CLOSE_DATE: "2029-11-21"}, Block.CLOSE_DATE, "within 3 years"),
        ({Block.CLOSE_DATE: "9999-12-31"}, Block.CLOSE_DATE, "within 3 years"),
        ({Block.REP: "U1> <!channel"}, Block.REP, "from the list"),
        ({Block.DEAL_ARR: None}, Block.DEAL_ARR, "Please fill this in."),
        ({Block.PROSPECT_EMPLOYEES: "0"}, Block.PROSPECT_EMPLOYEES, "Please enter a positive number."),
        (
            {Block.PROSPECT_EMPLOYEES: "lots"},
            Block.PROSPECT_EMPLOYEES,
            "Please enter a whole number in digits, like 120000 or 120,000.",
        ),
        ({Block.CLOSE_DATE: "2026-11-19"}, Block.CLOSE_DATE, "in the past"),
        ({Block.CLOSE_DATE: None}, Block.CLOSE_DATE, "Please pick the expected close date."),
        ({Block.CONTACT_CONCERNS: "x" * 2001}, Block.CONTACT_CONCERNS, "under 2,000 characters"),
        ({Block.WANTED_USE_CASE: "x" * 301}, Block.WANTED_USE_CASE, "under 300 characters"),
        ({Block.TRIED: []}, Block.TRIED, "None of these yet"),
        ({Block.TRIED: ["none", "demo"]}, Block.TRIED, "can't go with other options"),
        ({Block.PRIOR_REFERENCES: "-1"}, Block.PRIOR_REFERENCES, "0 or more"),
        ({Block.REP: None}, Block.REP, "rep who owns the deal"),
    ],
)
def test_bad_input_gets_an_inline_error_on_its_field(changes, block, message):
    errors = parse(**changes)
    assert isinstance(errors, dict)
    assert list(errors) == [block]
    assert message in errors[block]


@pytest.mark.parametrize("typed", ["1200000", "1,200,000", "1 200 000", "1\u00a0200\u00a0000", "$1,200,000"])
def test_amounts_take_one_consistent_thousands_separator(typed):
    form = parse(**{Block.DEAL_ARR: typed})
    assert isinstance(form, RequestForm) and form.deal_arr == 1_200_000


def test_a_close_date_three_years_ahead_is_still_fine():
    form = parse(**{Block.CLOSE_DATE: "2029-11-20"})
    assert isinstance(form, RequestForm)


def test_today_is_not_in_the_past_and_text_at_the_limit_is_fine():
    limit = MAX_LENGTH[Block.CONTACT_CONCERNS]
    form = parse(**{Block.CLOSE_DATE: TODAY.isoformat(), Block.CONTACT_CONCERNS: "y" * limit})
    assert isinstance(form, RequestForm)


def test_every_missing_field_is_reported_at_once():
    view = modal()
    errors = parse_request_form(state_values(view, {}), earliest_close=TODAY)
    required = {b["block_id"] for b in view["blocks"] if b["type"] == "input" and not b.get("optional")}
    assert set(errors) == required


def test_the_wanted_function_is_optional():
    assert parse().wanted_function is None
    assert parse(wanted_function="finance").wanted_function == "finance"


def test_the_crm_opportunity_id_is_optional_and_checked():
    assert parse().opportunity_id is None
    assert parse(opportunity_id=" 006Hs00001AbCdE ").opportunity_id == "006Hs00001AbCdE"
    assert Block.OPPORTUNITY_ID in parse(opportunity_id="006 <script>")
