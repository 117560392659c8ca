"""Surfaces that make sense later: stale catch-up is cancelled with its reason; times read as times."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.rules.nudges import ABOUT_THE_CALL, NudgeKind
from store.models import Nudge, NudgeStatus
from tests.test_outreach import CALL, schedule


def test_a_pass_long_after_the_call_sends_no_prep_or_reminder_and_says_why(harness):
    _, engagement_id = schedule(harness)
    harness.slack.clear()
    harness.dispatch(CALL + timedelta(days=3))  # the dispatcher was down from before the prep until now
    with harness.db.unit_of_work() as session:
        rows = session.scalars(select(Nudge).where(Nudge.engagement_id == engagement_id)).all()
    about = [n for n in rows if n.kind in ABOUT_THE_CALL]
    assert len(about) == 3
    assert all(n.status == NudgeStatus.CANCELLED and "moment passed" in (n.reason or "") for n in about)
    sent = [n for n in rows if n.status == NudgeStatus.SENT and not n.kind.startswith("fx_")]
    assert NudgeKind.THANKS in {n.kind for n in sent}, "what comes after the call still goes"
    texts = [m["text"] for m in harness.slack.of("chat.postMessage")]
    assert not any("tomorrow" in t.lower() or "today" in t.lower() for t in texts), texts
    assert len(texts) == len(sent)


def test_the_reps_time_buttons_read_the_times_in_the_reps_own_zone(harness):
    from tests.conftest import REP
    from tests.support.pool import ask_dana
    from tests.test_outreach import say_yes

    harness.slack.user_tz[REP] = "Europe/Berlin"
    _, engagement_id = ask_dana(harness)
    say_yes(harness, engagement_id)
    offer = harness.dms_to(REP)[-1]
    labels = [b["text"]["text"] for b in offer["blocks"][-1]["elements"]]
    assert labels == ["Wed 02 Dec, 17:00 CET", "Thu 03 Dec, 11:00 CET"]
    assert "Option" not in offer["blocks"][0]["text"]["text"]
