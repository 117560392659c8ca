"""`refdesk demo`: the whole program, offline — the real app, store and dispatcher against a simulated Slack.

Every step is a signed HTTP request to the app, exactly as Slack sends them; every answer is what the app
said to the simulated Slack Web API, printed as it happens.
"""

from __future__ import annotations

import io
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import uvicorn
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FrozenClock
from bot.delivery.scheduler import make_courier, make_dispatcher
from bot.demo.simulator import payloads
from bot.demo.simulator.executor import TrackingExecutor
from bot.demo.simulator.signed import SlackSender
from bot.demo.simulator.slack import FakeSlack
from bot.demo.transcript import Entry, entries_from_calls, render_html, render_text
from bot.exchange import history_csv, pool_csv
from bot.settings import Settings
from bot.web import RefdeskASGI
from modals.ids import Action, Block
from store.db import Database
from store.models import Advocate, Engagement

SAMPLE = Path(__file__).resolve().parent.parent / "sample"
SECRET = "demosigningsecret"
CS_CHANNEL, REP, CS, LEAD = "C0CSREFS", "U0MARIA", "U0ALI", "U0SAM"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday morning
CALL = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # a Friday evening: what comes after waits for Monday
OTHER_TIME = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
FORM = {
    Block.PROSPECT_COMPANY: "Acme Analytics",
    Block.PROSPECT_INDUSTRY: "software",
    Block.PROSPECT_EMPLOYEES: "1000",
    Block.DEAL_ARR: "300000",
    Block.CLOSE_DATE: "2026-12-18",
    Block.DEAL_STAGE: "negotiation",
    Block.REP: REP,
    Block.CONTACT_ROLE: "Director of Data Engineering",
    Block.CONTACT_NAME: "Jordan Lee",
    Block.CONTACT_CONCERNS: "Can 200 nightly batch jobs move off the legacy scheduler without downtime?",
    Block.WANTED_INDUSTRY: "software",
    Block.WANTED_SIZE: "201-1000",
    Block.WANTED_ROLE: "director",
    Block.WANTED_USE_CASE: "Migrating batch jobs off a legacy job scheduler",
    Block.WANTED_KIND: "call",
    Block.URGENCY: "two_weeks",
    Block.WHY_NOW: "The board decides between us and the incumbent in two weeks.",
    Block.TRIED: ["demo", "trial"],
    Block.GOAL: "Confidence that the migration fits in one quarter.",
    Block.BACKGROUND: "Trial went well; the CTO wants to hear it from a peer.",
}


class Demo:
    """The simulated workspace: Slack, the app behind a real HTTP server, a clock that travels."""

    def __init__(self, out: TextIO, workdir: Path) -> None:
        self.out = out
        self.clock = FrozenClock(START)
        self.slack = FakeSlack().start()
        self.slack.cs_members = [CS, LEAD, "U0CSOWNER1", "U0CSOWNER2", "U0CSOWNER3", "U0BOT"]
        self.db = Database.from_url(f"sqlite:///{workdir / 'demo.db'}")
        self.db.upgrade()
        self.settings = Settings(
            slack_bot_token="xoxb-demo",
            slack_signing_secret=SECRET,
            cs_channel_id=CS_CHANNEL,
            cs_lead_user_ids=frozenset({LEAD}),
            database_url="(demo)",
            slack_api_url=self.slack.base_url,
        )
        self.executor = TrackingExecutor()
        self.courier = make_courier(settings=self.settings, db=self.db, clock=self.clock)
        app = create_app(
            settings=self.settings,
            db=self.db,
            clock=self.clock,
            listener_executor=self.executor,
            courier=self.courier,
        )
        self.server, self.port = _serve(RefdeskASGI(app, self.db, signing_secret=SECRET))
        self.sender = SlackSender(host="127.0.0.1", port=self.port, signing_secret=SECRET)
        self.names = {REP: "Maria (rep)", CS: "Ali (CS)", LEAD: "Sam (CS lead)", "U0BOT": "refdesk"}
        self.names.update({f"U0CSOWNER{n}": f"CS owner {n}" for n in (1, 2, 3)})
        self.channels = {CS_CHANNEL: "#cs-references"}
        self.entries: list[Entry] = []
        self._seen = len(self.slack.calls)
        self._views = 0

    def close(self) -> None:
        self.server.should_exit = True
        self.executor.shutdown(wait=True)
        self.courier.stop()
        self.slack.stop()

    # --- telling the story -----------------------------------------------------------------------
    def step(self, note: str, action: Callable[[], Any] | None = None, *, actor: str | None = None) -> None:
        """Narrate, act, then show everything Slack received because of it."""
        self.out.write("\n")
        if action is not None:
            action()
            self.executor.wait_idle()
            self.courier.wait_idle()
        calls = self.slack.calls[self._seen :]
        self._seen = len(self.slack.calls)
        entries = entries_from_calls(
            calls, when=self.clock.now(), names=self.names, channels=self.channels, actor=actor
        )
        if not entries:
            self.out.write(f"» {note}\n  (nothing reaches Slack)\n")
        for number, entry in enumerate(entries):
            if number == 0:
                entry = replace(entry, note=note)
            self.entries.append(entry)
            self.out.write(render_text(entry) + "\n")
        self.out.flush()

    # --- acting as people in Slack ---------------------------------------------------------------
    def command(self, text: str, user: str) -> None:
        form = payloads.slash_command(text=text, user_id=user, response_url=self.slack.response_url(user))
        self._expect_ok(self.sender.command(form))

    def submit(self, view: dict[str, Any], answers: dict[str, Any], user: str) -> Any:
        self._views += 1
        body = payloads.view_submission(
            view=view,
            values=payloads.state_values(view, answers),
            user_id=user,
            view_id=f"V0DEMO{self._views:03d}",
        )
        reply = self.sender.interactive(body)
        self._expect_ok(reply)
        return reply

    def click(self, action: str, value: str, user: str, channel: str) -> None:
        body = payloads.block_action(
            action_id=action,
            value=value,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(user),
        )
        self._expect_ok(self.sender.interactive(body))

    def last_view(self) -> dict[str, Any]:
        return self.slack.of("views.open")[-1]["view"]

    def dispatch_at(self, instant: datetime) -> None:
        self.clock.set(instant)
        make_dispatcher(settings=self.settings, db=self.db, clock=self.clock).run_pass()
        self.courier.wait_idle()

    @staticmethod
    def _expect_ok(reply: Any) -> None:
        if reply.status != 200:
            raise RuntimeError(f"the app answered HTTP {reply.status}: {reply.body[:200]}")


