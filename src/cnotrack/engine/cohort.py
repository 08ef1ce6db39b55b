"""The cohort of a protocol: each patient's index treatment, and who is eligible and why not.

The index course is the patient's first course of the index selection (``drug`` | ``drugs``,
``classes``, ``targets``: the union), by start date; two such courses starting on one day are
ranked the longer first (an ongoing course first, then the later stop date), then by drug name,
so the choice is deterministic. With ``line``, the index course is the course that starts that
line of therapy (``engine.treatments.line_courses``); when drugs, classes or targets are also
given it must be of them, else the patient is excluded with a reason naming the line's drug.

Eligibility, in the order its reasons are written: an index course; each prior treatment (a
course of it started before the index date); the minimum course length; every ``require``
criterion true (false or missing excludes); no ``exclude`` criterion true; and the
``exclude_patients`` list (its reason verbatim). ``require``/``exclude`` criteria are on the
patient (sex, center, age, treatment, diagnosis and all/any/not of them): they are evaluated on
all patients before timepoints exist, and written as reasons for patients with an index course
(a patient without one is excluded for that). Listed patients absent from the dataset are named
in ``Cohort.notes``. All patients are handled at once with Polars; no step loops over patients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from pydantic import BaseModel

from ..errors import ProtocolError
from ..exchange.dataset import Dataset
from ..protocols.criteria import AllOf, AnyOf, CourseCriterion, Not, TreatmentSelection, key_of
from ..protocols.describe import describe_criterion
from ..protocols.model import Protocol
from ..vocabulary import drugs, lines
from .criteria import criterion_expr
from .patient_criteria import (
    AGE_COLUMNS, ELIGIBILITY_KINDS, add_patient_columns, age_columns, birth_date_expr, patient_criteria_of,
)
from .treatments import course_order, selected_courses, selection_expr, with_drug_facts

__all__ = ["COHORT_COLUMNS", "Cohort", "build_cohort", "drug_table", "last_assessments", "selection_names"]

#: the columns of ``Cohort.eligible``, in order (v1 columns first); criterion columns follow
COHORT_COLUMNS = ("patient_id", "sex", "index_date", "index_stop_date", "last_assessment_date",
                  "index_drug", "index_class", "index_target", "center", "onset_date", "diagnosis_date",
                  *AGE_COLUMNS)


@dataclass(frozen=True)
class Cohort:
    """``eligible``: one row per eligible patient with ``COHORT_COLUMNS`` and, per treatment or
    diagnosis criterion of the protocol, ``treatment[<key>]`` / ``diagnosis.<field>``;
    ``excluded``: ``patient_id``, ``reason``; ``notes``: remarks such as listed patients who
    are not in the dataset."""

    eligible: pl.DataFrame
    excluded: pl.DataFrame
    notes: list[str] = field(default_factory=list)


def drug_table() -> pl.DataFrame:
    """Each drug of the vocabulary with its class."""
    return pl.DataFrame(
        [(d.name, d.drug_class) for d in drugs().drugs], schema=["drug", "drug_class"], orient="row"
    )


def _index_courses(treatments: pl.DataFrame, protocol: Protocol) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The index course per patient, and (with a line) the line's courses that do not match."""
    spec = protocol.index_treatment
    selection = spec.selection
    if selection.line is not None:
        courses = selected_courses(treatments, TreatmentSelection(line=selection.line))
        matches = selection_expr(selection.model_copy(update={"line": None}))
        return courses.filter(matches), courses.filter(~matches)
    by, descending = course_order()
    first = (with_drug_facts(treatments).filter(selection_expr(selection))
             .sort(by, descending=descending, nulls_last=False)
             .group_by("patient_id", maintain_order=True).first())
    return first, None


def last_assessments(dataset: Dataset) -> pl.DataFrame:
    """``patient_id``, ``last_assessment_date``: each patient's latest assessment (the date a
    ``last_assessment`` timepoint and the censoring at the last follow-up use)."""
    return dataset["assessments"].group_by("patient_id").agg(pl.col("date").max().alias("last_assessment_date"))


