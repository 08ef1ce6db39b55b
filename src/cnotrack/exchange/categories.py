"""The texts of a column's own categories, in code order, read natively.

A column that the native CSV reader or ``column_typing`` makes a ``Categorical`` with
categories of its own (``pl.Categories.random()``) has one code per distinct text. Polars'
``Categories.to_series`` builds that list in Python, one category at a time, which at a
registry's 100,000 patient identifiers costs seconds. Here the codes ``0..n-1`` themselves are
turned into their categorical (``cat.to``) and cast to text: one lookup per category, never a
pass over the column's cells with strings. Which codes a cell of the column holds is one NumPy
pass over the codes (a flag per code), far cheaper than taking the distinct cells and
scattering their texts.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["category_texts", "code_texts"]


def code_texts(column: pl.Series) -> pl.Series:
    """The text of every code of ``column``'s categories (a ``Categorical`` whose categories
    are its own), indexed by code, whether a cell holds it or not (a code reserved but never
    given a text is null). Enough where each code's flag is mapped back onto the cells (a
    code no cell holds then flags no cell)."""
    size = column.dtype.categories._categories.num_cats_upper_bound()
    return _texts(column, size)


def category_texts(column: pl.Series) -> pl.Series:
    """The texts of ``column``'s categories (a ``Categorical`` whose categories are its own),
    indexed by code: ``category_texts(c)[code]`` is the text of ``code``. A code no cell of
    the column holds (a category left by a filter) is null there."""
    codes = column.to_physical().drop_nulls().to_numpy()
    size = column.dtype.categories._categories.num_cats_upper_bound()
    size = max(size, int(codes.max()) + 1 if codes.size else 0)
    texts = _texts(column, size)
    held = np.zeros(size, dtype=bool)
    held[codes] = True
    unheld = np.flatnonzero(~held)
    return texts.scatter(unheld, None) if unheld.size else texts


def _texts(column: pl.Series, size: int) -> pl.Series:
    codes = pl.Series(column.name, np.arange(size, dtype=np.uint32))
    return codes.to_frame().select(
        pl.col(column.name).cat.to(column.dtype, strict=False).cast(pl.String)).to_series()
