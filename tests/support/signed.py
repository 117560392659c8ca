"""Signed requests, as Slack sends them: see bot.simulator.signed."""

from bot.simulator.signed import Reply, SlackSender  # noqa: F401 - re-exported for the tests
