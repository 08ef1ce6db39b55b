"""Validate a dataset against the exchange format, collecting every problem in one pass.

``validate_dataset`` turns a ``RawDataset`` (text cells) into a typed ``Dataset`` or raises
``DatasetError`` carrying every problem found: unknown and missing columns, cells that do
not parse, values outside their vocabulary or range, duplicate keys, references to rows
that do not exist, and the rules that tie columns together (see ``rules``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ..errors import DatasetError, Problem
from .column_typing import CELLS_OK, TableFacts, TypedColumn, table_facts, type_column
from .dataset import EXTRA, ROW, Dataset
from .reader import RawDataset, RawTable, ReadLimits, column_letter, open_dataset
from .rules import canonical_lab_units, cross_field_problems
from .schema import TableSpec, exchange_format
from .spreadsheet import spreadsheet_text

__all__ = ["check_dataset", "load_dataset", "validate_dataset"]

_OK = CELLS_OK


def load_dataset(path: str | Path, *, keep_extra: bool = False, limits: ReadLimits | None = None,
                 label: str | None = None) -> Dataset:
    """Read and validate a dataset (CSV folder or .xlsx workbook); raise ``DatasetError``.

    ``limits`` and ``label`` are those of ``read_dataset``: the bounds of the work, and the
    dataset's name in problems and in ``Dataset.source`` (by default the folder's or
    workbook's name, never its full path)."""
    raw, tables = open_dataset(path, limits=limits, label=label)
    # each table typed as soon as it is read, its text released before the next is read
    return _validate(raw, tables, keep_extra=keep_extra, streamed=True)


def check_dataset(path: str | Path, *, keep_extra: bool = False, limits: ReadLimits | None = None,
                  label: str | None = None) -> list[Problem]:
    """Every problem of the dataset at ``path`` (an empty list for a valid dataset)."""
    try:
        load_dataset(path, keep_extra=keep_extra, limits=limits, label=label)
    except DatasetError as exc:
        return exc.problems
    return []


def validate_dataset(raw: RawDataset, *, keep_extra: bool = False) -> Dataset:
    """Type every table of ``raw``; raise ``DatasetError`` with all problems if there are any.

    The text tables of ``raw`` are consumed (removed from it) as they are typed."""

    def taken() -> Iterator[RawTable]:
        for name in list(raw.tables):
            yield raw.tables.pop(name)  # released once typed, to keep the peak memory low

    return _validate(raw, taken(), keep_extra=keep_extra, streamed=False)


def _validate(raw: RawDataset, tables: Iterator[RawTable], *, keep_extra: bool, streamed: bool) -> Dataset:
    """Type ``tables`` (those of ``raw``, as they come) and check the dataset across them.

    ``streamed``: the tables come from ``open_dataset``, whose ``raw.problems`` are complete
    only at the end, and a dataset of which no table could be read raises those problems alone
    (as ``read_dataset`` does)."""
    fmt = exchange_format()
    typed: dict[str, pl.DataFrame] = {}
    labels: dict[str, str] = {}
    present: dict[str, frozenset[str]] = {}
    problems: list[Problem] = []
    facts: dict[str, TableFacts] = {}
    for table in tables:
        spec = fmt.table(table.name)
        labels[spec.name] = table.source
        found: set[str] = set()
        coded: dict[str, TypedColumn] = {}
        frame = _type_table(table, spec, keep_extra, problems, found=found, coded=coded)
        del table
        present[spec.name] = frozenset(found | ({"censor"} if spec.name == "labs" and "value" in found else set()))
        if frame is not None:
            typed[spec.name] = frame
            facts[spec.name] = table_facts(spec, frame, coded)
        del coded  # the codes go with the table's text
    if streamed and raw.problems and not labels:
        raise DatasetError(raw.problems, source=raw.source)
    problems = list(raw.problems) + problems
    for spec in fmt.tables:
        if spec.name not in labels and spec.required:
            problems.append(Problem(f"{spec.name}.csv", None, None, None,
                                    f"the required table {spec.name} is missing; add {spec.name}.csv "
                                    f"(or a sheet named {spec.name}) with the columns "
                                    f"{', '.join(c.name for c in spec.columns if c.required)}"))
    # in the format's order, whatever the order the tables were read in
    typed = {spec.name: typed[spec.name] for spec in fmt.tables if spec.name in typed}
    present = {spec.name: present[spec.name] for spec in fmt.tables if spec.name in present}
    # rows whose cells all parsed are checked further, so that every problem shows in one run
    typed_ok = {name: bool(frame[_OK].all()) for name, frame in typed.items()}
    clean = {name: (frame if typed_ok[name] else frame.filter(pl.col(_OK))).drop(_OK)
             for name, frame in typed.items()}
    typed = {name: frame.drop(_OK) for name, frame in typed.items()}
    # what was found on the codes holds for a table whose rows all parsed (``clean`` is ``typed``)
    facts = {name: facts[name] for name in typed if typed_ok[name]}
    problems.extend(_key_problems(clean, labels, facts))
    problems.extend(_reference_problems(clean, typed, labels, facts))
    problems.extend(cross_field_problems(clean, labels, facts=facts))
    if problems:
        raise DatasetError(problems, source=raw.source)
    if "labs" in typed:
        pairs = facts["labs"].distinct.get(("test", "unit")) if "labs" in facts else None
        typed["labs"] = canonical_lab_units(typed["labs"], pairs=pairs)
    return Dataset(typed, source=raw.source, sha256=dict(raw.sha256), columns_present=present)


