"""Type the columns of one table through their distinct values.

A registry's columns repeat themselves: 1.4 million lab rows hold 8 tests, 4 units and a few
thousand distinct values. So each column is a categorical of its own (the native CSV reader's
are; another is cast, one hash pass), and the texts of its codes alone are cleaned (trimmed,
line breaks written ``\n``, empty = missing, a CSV cell's spreadsheet quote removed: one
regex pass first finds the common case, texts already clean), checked for characters no
store can hold, and parsed by ``cells.parse_column``. A typed column is then its codes and a
value per code (``TypedColumn``); the rows take their values in one gather per output column,
all of a table's in one ``select`` (Polars runs them in parallel), and a String column whose
cells are already clean text is kept as it is, without a copy. Problems are built only for
the rows that have one (a code that is bad, or an empty cell where a value is required).

While the codes exist, ``table_facts`` finds what the dataset's checks need of the table
(its key unique, its distinct (test, unit) pairs and lesion sites, its distinct identifiers),
on small integers instead of texts; the checks look at the rows only where a fact shows a
problem. Everything is Polars and NumPy operations, no Python loop over rows or cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ..errors import Problem
from .categories import code_texts
from .cells import parse_column
from .dataset import ROW
from .schema import ColumnSpec, TableSpec
from .spreadsheet import spreadsheet_text_expr

__all__ = [
    "CELLS_OK", "TableFacts", "TypedColumn", "all_distinct", "combined_ids", "distinct_values", "table_facts",
    "type_column", "value_ids",
]

# characters that XML (hence .xlsx) and PostgreSQL text cannot hold; tab and line breaks are fine
UNSTORABLE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
CELLS_OK = "__cells_ok"  # the typed table's flag of a row whose cells all parsed
# the types that read two different clean texts as two different values (or as a problem)
_ONE_TO_ONE = frozenset({"id", "text", "date", "partial_date"})
_RAW, _CLEAN, _BAD, _MESSAGE = "__raw", "__clean", "__unstorable", "__message"
_REQUIRED = "a value is required here"
# a text that cleaning could change or that could be unstorable: a control character (a line
# break too), leading or trailing whitespace (as ``strip_chars`` strips it), a leading quote
# (the spreadsheet escape) or nothing at all; a column with none is already clean
_NOT_CLEAN = r"[\x00-\x1F\x{FFFE}\x{FFFF}]|^[\s']|\s$|^$"


@dataclass
class TypedColumn:
    """A column typed, as codes and a value per code: ``values`` holds each output column's
    typed value per code (the value; for a lab value also its censor), ``codes`` each row's
    code (null for an empty cell, whose values are null), ``text`` the column itself when its
    typed value is its text, and ``failed`` which rows have a message (``None``: no row has one).

    The rows' values are gathered only when asked for (``exprs`` in the one ``select`` of the
    table, which Polars runs in parallel across the columns; ``outputs`` eagerly)."""

    values: dict[str, pl.Series]
    codes: pl.Series
    text: pl.Series | None
    failed: pl.Series | None
    #: two codes never have the same value (the texts were clean, and the type reads two
    #: texts as two values): the codes themselves tell the values apart
    distinct_codes: bool = False

    def exprs(self) -> dict[str, pl.Expr]:
        """Each output column as an expression for a ``select`` (any frame as long as the table)."""
        if self.text is not None:
            return {key: pl.lit(self.text).alias(key) for key in self.values}
        codes = pl.lit(self.codes)
        return {key: pl.lit(value).gather(codes).alias(key) for key, value in self.values.items()}

    @property
    def outputs(self) -> dict[str, pl.Series]:
        """Each output column, as long as the table."""
        if self.text is not None:
            return {key: self.text.alias(key) for key in self.values}
        return {key: value.gather(self.codes).alias(key) for key, value in self.values.items()}


def type_column(frame: pl.DataFrame, source: str, name: str, spec: ColumnSpec | None, *,
                escaped: bool, label: str, problems: list[Problem],
                texts: pl.Series | None = None) -> TypedColumn:
    """Type the text column ``source`` of ``frame`` (with ``_row``) as the format's column
    ``name`` (``spec``; ``None`` for an extra column, which is only cleaned); its problems,
    each naming the row, the column and the cleaned text, go to ``problems``. ``texts``: the
    text of each code of the column when it is a categorical and the reader has them
    (``RawTable.texts``)."""
    column = original = frame.get_column(source)
    # the column's distinct texts (its categories, each with a code); an empty cell has no code
    if not isinstance(column.dtype, pl.Categorical):  # the native CSV reader's are already
        column = column.cast(pl.Categorical(pl.Categories.random()))
        texts = None
    # a column's categories are its own (a fresh ``Categories``); they live as long as ``column``.
    # Every code's text, held by a cell or not: a flag is found through the rows that hold its
    # code, so a code no cell holds flags nothing (one chunk: a gather from several costs more)
    base = (code_texts(column) if texts is None else texts).rechunk().alias(_RAW).to_frame()
    codes = column.to_physical()
    # trimmed, line breaks written \n (as a spreadsheet keeps them), empty = missing
    clean = pl.col(_RAW).str.strip_chars().str.replace_all("\r\n?", "\n").replace("", None)
    cleaned = bool(base.get_column(_RAW).str.contains(_NOT_CLEAN).any())
    # one query for the distinct texts (each Polars call costs about a millisecond, whatever its size)
    small_query = base.lazy()
    if cleaned:
        small_query = small_query.with_columns(clean.alias(_CLEAN)).with_columns(
            pl.col(_CLEAN).str.contains(UNSTORABLE).alias(_BAD))
        if escaped:  # CSV: the spreadsheet escape undone ('=1+2 is the text =1+2)
            small_query = small_query.with_columns(spreadsheet_text_expr(pl.col(_CLEAN)).alias(_CLEAN))
    else:  # the common case, found by one pass: every text is its clean text, none unstorable
        small_query = small_query.with_columns(pl.col(_RAW).alias(_CLEAN), pl.lit(False).alias(_BAD))
    values: dict[str, pl.Expr] = {}
    message: pl.Expr = pl.lit(None, pl.String)
    required = spec is not None and spec.required
    if spec is None:
        values[name] = pl.col(_CLEAN)
    else:
        value, message = parse_column(pl.col(_CLEAN), spec)
        if spec.type == "lab_value":
            values[name] = value.struct.field("value")
            values["censor"] = value.struct.field("censor")
        else:
            values[name] = value
        if required:
            message = pl.when(pl.col(_CLEAN).is_null()).then(pl.lit(_REQUIRED)).otherwise(message)
    small = small_query.with_columns(*[v.alias(f"__value {k}") for k, v in values.items()],
                                     message.alias(_MESSAGE)).collect()
    any_unstorable, any_message = small.select(pl.col(_BAD).any(), pl.col(_MESSAGE).is_not_null().any()).row(0)
    # an empty cell (no code) parses as nothing: null values, and a message only when required
    empty_fails = required and codes.null_count() > 0

    def rows_of(which: pl.Series, *, empty: bool) -> pl.DataFrame:
        """The rows (``_row`` and the cell's columns of ``small``) whose text is ``which``, and
        (``empty``) the empty cells, in row order."""
        hit = which.gather(codes)
        hit = hit.fill_null(empty) if hit.null_count() else hit
        rows = frame.get_column(ROW).filter(hit)
        cells = small.select(_CLEAN, _MESSAGE)[codes.filter(hit)]   # a null code: a null row
        if empty:
            cells = cells.with_columns(pl.col(_MESSAGE).fill_null(pl.lit(_REQUIRED)))
        return cells.with_columns(rows)

    if any_unstorable:
        unstorable = small.get_column(_BAD).fill_null(False)
        for row, text in rows_of(unstorable, empty=False).select(ROW, _CLEAN).iter_rows():
            problems.append(Problem(label, row, name, text,
                                    "contains a control character that spreadsheets and databases "
                                    "cannot store; remove it"))
    failed = None
    if empty_fails or any_message:
        bad = small.get_column(_MESSAGE).is_not_null()
        for row, text, why in rows_of(bad, empty=empty_fails).select(ROW, _CLEAN, _MESSAGE).iter_rows():
            problems.append(Problem(label, row, name, text, why))
        failed = bad.gather(codes)
        failed = failed.fill_null(empty_fails) if failed.null_count() else failed
        if not failed.any():
            failed = None
    kept = {key: small.get_column(f"__value {key}").alias(key).rechunk() for key in values}
    # a String column whose cells are already their clean text is kept as it is, without a copy
    same_text = (original.dtype == pl.String and len(values) == 1
                 and small.schema[f"__value {name}"] == pl.String
                 and small.select(pl.col(_RAW).eq_missing(pl.col(f"__value {name}")).all()).item())
    return TypedColumn(kept, codes, original if same_text else None, failed,
                       distinct_codes=not cleaned and spec is not None and spec.type in _ONE_TO_ONE)


def value_ids(column: TypedColumn, key: str) -> tuple[np.ndarray, int]:
    """Each row's output ``key`` as a small integer, equal exactly where the values are equal
    (an empty cell and a null value share one), and one more than the largest: a key or a pair of
    columns compared on these integers is compared on its typed values, without the texts."""
    if column.distinct_codes and column.values[key].null_count() == 0:
        # the codes are the ids (an empty cell one past the last): no sort of the values
        size = column.values[key].len() + 1
        return column.codes.fill_null(size - 1).to_numpy(), size
    ranks = column.values[key].rank("dense")   # equal values, equal ranks (from 1); null stays null
    size = int(ranks.max() or 0) + 1
    # the code one past the last (an empty cell) takes the id 0, as a null value does
    by_code = np.append(ranks.fill_null(0).to_numpy(), 0).astype(np.uint32)
    return by_code.take(column.codes.fill_null(ranks.len()).to_numpy()), size


def combined_ids(columns: list[tuple[TypedColumn, str]]) -> np.ndarray | None:
    """Each row's values of ``columns`` (each a typed column and its output) as one integer,
    equal exactly where all the values are equal; ``None`` when they do not fit in 63 bits."""
    total: np.ndarray | None = None
    bound = 1
    for column, key in columns:
        ids, size = value_ids(column, key)
        bound *= size
        if bound >= 2**63:
            return None
        if total is None:
            total = ids.astype(np.uint64)
        else:
            total *= np.uint64(size)
            total += ids
    return total


def all_distinct(ids: np.ndarray) -> bool:
    """Whether no two of ``ids`` are equal (sorted, then each compared with the next: NumPy's
    sort of a few million integers costs a fraction of hashing them)."""
    ordered = np.sort(ids)
    return not bool((ordered[1:] == ordered[:-1]).any())


def distinct_values(columns: dict[str, tuple[TypedColumn, str]]) -> pl.DataFrame:
    """The distinct rows of the columns' values, as ``frame.select(columns).unique()`` gives
    them (in no particular order), found through the codes: a registry's million lab rows
    hold a few dozen (test, unit) pairs, and the texts are never hashed row by row. The
    rows' codes are packed into one integer (an empty cell: one past the column's last code)
    when they fit in 63 bits."""
    sizes = [column.values[key].len() + 1 for column, key in columns.values()]
    if math.prod(sizes) >= 2**63:
        codes = pl.DataFrame({name: column.codes for name, (column, _) in columns.items()}).unique()
    else:
        total = math.prod(sizes)
        packed = np.zeros(len(next(iter(columns.values()))[0].codes), dtype=np.uint32 if total < 2**32 else np.uint64)
        for (column, _), size in zip(columns.values(), sizes):
            packed *= packed.dtype.type(size)
            packed += column.codes.fill_null(size - 1).to_numpy().astype(packed.dtype, copy=False)
        # a few thousand combinations are counted in place; more are found by hashing
        found = (np.flatnonzero(np.bincount(packed, minlength=total)) if total <= 1 << 20
                 else pl.Series(packed).unique().to_numpy())
        parts = {}
        for name, size in reversed(list(zip(columns, sizes))):
            code = found % size
            parts[name] = pl.Series(name, code, dtype=pl.UInt32).scatter(np.flatnonzero(code == size - 1), None)
            found = found // size
        codes = pl.DataFrame(dict(reversed(parts.items())))
    return codes.select(pl.lit(column.values[key]).gather(pl.col(name)).alias(name)
                        for name, (column, key) in columns.items()).unique()


@dataclass
class TableFacts:
    """What the dataset's checks need of one table whose cells all parsed, found on its codes
    while they exist (before the text is let go): whether its key is unique, the distinct
    values of some columns together (``distinct[("test", "unit")]``: the distinct pairs; a
    reference column alone: its distinct identifiers), and whether a lesion_id names one
    lesion per study. The checks then look at the rows only where these show a problem."""

    unique_key: bool = False
    distinct: dict[tuple[str, ...], pl.Series | pl.DataFrame] = field(default_factory=dict)
    unique_lesion_ids: bool = False


def table_facts(spec: TableSpec, frame: pl.DataFrame, coded: dict[str, TypedColumn]) -> TableFacts:
    """The facts of the typed table ``frame`` (``spec``; with ``_row`` and its cells-parsed flag)
    from its typed columns ``coded`` (those the table has, by the format's name)."""
    facts = TableFacts()
    if frame.height and not frame.get_column(CELLS_OK).all():
        return facts  # the checks look at the rows that parsed, not at these codes
    # a key column the table lacks is empty on every row: it cannot tell two rows apart
    key = [(coded[name], name) for name in spec.key if name in coded]
    ids = combined_ids(key) if key else np.zeros(frame.height, dtype=np.uint64)
    facts.unique_key = ids is not None and all_distinct(ids)
    for column in spec.columns:
        if column.references is not None and column.name in coded:
            facts.distinct[(column.name,)] = coded[column.name].values[column.name]
    if spec.name == "labs":
        facts.distinct[("test", "unit")] = distinct_values({name: (coded[name], name) for name in ("test", "unit")})
    if spec.name == "lesions":
        sites = ("bone", "side", "segment")
        found = distinct_values({name: (coded[name], name) for name in sites if name in coded})
        facts.distinct[sites] = found.with_columns(pl.lit(None, pl.String).alias(name) for name in sites
                                                   if name not in found.columns).select(sites)
        if "lesion_id" in coded:
            lesion = coded["lesion_id"]
            given = lesion.values["lesion_id"].is_not_null().gather(lesion.codes).fill_null(False).to_numpy()
            pair = combined_ids([(coded["study_id"], "study_id"), (lesion, "lesion_id")])
            facts.unique_lesion_ids = pair is not None and all_distinct(pair[given])
        else:
            facts.unique_lesion_ids = True
    return facts
