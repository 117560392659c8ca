"""The request's life: submitted, then approved, declined or cancelled, each step in the audit trail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.rules.forms import DeclineForm, RequestForm
from store import lifecycle
from store.models import ReferenceRequest, RequestStatus


def prospect_key(company: str) -> str:
    """How two spellings of one prospect are recognised as the same."""
    return re.sub(r"\s+", " ", re.sub(r"[.,]", " ", company.casefold())).strip()


@dataclass(frozen=True)
class Submitted:
    request: ReferenceRequest
    created: bool


@dataclass(frozen=True)
class Outcome:
    """The result of a decision attempt: `won` is False when someone else decided first."""

    won: bool
    request: ReferenceRequest


def submit(
    *, session: Session, form: RequestForm, requester_id: str, view_id: str, now: datetime
) -> Submitted:
    """Store a request once per submitted view, however often Slack delivers it."""
    existing = lifecycle.get_request_by_view(session=session, view_id=view_id)
    if existing is not None:
        return Submitted(existing, created=False)
    key = prospect_key(form.prospect_company)
    request = ReferenceRequest(
        status=RequestStatus.PENDING,
        created_at=now,
        updated_at=now,
        source_view_id=view_id,
        requester_id=requester_id,
        rep_id=form.rep_id,
        prospect_company=form.prospect_company,
        prospect_key=key,
        prospect_industry=form.prospect_industry,
        prospect_employees=form.prospect_employees,
        prospect_revenue=form.prospect_revenue,
        deal_arr=form.deal_arr,
        close_date=form.close_date,
        deal_stage=form.deal_stage,
        contact_role=form.contact_role,
        contact_name=form.contact_name,
        contact_concerns=form.contact_concerns,
        wanted_industry=form.wanted_industry,
        wanted_size_band=form.wanted_size_band,
        wanted_role_level=form.wanted_role_level,
        wanted_function=form.wanted_function,
        wanted_use_case=form.wanted_use_case,
        wanted_kind=form.wanted_kind,
        urgency=form.urgency,
        wanted_country=form.wanted_country,
        wanted_region=form.wanted_region,
        why_now=form.why_now,
        tried=[t.value for t in form.tried],
        goal=form.goal,
        background=form.background,
        opportunity_id=form.opportunity_id,
        prior_references=max(
            form.prior_references, lifecycle.count_approved_for_prospect(session=session, prospect_key=key)
        ),
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        # The same view arrived twice at once: the other delivery stored it.
        existing = lifecycle.get_request_by_view(session=session, view_id=view_id)
        if existing is None:
            raise
        return Submitted(existing, created=False)
    lifecycle.add_event(
        session=session,
        request_id=request.id,
        at=now,
        actor_id=requester_id,
        action="submitted",
        detail={"rep_id": form.rep_id},
    )
    return Submitted(request, created=True)


def record_card(*, session: Session, request_id: int, channel: str, ts: str, now: datetime) -> None:
    request = lifecycle.get_request(session=session, request_id=request_id)
    if request is None:
        return
    request.card_channel = channel
    request.card_ts = ts
    lifecycle.add_event(
        session=session,
        request_id=request_id,
        at=now,
        actor_id="refdesk",
        action="card_posted",
        detail={"channel": channel, "ts": ts},
    )


def _decide(
    *,
    session: Session,
    request_id: int,
    actor_id: str,
    now: datetime,
    to_status: RequestStatus,
    action: str,
    detail: dict[str, object] | None = None,
    changes: dict[str, object] | None = None,
    extra_condition: object = None,
    from_status: RequestStatus = RequestStatus.PENDING,
) -> Outcome | None:
    """Move the request on if it still stands where it should, with its audit event; a request leaving
    `pending` is being decided, and says by whom and when."""
    decided = {"decided_by": actor_id, "decided_at": now} if from_status == RequestStatus.PENDING else {}
    won = lifecycle.transition_request(
        session=session,
        request_id=request_id,
        from_status=from_status,
        to_status=to_status,
        changes={**decided, **(changes or {})},
        now=now,
        extra_condition=extra_condition,
    )
    if won:
        lifecycle.add_event(
            session=session, request_id=request_id, at=now, actor_id=actor_id, action=action, detail=detail or {}
        )
    # As the update left it, in one read: one already in the session is overwritten (the update went around it).
    request = session.get(ReferenceRequest, request_id, populate_existing=True)
    if request is None:
        return None
    return Outcome(won=won, request=request)


def approve(*, session: Session, request_id: int, actor_id: str, now: datetime) -> Outcome | None:
    return _decide(
        session=session, request_id=request_id, actor_id=actor_id, now=now, to_status=RequestStatus.APPROVED,
        action="approved",
    )  # fmt: skip


def decline(
    *, session: Session, request_id: int, actor_id: str, form: DeclineForm, now: datetime
) -> Outcome | None:
    return _decide(
        session=session, request_id=request_id, actor_id=actor_id, now=now, to_status=RequestStatus.DECLINED,
        action="declined",
        detail={"reason": form.reason, "note": form.note},
        changes={"decline_reason": form.reason, "decline_note": form.note},
    )  # fmt: skip


def cancel(*, session: Session, request_id: int, actor_id: str, now: datetime) -> Outcome | None:
    """Only the rep or whoever filed it may cancel, and only while CS has not decided."""
    return _decide(
        session=session, request_id=request_id, actor_id=actor_id, now=now, to_status=RequestStatus.CANCELLED,
        action="cancelled",
        extra_condition=(ReferenceRequest.rep_id == actor_id) | (ReferenceRequest.requester_id == actor_id),
    )  # fmt: skip


def close_no_match(
    *, session: Session, request_id: int, actor_id: str, reasons: list[str], now: datetime
) -> Outcome | None:
    """Approved, but nobody reached Good: the request closes and the rep hears why."""
    return _decide(
        session=session, request_id=request_id, actor_id=actor_id, now=now, to_status=RequestStatus.NO_MATCH,
        action="no_match",
        detail={"reasons": reasons},
        from_status=RequestStatus.APPROVED,
        extra_condition=ReferenceRequest.active_advocate_id.is_(None),
    )  # fmt: skip
