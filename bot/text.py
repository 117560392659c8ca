"""Message text from Jinja2 templates in bot/templates, sandboxed and cut to Slack's limits."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTION_TEXT_LIMIT = 3000  # a section block's text
MESSAGE_TEXT_LIMIT = 40_000  # chat.postMessage's top-level text


def money(amount: int | None) -> str:
    return "—" if amount is None else f"${amount:,}"


def day(value: date | datetime) -> str:
    return f"{value.day} {value:%b %Y}"


def slack_date(instant: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = instant.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{int(instant.timestamp())}^{fmt}|{fallback}>"


def escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped in user text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters.update(money=money, day=day, slack_date=slack_date, escape=escape)
    return env


def render(name: str, *, limit: int = SECTION_TEXT_LIMIT, **context: Any) -> str:
    """Render bot/templates/<name>.j2 and cut it to `limit` characters."""
    return truncate(_environment().get_template(f"{name}.j2").render(**context).strip(), limit)
