"""Getting messages to Slack (outbox, rendering at send time, scheduler); imports all but handlers and demo."""
