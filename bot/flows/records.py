"""Plain, immutable snapshots of store rows for the builders (modals/): a builder never holds an ORM row, so it
cannot load from the database while it renders, and its tests need no database. Flows and handlers make them
with `Record.of(row)` inside their unit of work; each field must name a column of the row's model."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import inspect

from store.models import Advocate, ReferenceRequest


def _snapshot_of(model: type) -> Any:
    """Class decorator: every field is a column of `model`, and `of(row)` copies those columns."""

    def check(cls: type) -> type:
        columns = {c.key for c in inspect(model).columns}
        unknown = {f.name for f in fields(cls)} - columns
        if unknown:
            raise TypeError(f"{cls.__name__} names {sorted(unknown)}, not columns of {model.__name__}")
        return cls

    return check


def copy_fields(cls: type, row: object) -> Any:
    """The record's fields read from `row`; lists become tuples, so a record is immutable all through."""
    values = {name: getattr(row, name) for name in _names(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


@cache
def _names(cls: type) -> tuple[str, ...]:
    """The record's field names, found once per class (the dispatcher copies three records a message)."""
    return tuple(f.name for f in fields(cls))


@_snapshot_of(ReferenceRequest)
@dataclass(frozen=True)
class RequestRecord:
    """A reference request as CS's card, the rep's messages and the shortlist show it."""

    id: int
    status: str
    created_at: datetime
    requester_id: str
    rep_id: str
    prospect_company: str
    prospect_industry: str
    prospect_employees: int
    prospect_revenue: int | None
    deal_arr: int
    close_date: date
    deal_stage: str
    contact_role: str
    contact_name: str | None
    contact_concerns: str
    wanted_industry: str
    wanted_size_band: str
    wanted_role_level: str
    wanted_function: str | None
    wanted_use_case: str
    wanted_kind: str
    urgency: str
    wanted_country: str | None
    wanted_region: str | None
    why_now: str
    tried: tuple[str, ...]
    goal: str
    background: str
    prior_references: int
    decided_by: str | None
    decided_at: datetime | None
    decline_reason: str | None
    decline_note: str | None
    outcome: str | None

    @classmethod
    def of(cls, request: ReferenceRequest) -> RequestRecord:
        return copy_fields(cls, request)


@_snapshot_of(Advocate)
@dataclass(frozen=True)
class AdvocateRecord:
    """An advocate as CS's pool and its forms, and the advocate's own welcome and forms, show them."""

    id: int
    email: str
    name: str
    title: str
    role_level: str
    function: str | None
    company: str
    industry: str
    employees: int
    region: str | None
    country: str | None
    use_cases: tuple[str, ...]
    kinds: tuple[str, ...]
    tier: str
    slack_user_id: str | None
    slack_not_found_at: datetime | None
    owner_slack_user_id: str | None
    status: str
    break_until: date | None
    account_trouble: bool
    notes: str
    joined_on: date | None
    story: str
    product_areas: tuple[str, ...]
    named_publicly: bool
    logo_use: bool
    private_only: bool
    agreed_on: date | None
    welcomed_at: datetime | None

    @classmethod
    def of(cls, advocate: Advocate) -> AdvocateRecord:
        return copy_fields(cls, advocate)
