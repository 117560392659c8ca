"""Request bodies as Slack sends them: see bot.demo.simulator.payloads."""

from bot.demo.simulator.payloads import (  # noqa: F401 - re-exported for the tests
    FIXTURES,
    FORM_ANSWERS,
    app_home_opened,
    block_action,
    fixture,
    slash_command,
    state_values,
    view_submission,
)
