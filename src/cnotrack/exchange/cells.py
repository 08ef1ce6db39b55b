"""Typing the cells of one column, vectorised: text in, typed values and problems out.

Each parser takes the raw string column and returns the typed column together with a
message column that is non-null exactly where a non-empty cell could not be read.
"""

from __future__ import annotations

import polars as pl

from ..vocabulary import anatomy, drugs, lab_tests, normalise_key
from .schema import ColumnSpec

__all__ = ["FALSE_WORDS", "ID_MAX_LENGTH", "NUMBER_PATTERN", "TRUE_WORDS", "parse_column"]

TRUE_WORDS = ("yes", "y", "true", "1")
FALSE_WORDS = ("no", "n", "false", "0")
ID_MAX_LENGTH = 200  # store/schema.py: identifiers are String(200)

# ASCII digits only: Polars' ``\d`` is Unicode-aware and would let full-width or Arabic-Indic
# digits (``１０``, ``١٥``) through to a cast that cannot read them
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INTEGER = r"^[+-]?[0-9]+(\.0*)?$"
_DATE = r"^(0[0-9][0-9][1-9]|0[0-9][1-9][0-9]|0[1-9][0-9][0-9]|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"   # year 0 is no year
_MONTH = r"^(0[0-9][0-9][1-9]|0[0-9][1-9][0-9]|0[1-9][0-9][0-9]|[1-9][0-9]{3})-[0-9]{2}$"
_INTEGER_MAX = 2**31 - 1  # the SQL INTEGER of the store


def _key(col: pl.Expr) -> pl.Expr:
    """The vocabulary comparison form (see ``vocabulary.normalise_key``), vectorised."""
    return (
        col.str.strip_chars().str.to_lowercase().str.replace_all("_", " ")
        .str.replace_all(r"\s+", " ")
    )


def _lookup(col: pl.Expr, table: dict[str, str]) -> pl.Expr:
    return _key(col).replace_strict(table, default=None, return_dtype=pl.String)


def parse_column(raw: pl.Expr, spec: ColumnSpec) -> tuple[pl.Expr, pl.Expr]:
    """Typed expression and message expression (null = no problem) for one column."""
    present = raw.is_not_null()
    if spec.type == "id":
        # the database keeps identifiers in String(ID_MAX_LENGTH): a longer one is an error, never cut
        message = pl.when(raw.str.len_chars() > ID_MAX_LENGTH).then(
            pl.lit(f"longer than {ID_MAX_LENGTH} characters; use a shorter identifier"))
        return raw, message
    if spec.type == "text":
        return raw, pl.lit(None, pl.String)
    if spec.type == "number" or spec.type == "integer":
        pattern = NUMBER_PATTERN if spec.type == "number" else _INTEGER
        ok = raw.str.contains(pattern)
        if spec.type == "number":
            value = pl.when(ok).then(raw.cast(pl.Float64, strict=False))
            too_large = value.is_infinite()
            too_small = _underflows(raw, value)
        else:  # read the digits as an integer (not through a float), within the database's INTEGER
            value = pl.when(ok).then(raw.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False))
            too_large = value.is_null() | (value.abs() > _INTEGER_MAX)
            too_small = pl.lit(False)
        what = "a number, e.g. 2.5 (with a dot)" if spec.type == "number" else "a whole number"
        message = pl.when(present & ~ok).then(pl.lit(f"not {what}")).when(
            present & too_large).then(pl.lit("too large a number")).when(
            present & too_small).then(pl.lit(_TOO_SMALL))
        return value, _range_message(value, message, spec)
    if spec.type == "lab_value":
        censor = raw.str.extract(r"^\s*([<>])", 1)
        number_text = raw.str.replace(r"^\s*[<>]=?\s*", "")
        ok = number_text.str.contains(NUMBER_PATTERN)
        value = pl.when(ok).then(number_text.cast(pl.Float64, strict=False))
        message = pl.when(present & ~ok).then(
            pl.lit("not a number or a censored value such as <0.5")).when(
            present & value.is_infinite()).then(pl.lit("too large a number")).when(
            present & _underflows(number_text, value)).then(pl.lit(_TOO_SMALL))
        return pl.struct(value.alias("value"), censor.alias("censor")), _range_message(value, message, spec)
    if spec.type == "date":
        value = pl.when(raw.str.contains(_DATE)).then(raw.str.to_date("%Y-%m-%d", strict=False))
        message = pl.when(present & value.is_null()).then(
            pl.lit("not a date in the form YYYY-MM-DD (e.g. 2014-03-27)"))
        return value, message
    if spec.type == "partial_date":
        full = raw.str.contains(_DATE) & raw.str.to_date("%Y-%m-%d", strict=False).is_not_null()
        month = raw.str.contains(_MONTH) & (raw + "-15").str.to_date("%Y-%m-%d", strict=False).is_not_null()
        message = pl.when(present & ~(full | month)).then(
            pl.lit("not a date in the form YYYY-MM-DD or YYYY-MM"))
        return raw, message
    if spec.type == "boolean":
        word = raw.str.strip_chars().str.to_lowercase()
        value = (
            pl.when(word.is_in(TRUE_WORDS)).then(True)
            .when(word.is_in(FALSE_WORDS)).then(False)
        )
        message = pl.when(present & value.is_null()).then(
            pl.lit("not a yes/no value; use yes/no, y/n, true/false or 1/0"))
        return value, message
    if spec.type == "choice":
        table = {normalise_key(c): c for c in spec.choices}
        table.update({normalise_key(a): c for a, c in spec.aliases.items()})
        value = _lookup(raw, table)
        message = pl.when(present & value.is_null()).then(
            pl.lit(f"not one of {', '.join(spec.choices)}"))
        return value, message
    if spec.type == "drug":
        value = _lookup(raw, drugs().lookup())
        message = pl.when(present & value.is_null()).then(
            pl.lit("not a drug of the vocabulary; use a generic name such as anakinra, naproxen, "
                   "pamidronate (see docs/vocabularies.md)"))
        return value, message
    if spec.type == "lab_test":
        value = _lookup(raw, lab_tests().lookup())
        codes = ", ".join(t.code for t in lab_tests().tests)
        message = pl.when(present & value.is_null()).then(pl.lit(f"not a lab test; use one of {codes}"))
        return value, message
    if spec.type == "bone":
        value = _lookup(raw, anatomy().lookup())
        message = pl.when(present & value.is_null()).then(
            pl.lit("not a bone of the site vocabulary; use a name such as femur, tibia, clavicle, "
                   "T7, metatarsal_1 (see docs/vocabularies.md)"))
        return value, message
    if spec.type == "lab_unit":
        # checked against the row's test in rules.py; here only the spelling is normalised
        return raw.str.strip_chars(), pl.lit(None, pl.String)
    raise AssertionError(f"unhandled column type {spec.type}")


_TOO_SMALL = "too small a number: a 64-bit number would hold it as 0; write 0 or a larger number"


def _underflows(text: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A number written with a non-zero digit that a 64-bit float holds as 0 (``1e-400``)."""
    return (value == 0) & text.str.contains(r"^[^eE]*[1-9]")


def _range_message(value: pl.Expr, message: pl.Expr, spec: ColumnSpec) -> pl.Expr:
    if spec.min is not None:
        message = message.when(value < spec.min).then(pl.lit(f"below the minimum {spec.min:g}"))
    if spec.max is not None:
        message = message.when(value > spec.max).then(pl.lit(f"above the maximum {spec.max:g}"))
    return message
