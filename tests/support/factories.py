"""Rows for tests that build the store directly, every required column filled, overrides by keyword."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def request_values(**overrides: Any) -> dict[str, Any]:
    """A reference request's columns: an approved Acme deal unless overridden."""
    values: dict[str, Any] = dict(
        id=1, status="approved", created_at=NOW, updated_at=NOW, source_view_id=f"V{overrides.get('id', 1)}",
        requester_id="U1", rep_id="U1", prospect_company="Acme Corp", prospect_key="acme corp",
        prospect_industry="software", prospect_employees=100, deal_arr=100_000, close_date=date(2027, 1, 1),
        deal_stage="proposal", contact_role="CTO", contact_concerns="x", wanted_industry="software",
        wanted_size_band="51-200", wanted_role_level="vp", wanted_use_case="x", wanted_kind="call",
        urgency="flexible", why_now="x", tried=["demo"], goal="x", background="", prior_references=0,
    )  # fmt: skip
    values.update(overrides)
    return values


def advocate_values(**overrides: Any) -> dict[str, Any]:
    """An advocate's columns: an active standard-tier VP at a 100-person software company unless overridden
    (`id`, when given, also makes the email unique)."""
    n = overrides.get("id", 1)
    values: dict[str, Any] = dict(
        id=n, email=f"a{n}@x.example", name=f"A{n}", title="", role_level="vp", company="X",
        industry="software", employees=100, use_cases=[], kinds=["call"], tier="standard", status="active",
        account_trouble=False, notes="", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    values.update(overrides)
    return values
