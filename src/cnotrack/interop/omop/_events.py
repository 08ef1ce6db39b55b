"""drug_exposure, measurement, observation, procedure_occurrence and specimen rows.

Type concepts (``*_type_concept_id``) are 0: the id OHDSI uses for "EHR" is not among the
concepts verified against the reference files, and cnotrack does not guess ids. Each table is
built with Polars expressions and joins over whole tables; concepts are looked up once per
distinct drug, test, unit or bone.
"""

from __future__ import annotations

import polars as pl

from ...vocabulary import anatomy, drugs, lab_tests
from ._frames import column, concept_columns, nonempty, number_text, numbered
from ._persons import Context

__all__ = ["ASSESSMENT_OBSERVATIONS", "drug_frame", "measurement_frame", "observation_frame", "procedure_frame",
           "specimen_frame"]

#: assessment columns written as observations (concept 0, the column name as the source value)
ASSESSMENT_OBSERVATIONS = ("pga", "pga_vas", "patient_global_vas", "pain_vas", "chaq_di", "bone_pain",
                           "local_swelling", "functional_impairment", "fever", "disease_status",
                           "active_lesion_count")

ONGOING_NOTE = (
    "drug_exposure_end_date of an ongoing course (no stop_date): the end of the patient's observation "
    "period (their latest dated record), with verbatim_end_date empty. The CDM requires the end date and, "
    "when the source does not give it, asks to infer it (OMOP CDM v5.4 field specification, "
    "drug_exposure_end_date; OHDSI THEMIS convention 'How to determine drug_exposure_end_date when it is "
    "not given explicitly in the data', https://ohdsi.github.io/Themis/drug_end_date_not_in_data.html: "
    "start + days_supply - 1; quantity / daily dose; an administration ends on its start date; a written "
    "prescription + 29 days). A registry course has no days supply, quantity or prescription, so the "
    "last date the data show the patient is the latest date the course is known to have lasted to; "
    "single administrations (table administrations) end on their start date, as THEMIS says."
)


def _drug_concepts(ctx: Context, name: str | None) -> tuple[int, int]:
    atc = drugs().drug(name).atc if name in drugs().lookup().values() else None
    return ctx.concepts.lookup(("ATC", "RxNorm"), atc, "Drug")


def _drugs(ctx: Context, records: pl.DataFrame, table: str, start: pl.Expr, end: pl.Expr, verbatim_end: pl.Expr,
           stop_reason: pl.Expr) -> pl.DataFrame:
    records = concept_columns(records, "drug", ["_concept", "_source"], lambda name: _drug_concepts(ctx, name))
    dose = number_text(column(records, "dose", pl.Float64))
    unit = nonempty(column(records, "dose_unit"))
    route = column(records, "route")
    sig = (pl.when(dose.is_null() & unit.is_null()).then(None)
           .otherwise(pl.concat_str([dose, unit], separator=" ", ignore_nulls=True)))
    return records.select(
        "person_id", pl.col("_concept").alias("drug_concept_id"), start.alias("drug_exposure_start_date"),
        end.alias("drug_exposure_end_date"), verbatim_end.alias("verbatim_end_date"),
        pl.lit(0, dtype=pl.Int64).alias("drug_type_concept_id"), stop_reason.cast(pl.String).alias("stop_reason"),
        sig.alias("sig"),
        pl.when(nonempty(route).is_not_null()).then(pl.lit(0, dtype=pl.Int64)).alias("route_concept_id"),
        pl.col("drug").alias("drug_source_value"), pl.col("_source").alias("drug_source_concept_id"),
        route.alias("route_source_value"), column(records, "dose_unit").alias("dose_unit_source_value"),
        pl.lit(table).alias("_table"), "_row")


def drug_frame(ctx: Context) -> pl.DataFrame:
    """One drug_exposure per course, and one per single administration (1.1)."""
    courses = ctx.records("treatments").join(ctx.persons.select("person_id", "_period_end"), on="person_id",
                                             how="left", maintain_order="left")
    ongoing = courses["stop_date"].null_count()
    given = ctx.records("administrations")
    frame = pl.concat([
        _drugs(ctx, courses, "treatments", pl.col("start_date"), pl.coalesce("stop_date", "_period_end"),
               pl.col("stop_date"), column(courses, "stop_reason")),
        _drugs(ctx, given, "administrations", pl.col("date"), pl.col("date"), pl.col("date"),
               pl.lit(None, dtype=pl.String))])
    if ongoing:
        ctx.notes.append(f"{ongoing} ongoing course(s): {ONGOING_NOTE}")
    return numbered(frame, "drug_exposure_id",
                    [pl.col("person_id"), pl.col("drug_exposure_start_date"), pl.col("drug_source_value"),
                     pl.col("drug_exposure_end_date")])


