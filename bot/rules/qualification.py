"""Qualification (PROGRAM.md): flag requests that would spend an advocate on a low-value ask."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.rules.vocabulary import DealStage, Tried, label_of

if TYPE_CHECKING:  # a rule reads the settings it is given; it imports no plumbing
    from bot.settings import Settings


class FlagCode(StrEnum):
    TOO_EARLY = "too_early"
    BELOW_ARR = "below_arr"
    NOTHING_TRIED = "nothing_tried"
    ENOUGH_REFERENCES = "enough_references"


@dataclass(frozen=True)
class Rules:
    min_deal_arr: int = 50_000
    early_stages: tuple[str, ...] = ("discovery", "qualification")
    max_prior_references: int = 2
    # With CS_LEAD_USER_IDS blank nobody is a lead: any CS member may approve a small deal (flagged).
    leads_configured: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            min_deal_arr=settings.min_deal_arr,
            early_stages=settings.early_stages,
            max_prior_references=settings.max_prior_references,
            leads_configured=bool(settings.cs_lead_user_ids),
        )


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    text: str


def qualify(
    *, rules: Rules, deal_stage: str, deal_arr: int, tried: Collection[str], prior_references: int
) -> list[Flag]:
    """The qualification flags of one request, in PROGRAM.md's order; empty when it qualifies."""
    flags: list[Flag] = []
    if deal_stage in rules.early_stages:
        flags.append(Flag(FlagCode.TOO_EARLY, f"Too early: the deal is at {label_of(DealStage, deal_stage)}"))
    if deal_arr < rules.min_deal_arr:
        who = (
            "a CS lead must approve"
            if rules.leads_configured
            else "no CS leads are configured, so any CS member may approve"
        )
        flags.append(Flag(FlagCode.BELOW_ARR, f"Below ${rules.min_deal_arr:,} ARR (${deal_arr:,}): {who}"))
    if not set(tried) - {Tried.NONE}:
        flags.append(
            Flag(FlagCode.NOTHING_TRIED, "Nothing tried first: no demo, case study, trial or recorded story")
        )
    if prior_references >= rules.max_prior_references:
        flags.append(
            Flag(
                FlagCode.ENOUGH_REFERENCES,
                f"The prospect already heard from {prior_references} reference"
                f"{'' if prior_references == 1 else 's'}",
            )
        )
    return flags


def needs_lead(*, rules: Rules, deal_arr: int) -> bool:
    """Below the ARR threshold only a CS lead may approve, when there are CS leads."""
    return rules.leads_configured and deal_arr < rules.min_deal_arr