def _type_table(table: RawTable, spec: TableSpec, keep_extra: bool,
                problems: list[Problem], *, found: set[str] | None = None,
                coded: dict[str, TypedColumn] | None = None) -> pl.DataFrame | None:
    """The typed table (with ``_OK``) or None when a required column is missing; ``found``
    receives the format's columns that the table has, ``coded`` their typed columns (codes and
    a value per code, from which the checks find the common case, no problem, cheaply)."""
    label = table.source
    known = set(spec.column_names)
    columns: dict[str, str] = {}   # canonical name -> column name in the frame
    extra: list[str] = []
    data_columns = [c for c in table.frame.columns if c != ROW]
    for index, (header, frame_name) in enumerate(zip(table.header, data_columns)):
        name = (spreadsheet_text(header.strip()) if table.escaped else header).strip().lower()
        if name == "":
            if table.frame[frame_name].drop_nulls().len() > 0:
                problems.append(Problem(label, 1, column_letter(index + 1), None,
                                        "a column without a header holds values; give it a name"))
            continue
        if name in columns or name in extra:
            problems.append(Problem(label, 1, header, None,
                                    "the column appears twice (names are compared ignoring case and spaces); "
                                    "remove one"))
            continue
        if name in known:
            columns[name] = frame_name
        elif keep_extra:
            extra.append(name)
            columns[name] = frame_name
        else:
            problems.append(Problem(label, 1, header, None,
                                    f"unknown column; the columns of {spec.name} are "
                                    f"{', '.join(spec.column_names)} (or import with --keep-extra "
                                    "to keep it as an extra attribute)"))
    missing = [c.name for c in spec.columns if c.required and c.name not in columns]
    for name in missing:
        problems.append(Problem(label, 1, name, None, "the required column is missing; add it"))
    if found is not None:
        found.update(name for name in columns if name in known)
    if missing:
        return None

    # the frame's own names for the columns: the format's, and for extra columns names that no
    # header can take (``__extra 1``), so that an extra column named ``_row`` is kept, not lost
    inner = {name: (name if name in known else f"__extra {i}") for i, name in enumerate(columns)}

    frame = table.frame
    typed_columns = {
        name: type_column(frame, frame_name, name, spec.column(name) if name in known else None,
                          escaped=table.escaped, label=label, problems=problems,
                          texts=table.texts.get(frame_name))
        for name, frame_name in columns.items()
    }
    if coded is not None:
        coded.update({name: typed_columns[name] for name in columns if name in known})
    # the whole typed table in one select: the columns' gathers run in parallel
    outputs: list[pl.Expr] = [pl.col(ROW)]
    for col in spec.columns:
        if col.name in typed_columns:
            outputs.extend(typed_columns[col.name].exprs().values())
        else:
            outputs.append(pl.lit(None).alias(col.name))
    failed = [t.failed for t in typed_columns.values() if t.failed is not None]
    ok = pl.lit(True) if not failed else ~pl.any_horizontal(failed)
    if extra:
        extra_cells = {name: typed_columns[name].outputs[name] for name in extra}
    del typed_columns
    typed = frame.select(*outputs, ok.alias(_OK))
    typed = _cast_missing_columns(typed, spec)
    if extra:
        typed = typed.with_columns(_extra_json(extra_cells))
    return typed


