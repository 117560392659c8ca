"""What every listener needs, built once by the app factory and handed over in Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import BoltContext

from bot.clock import Clock
from bot.cs_team import CsTeam
from bot.delivery.courier import Courier
from bot.rules.matching import Policy
from bot.rules.qualification import Rules
from bot.settings import Settings
from store.db import Database

CONTEXT_KEY = "refdesk"


@dataclass(frozen=True)
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    cs_team: CsTeam
    rules: Rules
    policy: Policy
    courier: Courier | None = None  # delivers the outbox effects listeners write (bot/delivery/courier.py)


def deps_of(context: BoltContext) -> Deps:
    return context[CONTEXT_KEY]
