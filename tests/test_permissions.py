"""Who may do what, as one table: every role × every action, through the HTTP app, on SQLite and PostgreSQL.

"report" in Slack is `/reference stats` (CS only); `refdesk report` is a command line an operator runs, not a
Slack action. Refusals name the rule that refused; a refused action changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.exchange import pool_csv
from handlers.engagements import (
    ADVOCATE_ONLY,
    CHECKIN_REFUSED,
    MOVE_REFUSED,
    OUTCOME_REFUSED,
    PICK_REFUSED,
    TIMES_REFUSED,
)
from handlers.peer import PEER_REFUSED
from handlers.replies import (
    CS_ONLY_ASK,
    CS_ONLY_NO_MATCH,
    CS_ONLY_POOL,
    CS_ONLY_SHORTLIST,
    CS_ONLY_STATS,
    NOT_CS,
)
from modals.ids import Action, Block
from store.models import Advocate, Engagement, ReferenceRequest, RequestEvent
from tests.conftest import LEAD, OUTSIDER, REP

ROLES = {
    "rep": REP,
    "another rep": "U0REP2",
    "CS member": "U0CS1",
    "CS lead": LEAD,  # not in the CS channel: leads count as CS
    "advocate": "U0ADV",
    "advocate's CS owner": "U0OWNER",  # the account's owner, not in the CS channel
    "outsider": OUTSIDER,
}
CS = {"CS member", "CS lead"}
ADVOCATE_SIDE = CS | {"advocate", "advocate's CS owner"}
REP_SIDE = CS | {"rep"}
EITHER_SIDE = ADVOCATE_SIDE | REP_SIDE

POOL = (
    ",".join(pool_csv.ADVOCATE_COLUMNS)
    + "\nPat Advocate,pat@customer.example,VP Engineering,vp,Customer Co,software,800,,US,"
    "Migrating off a legacy job scheduler,call,standard,U0ADV,U0OWNER,active,,no,,\n"
)
CALL = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
LEAD_RULE = "a CS lead must approve it"


@dataclass
class Story:
    """One reference, moved on as far as an action needs, built once per action."""

    harness: Any
    request_id: int = 0
    advocate_id: int = 0
    engagement_id: int = 0
    times_view: dict | None = None

    def build(self, state: str) -> Story:
        h = self.harness
        if state == "none":
            return self
        with h.db.unit_of_work() as session:
            pool_csv.import_advocates(session=session, source=io.StringIO(POOL), now=h.clock.now())
            self.advocate_id = session.scalars(select(Advocate.id)).one()
        if state == "small":
            self.request_id = h.file_request(deal_arr="20000")
        elif state == "email accepted":
            self.request_id = h.file_request(wanted_kind="email")
        elif state == "peer approved":
            self.request_id = h.file_request(wanted_kind="peer")
        else:
            self.request_id = h.file_request()
        if state in ("pending", "small"):
            return self
        h.click(Action.APPROVE, self.request_id, user="U0CS1")
        if state in ("approved", "peer approved"):
            return self
        h.click(Action.ASK, f"{self.request_id}:{self.advocate_id}:1", user="U0CS1")
        with h.db.unit_of_work() as session:
            self.engagement_id = session.scalars(select(Engagement.id)).one()
        h.click(Action.ASK_YES, self.engagement_id, user="U0ADV", channel="D0ADV")
        self.times_view = h.slack.of("views.open")[-1]["view"]
        if state in ("asked", "email accepted"):
            return self
        self.offer_times("U0ADV")
        if state == "accepted":
            return self
        h.click(
            f"{Action.PICK_TIME}_1", f"{self.engagement_id}:{CALL.isoformat()}", user=REP, channel="D0REP"
        )
        assert state == "scheduled"
        return self

    def offer_times(self, user: str) -> Any:
        return self.harness.submit_view(
            self.times_view, {Block.TIME_1: CALL, Block.CALL_FORMAT: "video"}, user=user
        )

    def fingerprint(self) -> tuple:
        with self.harness.db.unit_of_work() as session:
            request = session.get(ReferenceRequest, self.request_id) if self.request_id else None
            engagement = session.get(Engagement, self.engagement_id) if self.engagement_id else None
            events = session.scalar(select(func.count()).select_from(RequestEvent))
            return (
                request and (request.status, request.active_advocate_id, request.outcome),
                engagement and (engagement.status, engagement.call_at, tuple(engagement.proposed_times)),
                events,
            )


@dataclass(frozen=True)
class Act:
    name: str
    state: str
    allowed: frozenset[str]
    refusals: tuple[str, ...]  # what a refused role is told: the rule, in words
    run: Callable[[Story, str], Any]
    opens_modal: bool = False


def _click(
    action: str, value: Callable[[Story], str], channel: str = "C0CSTEAM"
) -> Callable[[Story, str], Any]:
    def run(story: Story, user: str) -> Any:
        return story.harness.click(action, value(story), user=user, channel=channel)

    return run


def _command(text: str) -> Callable[[Story, str], Any]:
    return lambda story, user: story.harness.command(text, user=user)


ACTIONS = [
    Act("approve", "pending", frozenset(CS), (NOT_CS,), _click(Action.APPROVE, lambda s: str(s.request_id))),
    Act(
        "decline",
        "pending",
        frozenset(CS),
        (NOT_CS,),
        _click(Action.DECLINE, lambda s: str(s.request_id)),
        True,
    ),
    Act(
        "approve a small deal",
        "small",
        frozenset({"CS lead"}),
        (NOT_CS, LEAD_RULE),
        _click(Action.APPROVE, lambda s: str(s.request_id)),
    ),
    Act(
        "cancel",
        "pending",
        frozenset({"rep"}),
        ("the rep on request",),
        _click(Action.CANCEL, lambda s: str(s.request_id)),
    ),
    Act(
        "ask",
        "approved",
        frozenset(CS),
        (CS_ONLY_ASK,),
        _click(Action.ASK, lambda s: f"{s.request_id}:{s.advocate_id}:1"),
    ),
    Act(
        "show more",
        "approved",
        frozenset(CS),
        (CS_ONLY_SHORTLIST,),
        _click(Action.SHOW_MORE, lambda s: f"{s.request_id}:2"),
    ),
    Act(
        "no good match",
        "approved",
        frozenset(CS),
        (CS_ONLY_NO_MATCH,),
        _click(Action.NO_MATCH, lambda s: str(s.request_id)),
    ),
    Act(
        "answer an ask",
        "asked",
        frozenset(ADVOCATE_SIDE),
        (ADVOCATE_ONLY,),
        _click(Action.ASK_YES, lambda s: str(s.engagement_id), "D0ADV"),
        True,
    ),
    Act(
        "write an email Q&A's answers",
        "email accepted",
        frozenset(ADVOCATE_SIDE),
        (ADVOCATE_ONLY,),
        _click(Action.WRITE_ANSWERS, lambda s: str(s.engagement_id), "D0ADV"),
        True,
    ),
    Act(
        "offer times", "asked", frozenset(EITHER_SIDE), (TIMES_REFUSED,), lambda s, user: s.offer_times(user)
    ),
    Act(
        "pick a time",
        "accepted",
        frozenset(REP_SIDE),
        (PICK_REFUSED,),
        _click(f"{Action.PICK_TIME}_1", lambda s: f"{s.engagement_id}:{CALL.isoformat()}", "D0REP"),
    ),
    Act(
        "reschedule or cancel a call",
        "scheduled",
        frozenset(EITHER_SIDE),
        (MOVE_REFUSED,),
        _click(Action.RESCHEDULE, lambda s: str(s.engagement_id), "D0ADV"),
        True,
    ),
    Act(
        "feedback",
        "scheduled",
        frozenset(ADVOCATE_SIDE),
        (ADVOCATE_ONLY,),
        _click(Action.FEEDBACK_MORE, lambda s: str(s.engagement_id), "D0ADV"),
        True,
    ),
    Act(
        "check-in",
        "scheduled",
        frozenset(REP_SIDE),
        (CHECKIN_REFUSED,),
        _click(Action.CHECKIN_LOG, lambda s: str(s.engagement_id), "D0REP"),
        True,
    ),
    Act(
        "deal outcome",
        "scheduled",
        frozenset(REP_SIDE),
        (OUTCOME_REFUSED,),
        _click(f"{Action.OUTCOME}_won", lambda s: str(s.engagement_id), "D0REP"),
        True,
    ),
    Act(
        "log a peer conversation",
        "peer approved",
        frozenset(REP_SIDE),
        (PEER_REFUSED,),
        _click(Action.LOG_PEER, lambda s: str(s.request_id)),
        True,
    ),
    Act("pool management", "none", frozenset(CS), (CS_ONLY_POOL,), _command("advocates")),
    Act("stats (the report in Slack)", "none", frozenset(CS), (CS_ONLY_STATS,), _command("stats")),
]
ALL_REFUSALS = {r for act in ACTIONS for r in act.refusals}


def _told(harness, user: str, reply: Any) -> list[str]:
    said = list(harness.ephemerals_to(user))
    body = reply.json() if reply is not None and reply.body.startswith("{") else {}
    said += list((body.get("errors") or {}).values())
    return said


@pytest.mark.parametrize("act", ACTIONS, ids=[a.name for a in ACTIONS])
def test_who_may_do_what(harness, act):
    story = Story(harness).build(act.state)
    # Refused roles first, on the untouched story; then those allowed, who may find it already done.
    order = sorted(ROLES, key=lambda role: role in act.allowed)
    outcomes: dict[str, bool] = {}
    for role in order:
        user = ROLES[role]
        harness.slack.clear()
        before = story.fingerprint()
        reply = act.run(story, user)
        assert reply.status == 200, (act.name, role, reply)
        told = " ".join(_told(harness, user, reply))
        refused = any(rule in told for rule in act.refusals)
        outcomes[role] = not refused
        if refused:
            assert story.fingerprint() == before, f"{act.name}: refused {role} yet something changed"
            assert not harness.slack.of("views.open"), f"{act.name}: refused {role} yet a modal opened"
        else:
            assert not any(rule in told for rule in ALL_REFUSALS), (act.name, role, told)
            if act.opens_modal:
                assert harness.slack.of("views.open"), f"{act.name}: {role} was allowed but nothing opened"
    expected = {role: role in act.allowed for role in ROLES}
    assert outcomes == expected, act.name
