"""Applying a mapping to a REDCap project: the records become exchange-format text tables.

``apply_mapping(project, mapping)`` makes, block by block, the rows of each cnotrack table from
the rows of a form (whole-frame Polars expressions: no loop over records rows), as the text
cells a CSV file of the exchange format would hold, so that cnotrack's own validation checks
every value exactly as it checks a CSV's. What REDCap writes differently is made plain first:
a missing-data code is no value (the cell is empty and the code kept as the reason, in
``_extra``), a datetime gives its date to a date column, ``36,5`` of a ``*_comma_decimal``
field is ``36.5``, a choice code becomes the mapping's value or the choice's label.

``MappedDataset.locate`` turns a problem of a mapped table's row and column back into REDCap's
terms: the records file, its row, ``record R, event E, instance I:``, the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from ...errors import DatasetError, Problem
from ...exchange.reader import RawDataset, RawTable, frame_columns
from ...exchange.schema import exchange_format
from .mapping import CODED_TYPES, Block, Mapping, Source, check_mapping, field_choices, repeating_events
from .project import PSEUDO_FIELDS, RECORD_ROW, RedcapProject

__all__ = ["MISSING_REASON", "MappedDataset", "apply_mapping", "dataset_source"]

#: the ``_extra`` attribute that keeps why a column's value is missing: ``redcap_missing.<column>``
#: -> the missing-data code (flat keys with text values, as every extra attribute the store merges)
MISSING_REASON = "redcap_missing"

EVENT, INSTRUMENT, INSTANCE = "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"
ROW = "_row"                 # the mapped table's row (1, 2, ...), what validation reports
_RECORDS_ROW = "__records_row"
_WHERE = "__where"
_BLOCK = "__block"
_CHOICE = "__choice"
_DATETIME = r"^(\d{4}-\d{2}-\d{2})[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"


def _cell(column: str) -> str:
    return f"__cell {column}"


def _reason(column: str) -> str:
    return f"__missing {column}"


def _resolved(name: str) -> str:
    return f"__field {name}"


@dataclass
class MappedDataset:
    """The mapped text tables (``raw``, for ``validate_dataset``), where each of their rows came
    from (``locator``: per table, by mapped row, the records row, ``record R, event E, instance
    I: `` and the block), the missing-data reasons (``missing``: per table, by mapped row, the
    ``_extra`` JSON; ``reasons``: per table, the columns that can have one), and the problems
    found while mapping (unknown codes, conflicting values)."""

    project: RedcapProject
    mapping: Mapping
    raw: RawDataset
    locator: dict[str, pl.DataFrame] = field(default_factory=dict)
    missing: dict[str, pl.Series] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)   # raw table label -> table

    def locate(self, problem: Problem) -> Problem:
        """``problem`` (of a mapped table's row and column) in REDCap's terms."""
        table = self.labels.get(problem.table)
        if table is None:
            return problem
        records = self.project.records_source
        if problem.row is None:
            return Problem(records, None, problem.column, problem.value, f"table {table}: {problem.message}")
        where = self.locator[table].row(problem.row - 1, named=True)
        block_index = where[_BLOCK]
        block = self.mapping.blocks[block_index]
        source = block.columns.get(problem.column or "")
        message = _renumbered(problem.message, self.locator[table])
        note = f" (cnotrack column {table}.{problem.column})" if problem.column else ""
        if source is not None and source.value is not None:
            path = f"blocks[{block_index}].columns.{problem.column}"
            return self.mapping.problem(path, problem.value, f"{where[_WHERE]}{message}{note}")
        column = _source_name(self.project, source) if source is not None else problem.column
        return Problem(records, where[_RECORDS_ROW], column, problem.value, f"{where[_WHERE]}{message}{note}")


def _renumbered(message: str, locator: pl.DataFrame) -> str:
    """A message naming another mapped row ("duplicates row 3") names its records row instead."""
    def records_row(match: re.Match) -> str:
        n = int(match.group(1))
        if 1 <= n <= locator.height:
            return f"{match.group(0)[:-len(match.group(1))]}{locator[_RECORDS_ROW][n - 1]} of the records"
        return match.group(0)
    return re.sub(r"\brow (\d+)", records_row, message)


def _source_name(project: RedcapProject, source: Source) -> str | None:
    if source.field is not None:
        return source.field
    if source.join is not None:
        return " + ".join(source.join)
    if source.checked is not None:
        return project.fields[source.checked.field].checkbox_column(source.checked.code)
    return None


def dataset_source(project: RedcapProject, mapping: Mapping) -> str:
    """How the dataset names where it came from (imports and provenance show it): the mapping's
    ``project``, else the project's title, and the records file."""
    name = mapping.project or project.name
    if not name or name == project.records_source:
        return f"REDCap project ({project.records_source})"
    return f'REDCap project "{name}" ({project.records_source})'


def apply_mapping(project: RedcapProject, mapping: Mapping) -> MappedDataset:
    """The exchange-format text tables ``mapping`` makes of ``project``'s records.

    Raises ``DatasetError`` when the mapping does not fit the project (an unknown field, form or
    event, a code that is not a choice); problems of the values (an unknown code in a records
    row) are kept in ``MappedDataset.problems``, to be reported with validation's."""
    problems = check_mapping(mapping, project)
    if problems:
        raise DatasetError(problems, source=mapping.label)
    missing_codes = {**project.missing_codes, **mapping.missing_codes}
    records = _with_where(project)
    fmt = exchange_format()
    frames: dict[str, list[pl.DataFrame]] = {}
    mapped = MappedDataset(project, mapping, RawDataset(dataset_source(project, mapping),
                                                        sha256=dict(project.sha256)))
    for i, block in enumerate(mapping.blocks):
        frame = _block_rows(project, block, records, missing_codes, i, mapped.problems)
        frames.setdefault(block.table, []).append(frame)
    for spec in fmt.tables:
        if spec.name not in frames:
            continue
        table = pl.concat(frames[spec.name], how="diagonal_relaxed")
        header = [c.name for c in spec.columns if _cell(c.name) in table.columns]
        names = frame_columns(len(header))
        text = table.select(*[pl.col(_cell(c)).cast(pl.String).alias(n) for c, n in zip(header, names)],
                            pl.int_range(1, table.height + 1, dtype=pl.Int64).alias(ROW))
        label = f"{project.records_source} -> {spec.name}"
        mapped.labels[label] = spec.name
        mapped.raw.tables[spec.name] = RawTable(spec.name, label, text, header)
        mapped.locator[spec.name] = table.select(_RECORDS_ROW, _WHERE, _BLOCK)
        reasons = [c for c in spec.column_names if _reason(c) in table.columns]
        if reasons:
            mapped.missing[spec.name] = table.select(_missing_json(reasons)).to_series()
            mapped.reasons[spec.name] = reasons
    return mapped


def _with_where(project: RedcapProject) -> pl.DataFrame:
    """The records with ``record R, event E, instance I: `` of each row."""
    records = project.records
    parts = [pl.lit("record ") + pl.col(project.record_id).fill_null("")]
    if EVENT in records.columns:
        parts.append(pl.lit(", event ") + pl.col(EVENT))
    if INSTANCE in records.columns:
        parts.append(pl.lit(", instance ") + pl.col(INSTANCE))
    return records.with_columns((pl.concat_str(parts, ignore_nulls=True) + pl.lit(": ")).alias(_WHERE))


def _selected(project: RedcapProject, block: Block, records: pl.DataFrame) -> pl.DataFrame:
    """The records rows that give the block's rows."""
    columns = records.columns
    instrument = pl.col(INSTRUMENT) if INSTRUMENT in columns else pl.lit(None, pl.String)
    longitudinal = EVENT in columns
    repeats = repeating_events(project, block.form)
    if repeats is None:
        keep = instrument.is_null()
    elif not longitudinal or None in repeats:
        keep = instrument == block.form
    else:
        keep = (instrument == block.form) | (instrument.is_null() & ~pl.col(EVENT).is_in(sorted(repeats)))
    if longitudinal and project.designations:
        designated = sorted(e for e, forms in project.designations.items() if block.form in forms)
        keep = keep & pl.col(EVENT).is_in(designated)
    if longitudinal and block.events is not None:
        keep = keep & pl.col(EVENT).is_in(list(block.events))
    return records.filter(keep)


def _block_rows(project: RedcapProject, block: Block, records: pl.DataFrame, missing_codes: dict[str, str],
                index: int, problems: list[Problem]) -> pl.DataFrame:
    """The block's rows: the records rows it takes, its columns as text (``__cell c``), the
    missing-data reasons (``__missing c``), the records row, where and the block."""
    fields = project.fields
    rows = _selected(project, block, records)
    spec = exchange_format().table(block.table)
    named = [n for s in block.columns.values() if s.checked is None for n in s.fields]
    when = list(block.when) if block.when is not None else [
        n for n in named if n != project.record_id and n not in PSEUDO_FIELDS]
    # the ``when`` fields first: a row they drop makes no row, and its other fields no problem
    rows = rows.with_columns(_resolve(project, block, records, rows, n, problems) for n in dict.fromkeys(when)
                             if n not in PSEUDO_FIELDS)
    if when:
        rows = rows.filter(pl.any_horizontal(
            [pl.col(_resolved(n)).is_not_null() & ~pl.col(_resolved(n)).is_in(_missing_of(project, n, missing_codes))
             for n in when]))
    rows = rows.with_columns(_resolve(project, block, records, rows, n, problems) for n in dict.fromkeys(named)
                             if n not in PSEUDO_FIELDS and n not in when)
    if block.each_checked is not None:
        checkbox = fields[block.each_checked]
        rows = pl.concat([rows.filter(pl.col(checkbox.checkbox_column(code)) == "1").with_columns(
            pl.lit(code).alias(_CHOICE)) for code in field_choices(checkbox)] or [rows.clear()], how="diagonal_relaxed")
        rows = rows.sort(RECORD_ROW, maintain_order=True)
    out: list[pl.Expr] = [pl.col(RECORD_ROW).alias(_RECORDS_ROW), pl.col(_WHERE), pl.lit(index).alias(_BLOCK)]
    for column, source in block.columns.items():
        col_spec = spec.column(column)
        path = f"blocks[{index}].columns.{column}"
        if source.value is not None:
            out.append(pl.lit(source.value, pl.String).alias(_cell(column)))
        elif source.checked is not None:
            checkbox = fields[source.checked.field]
            cell = pl.col(checkbox.checkbox_column(source.checked.code))
            # a missing-data code of a checkbox is one more column (field___unk = 1, every choice 0)
            marks = [pl.when(pl.col(c) == "1").then(pl.lit(code, pl.String))
                     for code, c in _checkbox_missing(checkbox, missing_codes, rows.columns)]
            reason = pl.coalesce(marks) if marks else pl.lit(None, pl.String)
            out.append(reason.alias(_reason(column)))
            out.append(pl.when(reason.is_not_null()).then(pl.lit(None, pl.String)).when(cell == "1")
                       .then(pl.lit("yes")).when(cell == "0").then(pl.lit("no")).otherwise(cell).alias(_cell(column)))
        elif source.join is not None:
            parts = [_plain(project, n, col_spec.type, missing_codes) for n in source.join]
            out.append(pl.concat_str(parts, separator=source.separator or "-").alias(_cell(column)))
        elif source.checked_choice:
            choices = field_choices(fields[block.each_checked])
            coded = _coded(rows, pl.col(_CHOICE), source.codes or choices, project, block.each_checked,
                           path, source.codes is not None, problems)
            out.append(coded.alias(_cell(column)))
        else:
            name = source.field
            plain = _plain(project, name, col_spec.type, missing_codes)
            if name in PSEUDO_FIELDS:
                out.append(plain.alias(_cell(column)))
                continue
            raw = pl.col(_resolved(name))
            out.append(pl.when(raw.is_in(_missing_of(project, name, missing_codes))).then(raw).alias(_reason(column)))
            kind = fields[name].field_type
            if source.codes is not None or kind in CODED_TYPES:
                table = source.codes if source.codes is not None else field_choices(fields[name])
                plain = _coded(rows, plain, table, project, name, path, source.codes is not None, problems)
            out.append(plain.alias(_cell(column)))
    return rows.select(out)


def _missing_of(project: RedcapProject, name: str, missing_codes: dict[str, str]) -> pl.Expr:
    """The missing-data codes that are no value of field ``name``: all of them but a code that
    is also one of the field's own choices (a choice ``NA, Not applicable`` is the answer
    "not applicable", which the form offers, not a missing value)."""
    spec = project.fields.get(name)
    own = set(field_choices(spec)) if spec is not None and spec.field_type in (*CODED_TYPES, "checkbox") else set()
    return pl.Series([c for c in missing_codes if c not in own], dtype=pl.String).implode()


def _checkbox_missing(checkbox, missing_codes: dict[str, str], columns: list[str]) -> list[tuple[str, str]]:
    """(code, column) of each missing-data code the records give the checkbox a column for
    (``field___unk``), except a code that is also one of its choices (the column is that choice's)."""
    own = {checkbox.checkbox_column(code) for code in field_choices(checkbox)}
    return [(code, column) for code in missing_codes
            if (column := checkbox.checkbox_column(code)) in columns and column not in own]


def _plain(project: RedcapProject, name: str, column_type: str, missing_codes: dict[str, str]) -> pl.Expr:
    """A field's value as exchange-format text: no missing-data code, a datetime's date for a
    date column, a decimal point for a ``*_comma_decimal`` field."""
    if name in PSEUDO_FIELDS:
        return pl.col(name)
    value = pl.col(_resolved(name))
    value = pl.when(value.is_in(_missing_of(project, name, missing_codes))).then(pl.lit(None, pl.String)).otherwise(value)
    if column_type in ("date", "partial_date"):
        value = value.str.replace(_DATETIME, "${1}")
    validation = project.fields[name].validation or ""
    if validation.endswith("comma_decimal"):
        value = value.str.replace(",", ".", literal=True)
    return value


def _coded(rows: pl.DataFrame, value: pl.Expr, table: dict[str, str], project: RedcapProject, name: str,
           path: str, from_mapping: bool, problems: list[Problem]) -> pl.Expr:
    """``value`` (a choice code) as the mapping's value for it, or the choice's label; every
    code that has none is a problem in REDCap's terms (the cell is then left empty)."""
    keys = list(table)
    unknown = rows.select(pl.col(RECORD_ROW), pl.col(_WHERE), value.alias("__v")).filter(
        pl.col("__v").is_not_null() & ~pl.col("__v").is_in(keys))
    if unknown.height:
        listed = ", ".join(f"{k} -> {v}" for k, v in table.items())
        if from_mapping:
            fix = (f"is not among the codes the mapping gives for {name} ({listed}); add it to the mapping's "
                   f"{path}.codes, or correct the record")
        else:
            fix = f"is not a choice of {name} ({listed}); correct the record or the data dictionary"
        for row, where, code in unknown.iter_rows():
            problems.append(Problem(project.records_source, row, name, code, f"{where}the code {fix}"))
    return value.replace_strict(keys, list(table.values()), default=None, return_dtype=pl.String)


def _resolve(project: RedcapProject, block: Block, records: pl.DataFrame, rows: pl.DataFrame, name: str,
             problems: list[Problem]) -> pl.Expr | pl.Series:
    """The value of field ``name`` for each of ``rows``: its own cell; for a field of another
    form, the cell of the same record, event and (in a repeating event) instance's row without
    a repeat instrument; where that form is not in the event (by the designations, else: no row
    of the event, of any record, has a value of the form), the record's one value (two
    different values: a problem). An empty cell of a form that is in the event stays empty."""
    field_ = project.fields[name]
    if field_.form == block.form or name == project.record_id:
        return pl.col(name).alias(_resolved(name))
    rid, columns = project.record_id, records.columns
    keys = [rid] + [EVENT] * (EVENT in columns) + ["__instance"] * (INSTANCE in columns)
    # the instance of a repeating event's row (a repeating form's row takes the event's one row)
    instance = [(pl.when(pl.col(INSTRUMENT).is_null()).then(pl.col(INSTANCE)) if INSTRUMENT in columns
                 else pl.col(INSTANCE)).alias("__instance")] if INSTANCE in columns else []
    plain = records.filter(pl.col(INSTRUMENT).is_null()) if INSTRUMENT in columns else records
    same = (plain.with_columns(instance).filter(pl.col(name).is_not_null()).group_by(keys)
            .agg(pl.col(name).first().alias("__same")))
    found = rows.with_columns(instance).select(*keys, pl.col(name)).join(
        same, on=keys, how="left", maintain_order="left", nulls_equal=True)
    value = found[name].fill_null(found["__same"])
    if EVENT not in columns:
        return value.alias(_resolved(name))
    if project.designations:
        holding = {e for e, forms in project.designations.items() if field_.form in forms}
    else:
        holding = set(records.filter(_has_form(project, field_.form, columns)).get_column(EVENT).drop_nulls())
    elsewhere = ~found[EVENT].is_in(sorted(holding))
    one = (records.filter(pl.col(name).is_not_null()).group_by(rid)
           .agg(pl.col(name).unique(maintain_order=True).alias("__values")))
    per_row = rows.select(pl.col(rid), pl.col(RECORD_ROW), pl.col(_WHERE)).with_columns(
        elsewhere.alias("__elsewhere")).join(one, on=rid, how="left", maintain_order="left")
    conflicts = per_row.filter(pl.col("__elsewhere") & (pl.col("__values").list.len() > 1))
    for row, where, values in conflicts.select(RECORD_ROW, _WHERE, "__values").iter_rows():
        problems.append(Problem(project.records_source, row, name, " / ".join(values),
                                f"{where}the form {field_.form} is not in this event, and the record has "
                                f"{len(values)} different values of {name} ({', '.join(map(repr, values))}); "
                                "keep one, or map the field in a block of its own form"))
    fallback = per_row["__values"].list.first()
    if not project.designations:
        fallback = fallback.fill_null(value)
    chosen = pl.DataFrame({"v": value, "e": per_row["__elsewhere"], "f": fallback}).select(
        pl.when(pl.col("e")).then(pl.col("f")).otherwise(pl.col("v")))
    return chosen.to_series().alias(_resolved(name))


def _has_form(project: RedcapProject, form: str, columns: list[str]) -> pl.Expr:
    """Whether a records row holds the form ``form``: a value of one of its fields (a checkbox:
    a ticked choice) or its ``<form>_complete`` status, which REDCap exports for each of the
    event's forms and leaves empty for the forms not in the event."""
    present = [pl.col(f"{form}_complete").is_not_null()] if f"{form}_complete" in columns else []
    for spec in project.fields.values():
        if spec.form != form or spec.name == project.record_id:
            continue
        if spec.field_type == "checkbox":
            present += [pl.col(c) == "1" for code in field_choices(spec) if (c := spec.checkbox_column(code)) in columns]
        elif spec.name in columns:
            present.append(pl.col(spec.name).is_not_null())
    return pl.any_horizontal(present) if present else pl.lit(False)


def _missing_json(columns: list[str]) -> pl.Expr:
    """``{"redcap_missing.<column>": "<code>", ...}`` (as ``json.dumps(..., sort_keys=True)``
    writes it) where some column's value was a missing-data code, else null."""
    def quoted(text: pl.Expr) -> pl.Expr:
        return '"' + text.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True) + '"'
    pieces = [pl.when(pl.col(_reason(c)).is_not_null())
              .then(pl.lit(f'"{MISSING_REASON}.{c}": ') + quoted(pl.col(_reason(c)))) for c in sorted(columns)]
    joined = pl.concat_str(pieces, separator=", ", ignore_nulls=True)
    return pl.when(pl.any_horizontal([pl.col(_reason(c)).is_not_null() for c in columns])).then(
        '{' + joined + "}").otherwise(pl.lit(None, pl.String)).alias("_extra")
