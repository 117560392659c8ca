"""Pool management for CS: the paged list, the add/edit modal, and the break modal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    NumberInputElement,
    OverflowMenuElement,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.flows.pool import PoolEntry, PoolPage
from bot.flows.records import AdvocateRecord
from bot.rules.forms import parse_id
from bot.rules.vocabulary import (
    AdvocateKind,
    AdvocateStatus,
    Choice,
    Function,
    Industry,
    RoleLevel,
    Tier,
    label_of,
)
from bot.text import Mrkdwn, day, mrkdwn
from modals import kit
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId

ACCOUNT_TROUBLE = "trouble"
WELCOME = "welcome"

# The form's inputs are named after the CSV columns, so import and modal share one validation.
_TEXT_FIELDS = {
    "name": ("Name", 200, False),
    "email": ("Email", 254, False),
    "title": ("Title", 200, True),
    "company": ("Company", 200, False),
    "region": ("Region (state, metro or area)", 80, True),
    "country": ("Country", 80, True),
    "use_cases": ("Use cases (separate with ;)", 2000, False),
    "product_areas": ("Product areas they use (separate with ;) — the advocate reads these", 2000, True),
    "story": (
        "Their story and results, in a sentence or two — the advocate and prospects read this",
        1000,
        True,
    ),
    "notes": ("Notes", 3000, True),
}
CONSENT = (
    ("named_publicly", "May be named publicly (website, events)"),
    ("logo_use", "Their company's logo may be used"),
    ("private_only", "Private references only (never named in public)"),
)


def _status_line(entry: PoolEntry, today: date) -> str:
    advocate = entry.advocate
    usage = entry.candidate.usage
    if advocate.status == AdvocateStatus.RETIRED:
        state = ":zzz: retired"
    elif advocate.status == AdvocateStatus.BREAK and (
        advocate.break_until is None or advocate.break_until > today
    ):
        state = (
            f":palm_tree: on a break until {day(advocate.break_until)}"
            if advocate.break_until
            else ":palm_tree: on a break"
        )
    elif entry.next_eligible is None:
        state = ":no_entry: not eligible until CS clears it"
    elif entry.next_eligible > today:
        state = f":hourglass: next eligible {day(entry.next_eligible)}"
    else:
        state = ":white_check_mark: eligible now"
    last = f"last asked {day(usage.last_asked)}" if usage.last_asked else "never asked"
    trouble = " · :warning: account trouble" if advocate.account_trouble else ""
    if advocate.slack_not_found_at is not None and not advocate.slack_user_id:
        trouble += " · :grey_question: not found in Slack by email (asks go to their CS owner)"
    return (
        f"{entry.given_this_quarter} given this quarter · {entry.given_total} ever · "
        f"asked {usage.this_quarter} this quarter · {last} · {state}{trouble}"
    )


def _heard_line(entry: PoolEntry) -> Mrkdwn:
    """The latest feedback and check-in, so CS sees what was learned where they manage the advocate."""
    parts = []
    for heard in entry.heard:
        words = "; ".join(f"{q} {a}" if q.endswith("?") else f"{q}: “{a}”" for q, a in heard.answers)
        rating = f" *{heard.rating}*" if heard.rating else ""
        parts.append(
            mrkdwn(":speech_balloon: {} ({}, {}){}{}", heard.who, heard.prospect, day(heard.on), Mrkdwn(rating),
                   mrkdwn(" — {}", words) if words else "")
        )  # fmt: skip
    return Mrkdwn("\n").join(parts)


def _menu(advocate: AdvocateRecord, page: int) -> OverflowMenuElement:
    """Values are "verb:advocate id:page", so the list can be redrawn at the page it was on."""
    options = [kit.option(f"edit:{advocate.id}:{page}", "Edit")]
    if advocate.status == AdvocateStatus.ACTIVE:
        options.append(kit.option(f"break:{advocate.id}:{page}", "Give a break until…"))
    else:
        options.append(kit.option(f"reactivate:{advocate.id}:{page}", "Make active again"))
    if advocate.status != AdvocateStatus.RETIRED:
        options.append(kit.option(f"retire:{advocate.id}:{page}", "Retire"))
    if advocate.welcomed_at is None and (advocate.slack_user_id or advocate.owner_slack_user_id):
        options.append(kit.option(f"welcome:{advocate.id}:{page}", "Send the welcome message"))
    return OverflowMenuElement(action_id=Action.POOL_MENU, options=options)


def build_pool_list(*, pool: PoolPage, today: date) -> list[Block]:
    """`/reference advocates`: one page of the pool with usage and eligibility."""
    blocks: list[Block] = [
        kit.header(f"Advocate pool · {pool.total} advocate{'' if pool.total == 1 else 's'}"),
    ]
    if not pool.entries:
        blocks.append(
            kit.section(
                "The pool is empty. Add advocates here, or import your spreadsheet with "
                "`refdesk advocates import FILE.csv`."
            )
        )
    for entry in pool.entries:
        a = entry.advocate
        title = mrkdwn("{}, ", a.title) if a.title else ""
        blocks.append(
            kit.section(
                mrkdwn(
                    "*{}* — {}{}\n{} · {:,} employees · {}",
                    a.name,
                    title,
                    a.company,
                    label_of(Industry, a.industry),
                    a.employees,
                    label_of(Tier, a.tier),
                ),
                block_id=f"{BlockId.POOL_ADVOCATE}_{a.id}",
                accessory=_menu(a, pool.page),
            )
        )
        blocks.append(kit.context(_status_line(entry, today)))
        if entry.heard:
            blocks.append(kit.context(_heard_line(entry)))
    buttons = [kit.button("Add advocate", action_id=Action.POOL_ADD, value=str(pool.page), style="primary")]
    if pool.page > 1:
        buttons.append(kit.button("◀ Previous", action_id=Action.POOL_PAGE, value=str(pool.page - 1)))
    if pool.page < pool.pages:
        buttons.append(kit.button("Next ▶", action_id=Action.POOL_PAGE, value=str(pool.page + 1)))
    blocks.append(kit.context(f"Page {pool.page} of {pool.pages}"))
    blocks.append(kit.actions(*buttons, block_id=BlockId.POOL_NAV))
    return blocks


def _text_input(column: str, initial: str | None) -> InputBlock:
    label, limit, optional = _TEXT_FIELDS[column]
    return InputBlock(
        block_id=column,
        label=label,
        optional=optional,
        element=PlainTextInputElement(
            action_id=VALUE,
            max_length=limit,
            initial_value=initial or None,
            multiline=column in ("notes", "story"),
        ),
    )


def _select(
    column: str, label: str, choices: type[Choice], initial: str | None, *, optional: bool = False
) -> InputBlock:
    options = [kit.option(c.value, c.label) for c in choices]
    chosen = next((o for o in options if o.value == initial), None)
    return InputBlock(
        block_id=column,
        label=label,
        optional=optional,
        element=StaticSelectElement(
            action_id=VALUE, options=options, initial_option=chosen, placeholder="Choose one"
        ),
    )


def _user(column: str, label: str, initial: str | None) -> InputBlock:
    return InputBlock(
        block_id=column,
        label=label,
        optional=True,
        element=UserSelectElement(
            action_id=VALUE, initial_user=initial or None, placeholder="Choose a person"
        ),
    )


def build_advocate_modal(*, advocate: AdvocateRecord | None, context: Mapping[str, Any]) -> View:
    """Add (advocate None) or edit one advocate; `context` rides along in private_metadata."""
    a = advocate
    kinds = [kit.option(k.value, k.label) for k in AdvocateKind]
    trouble = kit.option(ACCOUNT_TROUBLE, "Open technical or onboarding trouble on the account")
    consent = [kit.option(column, text) for column, text in CONSENT]
    blocks: list[Block] = [
        _text_input("name", a.name if a else None),
        _text_input("email", a.email if a else None),
        _text_input("title", a.title if a else None),
        _select("role_level", "Role level", RoleLevel, a.role_level if a else None),
        _select("function", "Function", Function, a.function if a else None, optional=True),
        _text_input("company", a.company if a else None),
        _select("industry", "Industry", Industry, a.industry if a else None),
        InputBlock(
            block_id="employees",
            label="Company employees",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value="1",
                initial_value=str(a.employees) if a else None,
            ),
        ),
        _text_input("country", a.country if a else None),
        _text_input("region", a.region if a else None),
        _text_input("use_cases", ";".join(a.use_cases) if a else None),
        _text_input("product_areas", ";".join(a.product_areas or []) if a else None),
        _text_input("story", a.story if a else None),
        InputBlock(
            block_id="kinds",
            label="Willing to do",
            element=CheckboxesElement(
                action_id=VALUE,
                options=kinds,
                initial_options=[o for o in kinds if a and o.value in a.kinds] or None,
            ),
        ),
        _select("tier", "Tier", Tier, a.tier if a else Tier.NEW),
        _user("slack_user_id", "Their Slack account (Slack Connect), if any", a.slack_user_id if a else None),
        _user("owner_slack_user_id", "Account's CS owner", a.owner_slack_user_id if a else None),
        InputBlock(
            block_id="account_trouble",
            label="Account health",
            optional=True,
            element=CheckboxesElement(
                action_id=VALUE,
                options=[trouble],
                initial_options=[trouble] if a and a.account_trouble else None,
            ),
        ),
        InputBlock(
            block_id="consent",
            label="Consent",
            optional=True,
            element=CheckboxesElement(
                action_id=VALUE,
                options=consent,
                initial_options=[o for o in consent if a and getattr(a, o.value)] or None,
            ),
        ),
        InputBlock(
            block_id="agreed_on",
            label="Written yes to the program, on",
            optional=True,
            hint="Leave empty until they said yes in writing (the welcome message asks for it).",
            element=DatePickerElement(
                action_id=VALUE, initial_date=a.agreed_on.isoformat() if a and a.agreed_on else None
            ),
        ),
        _text_input("notes", _notes_shown(a.notes) if a else None),
    ]
    if a is None or a.welcomed_at is None:
        welcome = kit.option(
            WELCOME, "Send them the welcome message now (what the program is, a written yes)"
        )
        blocks.append(
            InputBlock(
                block_id=WELCOME,
                label="Welcome",
                optional=True,
                element=CheckboxesElement(action_id=VALUE, options=[welcome]),
            )
        )
    return View(
        type="modal",
        callback_id=Callback.ADVOCATE_FORM,
        title="Edit advocate" if a else "Add advocate",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({**context, "advocate_id": a.id if a else None}),
    )


def _notes_shown(notes: str) -> str:
    """Notes as the modal can hold them (Slack's text input takes 3,000 characters): the latest part."""
    limit = _TEXT_FIELDS["notes"][1]
    return notes if len(notes) <= limit else notes[-limit:]


def advocate_cells(
    values: Mapping[str, Mapping[str, Any]], advocate: AdvocateRecord | None
) -> dict[str, str]:
    """The modal's state as the CSV cells the pool's validation reads."""

    def state(column: str) -> dict[str, Any]:
        return dict(values.get(column, {}).get(VALUE) or {})

    cells = {column: (state(column).get("value") or "") for column in _TEXT_FIELDS}
    if advocate is not None and advocate.notes and cells["notes"] == _notes_shown(advocate.notes):
        cells["notes"] = advocate.notes  # left as shown: longer notes than the modal holds are kept whole
    cells["employees"] = state("employees").get("value") or ""
    for column in ("role_level", "function", "industry", "tier"):
        cells[column] = (state(column).get("selected_option") or {}).get("value", "")
    cells["kinds"] = ";".join(o["value"] for o in state("kinds").get("selected_options") or [])
    cells["slack_user_id"] = state("slack_user_id").get("selected_user") or ""
    cells["owner_slack_user_id"] = state("owner_slack_user_id").get("selected_user") or ""
    troubled = [o["value"] for o in state("account_trouble").get("selected_options") or []]
    cells["account_trouble"] = "yes" if ACCOUNT_TROUBLE in troubled else "no"
    consented = [o["value"] for o in state("consent").get("selected_options") or []]
    for column, _ in CONSENT:
        cells[column] = "yes" if column in consented else "no"
    cells["agreed_on"] = state("agreed_on").get("selected_date") or ""
    # Status and dates are not on this form: an edit keeps them.
    cells["status"] = advocate.status if advocate else AdvocateStatus.ACTIVE.value
    cells["break_until"] = advocate.break_until.isoformat() if advocate and advocate.break_until else ""
    cells["joined_on"] = advocate.joined_on.isoformat() if advocate and advocate.joined_on else ""
    return cells


def wants_welcome(values: Mapping[str, Mapping[str, Any]]) -> bool:
    picked = (values.get(WELCOME, {}).get(VALUE) or {}).get("selected_options") or []
    return any(o.get("value") == WELCOME for o in picked)


def build_break_modal(*, advocate: AdvocateRecord, context: Mapping[str, Any]) -> View:
    return View(
        type="modal",
        callback_id=Callback.BREAK_FORM,
        title="Give a break",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({**context, "advocate_id": advocate.id}),
        blocks=[
            kit.section(
                mrkdwn("*{}* ({}) won't be asked until the date below.", advocate.name, advocate.company)
            ),
            InputBlock(
                block_id=BlockId.BREAK_UNTIL,
                label="Back on",
                element=DatePickerElement(action_id=VALUE, placeholder="Pick a date"),
            ),
            InputBlock(
                block_id=BlockId.BREAK_NOTE,
                label="Why (kept in their notes)",
                optional=True,
                element=PlainTextInputElement(action_id=VALUE, max_length=300),
            ),
        ],
    )


def metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    """The modal's context; `advocate_id` range-checked (None when absent or not an id)."""
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    loaded["advocate_id"] = parse_id(loaded.get("advocate_id")) if loaded.get("advocate_id") else None
    return loaded
