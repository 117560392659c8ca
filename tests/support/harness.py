"""Drives refdesk like Slack: a rep, CS members and a lead acting through signed HTTP requests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.clock import FrozenClock
from bot.delivery.courier import Courier
from bot.delivery.dispatcher import PassResult
from modals.ids import Action, Block, Callback
from store.db import Database
from tests.conftest import CS_CHANNEL, REP, ErrorLog, TrackingExecutor
from tests.support import payloads
from tests.support.fake_slack import FakeSlack
from tests.support.signed import Reply, SlackSender

VALID_ANSWERS: dict[str, Any] = {**payloads.FORM_ANSWERS, Block.REP: REP}


@dataclass
class Harness:
    slack: FakeSlack
    db: Database
    clock: FrozenClock
    sender: SlackSender
    executor: TrackingExecutor
    errors: ErrorLog
    courier: Courier | None = None
    expect_errors: bool = False
    _views: itertools.count = field(default_factory=lambda: itertools.count(1))

    def settle(self) -> None:
        """Every listener finished, and every outbox effect they wrote was tried by the courier."""
        self.executor.wait_idle()
        if self.courier is not None:
            self.courier.wait_idle()

    def dispatch(self, at: datetime) -> PassResult:
        """One dispatcher pass as if at `at`, against the same fake Slack (and the courier's work it wakes)."""
        from bot.delivery.scheduler import make_dispatcher
        from tests.conftest import make_settings

        self.clock.set(at)
        result = make_dispatcher(settings=make_settings(self.slack), db=self.db, clock=self.clock).run_pass()
        self.settle()
        return result

    # --- slash commands --------------------------------------------------------------------------
    def command(self, text: str = "", *, user: str = REP, **kwargs: Any) -> Reply:
        form = payloads.slash_command(
            text=text, user_id=user, response_url=self.slack.response_url(f"cmd-{user}")
        )
        reply = self.sender.command(form, **kwargs)
        self.settle()
        return reply

    def open_form(self, text: str = "", *, user: str = REP) -> dict[str, Any]:
        before = len(self.slack.of("views.open"))
        reply = self.command(text, user=user)
        assert reply.status == 200, reply
        opened = self.slack.of("views.open")
        assert len(opened) == before + 1, "the form did not open"
        return opened[-1]["view"]

    # --- modals ----------------------------------------------------------------------------------
    def submit_view(
        self, view: dict[str, Any], answers: dict[str, Any], *, user: str, view_id: str | None = None
    ) -> Reply:
        body = payloads.view_submission(
            view=view,
            values=payloads.state_values(view, answers),
            user_id=user,
            view_id=view_id or f"V{next(self._views):07d}",
        )
        reply = self.sender.interactive(body)
        self.settle()
        return reply

    def submit_request(self, *, user: str = REP, view_id: str | None = None, **changes: Any) -> Reply:
        view = self.open_form(user=user)
        answers = {**VALID_ANSWERS, Block.REP: user, **{Block(k): v for k, v in changes.items()}}
        return self.submit_view(view, answers, user=user, view_id=view_id)

    def file_request(self, **changes: Any) -> int:
        """Submit a valid request and return its number, from the approval card."""
        reply = self.submit_request(**changes)
        assert reply.status == 200 and not reply.body, reply
        card = self.cards()[-1]
        return int(card["blocks"][-1]["elements"][0]["value"])

    def cards(self) -> list[dict[str, Any]]:
        """Approval cards: the CS channel's top-level messages."""
        return [m for m in self.slack.messages_to(CS_CHANNEL) if not m.get("thread_ts")]

    def thread_replies(self) -> list[dict[str, Any]]:
        return [m for m in self.slack.messages_to(CS_CHANNEL) if m.get("thread_ts")]

    # --- buttons ---------------------------------------------------------------------------------
    def click(
        self,
        action: Action,
        value: Any,
        *,
        user: str,
        channel: str = CS_CHANNEL,
        ephemeral: bool = False,
        container_type: str = "message",
        message_ts: str = "1700000000.000001",
    ) -> Reply:
        body = payloads.block_action(
            action_id=action,
            value=str(value),
            user_id=user,
            channel_id=channel,
            ephemeral=ephemeral,
            response_url=self.slack.response_url(f"act-{user}"),
            container_type=container_type,
            message_ts=message_ts,
        )
        reply = self.sender.interactive(body)
        self.settle()
        return reply

    def decline(self, request_id: int, *, user: str, reason: str = "too_early", note: str = "") -> Reply:
        self.click(Action.DECLINE, request_id, user=user)
        view = self.slack.of("views.open")[-1]["view"]
        assert view["callback_id"] == Callback.DECLINE_FORM
        return self.submit_view(view, {Block.DECLINE_REASON: reason, Block.DECLINE_NOTE: note}, user=user)

    def ephemerals_to(self, user: str) -> list[str]:
        texts = [p["text"] for p in self.slack.of("chat.postEphemeral") if p.get("user") == user]
        texts += [
            p.get("text", "")
            for p in self.slack.of("response_url")
            if p.get("response_type") == "ephemeral" and p["_path"].endswith(f"-{user}")
        ]
        return texts

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        return self.slack.messages_to(user)
