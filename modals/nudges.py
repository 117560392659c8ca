"""The scheduled messages' text and blocks, one builder for every kind of nudge."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.flows.audience import Brief
from bot.rules.nudges import NudgeKind, day_phrase
from bot.text import Mrkdwn
from modals import kit
from modals.advocate_side import controls as advocate_controls
from modals.followup import checkin_actions, feedback_actions, outcome_actions
from modals.outreach import answer_buttons, render_for
from modals.written import write_button

_TEMPLATE = {
    NudgeKind.ASK_REMINDER: "ask_reminder",
    NudgeKind.ANSWERS_REMINDER: "answers_reminder",
    NudgeKind.PREP_ADVOCATE: "prep_advocate",
    NudgeKind.PREP_REP: "prep_rep",
    NudgeKind.REMINDER: "reminder",
    NudgeKind.THANKS: "thanks",
    NudgeKind.REP_CHECKIN: "rep_checkin",
    NudgeKind.CHECKIN_REMINDER: "checkin_reminder",
    NudgeKind.FEEDBACK: "feedback",
    NudgeKind.DEAL_OUTCOME: "deal_outcome",
}
# Sent to the advocate; when they are not on Slack their CS owner gets it to pass on.
FOR_ADVOCATE = frozenset(
    {
        NudgeKind.ASK_REMINDER,
        NudgeKind.ANSWERS_REMINDER,
        NudgeKind.PREP_ADVOCATE,
        NudgeKind.REMINDER,
        NudgeKind.THANKS,
        NudgeKind.FEEDBACK,
    }
)


def build_nudge(
    *,
    kind: str,
    brief: Brief,
    on_slack: bool,
    close_date: date | None = None,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[Mrkdwn, list[Block]]:
    """(notification text, blocks) for one nudge. `on_slack`: the advocate gets it, not their CS owner.

    Every nudge is written from the brief alone; the rep's outcome prompt also gets the expected close date.
    Words about time ("tomorrow", "on Monday") are for the moment it is sent (`now`) in the reader's `zone`.
    """
    nudge = NudgeKind(kind)
    extra: dict[str, object] = {"close_date": close_date} if nudge == NudgeKind.DEAL_OUTCOME else {}
    call_at = brief.call.call_at
    if call_at is not None:
        extra["call_day"] = day_phrase(call_at, at=now, zone=zone)
    text = render_for(_TEMPLATE[nudge], brief, **extra)
    if nudge in FOR_ADVOCATE and not on_slack:
        text = render_for("owner_forward", brief, body=text)
    blocks: list[Block] = [kit.section(text)]
    actions = _ACTIONS.get(nudge)
    if actions is not None:
        blocks.append(actions(brief.call.id))
    if nudge == NudgeKind.ASK_REMINDER:
        # The gentle nudge says "Not this time" is a fine answer: it carries the answer buttons too.
        yes, no = ("Yes, happy to", "Not this time") if on_slack else ("They said yes", "They said no")
        blocks.append(answer_buttons(brief.call, yes=yes, no=no))
    if nudge in _CONTROLS:
        blocks.append(advocate_controls(engagement_id=brief.call.id, **_CONTROLS[nudge]))
    return kit.notification(text), blocks


# The advocate's own controls, where they fit (PROGRAM.md: easy to say no; CS joins only when asked).
_CONTROLS: dict[NudgeKind, dict[str, bool]] = {
    NudgeKind.ASK_REMINDER: {"pause": True, "happy": True},
    NudgeKind.PREP_ADVOCATE: {"cs_join": True, "pause": False, "happy": False},
    NudgeKind.REMINDER: {"cs_join": True, "pause": False, "happy": False},
    NudgeKind.THANKS: {"pause": True, "happy": True},
}
# Prompts that are answered with a click.
_ACTIONS = {
    NudgeKind.FEEDBACK: feedback_actions,
    NudgeKind.REP_CHECKIN: checkin_actions,
    NudgeKind.CHECKIN_REMINDER: checkin_actions,
    NudgeKind.DEAL_OUTCOME: outcome_actions,
    NudgeKind.ANSWERS_REMINDER: write_button,
}
