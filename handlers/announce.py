"""What Slack hears after a request changes: the card in the CS channel and the rep's DMs, as outbox rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.delivery.surfaces import flags_for
from bot.deps import Deps
from bot.flows import effects
from bot.flows.records import RequestRecord
from modals.rep_views import build_decision_message, build_submitted_message, submitted_text
from store.models import ReferenceRequest, RequestStatus


def flags_of(deps: Deps, request: ReferenceRequest) -> list:
    return flags_for(deps.rules, request)


def announce_submitted(*, session: Session, request: ReferenceRequest, now: datetime) -> None:
    """In the submission's transaction: the card for CS and the rep's receipt, as outbox rows."""
    record = RequestRecord.of(request)
    effects.enqueue(session, effects.Fx.CARD, now=now, recipient="card", request_id=request.id)
    effects.dm(
        session,
        now=now,
        users=[request.rep_id, request.requester_id],
        text=submitted_text(record),
        blocks=build_submitted_message(request=record),
        request_id=request.id,
    )


def announce_decision(*, session: Session, request: ReferenceRequest, now: datetime) -> None:
    """In the decision's transaction: the card loses its buttons, and the rep (and whoever filed) hears it."""
    effects.card_update(session, now=now, request_id=request.id)
    if request.status in (RequestStatus.APPROVED, RequestStatus.DECLINED):
        text, blocks = build_decision_message(request=RequestRecord.of(request))
        effects.dm(
            session,
            now=now,
            users=[request.rep_id, request.requester_id],
            text=text,
            blocks=blocks,
            request_id=request.id,
        )
