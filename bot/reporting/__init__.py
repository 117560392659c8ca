"""What is measured and shown (metrics, Home data, report, chart); imports rules, store, flows, exchange."""
