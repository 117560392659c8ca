"""Message text: Slack mrkdwn that is safe by default, and Jinja2 templates in bot/templates that escape it.

Text from people and files is data, never markup. `Mrkdwn` is a str that is already safe for Slack's mrkdwn
(like MarkupSafe's `Markup` is for HTML): joining, concatenating or formatting it escapes (`&`, `<`, `>`)
whatever is not `Mrkdwn` already. The bot's own markup (`<@U…>` from an id, `<!date^…>`) is made `Mrkdwn` by
the helpers below; nothing else is. Templates escape every `{{ value }}` the same way, unless it is `Mrkdwn`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, SupportsIndex

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTION_TEXT_LIMIT = 3000  # a section block's text
MESSAGE_TEXT_LIMIT = 40_000  # chat.postMessage's top-level text
NOTIFICATION_LIMIT = 150  # what a notification shows of a message's fallback text

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


class _EscapingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Mrkdwn):
            return str.__format__(str(value), format_spec)
        return _escape(format(value, format_spec))


_FORMATTER = _EscapingFormatter()


class Mrkdwn(str):
    """Text that is safe in Slack mrkdwn as it is: escaped user text, or markup the bot built itself."""

    __slots__ = ()

    @classmethod
    def escape(cls, value: object) -> Mrkdwn:
        """`value` as mrkdwn: unchanged when it already is, else with `&`, `<` and `>` escaped."""
        if isinstance(value, Mrkdwn):
            return value
        return cls(_escape("" if value is None else str(value)))

    def __add__(self, other: str) -> Mrkdwn:
        if isinstance(other, str):
            return Mrkdwn(str.__add__(self, Mrkdwn.escape(other)))
        return NotImplemented

    def __radd__(self, other: str) -> Mrkdwn:
        if isinstance(other, str):
            return Mrkdwn(str.__add__(Mrkdwn.escape(other), self))
        return NotImplemented

    def __mod__(self, other: object) -> Mrkdwn:
        raise TypeError("use Mrkdwn.format(...): it escapes its arguments")

    def __getitem__(self, key: SupportsIndex | slice) -> Mrkdwn:
        return Mrkdwn(str.__getitem__(self, key))

    def __repr__(self) -> str:
        return f"Mrkdwn({str.__repr__(self)})"

    def format(self, *args: Any, **kwargs: Any) -> Mrkdwn:
        return Mrkdwn(_FORMATTER.vformat(self, args, kwargs))

    def join(self, items: Iterable[object]) -> Mrkdwn:
        return Mrkdwn(str.join(self, (Mrkdwn.escape(item) for item in items)))

    def replace(self, old: str, new: str, count: SupportsIndex = -1) -> Mrkdwn:
        return Mrkdwn(str.replace(self, Mrkdwn.escape(old), Mrkdwn.escape(new), count))

    def split(self, sep: str | None = None, maxsplit: SupportsIndex = -1) -> list[Mrkdwn]:  # type: ignore[override]
        return [Mrkdwn(part) for part in str.split(self, sep, maxsplit)]

    def rsplit(self, sep: str | None = None, maxsplit: SupportsIndex = -1) -> list[Mrkdwn]:  # type: ignore[override]
        return [Mrkdwn(part) for part in str.rsplit(self, sep, maxsplit)]

    def splitlines(self, keepends: bool = False) -> list[Mrkdwn]:  # type: ignore[override]
        return [Mrkdwn(line) for line in str.splitlines(self, keepends)]

    def strip(self, chars: str | None = None) -> Mrkdwn:
        return Mrkdwn(str.strip(self, chars))

    def lstrip(self, chars: str | None = None) -> Mrkdwn:
        return Mrkdwn(str.lstrip(self, chars))

    def rstrip(self, chars: str | None = None) -> Mrkdwn:
        return Mrkdwn(str.rstrip(self, chars))


def esc(value: object) -> Mrkdwn:
    """Text from a person or a file, made safe for mrkdwn (a `Mrkdwn` value is returned as it is)."""
    return Mrkdwn.escape(value)


def mrkdwn(template: str, /, *args: Any, **kwargs: Any) -> Mrkdwn:
    """`template` is the bot's own markup; every argument that is not `Mrkdwn` is escaped into it."""
    return Mrkdwn(template).format(*args, **kwargs)


