"""Cells that are safe to open in a spreadsheet: CSV formula injection neutralised, and undone on import.

OWASP's rule: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel and its kin, so an export writes it with a leading `'` (shown as text, not evaluated). A cell that already
starts with quotes before one of those characters gets one more, so importing an export strips exactly one
and every value comes back as it was.
"""

from __future__ import annotations

import re

_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(cell: object) -> object:
    """`cell` as an export writes it: text that a spreadsheet would evaluate gets a leading `'`."""
    if isinstance(cell, str) and _FORMULA.match(cell):
        return "'" + cell
    return cell


def unneutralise(cell: str) -> str:
    """A cell as an import reads it: the `'` an export added is removed (and only that one)."""
    if cell.startswith("'") and _FORMULA.match(cell[1:]) is not None:
        return cell[1:]
    return cell
