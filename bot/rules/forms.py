"""Typed, validated input from Slack's modals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.rules.vocabulary import (
    DealStage,
    Function,
    Industry,
    ReferenceKind,
    RoleLevel,
    SizeBand,
    Tried,
    Urgency,
)


@dataclass(frozen=True)
class RequestForm:
    """PROGRAM.md's request form, filled in and checked."""

    prospect_company: str
    prospect_industry: Industry
    prospect_employees: int
    prospect_revenue: int | None
    deal_arr: int
    close_date: date
    deal_stage: DealStage
    rep_id: str
    contact_role: str
    contact_name: str | None
    contact_concerns: str
    wanted_industry: Industry
    wanted_size_band: SizeBand
    wanted_role_level: RoleLevel
    wanted_function: Function | None
    wanted_use_case: str
    wanted_kind: ReferenceKind
    urgency: Urgency
    wanted_country: str | None
    wanted_region: str | None
    why_now: str
    tried: tuple[Tried, ...]
    goal: str
    background: str
    prior_references: int
    opportunity_id: str | None = None  # the deal's id in the CRM


@dataclass(frozen=True)
class DeclineForm:
    reason: str
    note: str


# The largest id an Integer column holds (PostgreSQL's integer): a bigger number in a button is not ours.
MAX_ID = 2**31 - 1
MAX_AMOUNT = 10**12  # deal sizes and revenue beyond a trillion are typing mistakes
MAX_EMPLOYEES = 10_000_000  # the biggest employers have about two million
# Digits with one thousands separator used consistently: 1200000, 1,200,000, 1 200 000 (a no-break space too,
# as spreadsheets paste it). Not 1_000, 1.200 (a decimal point to half the world), 1,2,3, or non-ASCII digits.
_GROUPED = re.compile(r"[0-9]{1,3}(?:(?P<sep>[, \u00a0\u202f])[0-9]{3})?(?:(?P=sep)[0-9]{3})*")
_MAX_DIGITS = 16
NOT_A_NUMBER = "Please enter a whole number in digits, like 120000 or 120,000."


def parse_amount(raw: str, *, minimum: int = 1, maximum: int = MAX_AMOUNT) -> int | str:
    """A whole number typed by a person (an optional leading $), or the message that says what is wrong."""
    text = raw.strip()
    text = text[1:].lstrip() if text.startswith("$") else text
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not (digits.isascii() and digits.isdigit()):
        if not _GROUPED.fullmatch(digits):
            return NOT_A_NUMBER
        digits = re.sub(r"[^0-9]", "", digits)
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        return f"That looks too large: please enter at most {maximum:,}."
    number = -int(digits) if negative else int(digits)
    if number < minimum:
        return "Please enter a positive number." if minimum > 0 else "Please enter 0 or more."
    if number > maximum:
        return f"That looks too large: please enter at most {maximum:,}."
    return number


def parse_id(raw: object) -> int | None:
    """A record's id from a button value or a modal's metadata: 1 to MAX_ID in ASCII digits, else None."""
    if isinstance(raw, bool):
        return None
    text = str(raw) if isinstance(raw, int | str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
