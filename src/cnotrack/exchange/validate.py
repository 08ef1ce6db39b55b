"""Validate a dataset against the exchange format, collecting every problem in one pass.

``validate_dataset`` turns a ``RawDataset`` (text cells) into a typed ``Dataset`` or raises
``DatasetError`` carrying every problem found: unknown and missing columns, cells that do
not parse, values outside their vocabulary or range, duplicate keys, references to rows
that do not exist, and the rules that tie columns together (see ``rules``).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ..errors import DatasetError, Problem
from .cells import parse_column
from .dataset import EXTRA, ROW, Dataset
from .reader import RawDataset, RawTable, ReadLimits, column_letter, read_dataset
from .rules import canonical_lab_units, cross_field_problems
from .schema import TableSpec, exchange_format
from .spreadsheet import spreadsheet_text, spreadsheet_text_expr

__all__ = ["check_dataset", "load_dataset", "validate_dataset"]

_OK = "__cells_ok"
# characters that XML (hence .xlsx) and PostgreSQL text cannot hold; tab and line breaks are fine
_UNSTORABLE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"


def load_dataset(path: str | Path, *, keep_extra: bool = False, limits: ReadLimits | None = None,
                 label: str | None = None) -> Dataset:
    """Read and validate a dataset (CSV folder or .xlsx workbook); raise ``DatasetError``.

    ``limits`` and ``label`` are those of ``read_dataset``: the bounds of the work, and the
    dataset's name in problems and in ``Dataset.source`` (by default the folder's or
    workbook's name, never its full path)."""
    return validate_dataset(read_dataset(path, limits=limits, label=label), keep_extra=keep_extra)


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
    problems: list[Problem] = list(raw.problems)
    fmt = exchange_format()
    typed: dict[str, pl.DataFrame] = {}
    labels: dict[str, str] = {}
    present: dict[str, frozenset[str]] = {}
    for spec in fmt.tables:
        table = raw.tables.pop(spec.name, None)  # released once typed, to keep the peak memory low
        if table is None:
            if spec.required:
                problems.append(Problem(f"{spec.name}.csv", None, None, None,
                                        f"the required table {spec.name} is missing; add {spec.name}.csv "
                                        f"(or a sheet named {spec.name}) with the columns "
                                        f"{', '.join(c.name for c in spec.columns if c.required)}"))
            continue
        labels[spec.name] = table.source
        found: set[str] = set()
        frame = _type_table(table, spec, keep_extra, problems, found=found)
        present[spec.name] = frozenset(found | ({"censor"} if spec.name == "labs" and "value" in found else set()))
        if frame is not None:
            typed[spec.name] = frame
    # rows whose cells all parsed are checked further, so that every problem shows in one run
    typed_ok = {name: bool(frame[_OK].all()) for name, frame in typed.items()}
    clean = {name: (frame if typed_ok[name] else frame.filter(pl.col(_OK))).drop(_OK)
             for name, frame in typed.items()}
    typed = {name: frame.drop(_OK) for name, frame in typed.items()}
    problems.extend(_key_problems(clean, labels))
    problems.extend(_reference_problems(clean, typed, labels))
    problems.extend(cross_field_problems(clean, labels))
    if problems:
        raise DatasetError(problems, source=raw.source)
    if "labs" in typed:
        typed["labs"] = canonical_lab_units(typed["labs"])
    return Dataset(typed, source=raw.source, sha256=dict(raw.sha256), columns_present=present)


