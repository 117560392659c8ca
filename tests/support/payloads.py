"""Request bodies as Slack sends them: see bot.simulator.payloads."""

from bot.simulator.payloads import (  # noqa: F401 - re-exported for the tests
    FIXTURES,
    app_home_opened,
    block_action,
    fixture,
    slash_command,
    state_values,
    view_submission,
)
