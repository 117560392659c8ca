"""The sample pool (with past references when a test needs them) and asking its top candidate, as wiring
tests start: through the importers and the Slack clicks, never by writing rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.exchange import history_csv, pool_csv
from modals.ids import Action
from store.models import Engagement

POOL = Path(__file__).resolve().parent.parent / "fixtures" / "pool.csv"
HISTORY_HEADER = "advocate_email,date,prospect_company,prospect_industry,kind,outcome,deal_arr\n"


def seed(harness: Any, history: str = "") -> None:
    """The sample pool, and `history` (CSV rows without the header) as past references."""
    with harness.db.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session, source=io.StringIO(POOL.read_text()), now=harness.clock.now()
        )
        if history:
            history_csv.import_history(
                session=session, source=io.StringIO(HISTORY_HEADER + history), now=harness.clock.now()
            )


def ask_value(shortlist: dict[str, Any], name: str) -> str:
    """The value of `name`'s Ask button on a shortlist message."""
    return next(b["accessory"]["value"] for b in shortlist["blocks"] if name in str(b.get("accessory")))


def ask_dana(harness: Any, **request: Any) -> tuple[int, int]:
    """File (with `request`'s fields), approve and ask the top candidate (Dana); returns (request id,
    engagement id)."""
    seed(harness)
    request_id = harness.file_request(**request)
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    harness.click(Action.ASK, ask_value(harness.thread_replies()[-1], "Dana"), user="U0CS1")
    with harness.db.unit_of_work() as session:
        engagement = session.scalars(select(Engagement).where(Engagement.request_id == request_id)).one()
    return request_id, engagement.id
