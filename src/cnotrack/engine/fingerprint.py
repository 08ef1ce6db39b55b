"""The content fingerprint of a dataset: the same data gives the same SHA-256, wherever it was read.

A dataset read from a CSV folder, from a workbook, from SQLite or from PostgreSQL, or exported and
imported again, has the same fingerprint when it holds the same values. What is hashed, in order:

1. every table of the exchange format, in the format's order: its name, then its column names
   (the format's columns in order, ``censor`` after ``value`` for labs, then ``_extra``);
   what the format added after version 1 (``since: "1.1"`` in ``format.yaml``) counts only
   where it holds a value: a table only when it has rows, a column only when some row of its
   table has a value. So a dataset that uses nothing of version 1.1 has the fingerprint it had
   under version 1 (a test pins the demo's), and one that does differs from it;
2. its rows, sorted by the table's key (rows with the same key by all their cells), one line
   each, every cell in double quotes (a quote inside doubled; CSV's rule), the cells as
   canonical values: text as it is (an empty text is missing, and so empty), a date as its
   day number since 1970-01-01, a boolean as ``1`` or ``0``, an integer in decimal, a number by
   the bits of its IEEE 754 double (``-0`` as ``0``) read as a signed 64-bit integer, the
   extra attributes kept at import as their JSON object (keys sorted; ``{}`` as none).

The text is written and hashed a batch of rows at a time, so that it is never held whole.
Where a row came from (a file's ``_row``, a database's ids and versions) is not content and is
not hashed. The values are made by Polars expressions, written by Polars' CSV writer (integers
and quoted text only, whose form is fixed) and hashed with ``hashlib``: no loop over rows, and no
hashing function of Polars, whose output may change between versions.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import polars as pl

from ..exchange.dataset import EXTRA, Dataset, empty_table
from ..exchange.schema import exchange_format

__all__ = ["dataset_fingerprint"]

_BATCH_ROWS = 250_000  # rows written and hashed at a time (the lines of CSV do not depend on it)


def _canonical(series: pl.Series) -> pl.Series:
    """One column as canonical values (integers or text; see the module)."""
    dtype = series.dtype
    if dtype == pl.Float64 or dtype == pl.Float32:
        values = series.cast(pl.Float64)
        values = pl.select(pl.when(values == 0).then(pl.lit(0.0)).otherwise(values)).to_series()
        bits = pl.Series(series.name, values.fill_null(0.0).to_numpy().view(np.int64))
        return pl.select(pl.when(values.is_null()).then(None).otherwise(bits)).to_series().alias(series.name)
    if dtype == pl.Boolean:
        return series.cast(pl.UInt8)
    if dtype == pl.Date:
        return series.cast(pl.Int32)
    if dtype == pl.String or dtype.is_integer():
        return series
    return series.cast(pl.String)


def _missing(name: str, height: int, dtype: pl.DataType) -> pl.Series:
    return pl.repeat(None, height, dtype=dtype, eager=True).alias(name)


def _table_values(frame: pl.DataFrame, name: str) -> tuple[list[str], pl.DataFrame]:
    """The column names hashed and the table as canonical values, rows in canonical order."""
    template = empty_table(name)
    later = exchange_format().table(name).later_columns
    columns: dict[str, pl.Series] = {}
    for column, dtype in template.schema.items():
        series = frame[column] if column in frame.columns else _missing(column, frame.height, dtype)
        if column in later and series.null_count() == series.len():
            continue  # a column added after version 1 that holds no value is not content
        columns[column] = _canonical(series.cast(dtype))
    extra = frame[EXTRA] if EXTRA in frame.columns else _missing(EXTRA, frame.height, pl.String)
    columns[EXTRA] = pl.select(pl.when(extra.str.strip_chars() == "{}").then(None).otherwise(extra)).to_series()
    values = pl.DataFrame(list(columns.values()))
    key = list(exchange_format().table(name).key)
    in_order, same_key = _order(values, key)
    if not in_order:  # a file or a database in key order (an export, cnotrack synth) needs no sort
        values = values.sort(key, nulls_last=False)
    if same_key:  # not in a valid dataset; then the whole row decides the order
        values = values.sort(values.columns, nulls_last=False)
    return list(columns), values


def _order(values: pl.DataFrame, key: list[str]) -> tuple[bool, bool]:
    """Whether the rows are already in the order of ``key`` (missing first, as the sort puts
    them), and whether two rows share a key; both by comparing each row with the one before."""
    if values.height < 2:
        return True, False
    after, same = pl.lit(False), pl.lit(True)
    for k in key:
        here, before = pl.col(k), pl.col(k).shift(1)
        greater = (here > before).fill_null(False) | (before.is_null() & here.is_not_null())
        after, same = after | (same & greater), same & here.eq_missing(before)
    in_order, same_key = values.select(
        (after | same).slice(1).all().alias("in_order"), same.slice(1).any().alias("same_key")).row(0)
    return bool(in_order), bool(same_key)


def dataset_fingerprint(dataset: Dataset) -> str:
    """The SHA-256 (hex) of the dataset's content, computed as the module describes: the same
    for the same data read from files or from any database, whatever the row order."""
    digest = hashlib.sha256()
    for spec in exchange_format().tables:
        name = spec.name
        frame = dataset.tables.get(name)
        if frame is None:
            frame = empty_table(name)
        if spec.since is not None and frame.height == 0:
            continue  # a table added after version 1 with no rows is not content
        header, values = _table_values(frame, name)
        digest.update(f"table {name} rows {values.height} columns {','.join(header)}\n".encode())
        for batch in values.iter_slices(_BATCH_ROWS):  # the text in parts, never all of it at once
            buffer = io.BytesIO()
            batch.write_csv(buffer, include_header=False, quote_style="always", line_terminator="\n",
                            separator=",")
            digest.update(buffer.getbuffer())
    return digest.hexdigest()
