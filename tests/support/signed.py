"""Signed requests, as Slack sends them: see bot.demo.simulator.signed."""

from bot.demo.simulator.signed import Reply, SlackSender  # noqa: F401 - re-exported for the tests
