"""The `/reference` request modal: PROGRAM.md's form, and the one place its state is parsed."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    DividerBlock,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.flows.audience import shareable_request_columns
from bot.rules.forms import MAX_AMOUNT, MAX_EMPLOYEES, RequestForm, parse_amount
from bot.rules.vocabulary import (
    Choice,
    DealStage,
    Function,
    Industry,
    ReferenceKind,
    RoleLevel,
    SizeBand,
    Tried,
    Urgency,
)
from bot.text import Mrkdwn
from modals import kit
from modals.ids import VALUE, Block, Callback

# Longest text each field takes; Slack enforces them in the client, we check again on submit.
MAX_LENGTH: dict[Block, int] = {
    Block.PROSPECT_COMPANY: 120,
    Block.CONTACT_ROLE: 120,
    Block.CONTACT_NAME: 120,
    Block.CONTACT_CONCERNS: 2000,
    Block.WANTED_USE_CASE: 300,
    Block.WANTED_COUNTRY: 80,
    Block.WANTED_REGION: 80,
    Block.WHY_NOW: 2000,
    Block.GOAL: 2000,
    Block.BACKGROUND: 3000,
    Block.OPPORTUNITY_ID: 64,
}
OPPORTUNITY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MAX_CLOSE_YEARS = 3  # a close date further out is a typo (9999-12-31), not a live deal
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
MAX_PRIOR_REFERENCES = 50

_LABELS: dict[Block, str] = {
    Block.PROSPECT_COMPANY: "Prospect company",
    Block.PROSPECT_INDUSTRY: "Prospect's industry",
    Block.PROSPECT_EMPLOYEES: "Prospect's employees",
    Block.PROSPECT_REVENUE: "Prospect's annual revenue (USD, if known)",
    Block.DEAL_ARR: "Deal size (ARR, USD)",
    Block.CLOSE_DATE: "Expected close date",
    Block.DEAL_STAGE: "Deal stage",
    Block.REP: "Rep on the deal",
    Block.OPPORTUNITY_ID: "CRM opportunity ID (optional)",
    Block.CONTACT_ROLE: "Contact's role or title",
    Block.CONTACT_NAME: "Contact's name, if you can share it",
    Block.CONTACT_CONCERNS: "Their specific concerns or questions",
    Block.WANTED_INDUSTRY: "Reference's industry",
    Block.WANTED_SIZE: "Reference's company size",
    Block.WANTED_ROLE: "Reference's role level",
    Block.WANTED_FUNCTION: "Reference's function, if it matters",
    Block.WANTED_USE_CASE: "Use case the reference should speak to",
    Block.WANTED_KIND: "Kind of reference",
    Block.URGENCY: "Timeline / urgency",
    Block.WANTED_COUNTRY: "Reference's country, if it matters",
    Block.WANTED_REGION: "Reference's region, if it matters",
    Block.WHY_NOW: "Why is a reference needed now?",
    Block.TRIED: "What was already tried?",
    Block.GOAL: "What should the reference achieve?",
    Block.BACKGROUND: "Background and context",
    Block.PRIOR_REFERENCES: "References this prospect already heard from",
}


# How the advocate reads the answers they see. Which answers those are is declared once, on the model's columns
# (store/models.py, bot/flows/audience.py); a hint says so, so the rep writes them for a customer's eyes.
_ADVOCATE_READS: dict[Block, str] = {
    Block.PROSPECT_COMPANY: "the company they'd talk to",
    Block.PROSPECT_INDUSTRY: "the company's industry",
    Block.PROSPECT_EMPLOYEES: "the company's size",
    Block.REP: "who arranges the call",
    Block.CONTACT_ROLE: "who they'd talk with",
    Block.CONTACT_NAME: "the name of the person they'd talk with",
    Block.CONTACT_CONCERNS: "what the prospect wants to understand",
    Block.WANTED_USE_CASE: "why the prospect is interested: the problem they want to solve",
    Block.WANTED_KIND: "what they're asked to do",
    Block.URGENCY: "the timing",
}
_COLUMN = {Block.REP: "rep_id"}
CS_ONLY = (
    ":lock: *For CS only* — the advocate never sees this section, nor the deal's size, stage and close date."
)
FORM_INTRO = (
    "CS reviews every request before an advocate is contacted. The advocate reads only the answers whose hint "
    "says so (company, industry, size, contact, questions, use case, timing): no pricing, no competitors there."
)


def advocate_reads(block: Block) -> bool:
    """True when the advocate sees this answer (its column is declared shareable)."""
    column = _COLUMN.get(block, block.value)
    return column in shareable_request_columns()


def _hint(block: Block, hint: str | None) -> str | None:
    if not advocate_reads(block):
        return hint
    seen = f"The advocate reads this as {_ADVOCATE_READS.get(block, 'part of the ask')}."
    return f"{hint} {seen}" if hint else seen


def label(block: Block) -> str:
    return _LABELS[block]


def _options(choices: type[Choice]) -> list[Option]:
    return [kit.option(c.value, c.label) for c in choices]


def _option(choice: Choice) -> Option:
    return kit.option(choice.value, choice.label)


def _text(
    block: Block,
    *,
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
    initial: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=_LABELS[block],
        optional=optional,
        hint=_hint(block, hint),
        element=PlainTextInputElement(
            action_id=VALUE,
            multiline=multiline,
            max_length=MAX_LENGTH[block],
            initial_value=initial or None,
            placeholder=placeholder,
        ),
    )


def _select(
    block: Block, choices: type[Choice], *, initial: Choice | None = None, optional: bool = False
) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=_LABELS[block],
        optional=optional,
        hint=_hint(block, None),
        element=StaticSelectElement(
            action_id=VALUE,
            placeholder="Choose one",
            options=_options(choices),
            initial_option=_option(initial) if initial else None,
        ),
    )


def _number(block: Block, *, optional: bool = False, minimum: int = 1, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=_LABELS[block],
        optional=optional,
        hint=_hint(block, hint),
        element=NumberInputElement(action_id=VALUE, is_decimal_allowed=False, min_value=str(minimum)),
    )


@functools.cache
def _request_modal_template() -> dict[str, Any]:
    """The form as views.open sends it, for nobody in particular: slack_sdk's to_dict checks every element
    (~16 ms for this form, far more under a crowd), so a process does it once."""
    return build_request_modal(requester_id=_NOBODY).to_dict()


_NOBODY = "U0NOBODY"


def request_modal_payload(*, requester_id: str, prospect_company: str = "") -> dict[str, Any]:
    """The form as the JSON views.open sends, equal to `build_request_modal(...).to_dict()`: the template built
    once per process, with only what differs per person (the rep, the company typed after /reference) filled
    into fresh copies of those two blocks; the rest is shared, read-only, and serialised by the client."""
    template = _request_modal_template()
    blocks = list(template["blocks"])
    for index, block in enumerate(blocks):
        if block.get("block_id") == Block.REP:
            blocks[index] = {**block, "element": {**block["element"], "initial_user": requester_id}}
        elif block.get("block_id") == Block.PROSPECT_COMPANY:
            company = prospect_company.strip()[: MAX_LENGTH[Block.PROSPECT_COMPANY]]
            element = {k: v for k, v in block["element"].items() if k != "initial_value"}
            if company:
                element["initial_value"] = company
            blocks[index] = {**block, "element": element}
    return {**template, "blocks": blocks}


def build_request_modal(*, requester_id: str, prospect_company: str = "") -> View:
    """The request form, prefilled with what the slash command already said."""
    blocks: list[SlackBlock] = [
        kit.context(FORM_INTRO),
        kit.header("Deal"),
        _text(
            Block.PROSPECT_COMPANY,
            initial=prospect_company.strip()[: MAX_LENGTH[Block.PROSPECT_COMPANY]],
            placeholder="Acme Corp",
        ),
        _select(Block.PROSPECT_INDUSTRY, Industry),
        _number(Block.PROSPECT_EMPLOYEES),
        _number(Block.PROSPECT_REVENUE, optional=True),
        _number(Block.DEAL_ARR, hint="Annual recurring revenue of this deal, in US dollars. CS only."),
        InputBlock(
            block_id=Block.CLOSE_DATE,
            label=_LABELS[Block.CLOSE_DATE],
            element=DatePickerElement(action_id=VALUE, placeholder="Pick a date"),
        ),
        _select(Block.DEAL_STAGE, DealStage),
        InputBlock(
            block_id=Block.REP,
            label=_LABELS[Block.REP],
            hint=_hint(Block.REP, None),
            element=UserSelectElement(action_id=VALUE, initial_user=requester_id),
        ),
        _text(
            Block.OPPORTUNITY_ID,
            optional=True,
            hint="The deal's ID in Salesforce or HubSpot: refdesk's exports and webhooks carry it. CS only.",
            placeholder="006Hs00001AbCdE",
        ),
        DividerBlock(),
        kit.header("Prospect contact"),
        _text(Block.CONTACT_ROLE, placeholder="VP of Engineering"),
        _text(Block.CONTACT_NAME, optional=True, placeholder="Jordan Lee"),
        _text(
            Block.CONTACT_CONCERNS,
            multiline=True,
            placeholder="What do they worry about? What do they want to hear from a peer?",
        ),
        DividerBlock(),
        kit.header("Reference wanted"),
        _select(Block.WANTED_INDUSTRY, Industry),
        _select(Block.WANTED_SIZE, SizeBand),
        _select(Block.WANTED_ROLE, RoleLevel),
        _select(Block.WANTED_FUNCTION, Function, optional=True),
        _text(Block.WANTED_USE_CASE, placeholder="Migrating 200 services off a legacy scheduler"),
        _select(Block.WANTED_KIND, ReferenceKind, initial=ReferenceKind.CALL),
        _select(Block.URGENCY, Urgency),
        _text(Block.WANTED_COUNTRY, optional=True, placeholder="Germany"),
        _text(
            Block.WANTED_REGION,
            optional=True,
            placeholder="Bavaria",
            hint="A state, metro or area within the country.",
        ),
        DividerBlock(),
        kit.header("Justification"),
        kit.context(Mrkdwn(CS_ONLY)),
        _text(Block.WHY_NOW, multiline=True),
        InputBlock(
            block_id=Block.TRIED,
            label=_LABELS[Block.TRIED],
            hint="A reference comes after the demo, case study, trial or recorded story.",
            element=CheckboxesElement(action_id=VALUE, options=_options(Tried)),
        ),
        _text(Block.GOAL, multiline=True),
        _text(Block.BACKGROUND, multiline=True, optional=True),
        _number(
            Block.PRIOR_REFERENCES,
            optional=True,
            minimum=0,
            hint="Customer references they already spoke to, from us or elsewhere.",
        ),
    ]
    return View(
        type="modal",
        callback_id=Callback.REQUEST_FORM,
        title="Request a reference",
        submit="Send to CS",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"v": 1}),
    )


def visible(text: str) -> bool:
    """Whether `text` shows anything: zero-width and other format characters alone do not."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc", "Zs") for c in text)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _value(values: Mapping[str, Mapping[str, Any]], block: Block) -> dict[str, Any]:
    return dict(values.get(block, {}).get(VALUE) or {})