def build_cohort(dataset: Dataset, protocol: Protocol) -> Cohort:
    eligibility = protocol.eligibility
    for part, criteria in (("require", eligibility.require), ("exclude", eligibility.exclude)):
        for i, criterion in enumerate(criteria):
            _check_eligibility_criterion(criterion, f"eligibility.{part}.{i}")
    facts = {"center": pl.String, "birth_date": pl.String, "onset_date": pl.Date, "diagnosis_date": pl.Date}
    patients = dataset["patients"]
    patients = patients.with_columns([pl.lit(None, t).alias(c) for c, t in facts.items()
                                      if c not in patients.columns])
    patients = patients.select("patient_id", "sex", *facts)
    treatments = with_drug_facts(dataset["treatments"])
    index_spec = protocol.index_treatment
    index_drug = index_spec.name
    chosen, mismatched = _index_courses(treatments, protocol)
    index = chosen.select(
        "patient_id", pl.col("start_date").alias("index_date"), pl.col("stop_date").alias("index_stop_date"),
        pl.col("drug").alias("index_drug"), pl.col("drug_class").alias("index_class"),
        pl.col("target").alias("index_target"))
    last_visit = last_assessments(dataset)
    table = (
        patients.join(index, on="patient_id", how="left")
        .join(last_visit, on="patient_id", how="left")
        .with_columns(birth_date_expr().alias("__birth"))  # the birth date read once, for three ages
        .with_columns(age_columns(pl.col("__birth")))  # ages, so that no output carries the birth date
        .drop("__birth")
    )

    reasons: list[pl.Expr] = []
    if mismatched is not None:
        label = lines().line(index_spec.line).label
        wanted = " or ".join(selection_names(index_spec.selection))
        if index_spec.systemic_only:
            wanted = f"a systemic course of {wanted}" if wanted else "a systemic course"
        wrong = mismatched.select("patient_id", pl.col("drug").alias("__line_drug"))
        table = table.join(wrong, on="patient_id", how="left")
        reasons.append(pl.when(pl.col("__line_drug").is_not_null()).then(
            pl.format(f"{label} is {{}}, not {wanted}", pl.col("__line_drug"))))
        reasons.append(pl.when(pl.col("index_date").is_null() & pl.col("__line_drug").is_null())
                       .then(pl.lit(f"no {label} course")))
    else:
        reasons.append(pl.when(pl.col("index_date").is_null()).then(pl.lit(f"no {index_drug} course")))
    for i, prior in enumerate(eligibility.prior_treatments):
        selected = selection_expr(TreatmentSelection(drugs=prior.drugs, classes=prior.classes,
                                                     targets=prior.targets, systemic_only=prior.systemic_only))
        had = (  # the prior courses picked first, so that only they are joined to the index dates
            treatments.lazy().filter(selected).select("patient_id", "start_date")
            .join(index.lazy().select("patient_id", "index_date"), on="patient_id", how="inner")
            .filter(pl.col("start_date") < pl.col("index_date"))
            .select("patient_id").unique().with_columns(pl.lit(True).alias(f"__prior{i}")).collect()
        )
        table = table.join(had, on="patient_id", how="left")
        reasons.append(
            pl.when(pl.col("index_date").is_not_null() & pl.col(f"__prior{i}").is_null())
            .then(pl.lit(f"no course of {prior.label} before {index_drug}"))
        )
    days = eligibility.minimum_course_days
    if days is not None:
        stopped_short = pl.col("index_stop_date").is_not_null() & (
            (pl.col("index_stop_date") - pl.col("index_date")).dt.total_days() < days)
        ongoing_unfollowed = pl.col("index_stop_date").is_null() & (
            pl.col("last_assessment_date").is_null()
            | ((pl.col("last_assessment_date") - pl.col("index_date")).dt.total_days() < days))
        reasons.append(pl.when(pl.col("index_date").is_not_null() & stopped_short)
                       .then(pl.lit(f"{index_drug} course shorter than {days} days")))
        reasons.append(pl.when(pl.col("index_date").is_not_null() & ongoing_unfollowed)
                       .then(pl.lit(f"{index_drug} course ongoing without an assessment "
                                    f"at least {days} days after its start")))

    table = add_patient_columns(table, dataset, list(patient_criteria_of(protocol)), index)
    table = _with_course_measures(table, dataset, protocol)
    reasons += _criteria_reasons(eligibility.require, eligibility.exclude)
    listed, notes = _listed(eligibility.exclude_patients, patients)
    if listed is not None:
        table = table.join(listed, on="patient_id", how="left")
        reasons.append(pl.col("__listed"))
    table = table.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).fill_null("").alias("reason")
    )
    extra = [c for c in table.columns if c.startswith(("treatment[", "diagnosis."))]
    eligible = table.filter(pl.col("reason") == "").select(*COHORT_COLUMNS, *extra).sort("patient_id")
    excluded = table.filter(pl.col("reason") != "").select("patient_id", "reason").sort("patient_id")
    return Cohort(eligible, excluded, notes)


