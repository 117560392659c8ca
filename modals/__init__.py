"""Block Kit builders: pure functions from data to views and blocks, no Slack calls."""
