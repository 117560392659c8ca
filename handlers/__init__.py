"""Slack listeners: thin functions that parse a payload, call the domain, render and respond."""

from slack_bolt import App

from handlers import (
    actions,
    advocate_side,
    advocates,
    commands,
    errors,
    events,
    feedback,
    followup,
    guard,
    outreach,
    peer,
    shortlist,
    views,
    written,
)


def register_listeners(app: App) -> None:
    guard.register(app)  # first: no listener reads a payload the guard could not
    commands.register(app)
    actions.register(app)
    shortlist.register(app)
    advocates.register(app)
    outreach.register(app)
    feedback.register(app)
    followup.register(app)
    advocate_side.register(app)
    written.register(app)
    peer.register(app)
    views.register(app)
    events.register(app)
    errors.register(app)