def _cast_missing_columns(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    from .dataset import polars_type

    return frame.with_columns(
        [pl.col(c.name).cast(polars_type(c)) for c in spec.columns if c.type != "lab_value"]
        + [pl.col("value").cast(pl.Float64)] * (spec.name == "labs")
        + ([pl.col("censor").cast(pl.String)] if "censor" in frame.columns else [])
    )


def _extra_json(extra: dict[str, pl.Series]) -> pl.Expr:
    """Each row's non-empty extra cells as a JSON object (as ``json.dumps(cells,
    ensure_ascii=False, sort_keys=True)`` writes it); ``extra`` maps the columns' names to
    their cleaned cells."""
    pieces = [pl.when(cells.is_not_null()).then(pl.lit(json.dumps(name, ensure_ascii=False) + ": ")
                                                 + json_string(pl.lit(cells)))
              for name, cells in sorted(extra.items())]
    joined = pl.concat_str(pieces, separator=", ", ignore_nulls=True)
    return pl.when(pl.any_horizontal([pl.lit(cells).is_not_null() for cells in extra.values()])).then(
        "{" + joined + "}").otherwise(pl.lit(None, pl.String)).alias(EXTRA)


_JSON_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_JSON_ESCAPES.update({chr(c): f"\\u{c:04x}" for c in range(0x20) if chr(c) not in _JSON_ESCAPES})


def json_string(text: pl.Expr) -> pl.Expr:
    """``json.dumps(text, ensure_ascii=False)`` of a string column, vectorised."""
    return '"' + text.str.replace_many(list(_JSON_ESCAPES), list(_JSON_ESCAPES.values())) + '"'


def _key_problems(typed: dict[str, pl.DataFrame], labels: dict[str, str],
                  facts: dict[str, TableFacts] | None = None) -> list[Problem]:
    problems = []
    for name, frame in typed.items():
        key = list(exchange_format().table(name).key)
        if facts and name in facts and facts[name].unique_key:
            continue  # no duplicate key, found on the codes
        if frame.height == frame.select(pl.struct(key).hash().n_unique()).item():
            continue  # no duplicate key (distinct hashes are distinct keys): the common case
        dup = (
            frame.with_columns(pl.len().over(key, ).alias("__n"),
                               pl.col(ROW).min().over(key).alias("__first"))
            .filter((pl.col("__n") > 1) & (pl.col(ROW) != pl.col("__first")))
        )
        for row in dup.iter_rows(named=True):
            shown = ", ".join(f"{k}={_show(row[k])}" for k in key)
            problems.append(Problem(labels[name], row[ROW], key[-1], _show(row[key[-1]]),
                                    f"duplicates row {row['__first']} ({shown}); "
                                    f"each {' + '.join(key)} may appear once: merge or remove one"))
    return problems


def _reference_problems(clean: dict[str, pl.DataFrame], typed: dict[str, pl.DataFrame],
                        labels: dict[str, str], facts: dict[str, TableFacts] | None = None) -> list[Problem]:
    problems = []
    for spec in exchange_format().tables:
        frame = clean.get(spec.name)
        if frame is None:
            continue
        for col in spec.columns:
            if col.references is None:
                continue
            target = typed.get(col.references)
            known = target[col.name] if target is not None else pl.Series(col.name, [], pl.String)
            distinct = facts[spec.name].distinct.get((col.name,)) if facts and spec.name in facts else None
            if distinct is not None:
                # every identifier the column holds is known (an anti join: cheaper than is_in)
                unknown = distinct.drop_nulls().to_frame(col.name).join(
                    known.to_frame(col.name), on=col.name, how="anti")
                if unknown.height == 0:
                    continue  # the common case
            bad = frame.filter(pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(known.implode()))
            for row, value in bad.select(ROW, col.name).iter_rows():
                problems.append(Problem(labels[spec.name], row, col.name, value,
                                        f"no such {col.name} in {col.references}; add it there or correct "
                                        "the identifier (identifiers are case-sensitive)"))
    return problems


def _show(value: object) -> str:
    return "" if value is None else str(value)