def selection_names(selection: TreatmentSelection) -> list[str]:
    """The drugs, classes and targets of a selection as words: ``etanercept``, ``biologic``,
    ``TNF inhibitor``."""
    return [*selection.drugs, *selection.classes, *(f"{t} inhibitor" for t in selection.targets)]


def _criteria_reasons(require, exclude) -> list[pl.Expr]:
    has_index = pl.col("index_date").is_not_null()
    reasons = []
    for criterion in require:
        text = describe_criterion(criterion)
        met = criterion_expr(criterion)
        reasons.append(pl.when(has_index & met.is_null()).then(pl.lit(f"required but missing: {text}"))
                       .when(has_index & ~met).then(pl.lit(f"required but not met: {text}")))
    for criterion in exclude:
        reasons.append(pl.when(has_index & criterion_expr(criterion).fill_null(False))
                       .then(pl.lit(f"excluded: {describe_criterion(criterion)}")))
    return reasons


def _listed(entries, patients: pl.DataFrame) -> tuple[pl.DataFrame | None, list[str]]:
    if not entries:
        return None, []
    listed = (pl.DataFrame({"patient_id": [e.patient_id for e in entries],
                            "__listed": [e.reason for e in entries]}, schema={"patient_id": pl.String,
                                                                               "__listed": pl.String})
              .group_by("patient_id", maintain_order=True).agg(pl.col("__listed").str.join("; ")))
    absent = listed.join(patients, on="patient_id", how="anti")["patient_id"].to_list()
    notes = [f"eligibility.exclude_patients: {pid!r} not applied, it is not a patient of the dataset"
             for pid in absent]
    return listed, notes


def _course_criteria(node: object):
    if isinstance(node, CourseCriterion):
        yield node
    elif isinstance(node, (AllOf, AnyOf, Not)):
        for child in (node.all if isinstance(node, AllOf) else node.any if isinstance(node, AnyOf)
                      else (node.not_,)):
            yield from _course_criteria(child)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _course_criteria(item)


def _with_course_measures(table: pl.DataFrame, dataset: Dataset, protocol: Protocol) -> pl.DataFrame:
    """The course measures (``course.<measure>``, no timepoint) that eligibility criteria name,
    for every patient; they are not carried into the eligible table (the patient table adds its
    own)."""
    el = protocol.eligibility
    names = sorted({c.course.measure for c in _course_criteria([*el.require, *el.exclude])})
    if not names:
        return table
    from ..courses.columns import course_measures  # the courses package builds on the engine

    measures = course_measures(dataset, names, modality=protocol.imaging_modality,
                               flares=protocol.flare_definitions)
    return table.join(measures, on="patient_id", how="left")


def _check_eligibility_criterion(criterion: BaseModel, where: str) -> None:
    kind = key_of(criterion)
    if kind not in ELIGIBILITY_KINDS or (isinstance(criterion, CourseCriterion) and criterion.course.at):
        raise ProtocolError(
            f"{where}: a {kind!r} criterion needs timepoints, which eligibility comes before; "
            f"eligibility criteria are {', '.join(ELIGIBILITY_KINDS)} (course without at; use it in "
            "an endpoint's among instead)")
    children = (criterion.all if isinstance(criterion, AllOf) else criterion.any if isinstance(criterion, AnyOf)
                else (criterion.not_,) if isinstance(criterion, Not) else ())
    for i, child in enumerate(children):
        _check_eligibility_criterion(child, f"{where}.{kind}.{i}" if kind != "not" else f"{where}.not")
