"""A REDCap project as a validated cnotrack dataset, and its import into the store.

``load_redcap`` maps the project (``apply``), validates the mapped tables with cnotrack's own
validation, and reports every problem at once in REDCap's terms (the records file and row,
``record R, event E, instance I:``, the field, the value, what would be valid). The dataset it
returns is the one a CSV folder with the same values gives, with two differences that are
provenance, not content: its ``_row`` is the records row, and a value REDCap marked with a
missing-data code keeps that code in ``_extra`` (``{"redcap_missing.<column>": "<code>"}``).

``import_redcap`` is then the same import as ``cnotrack import``'s: planned, atomic, idempotent,
audited, its source naming the REDCap project.
"""

from __future__ import annotations

import re

import polars as pl

from ...errors import DatasetError, Problem
from ...exchange.dataset import EXTRA, Dataset
from ...exchange.validate import validate_dataset
from .apply import MISSING_REASON, ROW, _RECORDS_ROW, MappedDataset, apply_mapping
from .mapping import Mapping
from .project import RedcapProject

__all__ = ["import_redcap", "load_redcap", "validate_mapped"]


def load_redcap(project: RedcapProject, mapping: Mapping) -> Dataset:
    """The validated dataset ``mapping`` makes of ``project``; raise ``DatasetError`` with every
    problem of the mapping or the records, in REDCap's terms."""
    return validate_mapped(apply_mapping(project, mapping))


def validate_mapped(mapped: MappedDataset) -> Dataset:
    """Validate the mapped tables; the problems (the mapping's own and validation's, each
    located in the records) are raised together. A cell the mapping already found wrong (an
    unknown code) is reported once, by the mapping."""
    source = mapped.raw.source
    locator = {name: frame for name, frame in mapped.locator.items()}
    missing = dict(mapped.missing)
    problems = list(mapped.problems)
    try:
        dataset = validate_dataset(mapped.raw)
    except DatasetError as exc:
        seen = {(p.table, p.row, p.column) for p in problems if p.row is not None}
        located = [mapped.locate(p) for p in exc.problems]
        problems.extend(_merged([p for p in located if (p.table, p.row, p.column) not in seen]))
        raise DatasetError(problems, source=source) from None
    if problems:
        raise DatasetError(problems, source=source)
    tables = {}
    for name, frame in dataset.tables.items():
        if name not in locator or ROW not in frame.columns:
            tables[name] = frame
            continue
        # the mapped row (1, 2, ...) is the position in the locator: its records row replaces it
        mapped_row = frame[ROW]
        records_row = locator[name][_RECORDS_ROW].gather(mapped_row - 1)
        frame = frame.with_columns(records_row.cast(pl.Int64).alias(ROW))
        if name in missing:
            frame = frame.with_columns(missing[name].gather(mapped_row - 1).alias(EXTRA))
        tables[name] = frame
    # every reason a column can have is an extra attribute of the "file": a later import where
    # the value is known clears the stored reason (as an empty extra cell clears an attribute)
    present = {name: columns | {f"{MISSING_REASON}.{c}" for c in mapped.reasons.get(name, ())}
               for name, columns in dataset.columns_present.items()}
    return Dataset(tables, source=source, sha256=dict(dataset.sha256), columns_present=present)


_NOTE = re.compile(r" \(cnotrack column ([a-z_]+\.[a-z_0-9]+)\)$")


def _merged(problems: list[Problem]) -> list[Problem]:
    """One problem per records cell and message: a field that gives several cnotrack columns (a
    visit date that dates the assessment and each lab) is reported once, naming them all."""
    merged: dict[tuple, list[str]] = {}
    for p in problems:
        match = _NOTE.search(p.message)
        base = p.message[:match.start()] if match else p.message
        merged.setdefault((p.table, p.row, p.column, p.value, base), []).extend([match.group(1)] if match else [])
    out = []
    for (table, row, column, value, base), columns in merged.items():
        note = (f" (cnotrack column{'s' if len(columns) > 1 else ''} {', '.join(dict.fromkeys(columns))})"
                if columns else "")
        out.append(Problem(table, row, column, value, base + note))
    return out


def import_redcap(project: RedcapProject, mapping: Mapping, store, *, dry_run: bool = False, actor: str = "cli"):
    """Import ``project`` through ``mapping`` into ``store``: ``cnotrack.store.import_dataset``'s
    report, or with ``dry_run`` ``plan_import``'s plan (nothing is written). Importing the same
    project twice changes nothing the second time."""
    from ...store import import_dataset, plan_import

    dataset = load_redcap(project, mapping)
    if dry_run:
        return plan_import(dataset, store)
    return import_dataset(dataset, store, actor=actor)



