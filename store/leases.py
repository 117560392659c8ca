"""Rows delivered by whoever claims them (the outbox's nudges, the webhooks' deliveries): one statement claims
due rows with a lease, and only the claim that holds a row may renew or finish it. Replicas never send twice."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, or_, select, update
from sqlalchemy.orm import Session

from store.models import Nudge, NudgeStatus, WebhookDelivery

Leased = type[Nudge] | type[WebhookDelivery]


def this_process() -> str:
    """Who claims: the host and the process, as the rows' `claimed_by` shows it to an operator."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_token(worker: str) -> str:
    """One claim's token: the worker and a nonce, so two claims of one process never hold each other's rows."""
    return f"{worker}:{uuid.uuid4().hex[:8]}"


def constant(status: NudgeStatus) -> ColumnElement[str]:
    """A status written into the statement's text instead of bound. PostgreSQL prepares a statement run often and
    may then run its generic plan, made without the values: with the status bound, the claim's generic plan
    scanned the whole outbox (python -m bench.plans --explain: Seq Scan on nudges, 1.7-3.7x the custom plan at
    20k rows), and sent rows stay, so it only grew. Written in, the plan knows it looks for pending rows."""
    return literal(status.value, literal_execute=True)


def claim_due(
    *,
    session: Session,
    model: Leased,
    now: datetime,
    token: str,
    lease: timedelta,
    batch: int,
    skip_locked: bool,
    where: ColumnElement[bool] | None = None,
) -> list[Any]:
    """Atomically take up to `batch` due rows (and rows whose claimer's lease ran out): the rows as the claim left
    them, sorted by id (returned by the claim's own statement, so a claimer need not read them again)."""
    due = or_(
        and_(model.status == constant(NudgeStatus.PENDING), model.due_at <= now),
        and_(model.status == constant(NudgeStatus.SENDING), model.lease_until < now),
    )
    if where is not None:
        due = and_(due, where)
    candidates = select(model.id).where(due).order_by(model.due_at, model.id).limit(batch)
    if skip_locked:
        # PostgreSQL: replicas skip each other's rows instead of queueing behind them.
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE joined in, not `id IN (subquery)`: PostgreSQL may run an IN subquery again for each row it
    # updates, and with SKIP LOCKED each run finds fresh rows, so one claim took the whole outbox.
    picked = candidates.cte("picked")
    statement = (
        update(model)
        .where(model.id == picked.c.id, due)
        .values(
            status=NudgeStatus.SENDING,
            claimed_by=token,
            lease_until=now + lease,
            attempts=model.attempts + 1,
        )
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(statement), key=lambda row: row.id)


def finish(*, session: Session, model: Leased, row_id: int, token: str, **values: object) -> bool:
    """Update a claimed row only if this claim still holds it (a reclaimed row is someone else's now)."""
    statement = (
        update(model)
        .where(model.id == row_id, model.claimed_by == token, model.status == NudgeStatus.SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1