def parse_request_form(
    values: Mapping[str, Mapping[str, Any]], *, earliest_close: date
) -> RequestForm | dict[str, str]:
    """A valid form, or {block_id: message} for Slack's inline errors. `earliest_close` is "today"."""
    errors: dict[str, str] = {}

    def text(block: Block, *, required: bool = True) -> str:
        raw = _value(values, block).get("value") or ""
        cleaned = raw.strip()
        if required and not visible(cleaned):
            errors[block] = "Please fill this in."
        elif len(cleaned) > MAX_LENGTH[block]:
            errors[block] = (
                f"Please keep this under {MAX_LENGTH[block]:,} characters (it has {len(cleaned):,})."
            )
        return cleaned

    def choice(block: Block, choices: type[Choice]) -> Any:
        selected = _value(values, block).get("selected_option") or {}
        try:
            return choices(selected.get("value"))
        except ValueError:
            errors[block] = "Please choose one of the options."
            return None

    def number(
        block: Block, *, required: bool = True, minimum: int = 1, maximum: int = MAX_AMOUNT
    ) -> int | None:
        raw = (_value(values, block).get("value") or "").strip()
        if not raw:
            if required:
                errors[block] = "Please fill this in."
            return None
        parsed = parse_amount(raw, minimum=minimum, maximum=maximum)
        if isinstance(parsed, str):
            errors[block] = parsed
            return None
        return parsed

    company = text(Block.PROSPECT_COMPANY)
    industry = choice(Block.PROSPECT_INDUSTRY, Industry)
    employees = number(Block.PROSPECT_EMPLOYEES, maximum=MAX_EMPLOYEES)
    revenue = number(Block.PROSPECT_REVENUE, required=False)
    arr = number(Block.DEAL_ARR)
    close_raw = _value(values, Block.CLOSE_DATE).get("selected_date")
    close_date: date | None = None
    if not close_raw:
        errors[Block.CLOSE_DATE] = "Please pick the expected close date."
    else:
        try:
            close_date = date.fromisoformat(close_raw)
        except ValueError:
            errors[Block.CLOSE_DATE] = "Please pick a date from the calendar."
        else:
            if close_date < earliest_close:
                errors[Block.CLOSE_DATE] = "The close date is in the past: please pick today or a later date."
            elif close_date > _years_after(earliest_close, MAX_CLOSE_YEARS):
                errors[Block.CLOSE_DATE] = (
                    f"Please pick a close date within {MAX_CLOSE_YEARS} years: a reference helps a live deal."
                )
    stage = choice(Block.DEAL_STAGE, DealStage)
    rep = _value(values, Block.REP).get("selected_user") or ""
    if not rep:
        errors[Block.REP] = "Please choose the rep who owns the deal."
    elif not SLACK_USER.match(rep):
        errors[Block.REP] = "Please choose the rep from the list."
    role = text(Block.CONTACT_ROLE)
    contact_name = text(Block.CONTACT_NAME, required=False)
    concerns = text(Block.CONTACT_CONCERNS)
    wanted_industry = choice(Block.WANTED_INDUSTRY, Industry)
    wanted_size = choice(Block.WANTED_SIZE, SizeBand)
    wanted_role = choice(Block.WANTED_ROLE, RoleLevel)
    wanted_function = (
        choice(Block.WANTED_FUNCTION, Function)
        if _value(values, Block.WANTED_FUNCTION).get("selected_option")
        else None
    )
    use_case = text(Block.WANTED_USE_CASE)
    kind = choice(Block.WANTED_KIND, ReferenceKind)
    urgency = choice(Block.URGENCY, Urgency)
    country = text(Block.WANTED_COUNTRY, required=False)
    region = text(Block.WANTED_REGION, required=False)
    why_now = text(Block.WHY_NOW)
    tried_raw = [o.get("value") for o in _value(values, Block.TRIED).get("selected_options") or []]
    tried: list[Tried] = []
    for value in tried_raw:
        try:
            tried.append(Tried(value))
        except ValueError:
            errors[Block.TRIED] = "Please tick the options shown."
    if not tried:
        errors[Block.TRIED] = "Tick what was tried, or “None of these yet”."
    elif Tried.NONE in tried and len(tried) > 1:
        errors[Block.TRIED] = "“None of these yet” can't go with other options."
    goal = text(Block.GOAL)
    background = text(Block.BACKGROUND, required=False)
    prior = number(Block.PRIOR_REFERENCES, required=False, minimum=0, maximum=MAX_PRIOR_REFERENCES)
    opportunity = text(Block.OPPORTUNITY_ID, required=False)
    if opportunity and not OPPORTUNITY_ID.match(opportunity):
        errors[Block.OPPORTUNITY_ID] = (
            "Letters, digits, and . _ : - only, as the CRM shows it (e.g. 006Hs00001AbCdE)."
        )

    if errors:
        return errors
    assert close_date is not None and employees is not None and arr is not None  # guaranteed by errors above
    return RequestForm(
        prospect_company=company,
        prospect_industry=industry,
        prospect_employees=employees,
        prospect_revenue=revenue,
        deal_arr=arr,
        close_date=close_date,
        deal_stage=stage,
        rep_id=rep,
        contact_role=role,
        contact_name=contact_name or None,
        contact_concerns=concerns,
        wanted_industry=wanted_industry,
        wanted_size_band=wanted_size,
        wanted_role_level=wanted_role,
        wanted_function=wanted_function,
        wanted_use_case=use_case,
        wanted_kind=kind,
        urgency=urgency,
        wanted_country=country or None,
        wanted_region=region or None,
        why_now=why_now,
        tried=tuple(tried),
        goal=goal,
        background=background,
        prior_references=prior or 0,
        opportunity_id=opportunity or None,
    )
