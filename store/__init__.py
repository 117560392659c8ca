"""The database: models, sessions, queries."""