def _test_concepts(ctx: Context, test: str | None) -> tuple[int, int]:
    return ctx.concepts.measurement(test, lab_tests().test(test).loinc)


def measurement_frame(ctx: Context) -> pl.DataFrame:
    """One measurement per lab value; a censored value keeps its bound in value_as_number and
    ``<0.5`` in value_source_value (operator_concept_id 0: the operator concepts are not verified)."""
    labs = concept_columns(ctx.records("labs"), "test", ["_concept", "_source"],
                           lambda test: _test_concepts(ctx, test))
    labs = concept_columns(labs, "unit", ["_unit"], lambda unit: (ctx.concepts.unit(unit),))
    censor = nonempty(column(labs, "censor"))
    censored = labs.select(censor.is_not_null().sum()).item()
    frame = labs.select(
        "person_id", pl.col("_concept").alias("measurement_concept_id"), pl.col("date").alias("measurement_date"),
        pl.lit(0, dtype=pl.Int64).alias("measurement_type_concept_id"),
        pl.when(censor.is_not_null()).then(pl.lit(0, dtype=pl.Int64)).alias("operator_concept_id"),
        pl.col("value").alias("value_as_number"), pl.col("_unit").alias("unit_concept_id"),
        column(labs, "ref_low", pl.Float64).alias("range_low"),
        column(labs, "ref_high", pl.Float64).alias("range_high"),
        pl.col("test").alias("measurement_source_value"), pl.col("_source").alias("measurement_source_concept_id"),
        pl.col("unit").alias("unit_source_value"),
        pl.concat_str([censor, number_text(pl.col("value"))], ignore_nulls=True).alias("value_source_value"),
        pl.lit("labs").alias("_table"), "_row")
    if censored:
        ctx.notes.append(f"{censored} censored lab value(s): value_as_number holds the bound, value_source_value "
                         "the value as given (e.g. <0.5), operator_concept_id is 0 (no operator concept is "
                         "verified); a query over value_as_number alone reads them as exact")
    return numbered(frame, "measurement_id",
                    [pl.col("person_id"), pl.col("measurement_date"), pl.col("measurement_source_value")])


_OBSERVATION_SCHEMA = {"person_id": pl.Int64, "observation_concept_id": pl.Int64, "observation_date": pl.Date,
                       "observation_type_concept_id": pl.Int64, "observation_source_value": pl.String,
                       "value_as_string": pl.String, "value_as_number": pl.Float64,
                       "qualifier_source_value": pl.String, "value_source_value": pl.String,
                       "_table": pl.String, "_row": pl.Int64}


def _observations(frame: pl.DataFrame, source_value: str, date: str, as_string: pl.Expr | None,
                  as_number: pl.Expr | None, qualifier: pl.Expr | None, table: str) -> pl.DataFrame:
    as_string = pl.lit(None, dtype=pl.String) if as_string is None else as_string
    as_number = pl.lit(None, dtype=pl.Float64) if as_number is None else as_number.cast(pl.Float64)
    value_text = pl.when(nonempty(as_string).is_not_null()).then(as_string).otherwise(number_text(as_number))
    return frame.select(
        "person_id", pl.lit(0, dtype=pl.Int64).alias("observation_concept_id"), pl.col(date).alias("observation_date"),
        pl.lit(0, dtype=pl.Int64).alias("observation_type_concept_id"),
        pl.lit(source_value).alias("observation_source_value"), as_string.alias("value_as_string"),
        as_number.alias("value_as_number"),
        (pl.lit(None, dtype=pl.String) if qualifier is None else qualifier).alias("qualifier_source_value"),
        value_text.alias("value_source_value"), pl.lit(table).alias("_table"), "_row").cast(_OBSERVATION_SCHEMA)


def _assessment_observations(visits: pl.DataFrame, name: str) -> pl.DataFrame:
    dtype = visits.schema[name]
    value = pl.col(name)
    visits = visits.drop_nulls(name)
    if dtype == pl.Boolean:
        return _observations(visits, name, "date", pl.when(value).then(pl.lit("yes")).otherwise(pl.lit("no")),
                             None, None, "assessments")
    if dtype.is_numeric():
        return _observations(visits, name, "date", None, value, None, "assessments")
    return _observations(visits, name, "date", value.cast(pl.String), None, None, "assessments")


