"""The content fingerprint of a dataset: the same data gives the same SHA-256, wherever it was read.

A dataset read from a CSV folder, from a workbook, from SQLite or from PostgreSQL, or exported and
imported again, has the same fingerprint when it holds the same values. What is hashed, in order:

1. every table of the exchange format, in the format's order: its name, then its column names
   (the format's columns in order, ``censor`` after ``value`` for labs, then ``_extra``);
2. its rows, sorted by the table's key (rows with the same key by all their cells), one line
   each, every cell in double quotes (a quote inside doubled; CSV's rule), the cells as
   canonical values: text as it is (an empty text is missing, and so empty), a date as its
   day number since 1970-01-01, a boolean as ``1`` or ``0``, an integer in decimal, a number by
   the bits of its IEEE 754 double (``-0`` as ``0``) read as a signed 64-bit integer, the
   extra attributes kept at import as their JSON object (keys sorted; ``{}`` as none).

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


def _table_values(frame: pl.DataFrame, name: str) -> tuple[list[str], pl.DataFrame]:
    """The column names hashed and the table as canonical values, rows in canonical order."""
    template = empty_table(name)
    columns: dict[str, pl.Series] = {}
    for column, dtype in template.schema.items():
        series = frame[column] if column in frame.columns else pl.Series(column, [None] * frame.height, dtype=dtype)
        columns[column] = _canonical(series.cast(dtype))
    extra = frame[EXTRA] if EXTRA in frame.columns else pl.Series(EXTRA, [None] * frame.height, dtype=pl.String)
    columns[EXTRA] = pl.select(pl.when(extra.str.strip_chars() == "{}").then(None).otherwise(extra)).to_series()
    values = pl.DataFrame(list(columns.values()))
    key = list(exchange_format().table(name).key)
    values = values.sort(key, nulls_last=False)
    if values.height > 1:
        same_key = values.select(pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in key])
                                 .fill_null(False).any()).item()
        if same_key:  # not in a valid dataset; then the whole row decides the order
            values = values.sort(values.columns, nulls_last=False)
    return list(columns), values


def dataset_fingerprint(dataset: Dataset) -> str:
    """The SHA-256 (hex) of the dataset's content, computed as the module describes: the same
    for the same data read from files or from any database, whatever the row order."""
    digest = hashlib.sha256()
    for name in exchange_format().table_names:
        frame = dataset.tables.get(name)
        if frame is None:
            frame = empty_table(name)
        header, values = _table_values(frame, name)
        digest.update(f"table {name} rows {values.height} columns {','.join(header)}\n".encode())
        buffer = io.BytesIO()
        values.write_csv(buffer, include_header=False, quote_style="always", line_terminator="\n",
                         separator=",")
        digest.update(buffer.getbuffer())
    return digest.hexdigest()
