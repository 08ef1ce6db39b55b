"""person, care_site, observation_period and condition_occurrence from a cnotrack dataset.

Ids are numbers derived from cnotrack's own ids: ``person_id`` is the rank of ``patient_id`` in
sorted order, ``care_site_id`` the rank of the centre's name, and every event id the rank of its
row after sorting by person, date and source values, so that the same dataset gives the same
bytes whatever the order of its rows. Each builder is a few Polars expressions and joins over
whole tables; Python loops only over the rows that are problems, to word them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ...errors import Problem
from ...exchange import Dataset
from ._frames import concept_columns, nonempty, numbered
from .concepts import Concepts

__all__ = ["Context", "care_site_frame", "condition_frame", "observation_period_frame", "person_frame"]

#: ICD-10 code of chronic multifocal osteomyelitis (instruments spec, Codes); the WHO ICD-10
#: concept first, then ICD-10-CM, whichever the user's vocabulary holds
CNO_ICD10 = "M86.3"
_DATE_COLUMNS = {
    "patients": ("onset_date", "diagnosis_date"), "treatments": ("start_date", "stop_date"),
    "assessments": ("date",), "labs": ("date",), "imaging": ("date",), "adverse_events": ("onset_date",),
    "biopsies": ("date",), "administrations": ("date",), "manifestations": ("onset_date",),
    "complications": ("date",), "diagnosis": ("date",), "chaq": ("date",),
}
_PERSONS_SCHEMA = {"patient_id": pl.String, "person_id": pl.Int64, "_patient_row": pl.Int64}


@dataclass
class Context:
    """What the builders share: the dataset, the concepts, the persons exported, problems and notes.

    ``persons`` has one row per exported patient: ``patient_id``, ``person_id``, the patient's
    spreadsheet row ``_patient_row`` and, once the periods are built, ``_period_end``."""

    dataset: Dataset
    concepts: Concepts
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    persons: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_PERSONS_SCHEMA))
    care_site_id: dict[str, int] = field(default_factory=dict)

    def table(self, table: str) -> pl.DataFrame:
        """A dataset table with its ``_row`` (null for a dataset built in Python)."""
        frame = self.dataset[table]
        if "_row" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("_row"))
        return frame

    def records(self, table: str) -> pl.DataFrame:
        """The rows of a dataset table whose patient is exported, with their ``person_id`` (all rows
        for tables without a patient)."""
        frame = self.table(table)
        if "patient_id" not in frame.columns:
            return frame
        persons = self.persons.drop("_patient_row")
        return frame.join(persons, on="patient_id", how="inner", maintain_order="left")

    def problem(self, table: str, row: int | None, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(table, row, column, None if value is None else str(value), message))


def person_frame(ctx: Context) -> pl.DataFrame:
    """One person per patient with a birth year; the others are problems (the CDM requires
    ``year_of_birth``), and none of their records is exported."""
    patients = ctx.table("patients").sort("patient_id", maintain_order=True)
    centre = nonempty(pl.col("center"))
    centres = patients.select(centre.alias("center")).drop_nulls().unique()["center"].sort().to_list()
    ctx.care_site_id.update({name: i for i, name in enumerate(centres, start=1)})
    birth = nonempty(pl.col("birth_date")).str.split("-")
    patients = patients.with_columns(birth.list.get(0, null_on_oob=True).cast(pl.Int64).alias("_year"),
                                     birth.list.get(1, null_on_oob=True).cast(pl.Int64).alias("_month"))
    for pid, row in patients.filter(pl.col("_year").is_null()).select("patient_id", "_row").iter_rows():
        ctx.problem("patients", row, "birth_date", pid,
                    f"patient {pid} has no birth year, which OMOP person.year_of_birth requires: the patient "
                    "and all their records are not exported; add the birth date (YYYY-MM is enough)")
    people = patients.filter(pl.col("_year").is_not_null()).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("person_id"),
        pl.col("sex").fill_null("").alias("_sex"))
    ctx.persons = people.select("patient_id", "person_id", pl.col("_row").alias("_patient_row"))
    people = concept_columns(people, "_sex", ["gender_concept_id"], lambda sex: (ctx.concepts.gender(sex),))
    sites = pl.DataFrame({"_centre": centres, "care_site_id": range(1, len(centres) + 1)},
                         schema={"_centre": pl.String, "care_site_id": pl.Int64})
    people = people.with_columns(centre.alias("_centre")).join(sites, on="_centre", how="left",
                                                               maintain_order="left")
    return people.select(
        "person_id", "gender_concept_id", pl.col("_year").alias("year_of_birth"),
        pl.col("_month").alias("month_of_birth"), pl.lit(0).alias("race_concept_id"),
        pl.lit(0).alias("ethnicity_concept_id"), "care_site_id", pl.col("patient_id").alias("person_source_value"),
        pl.col("sex").alias("gender_source_value"), pl.col("race_ethnicity").alias("race_source_value"),
        pl.col("race_ethnicity").alias("ethnicity_source_value"), pl.lit("patients").alias("_table"), "_row")


def care_site_frame(ctx: Context) -> pl.DataFrame:
    used = ctx.records("patients").select(nonempty(pl.col("center")).alias("center")).drop_nulls().unique()
    sites = pl.DataFrame({"care_site_name": list(ctx.care_site_id), "care_site_id": list(ctx.care_site_id.values())},
                         schema={"care_site_name": pl.String, "care_site_id": pl.Int64})
    return (sites.filter(pl.col("care_site_name").is_in(used["center"].implode()))
            .sort("care_site_id")
            .select("care_site_id", "care_site_name", pl.col("care_site_name").alias("care_site_source_value")))


def _dated_records(ctx: Context) -> pl.DataFrame:
    frames = [ctx.dataset[table].select(pl.col("patient_id"), pl.col(c).alias("_date"))
              for table, columns in _DATE_COLUMNS.items() for c in columns]
    return pl.concat(frames).drop_nulls("_date")


def observation_period_frame(ctx: Context) -> pl.DataFrame:
    """From the earliest to the latest dated record of each person (the CDM's convention where the
    source has no enrolment periods: OMOP_CDMv5.4_Field_Level.csv, observation_period_start_date)."""
    periods = (_dated_records(ctx).group_by("patient_id")
               .agg(pl.col("_date").min().alias("observation_period_start_date"),
                    pl.col("_date").max().alias("observation_period_end_date")))
    persons = ctx.persons.join(periods, on="patient_id", how="left", maintain_order="left")
    undated = persons.filter(pl.col("observation_period_start_date").is_null())
    for pid, row in undated.select("patient_id", "_patient_row").iter_rows():
        ctx.problem("patients", row, "patient_id", pid,
                    f"patient {pid} has no dated record, so no OMOP observation_period: the person is "
                    "exported without one")
    ctx.persons = persons.select(*_PERSONS_SCHEMA, pl.col("observation_period_end_date").alias("_period_end"))
    rows = persons.drop_nulls("observation_period_start_date").select(
        "person_id", "observation_period_start_date", "observation_period_end_date",
        pl.lit(0).alias("period_type_concept_id"))
    return numbered(rows, "observation_period_id", [pl.col("person_id")])


def _conditions(records: pl.DataFrame, table: str, start: pl.Expr, source_value: pl.Expr, concept: int,
                source: int, status: str | None) -> pl.DataFrame:
    return records.select(
        "person_id", pl.lit(concept, dtype=pl.Int64).alias("condition_concept_id"),
        start.alias("condition_start_date"), pl.lit(0, dtype=pl.Int64).alias("condition_type_concept_id"),
        source_value.cast(pl.String).alias("condition_source_value"),
        pl.lit(source, dtype=pl.Int64).alias("condition_source_concept_id"),
        pl.lit(status, dtype=pl.String).alias("condition_status_source_value"),
        pl.lit(table).alias("_table"), pl.col("_row"))


def condition_frame(ctx: Context) -> pl.DataFrame:
    """CNO per patient (ICD-10 M86.3, dated by diagnosis, else onset), the 1.1 manifestations and
    complications, and adverse events; an undated one is a problem (the start date is required)."""
    cno_concept, cno_source = ctx.concepts.lookup(("ICD10", "ICD10CM"), CNO_ICD10, "Condition")
    patients = ctx.records("patients").with_columns(
        pl.coalesce("diagnosis_date", "onset_date").alias("_start"))
    for pid, row in patients.filter(pl.col("_start").is_null()).select("patient_id", "_row").iter_rows():
        ctx.problem("patients", row, "diagnosis_date", pid,
                    f"patient {pid} has no diagnosis or onset date: the CNO diagnosis is not exported (OMOP "
                    "condition_start_date is required)")
    frames = [_conditions(patients.drop_nulls("_start"), "patients", pl.col("_start"), pl.lit(CNO_ICD10),
                          cno_concept, cno_source, None)]
    for table, name, date_column in (("manifestations", "condition", "onset_date"),
                                     ("complications", "complication", "date"),
                                     ("adverse_events", "term", "onset_date")):
        records = ctx.records(table)
        for value, row in records.filter(pl.col(date_column).is_null()).select(name, "_row").iter_rows():
            ctx.problem(table, row, date_column, None,
                        f"{value!r} has no date: not exported (OMOP condition_start_date is required)")
        frames.append(_conditions(records.drop_nulls(date_column), table, pl.col(date_column), pl.col(name), 0, 0,
                                  "adverse event" if table == "adverse_events" else None))
    return numbered(pl.concat(frames), "condition_occurrence_id",
                    [pl.col("person_id"), pl.col("condition_start_date"),
                     pl.col("condition_source_value").fill_null("")])
