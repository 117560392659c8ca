"""Block Kit pieces that are safe and within Slack's limits by default.

Every mrkdwn text goes through `md()`: a plain `str` is escaped (text from people and files is data), a `Mrkdwn`
(the bot's own markup, or escaped text) passes as it is; both are cut to the limit with an ellipsis, so Slack never
refuses a message for its length. Plain-text pieces (headers, buttons, options, titles) are only cut: Slack
parses no markup in them. The limits are slack_sdk.models' own.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    BlockElement,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

from bot.text import MESSAGE_TEXT_LIMIT, NOTIFICATION_LIMIT, SECTION_TEXT_LIMIT, Mrkdwn, esc, truncate

FIELD_LIMIT = 2000  # one of a section's fields
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
OPTION_LIMIT = 75
TITLE_LIMIT = 24  # a modal's title, submit and close
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
CONFIRM_BUTTON_LIMIT = 30


def safe(text: str, limit: int) -> Mrkdwn:
    """`text` as mrkdwn: escaped unless it is `Mrkdwn` already, and cut to `limit` characters."""
    return truncate(esc(text), limit)  # type: ignore[return-value]


def plain(text: str, limit: int) -> str:
    """Plain text (no markup is parsed in it) cut to `limit` characters."""
    return truncate(str(text), limit)


def md(text: str, limit: int = SECTION_TEXT_LIMIT) -> MarkdownTextObject:
    return MarkdownTextObject(text=safe(text, limit))


def section(text: str, *, block_id: str | None = None, accessory: BlockElement | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=md(text), accessory=accessory)


def fields(*texts: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, fields=[md(t, FIELD_LIMIT) for t in texts[:FIELDS_MAX]])


def context(*texts: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[md(t) for t in texts[:CONTEXT_ELEMENTS_MAX]])


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, HEADER_LIMIT))


def button(
    text: str,
    *,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=plain(text, BUTTON_LIMIT), action_id=action_id, value=value, style=style, confirm=confirm
    )


def actions(*elements: BlockElement, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(block_id=block_id, elements=list(elements))


def option(value: str, text: str) -> Option:
    return Option(value=value, text=plain(text, OPTION_LIMIT))


def confirm(*, title: str, text: str, yes: str, no: str) -> ConfirmObject:
    return ConfirmObject(
        title=plain(title, CONFIRM_TITLE_LIMIT),
        text=plain(text, CONFIRM_TEXT_LIMIT),
        confirm=plain(yes, CONFIRM_BUTTON_LIMIT),
        deny=plain(no, CONFIRM_BUTTON_LIMIT),
    )


def title(text: str) -> str:
    """A modal's title (or its submit and close labels)."""
    return plain(text, TITLE_LIMIT)


def message_text(text: str) -> Mrkdwn:
    """A message's top-level `text` when it has no blocks: all of it, escaped unless `Mrkdwn`."""
    return safe(text, MESSAGE_TEXT_LIMIT)


def notification(text: str) -> Mrkdwn:
    """The fallback `text` of a message with blocks: its first line, as a notification shows it."""
    first = (esc(text).splitlines() or [Mrkdwn("")])[0]
    return safe(first, NOTIFICATION_LIMIT)


def text_message(text: str) -> list[SectionBlock]:
    """A message that is one piece of text."""
    return [section(text)]
