"""A cnotrack dataset as OMOP CDM v5.4 tables, and those tables as OHDSI-style CSV files.

``omop_tables`` maps the dataset (docs/interoperability.md has the mapping field by field);
``write_omop`` writes one CSV per populated table: a header, the DDL's columns in order, dates
``YYYY-MM-DD``, an empty cell for NULL. What cannot be carried is never dropped or truncated
silently: a patient without a birth year, an undated record, a value longer than its column
(source values are varchar(50)) is a ``Problem`` in ``OmopExport.problems``; the choices a
reader must know (ongoing courses, censored values) are sentences in ``OmopExport.notes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ...errors import Problem
from ...exchange import Dataset
from ._events import drug_frame, measurement_frame, observation_frame, procedure_frame, specimen_frame
from ._persons import Context, care_site_frame, condition_frame, observation_period_frame, person_frame
from ._schema import column_names, omop_frame, width
from .concepts import Concepts

__all__ = ["CDM_VERSION", "OMOP_TABLES", "OmopExport", "omop_tables", "write_omop"]

CDM_VERSION = "v5.4"
#: the clinical tables in the order they are written and loaded (parents before children)
OMOP_TABLES = ("care_site", "person", "observation_period", "condition_occurrence", "drug_exposure",
               "procedure_occurrence", "measurement", "observation", "specimen", "cdm_source")

@dataclass
class OmopExport:
    """The OMOP tables of one dataset (only populated ones), with what could not be carried."""

    tables: dict[str, pl.DataFrame]
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: every concept id the tables hold (``load_omop`` writes placeholder rows for them when no
    #: vocabulary is loaded)
    concept_ids: frozenset[int] = frozenset({0})
    #: the Athena folder the concepts were resolved with, if any (never written into the output)
    vocabulary: Path | None = None
    #: the folder ``write_omop`` wrote, if it was written
    directory: Path | None = None

    def __getitem__(self, table: str) -> pl.DataFrame:
        return self.tables[table]


def omop_tables(dataset: Dataset, *, vocabulary: Path | None = None) -> OmopExport:
    """The OMOP CDM v5.4 tables of ``dataset``: a frame per populated table, columns in DDL order.

    ``vocabulary`` is an Athena download (``CONCEPT.csv``, optionally ``CONCEPT_RELATIONSHIP.csv``)
    that resolves codes cnotrack holds to concept ids; without it only the verified ids are
    written and everything else is concept 0 with the source value kept.
    """
    ctx = Context(dataset, Concepts(Path(vocabulary) if vocabulary else None))
    frames: dict[str, pl.DataFrame] = {"person": person_frame(ctx)}
    frames["care_site"] = care_site_frame(ctx)
    frames["observation_period"] = observation_period_frame(ctx)
    frames["condition_occurrence"] = condition_frame(ctx)
    frames["drug_exposure"] = drug_frame(ctx)
    frames["procedure_occurrence"] = procedure_frame(ctx)
    frames["measurement"] = measurement_frame(ctx)
    frames["observation"] = observation_frame(ctx)
    frames["specimen"] = specimen_frame(ctx)
    frames["cdm_source"] = pl.DataFrame([_cdm_source(ctx, dataset)])
    tables = {t: omop_frame(t, _check_widths(ctx, t, frames[t])) for t in OMOP_TABLES if frames[t].height}
    ctx.notes.extend(_standing_notes(ctx))
    return OmopExport(tables, notes=ctx.notes, problems=sorted(ctx.problems, key=_problem_key),
                      concept_ids=frozenset(ctx.concepts.used), vocabulary=ctx.concepts.vocabulary)


def write_omop(dataset: Dataset, target_dir: Path, *, vocabulary: Path | None = None) -> OmopExport:
    """Write ``omop_tables(dataset)`` as ``<table>.csv`` files in ``target_dir`` (created if
    needed) and return the export (its ``problems`` say what could not be written)."""
    export = omop_tables(dataset, vocabulary=vocabulary)
    export.directory = _write_csv_files(export, Path(target_dir))
    return export


def _write_csv_files(export: OmopExport, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for table, frame in export.tables.items():
        frame.select(column_names(table)).write_csv(
            target / f"{table}.csv", date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S",
            null_value="", line_terminator="\n")
    return target


def _latest_date(dataset: Dataset) -> dt.date | None:
    latest = None
    for frame in dataset.tables.values():
        for name, dtype in frame.schema.items():
            if dtype == pl.Date and frame.height:
                value = frame[name].max()
                if value is not None and (latest is None or value > latest):
                    latest = value
    return latest


def _cdm_source(ctx: Context, dataset: Dataset) -> dict[str, Any]:
    """cdm_source with dates derived from the data, not the clock: both release dates are the
    latest date the dataset holds, so that the same data give the same bytes."""
    latest = _latest_date(dataset) or dt.date(1970, 1, 1)
    return {"cdm_source_name": "cnotrack", "cdm_source_abbreviation": "cnotrack",
            "cdm_holder": "not recorded by cnotrack",
            "source_description": "CNO registry data exported by cnotrack (exchange format)",
            "source_release_date": latest, "cdm_release_date": latest, "cdm_version": CDM_VERSION,
            "cdm_version_concept_id": 0,
            "vocabulary_version": _vocabulary_version(ctx.concepts.vocabulary)}


def _vocabulary_version(folder: Path | None) -> str:
    if folder is None or not (Path(folder) / "VOCABULARY.csv").is_file():
        return "none loaded"
    frame = pl.read_csv(Path(folder) / "VOCABULARY.csv", separator="\t", quote_char=None, infer_schema=False)
    row = frame.filter(pl.col("vocabulary_id") == "None")
    version = row["vocabulary_version"][0] if row.height else "unknown"
    return version[:20] if len(version) <= 20 else "see VOCABULARY.csv"


def _check_widths(ctx: Context, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A value longer than its varchar column is left out (NULL) and reported, never truncated."""
    source = (pl.col("_table") if "_table" in frame.columns else pl.lit(table)).alias("__source")
    row = (pl.col("_row") if "_row" in frame.columns else pl.lit(None, dtype=pl.Int64)).alias("__row")
    for column in frame.columns:
        limit = width(table, column)
        if limit is None or frame.schema[column] != pl.String:
            continue
        too_long = pl.col(column).str.len_chars() > limit
        for source_table, source_row, value in frame.filter(too_long).select(source, row, column).iter_rows():
            ctx.problems.append(Problem(source_table, source_row, column, value,
                                        f"{len(value)} characters; OMOP {table}.{column} holds at most "
                                        f"{limit}: left empty in the export (not truncated)"))
        frame = frame.with_columns(pl.when(too_long).then(None).otherwise(pl.col(column)).alias(column))
    return frame


def _standing_notes(ctx: Context) -> list[str]:
    notes = ["Type concepts (*_type_concept_id) and cdm_version_concept_id are 0: the OHDSI ids for "
             "them are not among the concepts verified against the reference files.",
             "person_source_value is cnotrack's patient_id (the registry's pseudonym); day of birth is "
             "not exported (the CDM requires only the year; month is written when given).",
             "race_ethnicity is one field in cnotrack: it is written as both race_source_value and "
             "ethnicity_source_value, with concept 0.",
             "cdm_source: source_release_date and cdm_release_date are the latest date in the dataset "
             "(not the day of export), so the same data give the same files."]
    if ctx.concepts.vocabulary is None:
        notes.append("No vocabulary given: only the verified concept ids are written (gender 8507/8532, "
                     "ESR 3013707, CRP 3020460, units 8752/8751/8840); everything else is 0 with its "
                     "source value.")
    return notes


def _problem_key(p: Problem) -> tuple:
    return (p.table, p.row if p.row is not None else -1, p.column or "", p.value or "", p.message)
