"""A simulated Slack for tests and the offline demo: a Web API that records calls, and requests signed like Slack's."""
