"""A protocol as typed data: cohort, timepoints, reference limits, endpoints and comparisons.

A protocol file is YAML (see ``builtin/pardeo2017.yaml``); ``load.py`` reads and checks it,
``describe.py`` renders it as a methods paragraph, and the engine evaluates it. Criteria (in
``criteria.py``) are a small closed language: each is a mapping with exactly one key naming its
kind. Language v2 is a superset of v1: every v1 file is valid and means what it meant.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from .criteria import (
    AgeCriterion, AllOf, AnyOf, AssessmentCriterion, CenterCriterion, ChangeCriterion, CourseCriterion,
    Criterion, DiagnosisCriterion, LabDecreased, LabElevated, LabNormal, LesionFilter, Modality, NewLesions,
    Not, PedcnoCriterion, PgaCriterion, SexCriterion, TreatmentCriterion, TreatmentSelection, _Strict, key_of,
)

__all__ = [
    "AgeCriterion", "AllOf", "AnyOf", "AssessmentCriterion", "CenterCriterion", "ChangeCriterion",
    "Comparison", "Count", "CourseCriterion", "Criterion", "DiagnosisCriterion", "Distribution", "Eligibility",
    "Endpoint", "Event", "ExcludedPatient", "FlareDefinition", "IndexTreatment", "LabDecreased", "LabElevated",
    "LabNormal", "LesionFilter", "Measure", "NewLesions", "Not", "PedcnoCriterion", "PgaCriterion",
    "PriorTreatment", "Proportion", "Protocol", "ReferenceLimit", "SexCriterion", "TimeToEvent", "Timepoint",
    "TreatmentCriterion", "TreatmentSelection", "VARIABLES",
]

PGA_ORDER = ("none", "minimal", "mild", "moderate", "severe")
Fate = Literal["baseline", "resolved", "stable", "improved", "worsened", "new"]
#: the variables a value, change or percent change is taken of, besides any lab test code
VARIABLES = ("pga", "pga_vas", "patient_global_vas", "pain_vas", "chaq_di", "lesions")


def _one_of(model: Any, names: tuple[str, ...], what: str) -> None:
    given = [k for k in names if getattr(model, k) is not None]
    if len(given) != 1:
        raise ValueError(f"{what} names exactly one of {', '.join(names)} (got {', '.join(given) or 'none'})")


class IndexTreatment(_Strict):
    """The index course: the patient's first course of ``drug`` (v1), or of any drug of
    ``drugs``, ``classes`` or ``targets``; with ``line``, the course that starts that line of
    therapy, which must then also be of the drugs, classes or targets when any are given."""

    drug: str | None = Field(None, description="generic name from the drug vocabulary")
    drugs: tuple[str, ...] = ()
    classes: tuple[str, ...] = Field((), description="drug classes, when any drug of them starts the index")
    targets: tuple[str, ...] = ()
    line: str | None = None
    systemic_only: bool = False
    course: Literal["first"] = "first"

    @model_validator(mode="after")
    def _one(self) -> "IndexTreatment":
        if self.drug is not None and self.drugs:
            raise ValueError("index_treatment: give drug or drugs, not both")
        if self.drug is None and not (self.drugs or self.classes or self.targets or self.line):
            raise ValueError("index_treatment: give drug, drugs, classes, targets or line")
        return self

    @property
    def selection(self) -> TreatmentSelection:
        """The drugs, classes and targets that count, with the line."""
        drugs = (self.drug,) if self.drug else self.drugs
        return TreatmentSelection(drugs=drugs, classes=self.classes, targets=self.targets, line=self.line,
                                  systemic_only=self.systemic_only)

    @property
    def name(self) -> str:
        if self.drug:
            return self.drug
        if self.classes and not (self.drugs or self.targets or self.line):  # v1 wording
            return " or ".join(self.classes) + " treatment"
        parts = [*self.drugs, *self.classes, *(f"{t} inhibitor" for t in self.targets)]
        what = " or ".join(parts)
        if self.line:
            line = self.line.replace("_", " ")
            return f"{line} ({what})" if what else line
        return what + " treatment" if (self.classes or self.targets) and not self.drugs else what


class PriorTreatment(_Strict):
    label: str
    classes: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    systemic_only: bool = Field(False, description="a topical course does not count")


class ExcludedPatient(_Strict):
    """A patient left out by name, with the reason (an exclusion list, declared and reproducible)."""

    patient_id: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class Eligibility(_Strict):
    prior_treatments: tuple[PriorTreatment, ...] = ()
    minimum_course_days: int | None = Field(None, ge=0)
    require: tuple[Criterion, ...] = Field((), description="criteria every eligible patient meets")
    exclude: tuple[Criterion, ...] = Field((), description="criteria that exclude a patient when true")
    exclude_patients: tuple[ExcludedPatient, ...] = ()


class Timepoint(_Strict):
    id: str
    label: str
    target_day: int | None = None
    window: tuple[int, int] | None = None
    anchor: Literal["index", "last_assessment"] = "index"

    @model_validator(mode="after")
    def _check(self) -> "Timepoint":
        if self.anchor == "index" and (self.target_day is None or self.window is None):
            raise ValueError(f"timepoint {self.id!r}: give target_day and window [first_day, last_day]")
        if self.window and self.window[0] > self.window[1]:
            raise ValueError(f"timepoint {self.id!r}: window {list(self.window)} must be [first_day, last_day]")
        if self.window and self.target_day is not None and not self.window[0] <= self.target_day <= self.window[1]:
            raise ValueError(f"timepoint {self.id!r}: target_day {self.target_day} is outside its window")
        return self


class ReferenceLimit(_Strict):
    upper: float = Field(gt=0)
    unit: str


# ---- measures: patient-level numbers for distributions ---------------------------------

class _FollowUp(_Strict):
    to: str


class _LabValue(_Strict):
    test: str
    at: str


class _AssessmentValue(_Strict):
    field: Literal["pga_vas", "patient_global_vas", "pain_vas", "chaq_di"]
    at: str


class _LesionCount(LesionFilter):
    at: str


class _ValueAt(LesionFilter):
    of: str
    at: str


class _Change(LesionFilter):
    of: str
    from_: str = Field(alias="from")
    to: str


class _CourseMeasure(_Strict):
    measure: str
    at: str | None = None


class _Age(_Strict):
    at: Literal["index", "onset", "diagnosis"] = "index"


_MEASURES = ("follow_up_years", "lab_value", "assessment_value", "lesion_count", "value", "change",
             "percent_change", "course", "age")


class Measure(_Strict):
    follow_up_years: _FollowUp | None = None
    lab_value: _LabValue | None = None
    assessment_value: _AssessmentValue | None = None
    lesion_count: _LesionCount | None = None
    value: _ValueAt | None = None
    change: _Change | None = None
    percent_change: _Change | None = None
    course: _CourseMeasure | None = None
    age: _Age | None = None

    @model_validator(mode="after")
    def _one(self) -> "Measure":
        _one_of(self, _MEASURES, "a measure")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _MEASURES if getattr(self, k) is not None)


# ---- time-to-event endpoints: events ---------------------------------------------------

class TreatmentStarted(_Strict):
    treatment_started: TreatmentSelection


class _Stopped(_Strict):
    reasons: tuple[Literal["inefficacy", "adverse_event", "remission", "other"], ...] = ()


class TreatmentStopped(_Strict):
    """The index course stopped (with one of ``reasons`` when given)."""

    treatment_stopped: _Stopped


class _PgaLevels(_Strict):
    in_: tuple[Literal["none", "minimal", "mild", "moderate", "severe"], ...] = Field(alias="in", min_length=1)


class PgaReached(_Strict):
    pga_reached: _PgaLevels


class NewLesionEvent(_Strict):
    new_lesion: LesionFilter


class _FlareRef(_Strict):
    definition: str


class FlareEvent(_Strict):
    flare: _FlareRef


_EVENTS = {"treatment_started": TreatmentStarted, "treatment_stopped": TreatmentStopped,
           "pga_reached": PgaReached, "new_lesion": NewLesionEvent, "flare": FlareEvent}
Event = Annotated[
    Union[tuple(Annotated[t, Tag(k)] for k, t in _EVENTS.items())],  # type: ignore[misc]
    Discriminator(lambda v: next((k for k, t in _EVENTS.items() if isinstance(v, t)), None)
                  if not isinstance(v, dict) else key_of(v),
                  custom_error_type="event_kind",
                  custom_error_message="an event is a mapping with one key naming its kind"),
]


class FlareDefinition(_Strict):
    """A flare as data: a new course of ``restart`` started more than ``gap_days`` after the
    patient's previous course of it ended (a gap between courses)."""

    label: str
    restart: TreatmentSelection
    gap_days: int = Field(ge=1)
    citation: str | None = None


