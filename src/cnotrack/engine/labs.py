"""Laboratory values in their canonical units, each with the upper reference limit it is judged by.

A value is converted to the test's canonical unit (CRP: mg/dL x 10 = mg/L). Its upper limit is
the row's own ``ref_high`` (converted the same way) when given, else the protocol's default,
else cnotrack's configured default (ESR 20 mm/h, CRP 5 mg/L). Converted numbers are rounded
to 9 decimals, so that 0.57 mg/dL is exactly 5.7 mg/L and not 5.699999999999999, which would
wrongly count as lower than a baseline of 5.7 mg/L, else the protocol's default
for the test; ``limit_source`` says which. With neither, the limit is missing and so is any
judgement of the value: nothing falls back silently.
"""

from __future__ import annotations

import polars as pl

from ..exchange.rules import lab_unit_table
from ..protocols.model import Protocol
from ..vocabulary import lab_tests

__all__ = ["canonical_labs", "elevated_expr", "protocol_limits"]


def protocol_limits(protocol: Protocol) -> pl.DataFrame:
    """The default upper limit of each test, in its canonical unit: the protocol's own, else
    cnotrack's configured default (``vocabularies/labs.yaml``: ESR 20 mm/h, CRP 5 mg/L)."""
    rows = []
    for test in lab_tests().tests:
        limit = protocol.reference_limits.get(test.code)
        if limit is not None:
            rows.append((test.code, round(limit.upper * test.units[limit.unit], 9), "protocol default"))
        elif test.default_ref_high is not None:
            rows.append((test.code, float(test.default_ref_high), "cnotrack default"))
    return pl.DataFrame(rows, schema={"test": pl.String, "default_limit": pl.Float64,
                                      "default_source": pl.String}, orient="row")


def canonical_labs(labs: pl.DataFrame | pl.LazyFrame, protocol: Protocol,
                   keep: tuple[str, ...] = ()) -> pl.DataFrame | pl.LazyFrame:
    """``patient_id, date, test, value, censor, unit, limit, limit_source`` in canonical units,
    then the ``keep`` columns of ``labs`` (such as the timepoint a value was chosen for, so that
    only the chosen values need converting); lazy for a lazy ``labs``."""
    lazy = isinstance(labs, pl.LazyFrame)
    factors = lab_unit_table().select(
        "test", pl.col("unit_canonical_spelling").alias("unit"), "factor", "canonical_unit"
    ).unique(["test", "unit"])
    limits = protocol_limits(protocol)
    converted = (
        labs.lazy().join(factors.lazy(), on=["test", "unit"], how="left")
        .join(limits.lazy(), on="test", how="left")
        .select(
            "patient_id", "date", "test",
            (pl.col("value") * pl.col("factor")).round(9).alias("value"),
            "censor",
            pl.col("canonical_unit").alias("unit"),
            pl.coalesce((pl.col("ref_high") * pl.col("factor")).round(9), pl.col("default_limit")).alias("limit"),
            pl.when(pl.col("ref_high").is_not_null()).then(pl.lit("laboratory"))
            .otherwise(pl.col("default_source")).alias("limit_source"),
            *keep,
        )
    )
    return converted if lazy else converted.collect()


def elevated_expr(value: str, censor: str, limit: str) -> pl.Expr:
    """True when the value is above its upper limit; a censored ``<x`` or ``>x`` is compared as x,
    except that ``>x`` is elevated when x equals the limit (the true value is above x)."""
    return (
        pl.when(pl.col(value).is_null() | pl.col(limit).is_null()).then(None)
        .when(pl.col(censor) == ">").then(pl.col(value) >= pl.col(limit))
        .otherwise(pl.col(value) > pl.col(limit))
    )
