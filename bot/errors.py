"""Typed errors whose message is safe and useful to show the person in Slack."""


class RefdeskError(Exception):
    """Something the user can act on; `str(error)` is shown to them as is."""


class CsChannelUnreadable(RefdeskError):
    def __init__(self, channel: str, slack_error: str) -> None:
        super().__init__(
            f"I can't read who is in the CS channel <#{channel}> (Slack said `{slack_error}`). "
            "Check CS_CHANNEL_ID and invite me there with `/invite @refdesk`."
        )