# ---- endpoints -----------------------------------------------------------------------

class _EndpointBase(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    label: str
    published: str | None = Field(None, description="the published value, shown beside the computed one")


class Proportion(_EndpointBase):
    kind: Literal["proportion"]
    criterion: Criterion
    among: Criterion | None = Field(None, description="the denominator group; default all eligible patients")


class _LesionSelection(LesionFilter):
    from_: str = Field(alias="from")
    to: str
    fate: Fate


class _MissingLesionPair(_Strict):
    from_: str = Field(alias="from")
    to: str
    modality: Modality | None = None


class Count(_EndpointBase):
    kind: Literal["count"]
    patients: Criterion | Literal["all"] | None = None
    lesions: _LesionSelection | None = None
    patients_missing_studies: _MissingLesionPair | None = None
    of: str | None = Field(None, description="another count endpoint that this one is a part of")

    @model_validator(mode="after")
    def _one(self) -> "Count":
        given = [k for k in ("patients", "lesions", "patients_missing_studies") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"count endpoint {self.id!r}: name exactly one of patients, lesions, "
                             f"patients_missing_studies (got {given or 'none'})")
        return self


class Distribution(_EndpointBase):
    kind: Literal["distribution"]
    measure: Measure
    unit: str = ""


class TimeToEvent(_EndpointBase):
    """Days from ``start`` to the first ``event`` after it, censored at the last follow-up (the
    patient's latest assessment; for a new lesion, the latest study), as Kaplan-Meier."""

    kind: Literal["time_to_event"]
    start: Literal["index", "diagnosis", "onset"] = "index"
    event: Event
    times_years: tuple[float, ...] = (0.5, 1, 2)

    @field_validator("times_years")
    @classmethod
    def _times(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(t <= 0 for t in value) or list(value) != sorted(set(value)):
            raise ValueError("times_years are positive and increasing, such as [0.5, 1, 2]")
        return value


Endpoint = Annotated[Union[Proportion, Count, Distribution, TimeToEvent], Field(discriminator="kind")]


# ---- comparisons of groups -------------------------------------------------------------

GroupBy = Literal["index_drug", "index_class", "index_target", "sex", "center"]


class Comparison(_Strict):
    """Every endpoint per group of ``by``, with the two-group test of each: ``by`` is one of
    index_drug, index_class, index_target, sex, center, or a criterion (groups ``yes``/``no``)."""

    id: str | None = Field(None, pattern=r"^[a-z0-9_]+$")
    label: str | None = None
    by: GroupBy | Criterion
    groups: tuple[str, ...] = Field((), description="the groups to compare, in order; default all, sorted")
    group_labels: dict[str, str] = {}

    @property
    def key(self) -> str:
        if self.id:
            return self.id
        return self.by if isinstance(self.by, str) else "by_" + (key_of(self.by) or "criterion")


class Protocol(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    title: str
    citation: str | None = None
    description: str | None = None
    index_treatment: IndexTreatment
    eligibility: Eligibility = Eligibility()
    timepoints: tuple[Timepoint, ...]
    imaging_modality: Modality = "bone_scintigraphy"
    reference_limits: dict[str, ReferenceLimit] = {}
    endpoints: tuple[Endpoint, ...]
    paired_tests: tuple[tuple[str, str], ...] | None = Field(
        None, description="pairs of timepoints compared by paired tests; default baseline and month6 when present")
    compare: tuple[Comparison, ...] = ()
    flare_definitions: dict[str, FlareDefinition] = {}
    km_median: Literal["midpoint", "first"] = Field(
        "midpoint", description="Kaplan-Meier median where the curve is flat at 0.5: R's midpoint, or the first time")
    summary: tuple[str, ...] = Field((), description="results sentences with {endpoint.id} placeholders")

    @field_validator("compare", mode="before")
    @classmethod
    def _compare_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    def timepoint(self, tid: str) -> Timepoint:
        return next(t for t in self.timepoints if t.id == tid)

    def endpoint(self, eid: str):
        return next(e for e in self.endpoints if e.id == eid)

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The timepoint pairs of the paired tests: declared, else baseline/month6 when both exist."""
        if self.paired_tests is not None:
            return self.paired_tests
        ids = {t.id for t in self.timepoints}
        return (("baseline", "month6"),) if {"baseline", "month6"} <= ids else ()
