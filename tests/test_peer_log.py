"""A peer conversation is logged, not brokered: CS or the rep logs who and when, once; it counts as given."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import func, select

from modals.ids import Action, Block, Callback
from modals.peer import FUTURE, PICK_ADVOCATE
from store import usage
from store.models import Advocate, AdvocateUsage, Engagement, Nudge, ReferenceRequest, RequestEvent
from tests.conftest import CS_CHANNEL, OUTSIDER, REP
from tests.support.factories import advocate_values
from tests.support.pool import seed

SHORTLIST_TS = "1700000000.000777"


def approved_peer_request(harness) -> int:
    seed(harness)
    request_id = harness.file_request(wanted_kind="peer")
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    return request_id


def open_log(harness, request_id: int, *, user: str = "U0CS1", channel: str = CS_CHANNEL) -> dict:
    before = len(harness.slack.of("views.open"))
    harness.click(Action.LOG_PEER, request_id, user=user, channel=channel, message_ts=SHORTLIST_TS)
    opened = harness.slack.of("views.open")
    assert len(opened) == before + 1, harness.ephemerals_to(user)
    view = opened[-1]["view"]
    assert view["callback_id"] == Callback.PEER_FORM
    return view


def advocate_id(harness, name: str) -> int:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Advocate.id).where(Advocate.name == name)).one()


def log(
    harness,
    view: dict,
    *,
    who: int | None,
    on: date | None,
    note: str = "",
    user: str = "U0CS1",
    view_id=None,
):
    answers = {
        Block.PEER_ADVOCATE: None if who is None else str(who),
        Block.PEER_DATE: None if on is None else on.isoformat(),
        Block.PEER_NOTE: note or None,
    }
    return harness.submit_view(view, answers, user=user, view_id=view_id)


def test_the_peer_shortlist_and_the_reps_dm_offer_to_log_it(harness):
    request_id = approved_peer_request(harness)
    shortlist = harness.thread_replies()[-1]
    assert "logged, not brokered" in json.dumps(shortlist["blocks"])
    buttons = [e for b in shortlist["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(Action.LOG_PEER, str(request_id))]
    approved = next(m for m in harness.dms_to(REP) if "approved" in m["text"])
    assert "nobody will be asked" in json.dumps(approved["blocks"])
    assert approved["blocks"][-1]["elements"][0]["action_id"] == Action.LOG_PEER
    view = open_log(harness, request_id)
    options = [o["text"]["text"] for o in view["blocks"][1]["element"]["options"]]
    assert "Dana Whitfield — Northwind Systems" in options and options == sorted(options)
    assert view["blocks"][2]["element"]["initial_date"] == harness.clock.now().date().isoformat()


def test_logging_it_counts_for_the_advocate_closes_the_request_and_tells_rep_and_thread(harness):
    request_id = approved_peer_request(harness)
    dana = advocate_id(harness, "Dana Whitfield")
    view = open_log(harness, request_id, user=REP, channel="D0REP")  # the rep who owns the request may log it
    on = harness.clock.now().date() - timedelta(days=3)
    harness.slack.clear()
    reply = log(
        harness, view, who=dana, on=on, note="Met at <KubeCon> & liked it", user=REP, view_id="V0PEER"
    )
    assert reply.status == 200 and reply.body == "", reply.body
    [to_rep] = harness.dms_to(REP)
    assert "peer conversation between *Dana Whitfield*" in to_rep["text"] and "Acme Corp" in to_rep["text"]
    [note] = [m for m in harness.thread_replies() if "Logged by" in m["text"]]
    assert "&lt;KubeCon&gt; &amp; liked it" in note["text"] and "<KubeCon>" not in note["text"]
    [replaced] = harness.slack.of("chat.update")
    assert replaced["channel"] == "D0REP" and replaced["ts"] == SHORTLIST_TS
    assert "actions" not in json.dumps(replaced["blocks"])  # the button is gone
    assert harness.dms_to("U0DANA") == [], "logged, not brokered: the advocate is not asked anything"
    with harness.db.unit_of_work() as session:
        [engagement] = session.scalars(select(Engagement).where(Engagement.request_id == request_id)).all()
        assert (engagement.kind, engagement.status, engagement.advocate_id) == ("peer", "held", dana)
        assert engagement.held_at.date() == on and engagement.asked_at == engagement.held_at
        request = session.get(ReferenceRequest, request_id)
        assert (request.status, request.active_advocate_id) == ("approved", dana)
        kept = session.get(AdvocateUsage, dana)
        assert (kept.given, kept.total, kept.last_used) == (1, 1, engagement.held_at)
        assert usage.check(session.connection()) == []  # kept in the same transaction: no drift
        kinds = [n.kind for n in session.scalars(select(Nudge)) if not n.kind.startswith("fx_")]
        assert kinds == ["deal_outcome"]
    # Slack redelivers the same submission: nothing twice. Another form, or the button again: told.
    harness.slack.clear()
    assert log(harness, view, who=dana, on=on, user=REP, view_id="V0PEER").body == ""
    lena = advocate_id(harness, "Lena Vogel")
    again = log(harness, view, who=lena, on=on, user="U0CS1", view_id="V0PEER2")
    assert "already logged" in again.json()["errors"][Block.PEER_ADVOCATE]
    harness.click(Action.LOG_PEER, request_id, user="U0CS1")
    assert "already logged for request" in harness.ephemerals_to("U0CS1")[-1]
    assert harness.slack.of("chat.postMessage") == [] and harness.slack.of("views.open") == []
    with harness.db.unit_of_work() as session:
        logged = select(func.count()).where(RequestEvent.action == "peer_logged")
        assert session.scalar(logged) == 1
        assert session.scalar(select(func.count()).select_from(Engagement)) == 1


def test_logged_from_cs_thread_the_shortlist_says_so(harness):
    request_id = approved_peer_request(harness)
    view = open_log(harness, request_id)
    harness.slack.clear()
    log(harness, view, who=advocate_id(harness, "Lena Vogel"), on=harness.clock.now().date())
    [updated] = harness.slack.of("chat.update")
    assert updated["channel"] == CS_CHANNEL and updated["ts"] == SHORTLIST_TS
    text = json.dumps(updated["blocks"])
    assert "logged a peer conversation with *Lena Vogel*" in text and Action.LOG_PEER not in text
    with harness.db.unit_of_work() as session:
        engagement = session.scalars(select(Engagement)).one()
        assert engagement.held_at <= harness.clock.now()  # today's midday may be ahead: never in the future


def test_bad_input_is_told_inline_and_changes_nothing(harness):
    request_id = approved_peer_request(harness)
    view = open_log(harness, request_id)
    tomorrow = harness.clock.now().date() + timedelta(days=1)
    reply = log(harness, view, who=None, on=tomorrow)
    assert reply.json()["errors"] == {Block.PEER_ADVOCATE: PICK_ADVOCATE, Block.PEER_DATE: FUTURE}
    reply = log(harness, view, who=advocate_id(harness, "Dana Whitfield"), on=date(2020, 1, 1))
    assert "within the last year" in reply.json()["errors"][Block.PEER_DATE]
    reply = log(
        harness,
        view,
        who=advocate_id(harness, "Dana Whitfield"),
        on=tomorrow - timedelta(days=2),
        user=OUTSIDER,
    )
    assert "Only CS or the rep on this request" in reply.json()["errors"][Block.PEER_ADVOCATE]
    harness.click(Action.LOG_PEER, request_id, user=OUTSIDER, channel=CS_CHANNEL)
    assert "Only CS or the rep on this request" in harness.ephemerals_to(OUTSIDER)[-1]
    with harness.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Engagement)) == 0


def test_only_a_peer_request_can_be_logged(harness):
    seed(harness)
    request_id = harness.file_request()  # a call
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    harness.slack.clear()
    harness.click(Action.LOG_PEER, request_id, user="U0CS1")
    assert "not an approved peer conversation" in harness.ephemerals_to("U0CS1")[-1]
    assert harness.slack.of("views.open") == []


def test_a_large_pool_is_searched_not_listed(harness):
    request_id = approved_peer_request(harness)
    now = harness.clock.now()
    with harness.db.unit_of_work() as session:
        dana = session.scalars(select(Advocate).where(Advocate.name == "Dana Whitfield")).one()
        for n in range(120):
            values = advocate_values(id=1000 + n, name=f"Advocate {n:03d}", company=f"Co {n}")
            session.add(Advocate(**{**values, "created_at": now, "updated_at": now}))
        dana_id = dana.id
    view = open_log(harness, request_id)
    element = view["blocks"][1]["element"]
    assert element["type"] == "external_select" and element["action_id"] == Action.PEER_SEARCH
    body = {
        "type": "block_suggestion",
        "user": {"id": "U0CS1", "team_id": "T0TEAM"},
        "team": {"id": "T0TEAM", "domain": "example"},
        "api_app_id": "A0APP",
        "action_id": Action.PEER_SEARCH,
        "block_id": Block.PEER_ADVOCATE,
        "value": "northwind",
        "view": view,
        "token": "legacy",
    }
    reply = harness.sender.interactive(body)
    assert [o["text"]["text"] for o in reply.json()["options"]] == ["Dana Whitfield — Northwind Systems"]
    selected = {
        Block.PEER_ADVOCATE: {
            Action.PEER_SEARCH: {
                "type": "external_select",
                "selected_option": {
                    "value": str(dana_id),
                    "text": {"type": "plain_text", "text": "Dana Whitfield — Northwind Systems"},
                },
            }
        },
        Block.PEER_DATE: {"value": {"type": "datepicker", "selected_date": now.date().isoformat()}},
        Block.PEER_NOTE: {"value": {"type": "plain_text_input", "value": None}},
    }
    from tests.support import payloads

    submitted = payloads.view_submission(view=view, values=selected, user_id="U0CS1", view_id="V0BIG")
    assert harness.sender.interactive(submitted).body == ""
    harness.settle()
    with harness.db.unit_of_work() as session:
        assert session.scalars(select(Engagement.advocate_id)).one() == dana_id


def test_the_reps_home_asks_for_the_outcome_not_a_check_in(harness):
    from bot.reporting.dashboard import rep_requests

    request_id = approved_peer_request(harness)
    view = open_log(harness, request_id)
    log(harness, view, who=advocate_id(harness, "Dana Whitfield"), on=harness.clock.now().date())
    with harness.db.unit_of_work() as session:
        [mine] = rep_requests(session=session, user_id=REP, now=harness.clock.now(), limit=5)
        assert "Tell us the outcome" in str(mine.next_step)
