"""The Web API client every part of refdesk uses, made from the settings."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import Settings

SLACK_API_URL = "https://slack.com/api/"


def make_client(settings: Settings, *, retries: bool = True) -> WebClient:
    """Every Web API client refdesk makes: SLACK_API_URL honoured; listeners wait out 429s and retry 5xx.

    The dispatcher asks for `retries=False`: it retries per row, in the database, without blocking a pass.
    """
    handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return WebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url or SLACK_API_URL,
        timeout=15,
        retry_handlers=handlers if retries else [],
    )
