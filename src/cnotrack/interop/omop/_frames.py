"""Polars helpers of the OMOP builders: numbers as text, stable event ids, concept columns.

The builders work on whole tables (Polars expressions and joins), never row by row: a registry
of 100,000 patients exports in seconds. Numbers written as text (``value_source_value``,
``sig``) are spelled as Python spells them (``repr``: the shortest text that reads back as the
same float, ``1e-05`` rather than Polars' ``0.00001``), so the export is the same whichever
way it was built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

__all__ = ["column", "concept_columns", "float_text", "nonempty", "number_text", "numbered"]

_INT64_LIMIT = 2.0 ** 63


def column(frame: pl.DataFrame, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    """``frame[name]``, or a null column when the table lacks it (a dataset of an older format)."""
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)


def nonempty(expr: pl.Expr) -> pl.Expr:
    """``expr`` with the empty string as null (Python's ``value or None`` on text)."""
    return pl.when(expr == "").then(None).otherwise(expr)


def _small_float_text(text: pl.Expr) -> pl.Expr:
    """Python's spelling of Polars' text of a float below 1e-4: ``0.000015`` -> ``1.5e-05``,
    ``1.5e-7`` -> ``1.5e-07``."""
    decimal = text.str.extract_groups(r"^(-?)0\.(0*)([0-9])([0-9]*)$")
    sign, zeros, first, rest = (decimal.struct.field(str(i)) for i in range(1, 5))
    fraction = pl.when(rest != "").then(pl.lit(".") + rest).otherwise(pl.lit(""))
    exponent = (zeros.str.len_chars() + 1).cast(pl.String).str.zfill(2)
    return (pl.when(text.str.contains("e", literal=True)).then(text.str.replace(r"e-([0-9])$", "e-0$1"))
            .otherwise(pl.concat_str([sign, first, fraction, pl.lit("e-"), exponent])))


def _float_text(series: pl.Series) -> pl.Series:
    text = series.cast(pl.String)
    small = (series.abs() < 1e-4) & (series != 0)
    if small.any():  # rare: respelled on those values only
        fixed = pl.DataFrame({"text": text.filter(small)}).select(_small_float_text(pl.col("text"))).to_series()
        text = text.scatter(small.arg_true(), fixed)
    nan = series.is_nan()
    return text.scatter(nan.arg_true(), "nan") if nan.any() else text


def float_text(expr: pl.Expr) -> pl.Expr:
    """``repr(float(value))``: Polars writes the same shortest digits, but magnitudes below 1e-4
    as ``0.00001`` or ``1.5e-7`` where Python writes ``1e-05`` and ``1.5e-07``, and NaN as ``NaN``."""
    return expr.cast(pl.Float64).map_batches(_float_text, return_dtype=pl.String)


def _integer_text(series: pl.Series) -> pl.Series:
    """``str(int(value))`` of integral floats beyond Int64 (e.g. 1e300), by distinct value: the
    rare values Polars cannot write as integers."""
    big = series.filter(series.is_finite() & (series.abs() >= _INT64_LIMIT) & (series == series.floor()))
    mapping = {value: str(int(value)) for value in big.unique().to_list()}
    if not mapping:
        return pl.Series(series.name, [None] * series.len(), dtype=pl.String)
    return series.replace_strict(mapping, default=None, return_dtype=pl.String)


def number_text(expr: pl.Expr) -> pl.Expr:
    """A number as cnotrack writes it in a source value: ``3`` for 3.0, else ``repr`` (``0.5``)."""
    value = expr.cast(pl.Float64)
    integral = value.is_finite() & (value == value.floor())
    return (pl.when(integral & (value.abs() < _INT64_LIMIT)).then(value.cast(pl.Int64, strict=False).cast(pl.String))
            .when(integral).then(value.map_batches(_integer_text, return_dtype=pl.String))
            .otherwise(float_text(value)))


def _sort_text(dtype: pl.DataType, name: str) -> pl.Expr:
    expr = pl.col(name)
    if dtype == pl.Float64 or dtype == pl.Float32:
        expr = float_text(expr)
    return expr.cast(pl.String).fill_null("")


def numbered(frame: pl.DataFrame, id_column: str, key: Sequence[pl.Expr]) -> pl.DataFrame:
    """``frame`` sorted by ``key`` (nulls first; ties by the text of every other column in name
    order, so that the order of the dataset's rows never matters) with ``id_column`` = 1, 2, ...

    The texts are computed only for the rows that tie on ``key`` (the others never need them)."""
    rest = sorted(c for c in frame.columns if c != id_column and not c.startswith("_"))
    keys = [k.alias(f"__key{i}") for i, k in enumerate(key)]
    key_names = [k.meta.output_name() for k in keys]
    rest_names = [f"__rest{i}" for i in range(len(rest))]
    keyed = frame.with_columns(*keys)
    tied = keyed.select(pl.struct(key_names).is_duplicated()).to_series() if keyed.height else None
    if tied is not None and tied.any():
        texts = [_sort_text(frame.schema[c], c).alias(n) for c, n in zip(rest, rest_names, strict=True)]
        keyed = pl.concat([keyed.filter(~tied).with_columns(pl.lit("").alias(n) for n in rest_names),
                           keyed.filter(tied).with_columns(texts)])
        order = key_names + rest_names
    else:
        order = key_names
    ordered = keyed.sort(order, nulls_last=False, maintain_order=True).drop(key_names + rest_names, strict=False)
    return ordered.with_columns(pl.int_range(1, ordered.height + 1, dtype=pl.Int64).alias(id_column))


def concept_columns(frame: pl.DataFrame, source: str, names: Sequence[str],
                    concepts_of: Callable[[Any], Sequence[int | None]]) -> pl.DataFrame:
    """``frame`` with the columns ``names`` = ``concepts_of(value of source)``, asked once per
    distinct value (concepts, not rows), so each id the export uses is recorded once."""
    values = frame[source].unique().drop_nulls().to_list()
    table: dict[str, list[Any]] = {source: values, **{n: [] for n in names}}
    for value in values:
        for name, concept in zip(names, concepts_of(value), strict=True):
            table[name].append(concept)
    mapping = pl.DataFrame(table, schema={source: frame.schema[source], **{n: pl.Int64 for n in names}})
    out = frame.join(mapping, on=source, how="left", maintain_order="left")
    if frame[source].null_count():
        defaults = concepts_of(None)
        out = out.with_columns(pl.when(pl.col(source).is_null()).then(pl.lit(d, dtype=pl.Int64))
                               .otherwise(pl.col(n)).alias(n) for n, d in zip(names, defaults, strict=True))
    return out
