"""Logging, set once per process from LOG_LEVEL, and the start-up lines about the rules in force."""

from __future__ import annotations

import logging

from bot.settings import Settings

log = logging.getLogger("refdesk")

# Chatty at INFO: APScheduler logs every pass, Alembic every migration step. Heard from only at DEBUG.
QUIET_LIBRARIES = ("apscheduler", "alembic")
# At DEBUG the Slack libraries log whole payloads; at INFO, Socket Mode's connection chatter.
SLACK_LIBRARIES = ("slack_bolt", "slack_sdk", "refdesk.bolt")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    debugging = logging.getLevelName(level) <= logging.DEBUG
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if debugging else logging.WARNING)
    # Never DEBUG: payloads and what tokens can do stay out of the logs, whatever LOG_LEVEL says.
    for name in SLACK_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO if debugging else logging.WARNING)


def announce_rules(settings: Settings) -> None:
    """Start-up lines about rules an operator may not expect from their settings."""
    if not settings.cs_lead_user_ids:
        log.info(
            "CS_LEAD_USER_IDS is empty: no CS leads are configured, so any CS member may approve requests "
            "below $%s ARR (the card still flags them)",
            f"{settings.min_deal_arr:,}",
        )
