"""CSV cells that a spreadsheet cannot take for a formula, and back (OWASP's CSV injection rule).

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a
carriage return before one of them) as a formula: a CSV export of hostile text (a center named
``=HYPERLINK(...)``) would attack whoever opens it. So every CSV cell cnotrack writes goes through
``spreadsheet_safe``, which puts a single quote before such a cell, as a spreadsheet user types
``'=1+2`` to mean the text ``=1+2``; ``spreadsheet_text`` takes it away again on reading.

The rule is unambiguous, so that reading gives back exactly what was written:

- a cell that starts with a trigger (``= + - @``, tab, carriage return) gets a ``'`` in front,
  unless it is a plain decimal number (``-5``, ``+0.5``, ``-1e-05``): a spreadsheet reads a
  number as that number, never as a formula, and a number column stays a number column;
- a cell that starts with ``'`` followed by a trigger or by another ``'`` also gets a ``'`` in
  front (so that a text that really starts with ``'=`` survives);
- on reading, one leading ``'`` is removed exactly when it is followed by a trigger or a ``'``.
  Any other cell, including one that starts with ``'`` followed by something else (``'t was``),
  is left as it is.

Workbooks need none of this: cnotrack writes every workbook cell as a text cell, which Excel
never evaluates, and reads text cells exactly as they are.
"""

from __future__ import annotations

import re

import polars as pl

from .cells import NUMBER_PATTERN

__all__ = [
    "FORMULA_TRIGGERS", "spreadsheet_safe", "spreadsheet_safe_expr", "spreadsheet_text", "spreadsheet_text_expr",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(NUMBER_PATTERN)  # a number as the exchange format reads one
_TRIGGER_CLASS = "[=+\\-@\t\r']"
_ESCAPED = re.compile("'" + _TRIGGER_CLASS, re.DOTALL)


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula (see the module's rule)."""
    if not text:
        return text
    first = text[0]
    if first in FORMULA_TRIGGERS:
        if first in "+-" and _PLAIN_NUMBER.fullmatch(text):
            return text
        return "'" + text
    if first == "'" and _ESCAPED.match(text):
        return "'" + text
    return text


def spreadsheet_safe_expr(column: pl.Expr) -> pl.Expr:
    """``spreadsheet_safe`` for a string column, vectorised: a leading ``'`` before a cell that
    starts with a formula trigger (unless it is a plain number) or with ``'`` and a trigger."""
    risky = ((column.str.contains("^[=+\\-@\t\r]") & ~column.str.contains(NUMBER_PATTERN))
             | column.str.contains("^'" + _TRIGGER_CLASS))
    return pl.when(~risky).then(column).otherwise(pl.lit("'") + column)   # named after ``column``


def spreadsheet_text(cell: str) -> str:
    """The text a CSV cell written by ``spreadsheet_safe`` stands for (its inverse)."""
    if _ESCAPED.match(cell):
        return cell[1:]
    return cell


def spreadsheet_text_expr(column: pl.Expr) -> pl.Expr:
    """``spreadsheet_text`` for a string column, vectorised."""
    return column.str.replace("^'(" + _TRIGGER_CLASS + ")", "$1")
