"""The request's life as units of work, its outbox rows and records; imports rules, store, exchange, reporting."""
