"""Typed, validated input from Slack's modals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.vocabulary import DealStage, Industry, ReferenceKind, RoleLevel, SizeBand, Tried, Urgency


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
    contact_concerns: str
    wanted_industry: Industry
    wanted_size_band: SizeBand
    wanted_role_level: RoleLevel
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


@dataclass(frozen=True)
class DeclineForm:
    reason: str
    note: str
