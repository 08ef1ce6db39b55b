"""A protocol as typed data: cohort, timepoints, reference limits and endpoints.

A protocol file is YAML (see ``builtin/pardeo2017.yaml``); ``load.py`` reads and checks it,
``describe.py`` renders it as a methods paragraph, and the engine evaluates it.
Criteria are a small closed language: each is a mapping with exactly one key naming its kind.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AllOf", "AnyOf", "AssessmentCriterion", "Count", "Criterion", "Distribution", "Endpoint",
    "Eligibility", "IndexTreatment", "LabDecreased", "LabElevated", "LabNormal", "Measure",
    "NewLesions", "Not", "PedcnoCriterion", "PgaCriterion", "PriorTreatment", "Proportion", "Protocol",
    "ReferenceLimit", "SexCriterion", "Timepoint",
]

PGA_ORDER = ("none", "minimal", "mild", "moderate", "severe")
Fate = Literal["baseline", "resolved", "stable", "improved", "worsened", "new"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class IndexTreatment(_Strict):
    """The index course: the patient's first course of ``drug``, or of any drug of ``classes``."""

    drug: str | None = Field(None, description="generic name from the drug vocabulary")
    classes: tuple[str, ...] = Field((), description="drug classes, when any drug of them starts the index")
    course: Literal["first"] = "first"

    @model_validator(mode="after")
    def _one(self) -> "IndexTreatment":
        if (self.drug is None) == (not self.classes):
            raise ValueError("index_treatment: give either drug or classes")
        return self

    @property
    def name(self) -> str:
        return self.drug or " or ".join(self.classes) + " treatment"


class PriorTreatment(_Strict):
    label: str
    classes: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    systemic_only: bool = Field(False, description="a topical course does not count")


class Eligibility(_Strict):
    prior_treatments: tuple[PriorTreatment, ...] = ()
    minimum_course_days: int | None = Field(None, ge=0)


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


# ---- criteria: patient-level statements that are true, false, or missing --------------

class _PgaArgs(_Strict):
    at: str
    in_: tuple[Literal["none", "minimal", "mild", "moderate", "severe"], ...] = Field(alias="in")


class PgaCriterion(_Strict):
    pga: _PgaArgs


class _AssessmentArgs(_Strict):
    field: Literal["pga_vas", "patient_global_vas", "pain_vas", "chaq_di", "bone_pain",
                   "local_swelling", "functional_impairment", "fever"]
    at: str
    op: Literal["<", "<=", ">", ">=", "==", "!="] = "=="
    value: float | bool


class AssessmentCriterion(_Strict):
    assessment: _AssessmentArgs


class _LabAt(_Strict):
    test: str
    at: str


class LabElevated(_Strict):
    lab_elevated: _LabAt


class LabNormal(_Strict):
    lab_normal: _LabAt


class _LabChange(_Strict):
    test: str
    from_: str = Field(alias="from")
    to: str


class LabDecreased(_Strict):
    lab_decreased: _LabChange


class _NewLesionArgs(_Strict):
    from_: str = Field(alias="from")
    to: str
    symptomatic: bool | None = None


class NewLesions(_Strict):
    new_lesions: _NewLesionArgs


class _PedcnoArgs(_Strict):
    from_: str = Field(alias="from")
    to: str
    level: Literal[30, 50, 70, 90]
    worsening_limit: float = Field(30, gt=0)


class PedcnoCriterion(_Strict):
    """PedCNO-X response (Beck 2010): ESR, MRI lesion count, physician and patient global VAS,
    CHAQ DI; at least 3 improved by >= X % and at most 1 worsened by more than the limit."""

    pedcno: _PedcnoArgs


class _SexArgs(_Strict):
    in_: tuple[Literal["F", "M", "U"], ...] = Field(alias="in")


class SexCriterion(_Strict):
    sex: _SexArgs


class AllOf(_Strict):
    all: tuple["Criterion", ...]


class AnyOf(_Strict):
    any: tuple["Criterion", ...]


class Not(_Strict):
    not_: "Criterion" = Field(alias="not")


Criterion = Union[PgaCriterion, AssessmentCriterion, LabElevated, LabNormal, LabDecreased,
                  NewLesions, PedcnoCriterion, SexCriterion, AllOf, AnyOf, Not]
AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


# ---- measures: patient-level numbers for distributions ---------------------------------

class _FollowUp(_Strict):
    to: str


class _LabValue(_Strict):
    test: str
    at: str


class _AssessmentValue(_Strict):
    field: Literal["pga_vas", "patient_global_vas", "pain_vas", "chaq_di"]
    at: str


class _LesionCount(_Strict):
    at: str


class Measure(_Strict):
    follow_up_years: _FollowUp | None = None
    lab_value: _LabValue | None = None
    assessment_value: _AssessmentValue | None = None
    lesion_count: _LesionCount | None = None

    @model_validator(mode="after")
    def _one(self) -> "Measure":
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError("a measure names exactly one of follow_up_years, lab_value, "
                             f"assessment_value, lesion_count (got {given or 'none'})")
        return self


# ---- endpoints -----------------------------------------------------------------------

class _EndpointBase(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    label: str
    published: str | None = Field(None, description="the published value, shown beside the computed one")


class Proportion(_EndpointBase):
    kind: Literal["proportion"]
    criterion: Criterion
    among: Criterion | None = Field(None, description="the denominator group; default all eligible patients")


class _LesionSelection(_Strict):
    from_: str = Field(alias="from")
    to: str
    fate: Fate


class _MissingLesionPair(_Strict):
    from_: str = Field(alias="from")
    to: str


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


Endpoint = Annotated[Union[Proportion, Count, Distribution], Field(discriminator="kind")]


class Protocol(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    title: str
    citation: str | None = None
    description: str | None = None
    index_treatment: IndexTreatment
    eligibility: Eligibility = Eligibility()
    timepoints: tuple[Timepoint, ...]
    imaging_modality: Literal["bone_scintigraphy", "wb_mri", "mri", "xray", "ct", "pet"] = "bone_scintigraphy"
    reference_limits: dict[str, ReferenceLimit] = {}
    endpoints: tuple[Endpoint, ...]
    summary: tuple[str, ...] = Field((), description="results sentences with {endpoint.id} placeholders")

    def timepoint(self, tid: str) -> Timepoint:
        return next(t for t in self.timepoints if t.id == tid)

    def endpoint(self, eid: str):
        return next(e for e in self.endpoints if e.id == eid)
