"""refdesk's program: its plumbing at the top, its rooms below: rules, flows, exchange, reporting, delivery, demo."""