def _type_table(table: RawTable, spec: TableSpec, keep_extra: bool,
                problems: list[Problem], *, found: set[str] | None = None) -> pl.DataFrame | None:
    """The typed table (with ``_OK``) or None when a required column is missing; ``found``
    receives the format's columns that the table has."""
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

    raw = table.frame.select(
        pl.col(ROW), *[pl.col(frame_name).alias(inner[name]) for name, frame_name in columns.items()]
    ).with_columns(
        # trimmed, line breaks written \n (as a spreadsheet keeps them), empty = missing
        [pl.col(inner[name]).str.strip_chars().str.replace_all("\r\n?", "\n").replace("", None)
         for name in columns]
    )
    flags = raw.select([pl.col(inner[name]).str.contains(_UNSTORABLE).any() for name in columns]
                       + [pl.col(inner[name]).str.starts_with("'").any().alias(f"__quoted {i}")
                          for i, name in enumerate(columns)]).row(0)
    quoted = [inner[name] for name, flag in zip(columns, flags[len(columns):]) if flag]
    if table.escaped and quoted:  # CSV: the spreadsheet escape undone ('=1+2 is the text =1+2)
        raw = raw.with_columns([spreadsheet_text_expr(pl.col(c)) for c in quoted])
    for name in [name for name, flag in zip(columns, flags) if flag]:
        bad = raw.filter(pl.col(inner[name]).str.contains(_UNSTORABLE))
        for row, value in bad.select(ROW, inner[name]).iter_rows():
            problems.append(Problem(label, row, name, value,
                                    "contains a control character that spreadsheets and databases "
                                    "cannot store; remove it"))
    outputs: list[pl.Expr] = [pl.col(ROW)]
    checks: list[tuple[str, pl.Expr]] = []
    for col in spec.columns:
        if col.name not in columns:
            outputs.append(pl.lit(None).alias(col.name))
            continue
        value, message = parse_column(pl.col(col.name), col)
        if col.type == "lab_value":
            outputs.append(value.struct.field("value").alias(col.name))
            outputs.append(value.struct.field("censor").alias("censor"))
        else:
            outputs.append(value.alias(col.name))
        if col.required:
            message = pl.when(pl.col(col.name).is_null()).then(
                pl.lit("a value is required here")).otherwise(message)
        checks.append((col.name, message))
    # typed values and messages in one lazy pass (so that the parts they share are computed
    # once), then the problems
    msg = {name: f"__msg_{name}" for name, _ in checks}
    typed = raw.lazy().select(*outputs, *[m.alias(msg[name]) for name, m in checks]).collect()
    typed = typed.with_columns(pl.all_horizontal(pl.lit(True), *[pl.col(c).is_null() for c in msg.values()])
                               .alias(_OK))
    if checks:
        messages = typed.filter(~pl.col(_OK)).select(ROW, *msg.values())
        if messages.height:
            messages = messages.join(raw.select(ROW, *[pl.col(name).alias(f"__raw_{name}") for name in msg]),
                                     on=ROW, how="left", maintain_order="left")
        for name, _ in checks if messages.height else []:
            bad = messages.filter(pl.col(msg[name]).is_not_null())
            for row, text, value in bad.select(ROW, msg[name], f"__raw_{name}").iter_rows():
                problems.append(Problem(label, row, name, value, text))
    typed = typed.drop(list(msg.values()))
    typed = _cast_missing_columns(typed, spec)
    if extra:
        typed = typed.with_columns(_extra_json(raw, {inner[name]: name for name in extra}).alias(EXTRA))
    return typed


def _cast_missing_columns(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    from .dataset import polars_type

    return frame.with_columns(
        [pl.col(c.name).cast(polars_type(c)) for c in spec.columns if c.type != "lab_value"]
        + [pl.col("value").cast(pl.Float64)] * (spec.name == "labs")
        + ([pl.col("censor").cast(pl.String)] if "censor" in frame.columns else [])
    )


def _extra_json(raw: pl.DataFrame, extra: dict[str, str]) -> pl.Series:
    """Each row's non-empty extra cells as a JSON object; ``extra`` maps the frame's names to
    the columns' names."""
    values = []
    for row in raw.select(list(extra)).iter_rows(named=True):
        kept = {extra[k]: v for k, v in row.items() if v is not None}
        values.append(json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else None)
    return pl.Series(EXTRA, values, dtype=pl.String)


def _key_problems(typed: dict[str, pl.DataFrame], labels: dict[str, str]) -> list[Problem]:
    problems = []
    for name, frame in typed.items():
        key = list(exchange_format().table(name).key)
        if frame.height == frame.select(key).n_unique():
            continue  # no duplicate key: the common case, found with one hash pass
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
                        labels: dict[str, str]) -> list[Problem]:
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
            bad = frame.filter(pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(known.implode()))
            for row, value in bad.select(ROW, col.name).iter_rows():
                problems.append(Problem(labels[spec.name], row, col.name, value,
                                        f"no such {col.name} in {col.references}; add it there or correct "
                                        "the identifier (identifiers are case-sensitive)"))
    return problems


def _show(value: object) -> str:
    return "" if value is None else str(value)
