"""What an advocate may read (PROGRAM.md "Who sees what"), as types: a leak is a type error, not a review comment.

Each column declares its audience once, next to the field (store/models.py: `info=ADVOCATE` or `info=INTERNAL`).
The briefs below copy only columns declared ADVOCATE, and refuse at import time to name any other; every
advocate-facing builder (the ask, the owner's draft, prep, confirmation and invite, reminders, thanks, outcome
notes, feedback prompt) takes a `Brief`, never a request, so the rep's justification, the deal's numbers and CS's
notes cannot reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import inspect

from bot.flows.records import copy_fields
from bot.rules.questions import answered_in_writing, key_questions
from bot.rules.vocabulary import Industry, ReferenceKind, Urgency, label_of
from store.models import Advocate, Engagement, ReferenceRequest

SHAREABLE = "advocate"


def audience(model: type, column: str) -> str:
    """The audience declared on `model.column`; a column that declares none is internal."""
    return inspect(model).columns[column].info.get("audience", "internal")


def shareable_columns(model: type) -> frozenset[str]:
    return frozenset(c.key for c in inspect(model).columns if c.info.get("audience") == SHAREABLE)


def shareable_request_columns() -> frozenset[str]:
    """The request's columns an advocate may read (the form's hints say which answers those are)."""
    return shareable_columns(ReferenceRequest)


def _only_shareable(model: type) -> Any:
    """Class decorator: every field of the brief must be a column of `model` declared shareable."""

    def check(cls: type) -> type:
        leaking = {f.name for f in fields(cls)} - shareable_columns(model)
        if leaking:
            raise TypeError(f"{cls.__name__} names {sorted(leaking)}, not shareable on {model.__name__}")
        cls.source = model  # type: ignore[attr-defined]
        return cls

    return check


@_only_shareable(ReferenceRequest)
@dataclass(frozen=True)
class ProspectBrief:
    """The prospect as the advocate may see them: company, industry, size, contact, use case, questions, timing."""

    id: int
    rep_id: str
    prospect_company: str
    prospect_industry: str
    prospect_employees: int
    contact_role: str
    contact_name: str | None
    contact_concerns: str
    wanted_use_case: str
    wanted_kind: str
    urgency: str
    outcome: str | None

    @classmethod
    def of(cls, request: ReferenceRequest) -> ProspectBrief:
        return copy_fields(cls, request)

    @property
    def industry(self) -> str:
        return label_of(Industry, self.prospect_industry).lower()

    @property
    def timing(self) -> str:
        return label_of(Urgency, self.urgency)

    @property
    def kind(self) -> str:
        return label_of(ReferenceKind, self.wanted_kind)

    @property
    def written(self) -> bool:
        """An email Q&A: answered in writing, with no call to schedule."""
        return answered_in_writing(self.wanted_kind)

    @property
    def questions(self) -> list[str]:
        """The prospect's key questions, one by one (from `contact_concerns`)."""
        return key_questions(self.contact_concerns)


@_only_shareable(Advocate)
@dataclass(frozen=True)
class AdvocateBrief:
    """The advocate's public profile: what they and the prospect (through the rep's prep) may read."""

    name: str
    title: str
    company: str
    industry: str
    employees: int
    region: str | None
    country: str | None
    use_cases: tuple[str, ...]
    story: str
    product_areas: tuple[str, ...]
    owner_slack_user_id: str | None

    @classmethod
    def of(cls, advocate: Advocate) -> AdvocateBrief:
        return copy_fields(cls, advocate)

    @property
    def first_name(self) -> str:
        return (self.name.split() or [self.name])[0]

    @property
    def industry_label(self) -> str:
        return label_of(Industry, self.industry)


@_only_shareable(Engagement)
@dataclass(frozen=True)
class CallBrief:
    """The call's details: when, how long, how."""

    id: int
    call_at: datetime | None
    call_format: str | None
    call_minutes: int | None
    proposed_times: tuple[str, ...]
    meeting_link: str | None

    @classmethod
    def of(cls, engagement: Engagement) -> CallBrief:
        return copy_fields(cls, engagement)

    @property
    def minutes(self) -> int:
        return self.call_minutes or 20

    @property
    def how(self) -> str:
        return self.call_format or "call"


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.casefold()) if len(w) > 2 and w not in _COMMON}


_COMMON = frozenset({"and", "the", "for", "off", "with", "from", "our", "their", "into", "onto"})


@dataclass(frozen=True)
class Brief:
    """Everything an advocate-facing message may say about one reference."""

    prospect: ProspectBrief
    advocate: AdvocateBrief
    call: CallBrief

    @property
    def success(self) -> str:
        """What the ask is about in the advocate's own terms ("this is about X, where you've had success"):
        the use case or product area from their profile nearest the prospect's, else the prospect's own."""
        wanted = _words(self.prospect.wanted_use_case)
        profile = [*self.advocate.use_cases, *self.advocate.product_areas]
        best = max(profile, key=lambda item: len(_words(item) & wanted), default=None)
        if best is not None and _words(best) & wanted:
            return best
        return self.prospect.wanted_use_case

    @property
    def features(self) -> str:
        """The product areas they use, for "your results with specific features"."""
        return ", ".join(self.advocate.product_areas) or self.success

    @classmethod
    def of(cls, request: ReferenceRequest, advocate: Advocate, engagement: Engagement) -> Brief:
        """The one place a request, an advocate and an engagement become what an advocate may read."""
        return cls(ProspectBrief.of(request), AdvocateBrief.of(advocate), CallBrief.of(engagement))
