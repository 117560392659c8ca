"""Typed errors whose message is safe and useful to show the person in Slack."""

from __future__ import annotations

from bot.text import Mrkdwn, channel_link, esc, mrkdwn


class RefdeskError(Exception):
    """Something the user can act on; `text` (mrkdwn, escaped unless built as Mrkdwn) is shown to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.text: Mrkdwn = esc(message)


class CsChannelUnreadable(RefdeskError):
    def __init__(self, channel: str, slack_error: str) -> None:
        try:
            where = channel_link(channel)
        except ValueError:  # CS_CHANNEL_ID is not a channel id at all: show it as typed
            where = esc(channel)
        super().__init__(
            mrkdwn(
                "I can't read who is in the CS channel {} (Slack said `{}`). "
                "Check CS_CHANNEL_ID and invite me there with `/invite @refdesk`.",
                where,
                slack_error,
            )
        )
