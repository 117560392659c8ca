"""APScheduler runs a dispatcher pass every few seconds in every replica; the database decides who sends what."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import Clock, SystemClock
from bot.delivery import webhooks
from bot.delivery.courier import Courier
from bot.delivery.dispatcher import Dispatcher
from bot.flows.shortlist import policy_from
from bot.rules.qualification import Rules
from bot.settings import Settings
from bot.slack_client import make_client
from store.db import Database

log = logging.getLogger(__name__)


def make_dispatcher(
    *, settings: Settings, db: Database, clock: Clock | None = None, retries: bool = False
) -> Dispatcher:
    """The dispatcher retries per row, in the database (`retries=False`); the courier's first try may take
    the client's own quick retries (a 429's Retry-After, a 5xx twice) before a row waits for the next pass."""
    webhooks.install(db, settings.webhook_urls)  # the dispatcher writes audit events too (a call held)
    return Dispatcher(
        db=db,
        client=make_client(settings, retries=retries),
        rules=Rules.from_settings(settings),
        clock=clock or SystemClock(),
        cs_channel_id=settings.cs_channel_id,
        policy=policy_from(settings),
        appreciation_threshold=settings.appreciation_threshold,
        senders=settings.dispatch_senders,
    )


def start_scheduler(*, settings: Settings, db: Database) -> BackgroundScheduler:
    dispatcher = make_dispatcher(settings=settings, db=db)

    def dispatch() -> None:
        result = dispatcher.run_pass()
        if result.claimed:
            log.info("dispatch pass: %s", result)

    scheduler = BackgroundScheduler(timezone="UTC")
    # One pass at a time per replica; a pass that overruns is not stacked behind itself.
    scheduler.add_job(
        dispatch,
        "interval",
        seconds=settings.dispatch_interval_seconds,
        max_instances=1,
        coalesce=True,
        id="dispatch",
    )
    if settings.webhook_urls:
        sender = webhooks.WebhookSender(db=db, clock=SystemClock(), secret=settings.webhook_secret)

        def send_webhooks() -> None:
            result = sender.run_pass()
            if result.claimed:
                log.info("webhook pass: %s", result)

        scheduler.add_job(
            send_webhooks,
            "interval",
            seconds=settings.dispatch_interval_seconds,
            max_instances=1,
            coalesce=True,
            id="webhooks",
        )
    scheduler.start()
    return scheduler


def make_courier(
    *, settings: Settings, db: Database, clock: Clock | None = None, retries: bool = True
) -> Courier:
    """A courier for `db`: woken whenever a unit of work that wrote outbox effects commits."""
    courier = Courier(make_dispatcher(settings=settings, db=db, clock=clock, retries=retries))
    db.on_effects.append(courier.wake)
    return courier
