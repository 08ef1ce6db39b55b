"""A cnotrack dataset as flat REDCap records for the project of ``design`` (``cnotrack export
--redcap``): the CSV that REDCap's Data Import Tool accepts for that data dictionary.

One row per patient for the ``patients`` form (empty ``redcap_repeat_instrument`` and
``redcap_repeat_instance``), then one row per row of every other table, as an instance of its
repeating instrument; instances are numbered 1..n per record and form in the table's key order
(the order ``cnotrack export`` writes the table in). Columns as REDCap exports them: the record
id, the two repeat columns, then every form's fields in dictionary order, each form followed by
``<form>_complete`` (``1``, Unverified: the data were checked by cnotrack, not yet verified in
REDCap). Values are codes (``f``, ``zoledronic_acid``), yes/no as ``1``/``0``, dates
``YYYY-MM-DD``, numbers in their shortest exact form (``2``, ``0.5``, ``1e+300``). Rows are
sorted (record, form, instance), so the same dataset gives the same bytes.

Cells are written as they are: REDCap stores exactly the text it is given, so the spreadsheet
escape of ``cnotrack export`` (``'=1+2``) would change the data. Open the file in REDCap, not in
a spreadsheet. Extra attributes kept at import (``_extra``) have no REDCap field and are not
written.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ...errors import DatasetError, Problem
from ...exchange.dataset import ROW, Dataset
from ...exchange.schema import exchange_format
from .design import RECORD_ID, DesignedField, DesignedForm, project_design

__all__ = ["COMPLETE", "export_redcap", "record_columns", "redcap_records"]

#: the ``<form>_complete`` value of every exported instance: 1, Unverified
COMPLETE = "1"

_INSTRUMENT = "redcap_repeat_instrument"
_INSTANCE = "redcap_repeat_instance"
_FORM_ORDER = "__form"
_INSTANCE_ORDER = "__instance"


def record_columns() -> list[str]:
    """The header of the records file: the record id, the repeat columns, then every form's
    fields and its ``<form>_complete``."""
    columns = [RECORD_ID, _INSTRUMENT, _INSTANCE]
    for form in project_design():
        columns += [f.name for f in form.fields if f.name != RECORD_ID] + [form.complete_field]
    return columns


def redcap_records(dataset: Dataset) -> bytes:
    """The flat records CSV of ``dataset`` (UTF-8, ``\\n`` line ends, deterministic bytes).

    Raises ``DatasetError`` for a row whose patient is not in ``patients`` or whose value has no
    code (neither happens in a validated dataset)."""
    problems: list[Problem] = []
    frames = [_form_rows(dataset, number, form, problems) for number, form in enumerate(project_design())]
    if problems:
        raise DatasetError(problems, source=dataset.source or "dataset")
    columns = record_columns()
    records = (pl.concat(frames, how="diagonal")
               .sort([RECORD_ID, _FORM_ORDER, _INSTANCE_ORDER])
               .select([pl.col(c) if c in _names(frames) else pl.lit(None, pl.String).alias(c) for c in columns]))
    return records.write_csv(quote_style="necessary", line_terminator="\n", null_value="").encode("utf-8")


def export_redcap(dataset: Dataset, target: str | Path) -> Path:
    """Write ``redcap_records(dataset)`` to ``target`` and return it (``cnotrack export --redcap``)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(redcap_records(dataset))
    return target


def _names(frames: list[pl.DataFrame]) -> set[str]:
    return {c for f in frames for c in f.columns}


def _form_rows(dataset: Dataset, number: int, form: DesignedForm, problems: list[Problem]) -> pl.DataFrame:
    """The rows of one form: its record id, instance and fields as REDCap text, and the order keys."""
    spec = exchange_format().table(form.table)
    frame = dataset[form.table].sort(list(spec.key), nulls_last=False)
    if form.record_column:
        frame = frame.with_columns(pl.col(form.record_column).alias(RECORD_ID))
    else:
        column, parent = form.parent
        owner = exchange_format().table(parent)
        parent_form = next(f for f in project_design() if f.table == parent)
        patients = dataset[parent].select(pl.col(owner.key[0]).alias(column),
                                          pl.col(parent_form.record_column).alias(RECORD_ID))
        frame = frame.join(patients, on=column, how="left", maintain_order="left")
    _orphans(dataset, form, frame, problems)
    values = [_cell(f, frame, problems).alias(f.name) for f in form.fields if f.name != RECORD_ID]
    if form.repeating:
        instance = pl.int_range(1, pl.len() + 1).over(RECORD_ID)
        repeat = [pl.lit(form.name).alias(_INSTRUMENT), instance.cast(pl.String).alias(_INSTANCE)]
    else:
        instance = pl.lit(0)
        repeat = []
    return frame.select(pl.col(RECORD_ID).cast(pl.String), *repeat, *values,
                        pl.lit(COMPLETE).alias(form.complete_field),
                        pl.lit(number).alias(_FORM_ORDER), instance.cast(pl.Int64).alias(_INSTANCE_ORDER))


def _orphans(dataset: Dataset, form: DesignedForm, frame: pl.DataFrame, problems: list[Problem]) -> None:
    """A row whose patient is not in ``patients`` (through its study for lesions) is a problem."""
    if form.table == "patients":
        return
    known = dataset["patients"].get_column(exchange_format().table("patients").key[0]).implode()
    missing = frame.filter(pl.col(RECORD_ID).is_null() | ~pl.col(RECORD_ID).is_in(known))
    column = form.record_column or form.parent[0]
    rows = missing.get_column(ROW).to_list() if ROW in missing.columns else [None] * missing.height
    for row, value in zip(rows, missing.get_column(column).to_list()):
        problems.append(Problem(form.table, row, column, value,
                                "belongs to no patient of patients, so to no REDCap record; add the patient "
                                "(or the imaging study) or remove the row"))


def _cell(field: DesignedField, frame: pl.DataFrame, problems: list[Problem]) -> pl.Expr:
    """The REDCap text of one field: a code, ``1``/``0``, a date, a number, or the text as it is."""
    spec = exchange_format().table(field.table).column(field.column)
    value = pl.col(field.column)
    if field.field_type == "yesno":
        return pl.when(value).then(pl.lit("1")).when(~value).then(pl.lit("0"))
    if field.choices:
        codes = {v: c for c, _, v in field.choices}
        unknown = frame.filter(value.is_not_null() & ~value.is_in(list(codes)))
        for v in unknown.get_column(field.column).unique(maintain_order=True).to_list():
            problems.append(Problem(field.table, None, field.column, v,
                                    f"has no code in REDCap field {field.name}; use a value of the vocabulary"))
        return value.replace_strict(codes, default=None, return_dtype=pl.String)
    if spec.type == "date":
        return value.dt.to_string("%Y-%m-%d")
    if spec.type == "number":
        return _number(value)
    if spec.type == "lab_value":
        return pl.col("censor").fill_null("") + _number(value)
    return value.cast(pl.String)


def _number(value: pl.Expr) -> pl.Expr:
    """A float as its shortest exact text, a whole number without ``.0`` (as ``cnotrack export``)."""
    whole = (value == value.round(0)) & (value.abs() < 1e15)
    return pl.when(whole).then(value.cast(pl.Int64).cast(pl.String)).otherwise(value.cast(pl.String))
