"""Spreadsheets in and out (pool, history, CRM); imports rules, store, flows, reporting."""
