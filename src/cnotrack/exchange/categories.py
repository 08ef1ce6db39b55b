"""The texts of a column's own categories, in code order, read natively.

A column that the native CSV reader or ``column_typing`` makes a ``Categorical`` with
categories of its own (``pl.Categories.random()``) has one code per distinct text. Polars'
``Categories.to_series`` builds that list in Python, one category at a time, which at a
registry's 100,000 patient identifiers costs seconds. Here the codes ``0..n-1`` themselves are
turned into their categorical (``cat.to``) and cast to text: one lookup per category, never a
pass over the column's cells with strings. A code that no cell holds any more (a cell made
empty, a row dropped) keeps its text: a flag computed per code reaches the cells through their
codes, so it flags no cell.

The categories' size is read with ``Categories._categories.num_cats_upper_bound()``, a private
attribute of Polars (2.1): ``tests/test_exchange_native_proof.py`` checks the texts against the
distinct cells, so a Polars upgrade that changes it fails there, not silently.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["code_texts"]


def code_texts(column: pl.Series) -> pl.Series:
    """The text of every code of ``column``'s categories (a ``Categorical`` whose categories
    are its own), indexed by code, whether a cell holds it or not (a code reserved but never
    given a text is null). Enough where each code's flag is mapped back onto the cells (a
    code no cell holds then flags no cell)."""
    size = column.dtype.categories._categories.num_cats_upper_bound()
    return _texts(column, size)


def _texts(column: pl.Series, size: int) -> pl.Series:
    codes = pl.Series(column.name, np.arange(size, dtype=np.uint32))
    return codes.to_frame().select(
        pl.col(column.name).cat.to(column.dtype, strict=False).cast(pl.String)).to_series()
