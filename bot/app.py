"""The app factory: one Bolt App wired to its settings, store, clock and listeners. Nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.clock import Clock, SystemClock
from bot.cs_team import CsTeam
from bot.delivery import webhooks
from bot.delivery.courier import Courier
from bot.deps import CONTEXT_KEY, Deps
from bot.flows.shortlist import policy_from
from bot.rules.qualification import Rules
from bot.settings import Settings
from bot.slack_client import make_client
from handlers import register_listeners
from store.db import Database

BOLT_LOGGER = "refdesk.bolt"
LISTENER_THREADS = 16


class _ClientWinsOnPurpose(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that our client's token wins: it should."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _ClientWinsOnPurpose) for f in logger.filters):
        logger.addFilter(_ClientWinsOnPurpose())
    return logger


def create_app(
    *,
    settings: Settings,
    db: Database,
    clock: Clock | None = None,
    listener_executor: Executor | None = None,
    verify_token: bool = True,
    courier: Courier | None = None,
) -> App:
    """`courier` delivers the outbox effects listeners write; one is made (and woken by `db`) when not given."""
    from bot.delivery.scheduler import make_courier

    clock = clock or SystemClock()
    if listener_executor is None:
        # Listeners ack first and hand slow work to the outbox, so a pool this size never makes an ack wait.
        listener_executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    if courier is None:
        courier = make_courier(settings=settings, db=db, clock=clock)
    deps = Deps(
        settings=settings,
        db=db,
        clock=clock,
        cs_team=CsTeam(
            channel_id=settings.cs_channel_id,
            lead_ids=settings.cs_lead_user_ids,
            clock=clock,
            ttl_seconds=settings.cs_members_cache_seconds,
        ),
        rules=Rules.from_settings(settings),
        policy=policy_from(settings),
        courier=courier,
    )
    app = App(
        client=make_client(settings),
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=verify_token,
        listener_executor=listener_executor,
        logger=_bolt_logger(),
        # Unknown buttons and commands reach the error handler, which refuses them without logging the body.
        raise_error_for_unhandled_request=True,
    )

    def inject_deps(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 - Bolt's name
        context[CONTEXT_KEY] = deps
        next()

    app.use(inject_deps)
    register_listeners(app)
    # Audit events written through this database queue their webhooks in the same transaction.
    webhooks.install(db, settings.webhook_urls)
    return app
