"""A crowd at once: 50 people each type /reference, submit the form, and have CS approve it, all together.

    python -m bench.crowd [--database-url URL] [--people 50] [--workers 1]

`refdesk serve` runs as a separate process (its own interpreter, as in production) against a fake Slack Web
API served from this process. Every person's three requests are signed like Slack's and sent as fast as the
previous step allows: the slash command (the app opens the form with views.open), the view submission (the
card reaches the CS channel), then a CS member's Approve click. It prints the ack latency distribution (the
HTTP answer, which is Slack's 3-second limit), how many took over 3 s, and the time from each Approve to its
shortlist's chat.postMessage. The same crowd then hits a bare Bolt app that only acks, served the same way
(uvicorn in a separate process), as the baseline in the same run. Without --database-url it uses a fresh
SQLite file; a PostgreSQL URL gets its own bench_<random> schema, dropped at the end. A measurement, not a
test: it exits 0 whether or not the targets (every ack < 3 s, p95 < 1 s, every shortlist) are met.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

from sqlalchemy import text

from bot.demo.simulator import payloads
from bot.demo.simulator.slack import FakeSlack
from modals.ids import Action, Block
from modals.request_form import request_modal_payload
from store.db import Database, make_engine

CS_CHANNEL = "C0CSTEAM"
CS_MEMBERS = ["U0CS1", "U0CS2", "U0CS3"]
SIGNING_SECRET = "benchcrowdsigningsecret"
SAMPLE_POOL = Path(__file__).resolve().parent.parent / "bot" / "sample" / "advocates.csv"
ACK_LIMIT = 3.0
TARGET_P95 = 1.0

# The tests' valid form, with a close date that stays valid for longer (the crowd runs on the real clock).
ANSWERS: dict[str, Any] = {**payloads.FORM_ANSWERS, Block.CLOSE_DATE: "2027-06-15"}


class QuickSlack(FakeSlack):
    """The fake without a Block Kit check (the test suite's business), in a process of its own (`--fake-slack`):
    serving refdesk's Web API calls costs CPU and the GIL, which must not delay the crowd reading its acks.
    It writes one line to stdout for each thing the crowd waits for: a person's form, card and shortlist."""

    def __init__(self) -> None:
        super().__init__()
        self._out = threading.Lock()

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = super()._answer(method, params)
        text = str(params.get("text") or "")
        arrival: list[Any] | None = None
        if method == "views.open":
            arrival = ["form", str(params.get("trigger_id")), params["view"]]
        elif method == "chat.postMessage" and text.startswith("Shortlist for request #"):
            arrival = ["shortlist", text.split("#", 1)[1].split(" ", 1)[0], None]
        elif (
            method == "chat.postMessage"
            and params.get("channel") == CS_CHANNEL
            and not params.get("thread_ts")
        ):
            found = re.search(r"from <@(\w+)>", text)
            if found:
                arrival = ["card", found.group(1), int(params["blocks"][-1]["elements"][0]["value"])]
        if arrival is not None:
            line = json.dumps(
                [*arrival, time.monotonic()]
            )  # CLOCK_MONOTONIC: the same clock in every process
            with self._out:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        return answer


def fake_slack_server() -> None:
    slack = QuickSlack().start()
    slack.cs_members = [*CS_MEMBERS, "U0BOT"]
    slack.members_page_size = 100
    sys.stdout.write(slack.base_url + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the bench closes our stdin
    slack.stop()


class SlackProcess:
    """The bench's side of the fake Slack: its address, and each arrival waking the coroutine waiting for it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.crowd", "--fake-slack"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url:
            raise SystemExit("the fake Slack did not start")
        self.seen: dict[tuple[str, str], tuple[Any, float]] = {}
        self._waiting: dict[tuple[str, str], asyncio.Future] = {}
        self._index = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            kind, name, what, at = json.loads(line)
            key, arrived = (kind, name), (what, at)
            with self._index:
                self.seen[key] = arrived
                future = self._waiting.pop(key, None)
            if future is not None:
                future.get_loop().call_soon_threadsafe(_settle, future, arrived)

    def response_url(self, name: str) -> str:
        return self.base_url.replace("/api/", f"/response/{name}")

    async def wait(self, key: tuple[str, str], timeout: float) -> tuple[Any, float] | None:
        with self._index:
            if key in self.seen:
                return self.seen[key]
            future = asyncio.get_running_loop().create_future()
            self._waiting[key] = future
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _settle(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


class Signer:
    """Slack's requests as bytes, signed before the clock starts: what is timed is the server's answer."""

    def __init__(self, port: int, signing_secret: str) -> None:
        self.port = port
        self.secret = signing_secret.encode()

    def request(self, body: str, content_type: str = "application/x-www-form-urlencoded") -> bytes:
        raw = body.encode()
        stamp = str(int(time.time()))
        digest = hmac.new(self.secret, b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(raw)}\r\n"
            f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: v0={digest}\r\n"
            "Connection: close\r\n\r\n"
        )
        return head.encode() + raw

    def command(self, form: dict[str, str]) -> bytes:
        return self.request(urlencode(form))

    def interactive(self, payload: dict[str, Any]) -> bytes:
        return self.request(urlencode({"payload": json.dumps(payload)}))

    async def send(self, request: bytes) -> tuple[int, bytes, float]:
        """(status, body, seconds from connecting to the last byte of the answer) for one prepared request."""
        began = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            body = await reader.readexactly(int(length.group(1))) if length else await reader.read()
            elapsed = time.monotonic() - began
        finally:
            writer.close()
        return int(head.split(b" ", 2)[1]), body, elapsed


@dataclass
class Run:
    acks: dict[str, list[float]] = field(default_factory=lambda: {"command": [], "submit": [], "approve": []})
    form: list[float] = field(
        default_factory=list
    )  # /reference sent → views.open reached Slack (trigger: 3 s)
    shortlist: list[float] = field(default_factory=list)
    missing: int = 0
    errors: list[str] = field(default_factory=list)

    def all_acks(self) -> list[float]:
        return [a for kind in self.acks.values() for a in kind]


def load() -> str:
    """The machine's load, printed with the numbers: two cores shared with anything else running."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, path: str = "/healthz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
                if response.status in (200, 404):
                    return
        except OSError as error:
            if getattr(error, "code", None) is not None:  # an HTTP answer, whatever it says: it is up
                return
            time.sleep(0.1)
    raise SystemExit("the server did not start in time")


@contextmanager
def database(url: str | None):
    """(url for the server, Database) on a fresh SQLite file or a PostgreSQL schema of our own."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = f"sqlite:///{Path(tmp) / 'crowd.db'}"
            db = Database(make_engine(db_url))
            db.upgrade()
            yield db_url, db
            db.engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    db_url = f"{url}{separator}options=-csearch_path%3D{schema}"
    db = Database(make_engine(db_url))
    try:
        db.upgrade()
        yield db_url, db
    finally:
        db.engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(db: Database) -> None:
    from datetime import UTC, datetime

    from bot.exchange import pool_csv

    with db.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session, source=io.StringIO(SAMPLE_POOL.read_text()), now=datetime.now(UTC)
        )


def crowd(signer: Signer, slack: SlackProcess, people: int, *, bare: bool, timeout: float = 60) -> Run:
    """Every person at once, each on one coroutine of one event loop: command, submission, approval in order.

    A request's bytes are built and signed before its clock starts, and an ack is timed from connecting to
    the answer's last byte; the loop does nothing else heavy, so what is timed is the server."""
    run = Run()
    form_of_nobody = request_modal_payload(requester_id="U0BARE", prospect_company="")

    async def timed(kind: str, request: bytes) -> bytes:
        status, body, elapsed = await signer.send(request)
        run.acks[kind].append(elapsed)
        if status != 200:
            run.errors.append(f"{kind}: HTTP {status} {body[:120]!r}")
        return body

    async def person(n: int, command: bytes) -> None:
        user = f"U0REP{n:03d}"
        typed = time.monotonic()
        await timed("command", command)
        if bare:  # the same form and answers refdesk receives, so Bolt parses the same payload
            view: dict[str, Any] = form_of_nobody
        else:
            opened = await slack.wait(("form", f"trigger-{user}"), timeout)
            if not opened:
                run.errors.append(f"{user}: the form never opened")
                return
            view = opened[0]
            run.form.append(opened[1] - typed)
        values = payloads.state_values(
            view, {**ANSWERS, Block.PROSPECT_COMPANY: f"Crowd {n}", Block.REP: user}
        )
        submission = payloads.view_submission(
            view=view, values=values, user_id=user, view_id=f"VCROWD{n:05d}"
        )
        await timed("submit", signer.interactive(submission))
        if bare:
            request_id = n
        else:
            card = await slack.wait(("card", user), timeout)
            if not card:
                run.errors.append(f"{user}: no card")
                return
            request_id = card[0]
        click = signer.interactive(
            payloads.block_action(
                action_id=Action.APPROVE,
                value=str(request_id),
                user_id=CS_MEMBERS[n % len(CS_MEMBERS)],
                channel_id=CS_CHANNEL,
                response_url=slack.response_url(f"approve-{n}"),
            )
        )
        clicked = time.monotonic()
        await timed("approve", click)
        if bare:
            return
        posted = await slack.wait(("shortlist", str(request_id)), timeout)
        if posted:
            run.shortlist.append(posted[1] - clicked)
        else:
            run.missing += 1

    async def everyone() -> None:
        commands = [
            signer.command(
                payloads.slash_command(
                    text="",
                    user_id=f"U0REP{n:03d}",
                    response_url=slack.response_url(f"U0REP{n:03d}"),
                    trigger_id=f"trigger-U0REP{n:03d}",
                )
            )
            for n in range(1, people + 1)
        ]
        await asyncio.gather(*(person(n, command) for n, command in enumerate(commands, start=1)))

    asyncio.run(everyone())
    return run


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def describe(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"p50 {percentile(values, 50) * 1000:7.0f} ms · p95 {percentile(values, 95) * 1000:7.0f} ms · "
        f"max {max(values) * 1000:7.0f} ms · mean {statistics.fmean(values) * 1000:6.0f} ms (n={len(values)})"
    )


def serve_refdesk(db_url: str, slack: SlackProcess, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-crowd",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "CS_CHANNEL_ID": CS_CHANNEL,
        "CS_LEAD_USER_IDS": "U0CS1",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_APP_TOKEN", None)
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def serve_bare(port: int, slack: SlackProcess) -> subprocess.Popen:
    command = [sys.executable, "-m", "bench.crowd", "--bare-server", str(port), "--slack-url", slack.base_url]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def bare_server(port: int, slack_url: str) -> None:
    """A minimal Bolt app behind uvicorn that only acks: the floor refdesk is compared with. Its listeners run on
    the request's own thread (process_before_response), so no listener pool and no ack polling: the least a
    Bolt app can spend on a request (HTTP, signature, parsing, middleware, listener matching)."""
    import uvicorn
    from slack_bolt import App
    from slack_bolt.adapter.asgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token="xoxb-bare", base_url=slack_url),
        token_verification_enabled=False,
        process_before_response=True,
    )

    def ack_only(ack: Any) -> None:
        ack()

    app.command("/reference")(ack_only)
    app.view("request_form")(ack_only)
    app.action(Action.APPROVE)(ack_only)
    uvicorn.run(SlackRequestHandler(app), host="127.0.0.1", port=port, log_level="warning")


def report(name: str, run: Run, *, shortlists: bool) -> None:
    acks = run.all_acks()
    over = sum(1 for a in acks if a > ACK_LIMIT)
    print(f"{name}")
    for kind, values in run.acks.items():
        print(f"  ack {kind:8s} {describe(values)}")
    print(f"  ack all      {describe(acks)}")
    print(f"  acks over {ACK_LIMIT:.0f} s: {over} of {len(acks)}")
    if shortlists:
        print(f"  /reference → form opened:   {describe(run.form)} (Slack's trigger_id lasts 3 s)")
        print(f"  Approve → shortlist posted: {describe(run.shortlist)}; missing: {run.missing}")
    if run.errors:
        print(f"  errors ({len(run.errors)}): {run.errors[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="refdesk serve --workers")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--fake-slack", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server, args.slack_url)
        return
    if args.fake_slack:
        fake_slack_server()
        return
    slack = SlackProcess()
    try:
        with database(args.database_url) as (db_url, db):
            seed(db)
            port = free_port()
            server = serve_refdesk(db_url, slack, port, args.workers)
            try:
                wait_healthy(port, server)
                backend = "PostgreSQL" if args.database_url else "SQLite"
                print(
                    f"refdesk serve --workers {args.workers} on {backend}, {args.people} people at once; {load()}"
                )
                refdesk = crowd(Signer(port, SIGNING_SECRET), slack, args.people, bare=False)
            finally:
                server.terminate()
                server.wait(timeout=30)
        bare_port = free_port()
        bare = serve_bare(bare_port, slack)
        try:
            wait_healthy(bare_port, bare, path="/slack/events")
            bare_run = crowd(Signer(bare_port, SIGNING_SECRET), slack, args.people, bare=True)
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    finally:
        slack.stop()
    report("refdesk", refdesk, shortlists=True)
    report(
        "bare Bolt app (acks only, listeners on the request thread, same uvicorn)", bare_run, shortlists=False
    )
    ours, floor = percentile(refdesk.all_acks(), 95), percentile(bare_run.all_acks(), 95)
    print(f"ack p95 ratio refdesk / bare Bolt: {ours / floor:.1f}×")
    met = (
        max(refdesk.all_acks(), default=99) < ACK_LIMIT
        and ours < TARGET_P95
        and refdesk.missing == 0
        and len(refdesk.shortlist) == args.people
    )
    print(f"targets (every ack < 3 s, p95 < 1 s, every shortlist): {'met' if met else 'NOT met'}; {load()}")


if __name__ == "__main__":
    main()
