"""Type the columns of one table through their distinct values.

A registry's columns repeat themselves: 1.4 million lab rows hold 8 tests, 4 units and a few
thousand distinct values. So each column is first cast to a categorical of its own (one hash
pass: every row gets the code of its text), and the distinct texts alone are cleaned
(trimmed, line breaks written ``\n``, empty = missing, a CSV cell's spreadsheet quote
removed), checked for characters no store can hold, and parsed by ``cells.parse_column``;
each row then takes the typed value of its code (a gather), and a column whose cells are
already clean text is kept as it is, without a copy. Everything is Polars expressions and
gathers, no Python loop over rows or cells; problems are built only for the rows that have
one.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..errors import Problem
from .cells import parse_column
from .dataset import ROW
from .schema import ColumnSpec
from .spreadsheet import spreadsheet_text_expr

__all__ = ["TypedColumn", "type_column"]

# characters that XML (hence .xlsx) and PostgreSQL text cannot hold; tab and line breaks are fine
UNSTORABLE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_RAW, _CLEAN, _BAD, _MESSAGE = "__raw", "__clean", "__unstorable", "__message"


@dataclass
class TypedColumn:
    """A column typed: its output columns (the value; for a lab value also its censor), each
    as long as the table, and which rows have a message (``None``: no row has one)."""

    outputs: dict[str, pl.Series]
    failed: pl.Series | None


def type_column(frame: pl.DataFrame, source: str, name: str, spec: ColumnSpec | None, *,
                escaped: bool, label: str, problems: list[Problem]) -> TypedColumn:
    """Type the text column ``source`` of ``frame`` (with ``_row``) as the format's column
    ``name`` (``spec``; ``None`` for an extra column, which is only cleaned); its problems,
    each naming the row, the column and the cleaned text, go to ``problems``."""
    column = original = frame.get_column(source)
    # the column's distinct texts (its categories, each with a code), the empty cell last
    if not isinstance(column.dtype, pl.Categorical):  # the native CSV reader's are already
        column = column.cast(pl.Categorical(pl.Categories.random()))
    # a column's categories are its own (a fresh ``Categories``); they live as long as ``column``
    distinct = column.dtype.categories.to_series()
    codes = column.to_physical()
    codes = codes.fill_null(distinct.len())
    base = pl.concat([distinct, pl.Series([None], dtype=pl.String)]).alias(_RAW).to_frame()
    # trimmed, line breaks written \n (as a spreadsheet keeps them), empty = missing
    clean = pl.col(_RAW).str.strip_chars().str.replace_all("\r\n?", "\n").replace("", None)
    small = base.with_columns(clean.alias(_CLEAN)).with_columns(pl.col(_CLEAN).str.contains(UNSTORABLE).alias(_BAD))
    if escaped:  # CSV: the spreadsheet escape undone ('=1+2 is the text =1+2)
        small = small.with_columns(spreadsheet_text_expr(pl.col(_CLEAN)).alias(_CLEAN))
    values: dict[str, pl.Expr] = {}
    message: pl.Expr = pl.lit(None, pl.String)
    if spec is None:
        values[name] = pl.col(_CLEAN)
    else:
        value, message = parse_column(pl.col(_CLEAN), spec)
        if spec.type == "lab_value":
            values[name] = value.struct.field("value")
            values["censor"] = value.struct.field("censor")
        else:
            values[name] = value
        if spec.required:
            message = pl.when(pl.col(_CLEAN).is_null()).then(pl.lit("a value is required here")).otherwise(message)
    small = small.with_columns(*[v.alias(f"__value {k}") for k, v in values.items()], message.alias(_MESSAGE))

    def rows_of(which: pl.Series) -> pl.DataFrame:
        """The rows (``_row`` and the cell's columns of ``small``) whose text is ``which``."""
        hit = frame.select(ROW).with_columns(codes.alias("__code")).filter(which.gather(codes))
        return small.select(_CLEAN, _MESSAGE)[hit.get_column("__code")].with_columns(hit.get_column(ROW))

    unstorable = small.get_column(_BAD).fill_null(False)
    if unstorable.any():
        for row, text in rows_of(unstorable).select(ROW, _CLEAN).iter_rows():
            problems.append(Problem(label, row, name, text,
                                    "contains a control character that spreadsheets and databases "
                                    "cannot store; remove it"))
    bad = small.get_column(_MESSAGE).is_not_null()
    failed = None
    if bad.any():
        for row, text, why in rows_of(bad).select(ROW, _CLEAN, _MESSAGE).iter_rows():
            problems.append(Problem(label, row, name, text, why))
        failed = bad.gather(codes)
    outputs = {key: _onto_rows(original, codes, small, f"__value {key}") for key in values}
    return TypedColumn(outputs, failed)


def _onto_rows(text: pl.Series, codes: pl.Series, small: pl.DataFrame, value: str) -> pl.Series:
    """The values of ``small`` (one per distinct text of the column ``text``) as a column as
    long as ``text``: each row takes the value of its text's code."""
    if (text.dtype == pl.String and small.schema[value] == pl.String
            and small.select(pl.col(_RAW).eq_missing(pl.col(value)).all()).item()):
        return text  # already the clean text: no copy
    return small.get_column(value).gather(codes)
