"""The calendar the limits count in: quarters, ISO weeks, "n days ago"."""

from __future__ import annotations

from datetime import date, timedelta


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def next_quarter_start(d: date) -> date:
    start = quarter_start(d)
    return date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def ago(days: int) -> str:
    return "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"