_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")


def _slack_id(value: str, first: str) -> str:
    if not (isinstance(value, str) and _SLACK_ID.match(value) and value[0] in first):
        raise ValueError(f"not a Slack id: {value!r}")
    return value


def mention(user_id: str) -> Mrkdwn:
    """A mention of a Slack member, from their id (never from typed text)."""
    return Mrkdwn(f"<@{_slack_id(user_id, 'UWB')}>")


_URL = re.compile(r"^https://[^\s<>|\x00-\x1f]{3,490}$")


def valid_link(url: str) -> bool:
    """A meeting link the bot may turn into markup: https, no spaces and none of Slack's <, > or |."""
    return bool(_URL.match(url))


def link(url: str | None, label: str) -> Mrkdwn:
    """`label` linking to `url` when it is a valid link; the escaped label alone otherwise."""
    if not url or not valid_link(url):
        return esc(label)
    return Mrkdwn(f"<{url.replace('&', '&amp;')}|{esc(label)}>")


def channel_link(channel_id: str) -> Mrkdwn:
    return Mrkdwn(f"<#{_slack_id(channel_id, 'CGD')}>")


def money(amount: int | None) -> str:
    return "—" if amount is None else f"${amount:,}"


def day(value: date | datetime) -> str:
    return f"{value.day} {value:%b %Y}"


def slack_date(instant: datetime, fmt: str = "{date_short_pretty} at {time}") -> Mrkdwn:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = instant.strftime("%d %b %Y %H:%M UTC")
    return Mrkdwn(f"<!date^{int(instant.timestamp())}^{_escape(fmt)}|{fallback}>")


def escape(text: object) -> Mrkdwn:
    """Slack mrkdwn needs &, < and > escaped in user text (idempotent on `Mrkdwn`)."""
    return Mrkdwn.escape(text)


# A cut must not split an entity (&amp;) or the bot's own <…> markup: that would show half of it.
_UNSPLITTABLE = re.compile(r"&[a-z]+;|<[^<>]*>")


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis; `Mrkdwn` stays `Mrkdwn` and whole."""
    if len(text) <= limit:
        return text
    end = limit - 1
    if isinstance(text, Mrkdwn):
        for token in _UNSPLITTABLE.finditer(str(text), max(0, end - 200), end + 200):
            if token.start() < end < token.end():
                end = token.start()
                break
        return Mrkdwn(str.__getitem__(text, slice(0, end)) + "…")
    return text[:end] + "…"


def shown(text: str) -> str:
    """What Slack displays for mrkdwn `text`: its three escapes turned back into characters."""
    return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blockquote(text: object) -> Mrkdwn:
    """Someone's words as a mrkdwn quote, line by line."""
    return Mrkdwn("\n").join(Mrkdwn("> ") + line for line in str(text).splitlines() or [""])


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` in a template: escaped unless it is `Mrkdwn` already."""
    return Mrkdwn.escape(value)


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # Jinja's autoescape is HTML's; Slack's happens in finalize
        finalize=_finalize,
    )
    env.filters.update(
        money=money,
        day=day,
        slack_date=slack_date,
        escape=escape,
        e=escape,
        blockquote=blockquote,
        mention=mention,
    )
    return env


def render(name: str, *, limit: int = SECTION_TEXT_LIMIT, **context: Any) -> Mrkdwn:
    """Render bot/templates/<name>.j2 (values escaped for mrkdwn) and cut it to `limit` characters."""
    rendered = Mrkdwn(_environment().get_template(f"{name}.j2").render(**context)).strip()
    return truncate(rendered, limit)  # type: ignore[return-value]
