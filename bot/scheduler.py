"""APScheduler runs a dispatcher pass every few seconds in every replica; the database decides who sends what."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.app import make_client
from bot.clock import Clock, SystemClock
from bot.dispatcher import Dispatcher
from bot.settings import Settings
from bot.shortlist import policy_from
from store.db import Database

log = logging.getLogger(__name__)


def make_dispatcher(*, settings: Settings, db: Database, clock: Clock | None = None) -> Dispatcher:
    return Dispatcher(
        db=db,
        client=make_client(settings, retries=False),
        clock=clock or SystemClock(),
        cs_channel_id=settings.cs_channel_id,
        policy=policy_from(settings),
        appreciation_threshold=settings.appreciation_threshold,
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
    scheduler.start()
    return scheduler
