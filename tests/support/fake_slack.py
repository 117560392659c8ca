"""The simulated Slack of bot.demo.simulator, refusing (as Slack does) any Block Kit that would not render."""

from __future__ import annotations

from typing import Any

from bot.demo.simulator.slack import Call, Failure
from bot.demo.simulator.slack import FakeSlack as SimulatedSlack

__all__ = ["Call", "Failure", "FakeSlack"]


def block_problems(method: str, params: dict[str, Any]) -> list[str]:
    from tests.support.blockkit import problems

    if method in ("views.open", "views.update", "views.push", "views.publish"):
        return problems(view=params.get("view") or {})
    if params.get("blocks") is not None:
        return problems(blocks=params["blocks"])
    return []


class FakeSlack(SimulatedSlack):
    def __init__(self) -> None:
        super().__init__(validator=block_problems)