def observation_frame(ctx: Context) -> pl.DataFrame:
    """Assessments (PGA, VAS, CHAQ DI, disease status, booleans), family history, and lesions
    seen on imaging: concept 0, the cnotrack field as the source value. A lesion row with
    ``activity`` ``not_assessed`` (format 1.1) is listed as not exported."""
    visits = ctx.records("assessments")
    frames = [_assessment_observations(visits, name) for name in ASSESSMENT_OBSERVATIONS if name in visits.columns]
    studies = (ctx.dataset["imaging"].select("study_id", "patient_id", pl.col("date").alias("_study_date"))
               .unique("study_id", keep="last", maintain_order=True)
               .join(ctx.persons.select("patient_id", "person_id"), on="patient_id", how="inner"))
    lesions = ctx.records("lesions").join(studies.drop("patient_id"), on="study_id", how="inner",
                                          maintain_order="left")
    site = pl.concat_str([nonempty(pl.col("bone")), nonempty(column(lesions, "side")),
                          nonempty(column(lesions, "segment"))], separator=" ", ignore_nulls=True)
    # a lesion the study did not assess (format 1.1) is no lesion seen: listed, not exported
    not_assessed = (column(lesions, "activity") == "not_assessed").fill_null(False)
    for row, where in lesions.filter(not_assessed).select("_row", site.alias("_site")).iter_rows():
        ctx.problem("lesions", row, "activity", "not_assessed",
                    f"the lesion at {where} was not assessed by its study: not exported (an OMOP lesion "
                    "observation would say that the lesion was seen)")
    lesions = lesions.filter(~not_assessed)
    frames.append(_observations(lesions, "lesion", "_study_date", site, column(lesions, "grade", pl.Int64),
                                column(lesions, "activity"), "lesions"))
    family = ctx.records("family_history").height
    if family:
        ctx.problem("family_history", None, None, None,
                    f"{family} family-history row(s) not exported: they carry no date and OMOP "
                    "observation_date is required")
    return numbered(pl.concat(frames), "observation_id",
                    [pl.col("person_id"), pl.col("observation_date"), pl.col("observation_source_value"),
                     pl.col("value_as_string").fill_null(""), pl.col("value_as_number")])


def procedure_frame(ctx: Context) -> pl.DataFrame:
    """One procedure_occurrence per imaging study (concept 0, the modality as the source value)."""
    frame = ctx.records("imaging").select(
        "person_id", pl.lit(0, dtype=pl.Int64).alias("procedure_concept_id"), pl.col("date").alias("procedure_date"),
        pl.lit(0, dtype=pl.Int64).alias("procedure_type_concept_id"), pl.col("modality").alias("procedure_source_value"),
        pl.lit("imaging").alias("_table"), "_row")
    return numbered(frame, "procedure_occurrence_id",
                    [pl.col("person_id"), pl.col("procedure_date"), pl.col("procedure_source_value")])


def _site_concept(ctx: Context, bone: str | None) -> tuple[int | None]:
    if not bone:
        return (None,)
    return (ctx.concepts.lookup(("SNOMED",), anatomy().bone(bone).snomed_ct, None)[0],)


def specimen_frame(ctx: Context) -> pl.DataFrame:
    """One specimen per bone biopsy (1.1): the site as SNOMED CT where the user's vocabulary has
    the bone's code, the result as the disease-status source value."""
    biopsies = concept_columns(ctx.records("biopsies"), "bone", ["_site"], lambda bone: _site_concept(ctx, bone))
    site = nonempty(pl.concat_str([nonempty(pl.col("bone")), nonempty(column(biopsies, "side"))], separator=" ",
                                  ignore_nulls=True))
    frame = biopsies.select(
        "person_id", pl.lit(0, dtype=pl.Int64).alias("specimen_concept_id"),
        pl.lit(0, dtype=pl.Int64).alias("specimen_type_concept_id"), pl.col("date").alias("specimen_date"),
        pl.col("_site").alias("anatomic_site_concept_id"), pl.lit("bone biopsy").alias("specimen_source_value"),
        site.alias("anatomic_site_source_value"), column(biopsies, "result").alias("disease_status_source_value"),
        pl.lit("biopsies").alias("_table"), "_row")
    return numbered(frame, "specimen_id",
                    [pl.col("person_id"), pl.col("specimen_date"), pl.col("anatomic_site_source_value").fill_null("")])
