"""Slack fails at every step of a whole reference (500s, timeouts): every message still arrives, exactly once.

Each step's messages are outbox rows written with the state they announce (bot/flows/effects.py); the courier's
first try meets the injected failure, and dispatcher passes on the injected clock retry until Slack recovers.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.delivery.scheduler import make_dispatcher
from bot.flows import effects
from bot.slack_client import make_client
from modals.ids import Action
from store.models import Engagement, EngagementStatus, Nudge, NudgeStatus, ReferenceRequest
from tests.conftest import CS_CHANNEL, REP, make_settings
from tests.support.pool import ask_value, seed
from tests.test_outreach import CALL, pick, say_yes

FAULTS = {"500": {"status": 500}, "timeout": {"hang": 1.7}}
METHODS = ("chat.postMessage", "chat.update")
# A hung call times out after 1.5 s here (15 s in production); the fake answers the others far sooner, even on
# a busy machine, so only the injected hangs time out. Each hang costs that much, so the timeout story hangs
# one call per step (and both kinds at the approval) rather than every method.
CLIENT_TIMEOUT = 1.5


def quick_client(harness):
    client = make_client(make_settings(harness.slack), retries=False)
    client.timeout = CLIENT_TIMEOUT
    return client


class Story:
    def __init__(self, harness, fault: str) -> None:
        self.h = harness
        self.fault = FAULTS[fault]
        self.injected = 0
        # The courier's first try meets the fault itself (no quick in-process retries here).
        harness.courier.dispatcher.client = quick_client(harness)

    def faulty(self, *methods: str) -> None:
        """The next call of each method fails."""
        default = METHODS if "status" in self.fault else METHODS[:1]
        for method in methods or default:
            self.h.slack.fail(method, **self.fault)
            self.injected += 1

    def dispatch(self, at: datetime) -> None:
        self.h.clock.set(at)
        dispatcher = make_dispatcher(settings=make_settings(self.h.slack), db=self.h.db, clock=self.h.clock)
        dispatcher.client = quick_client(self.h)
        dispatcher.run_pass()
        self.h.settle()

    def recover(self) -> None:
        """Dispatcher passes, later and later, until nothing is left to retry."""
        for _ in range(8):
            with self.h.db.unit_of_work() as session:
                waiting = session.scalars(
                    select(Nudge.due_at).where(
                        Nudge.status == NudgeStatus.PENDING, Nudge.kind.in_(effects.EFFECTS)
                    )
                ).all()
            if not waiting:
                return
            self.dispatch(max(max(waiting), self.h.clock.now()) + timedelta(seconds=1))
        raise AssertionError("effects still waiting after 8 passes")


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_message_of_a_whole_story_arrives_once_through_slack_failures(harness, fault):
    story = Story(harness, fault)
    seed(harness)

    story.faulty()
    harness.submit_request()
    story.recover()
    [card] = harness.cards()
    request_id = int(card["blocks"][-1]["elements"][0]["value"])
    with harness.db.unit_of_work() as session:
        card_ts = session.get(ReferenceRequest, request_id).card_ts
        assert card_ts, "the card's ts is stored with the request"

    story.faulty(*METHODS)
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    story.recover()
    shortlist = next(m for m in harness.thread_replies() if m["text"].startswith("Shortlist"))
    ask = ask_value(shortlist, "Dana")

    story.faulty()
    harness.click(Action.ASK, ask, user="U0CS1")
    story.recover()
    with harness.db.unit_of_work() as session:
        engagement = session.scalars(select(Engagement).where(Engagement.request_id == request_id)).one()
        assert engagement.ask_ts, "the ask's message is stored with the engagement"
        engagement_id = engagement.id

    story.faulty()
    say_yes(harness, engagement_id)
    story.recover()

    story.faulty("chat.postMessage", "chat.update", "files.getUploadURLExternal")
    pick(harness, engagement_id)
    story.recover()

    # The scheduled messages around the call meet Slack's bad day too.
    story.faulty("chat.postMessage")
    story.dispatch(CALL - timedelta(days=2) + timedelta(minutes=1))
    story.recover()
    story.faulty("chat.postMessage")
    story.dispatch(CALL + timedelta(hours=1, minutes=25))
    story.recover()

    failed = [c for c in harness.slack.calls if not c.ok]
    assert len(failed) == story.injected, "every injected failure was met"

    posted = [(m["channel"], m.get("thread_ts"), m["text"]) for m in harness.slack.of("chat.postMessage")]
    twice = [m for m, n in Counter(posted).items() if n > 1]
    assert not twice, f"sent twice: {twice}"
    texts = [text for _, _, text in posted]

    def once(predicate) -> None:
        assert sum(1 for t in texts if predicate(t)) == 1, texts

    once(lambda t: t.startswith("Shortlist for request"))
    once(lambda t: "asked *Dana Whitfield* by DM" in t)
    once(lambda t: "*Dana Whitfield* said yes" in t)
    once(lambda t: ":calendar: Call scheduled" in t)
    assert len(harness.cards()) == 1
    dana = [t for c, _, t in posted if c == "U0DANA"]
    assert sum("Would you talk to" in t for t in dana) == 1, dana
    confirmations = [channel for channel, _, text in posted if text.startswith("Reference call confirmed")]
    assert sorted(confirmations) == sorted(["U0DANA", REP]), "each side confirmed once"
    assert len(harness.slack.of("files.completeUploadExternal")) == 2, "both calendar invites, once each"
    updates = [
        u for u in harness.slack.of("chat.update") if u["channel"] == CS_CHANNEL and u["ts"] == card_ts
    ]
    assert updates and str(Action.APPROVE) not in str(updates[-1]["blocks"]), "the card caught up: no buttons"

    with harness.db.unit_of_work() as session:
        stuck = session.scalars(
            select(Nudge).where(
                Nudge.kind.in_(effects.EFFECTS),
                Nudge.status.in_([NudgeStatus.PENDING, NudgeStatus.SENDING, NudgeStatus.FAILED]),
            )
        ).all()
        assert stuck == [], [(n.kind, n.status, n.last_error) for n in stuck]
        assert session.get(Engagement, engagement_id).status in (
            EngagementStatus.SCHEDULED,
            EngagementStatus.HELD,
        )


def test_an_approve_before_the_card_is_posted_still_gets_its_shortlist(harness):
    story = Story(harness, "500")
    seed(harness)
    story.faulty("chat.postMessage")  # the card fails: no ts yet
    harness.submit_request()
    assert harness.cards() == []
    harness.click(Action.APPROVE, 1, user="U0CS1")  # a fast Approve, before the card exists in Slack
    assert not any(m["text"].startswith("Shortlist") for m in harness.thread_replies())
    story.recover()
    [card] = harness.cards()
    with harness.db.unit_of_work() as session:
        card_ts = session.get(ReferenceRequest, 1).card_ts
    [shortlist] = [m for m in harness.thread_replies() if m["text"].startswith("Shortlist")]
    assert shortlist["thread_ts"] == card_ts, "the shortlist waited for the card and threads under it"
    assert any(u["ts"] == card_ts for u in harness.slack.of("chat.update")), "the card shows the decision"


def test_an_ask_slack_never_delivers_is_undone_and_cs_can_ask_again(harness):
    story = Story(harness, "500")
    seed(harness)
    harness.submit_request()
    harness.click(Action.APPROVE, 1, user="U0CS1")
    shortlist = next(m for m in harness.thread_replies() if m["text"].startswith("Shortlist"))
    ask = ask_value(shortlist, "Dana")
    harness.slack.fail("chat.postMessage", status=500, times=5)  # every try of the ask DM
    harness.expect_errors = True
    harness.click(Action.ASK, ask, user="U0CS1")
    story.recover()
    assert not any("Would you talk to" in m["text"] for m in harness.dms_to("U0DANA"))
    warning, fresh = harness.thread_replies()[-2:]
    assert "couldn't deliver the ask to *Dana Whitfield*" in warning["text"]
    assert any(b["accessory"]["value"] == ask for b in fresh["blocks"] if "accessory" in b), (
        "Ask again is live"
    )
    with harness.db.unit_of_work() as session:
        engagement = session.scalars(select(Engagement)).one()
        assert engagement.status == EngagementStatus.CANCELLED
        assert session.get(ReferenceRequest, 1).active_advocate_id is None
    harness.click(Action.ASK, ask, user="U0CS1")
    [delivered] = [m for m in harness.dms_to("U0DANA") if "Would you talk to" in m["text"]]
    with harness.db.unit_of_work() as session:
        assert session.scalars(select(Engagement)).one().status == EngagementStatus.ASKED


def test_the_ask_reminder_counts_from_when_the_ask_reached_the_advocate(harness):
    story = Story(harness, "500")
    seed(harness)
    harness.submit_request()
    harness.click(Action.APPROVE, 1, user="U0CS1")
    shortlist = next(m for m in harness.thread_replies() if m["text"].startswith("Shortlist"))
    ask = ask_value(shortlist, "Dana")
    asked_at = harness.clock.now()
    harness.slack.fail("chat.postMessage", status=500, times=2)
    harness.click(Action.ASK, ask, user="U0CS1")
    with harness.db.unit_of_work() as session:
        assert not session.scalars(select(Nudge).where(Nudge.kind == "ask_reminder")).all(), (
            "not before the DM"
        )
    story.recover()
    with harness.db.unit_of_work() as session:
        sent = session.scalars(select(Nudge).where(Nudge.kind == effects.Fx.ASK)).one().sent_at
        reminder = session.scalars(select(Nudge).where(Nudge.kind == "ask_reminder")).one()
    assert sent > asked_at
    assert reminder.due_at - sent == timedelta(days=2) + (
        reminder.due_at.date() - sent.date() - timedelta(days=2)
    )
    assert reminder.due_at.time() == sent.time()