def _serve(asgi: Any) -> tuple[uvicorn.Server, int]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the demo's HTTP server did not start")
        time.sleep(0.01)
    return server, sock.getsockname()[1]


def play(demo: Demo) -> None:
    with demo.db.unit_of_work() as session:
        pool = pool_csv.import_advocates(
            session=session, source=io.StringIO((SAMPLE / "advocates.csv").read_text()), now=demo.clock.now()
        )
        history = history_csv.import_history(
            session=session, source=io.StringIO((SAMPLE / "history.csv").read_text()), now=demo.clock.now()
        )
        for advocate in session.scalars(select(Advocate)):
            if advocate.slack_user_id:
                demo.names[advocate.slack_user_id] = f"{advocate.name} (advocate)"
    demo.out.write(
        f"refdesk demo — a simulated workspace: {pool.created} advocates imported from "
        f"bot/sample/advocates.csv, {history.created} past references from bot/sample/history.csv.\n"
    )

    demo.step(
        "Maria, a rep, types /reference Acme Analytics",
        lambda: demo.command("Acme Analytics", REP),
        actor=REP,
    )
    form = demo.last_view()
    demo.step("Maria fills in the form and sends it to CS", lambda: demo.submit(form, FORM, REP))
    card = demo.slack.messages_to(CS_CHANNEL)[-1]
    request_id = card["blocks"][-1]["elements"][0]["value"]
    demo.step(
        "Ali, in the CS channel, clicks Approve",
        lambda: demo.click(Action.APPROVE, request_id, CS, CS_CHANNEL),
    )
    shortlist = [m for m in demo.slack.messages_to(CS_CHANNEL) if m.get("thread_ts")][-1]
    ask = next(b["accessory"] for b in shortlist["blocks"] if "accessory" in b)
    demo.step(
        f"Ali clicks “{ask['text']['text']}” on the shortlist",
        lambda: demo.click(Action.ASK, ask["value"], CS, CS_CHANNEL),
    )
    with demo.db.unit_of_work() as session:
        engagement = session.scalars(select(Engagement).where(Engagement.request_id == int(request_id))).one()
        advocate = session.get(Advocate, engagement.advocate_id)
        asked_via, engagement_id, first = engagement.asked_via, str(engagement.id), advocate.name.split()[0]
    demo.clock.set(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))
    demo.step(
        f"{first} clicks “Yes, happy to”",
        lambda: demo.click(Action.ASK_YES, engagement_id, asked_via, "D" + asked_via[1:]),
    )
    times = demo.last_view()
    demo.step(
        f"{first} offers two times for a video call",
        lambda: demo.submit(
            times,
            {Block.TIME_1: CALL, Block.TIME_2: OTHER_TIME, Block.TIME_3: None, Block.CALL_FORMAT: "video"},
            asked_via,
        ),
    )
    demo.clock.set(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    demo.step(
        "Maria checks with the prospect and picks option 1",
        lambda: demo.click(
            f"{Action.PICK_TIME}_1", f"{engagement_id}:{CALL.isoformat()}", REP, "D" + REP[1:]
        ),
    )

    demo.step(
        "Thursday morning, a day and a half before the call: the prep briefs",
        lambda: demo.dispatch_at(datetime(2026, 11, 26, 9, 5, tzinfo=UTC)),
    )
    prep = next(
        m for m in reversed(demo.slack.messages_to(asked_via)) if "Your reference call is" in m["text"]
    )
    join = next(e for b in prep["blocks"] for e in b.get("elements", []) if e["action_id"] == Action.CS_JOIN)
    demo.step(
        f"{first} would like CS on the call and clicks “Ask CS to join”",
        lambda: demo.click(Action.CS_JOIN, join["value"], asked_via, "D" + asked_via[1:]),
        actor=asked_via,
    )
    demo.step(
        "Thursday afternoon, the working day before the call: a reminder",
        lambda: demo.dispatch_at(datetime(2026, 11, 26, 17, 5, tzinfo=UTC)),
    )
    demo.step(
        "Friday 18:00 the call happens; at 19:30 nothing goes out: it is the evening",
        lambda: demo.dispatch_at(datetime(2026, 11, 27, 19, 30, tzinfo=UTC)),
    )
    demo.step(
        f"Monday morning, {first}'s first working hours after the call: thanks, and no question yet",
        lambda: demo.dispatch_at(datetime(2026, 11, 30, 9, 5, tzinfo=UTC)),
    )
    demo.step(
        "Monday afternoon, within 24 working hours: the rep's check-in prompt",
        lambda: demo.dispatch_at(datetime(2026, 11, 30, 17, 5, tzinfo=UTC)),
    )
    demo.step(
        "Maria clicks “Log the check-in”",
        lambda: demo.click(Action.CHECKIN_LOG, engagement_id, REP, "D0MARIA"),
    )
    checkin = demo.last_view()
    demo.step(
        "Maria logs what the prospect said",
        lambda: demo.submit(
            checkin,
            {
                Block.CHECKIN_HELPFUL: "yes",
                Block.CHECKIN_CONCERNS: "yes",
                Block.CHECKIN_LEARNED: "The cutover took one weekend with a rollback plan.",
                Block.CHECKIN_SUGGESTIONS: None,
            },
            REP,
        ),
    )
    demo.step(
        "Tuesday, two working days after the call (within 48 hours counted in working days): feedback",
        lambda: demo.dispatch_at(datetime(2026, 12, 1, 17, 5, tzinfo=UTC)),
    )
    demo.step(
        f"{first} clicks “Great”",
        lambda: demo.click(f"{Action.FEEDBACK_RATE}_great", engagement_id, asked_via, "D" + asked_via[1:]),
    )
    demo.step(
        "On the expected close date: how did the deal go?",
        lambda: demo.dispatch_at(datetime(2026, 12, 18, 15, 5, tzinfo=UTC)),
    )
    demo.step(
        "Maria clicks “Won”", lambda: demo.click(f"{Action.OUTCOME}_won", engagement_id, REP, "D0MARIA")
    )
    won = demo.last_view()
    demo.step("Maria enters the final ARR", lambda: demo.submit(won, {Block.OUTCOME_ARR: "320000"}, REP))
    demo.step(
        "Ali opens the refdesk Home tab", lambda: demo.sender.event(payloads.app_home_opened(user_id=CS))
    )
    demo.step(
        "Maria opens the refdesk Home tab", lambda: demo.sender.event(payloads.app_home_opened(user_id=REP))
    )


def run(*, out: TextIO = sys.stdout, html: Path | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="refdesk-demo-") as workdir:
        demo = Demo(out, Path(workdir))
        try:
            play(demo)
        finally:
            demo.close()
    if html is not None:
        html.write_text(
            render_html(demo.entries, title="refdesk demo: a customer reference, start to finish"),
            encoding="utf-8",
        )
        out.write(f"\nTranscript written to {html}\n")
    out.write(
        "\nThat was the real app, store and dispatcher; only Slack was simulated. "
        "To run it for real: create the Slack app from manifest.yml (see README.md).\n"
    )
    return 0
