"""Criteria of the protocol language: patient-level statements that are true, false or missing.

A criterion is a mapping with exactly one key naming its kind (``{pga: {...}}``,
``{all: [...]}``); the key selects the type, so that a misspelt kind is reported as itself with
the nearest valid kinds (``load.py``) instead of as every alternative failing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

__all__ = [
    "AgeCriterion", "AllOf", "AnyOf", "AssessmentCriterion", "CenterCriterion", "ChangeCriterion",
    "CourseCriterion", "Criterion", "CRITERION_KINDS", "DiagnosisCriterion", "LabDecreased", "LabElevated",
    "LabNormal", "LesionFilter", "Modality", "NewLesions", "Not", "PedcnoCriterion", "PgaCriterion",
    "SexCriterion", "TreatmentCriterion", "TreatmentSelection", "key_of",
]

PGA_LEVELS = ("none", "minimal", "mild", "moderate", "severe")
Modality = Literal["bone_scintigraphy", "wb_mri", "mri", "xray", "ct", "pet"]
Op = Literal["<", "<=", ">", ">=", "==", "!="]
AssessmentField = Literal["pga_vas", "patient_global_vas", "pain_vas", "chaq_di", "bone_pain",
                          "local_swelling", "functional_impairment", "fever"]
DiagnosisField = Literal["typical_clinical", "typical_radiological", "normal_blood_count", "normal_temperature",
                         "symmetric_lesions", "marginal_sclerosis", "vertebral_clavicular_or_sternal_lesion",
                         "clavicle_only", "multifocal", "femur", "biopsy_inflammatory_sterile"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TreatmentSelection(_Strict):
    """Which courses count: any drug of ``drugs``, of ``classes`` or with a ``targets`` entry
    (the union), optionally only the courses that start a line of therapy (``line``, from
    ``vocabularies/lines.yaml``); ``systemic_only`` leaves topical courses out."""

    drugs: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    line: str | None = None
    systemic_only: bool = False

    @property
    def empty(self) -> bool:
        return not (self.drugs or self.classes or self.targets or self.line)


class LesionFilter(_Strict):
    """Which lesions an endpoint counts: only symptomatic (or only silent) ones, of some regions
    or bones, on another modality than the protocol's. Empty fields filter nothing."""

    symptomatic: bool | None = None
    regions: tuple[str, ...] = ()
    bones: tuple[str, ...] = ()
    modality: Modality | None = None

    @property
    def filters_sites(self) -> bool:
        return bool(self.regions or self.bones)


class _PgaArgs(_Strict):
    at: str
    in_: tuple[Literal["none", "minimal", "mild", "moderate", "severe"], ...] = Field(alias="in")


class PgaCriterion(_Strict):
    pga: _PgaArgs


class _AssessmentArgs(_Strict):
    field: AssessmentField
    at: str
    op: Op = "=="
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


class _NewLesionArgs(LesionFilter):
    from_: str = Field(alias="from")
    to: str


class NewLesions(_Strict):
    """At least one new lesion at ``to`` (matched to none at ``from``), among the lesions the
    filter keeps; with ``symptomatic``, an empty ``symptomatic`` counts as not symptomatic."""

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


class _CenterArgs(_Strict):
    in_: tuple[str, ...] = Field(alias="in", min_length=1)


class CenterCriterion(_Strict):
    """The patient's ``center`` is one of ``in`` (compared after trimming, case-sensitive)."""

    center: _CenterArgs


class _AgeArgs(_Strict):
    at: Literal["index", "onset", "diagnosis"] = "index"
    op: Op
    value: float = Field(ge=0)


class AgeCriterion(_Strict):
    """Age in years (days / 365.25) at the index date, at onset or at diagnosis, from
    ``birth_date`` (a ``YYYY-MM`` birth date is taken as the 15th of that month)."""

    age: _AgeArgs


class _TreatmentArgs(TreatmentSelection):
    when: Literal["before_index", "after_index", "ever", "index"] = "before_index"


class TreatmentCriterion(_Strict):
    """The patient had a course of the selection: started before the index date, after it,
    ever, or ``index`` (the index course itself is of the selection)."""

    treatment: _TreatmentArgs


class _DiagnosisArgs(_Strict):
    field: DiagnosisField
    value: bool = True


class DiagnosisCriterion(_Strict):
    """A yes/no item of the ``diagnosis`` table equals ``value`` (missing when empty)."""

    diagnosis: _DiagnosisArgs


class _ChangeArgs(LesionFilter):
    of: str
    from_: str = Field(alias="from")
    to: str
    op: Op
    value: float
    percent: bool = False


class ChangeCriterion(_Strict):
    """The change of a variable from ``from`` to ``to`` (``to - from``; with ``percent``,
    ``100 (to - from) / from``, missing when ``from`` is 0) compared with ``value``: "fell by 2
    or more" is ``op: "<=", value: -2``."""

    change: _ChangeArgs


class _CourseArgs(_Strict):
    measure: str
    at: str | None = None
    op: Op = "=="
    value: float | bool | str = True


class CourseCriterion(_Strict):
    """A per-patient course measure (``cnotrack.courses``) compared with ``value``."""

    course: _CourseArgs


class AllOf(_Strict):
    all: tuple["Criterion", ...] = Field(min_length=1)


class AnyOf(_Strict):
    any: tuple["Criterion", ...] = Field(min_length=1)


class Not(_Strict):
    not_: "Criterion" = Field(alias="not")


_KINDS: dict[str, type[_Strict]] = {
    "pga": PgaCriterion, "assessment": AssessmentCriterion, "lab_elevated": LabElevated,
    "lab_normal": LabNormal, "lab_decreased": LabDecreased, "new_lesions": NewLesions,
    "pedcno": PedcnoCriterion, "sex": SexCriterion, "center": CenterCriterion, "age": AgeCriterion,
    "treatment": TreatmentCriterion, "diagnosis": DiagnosisCriterion, "change": ChangeCriterion,
    "course": CourseCriterion, "all": AllOf, "any": AnyOf, "not": Not,
}
CRITERION_KINDS = tuple(_KINDS)


def key_of(value: Any) -> str | None:
    """The kind of a criterion: its only key (a model's own kind), else ``None``."""
    if isinstance(value, BaseModel):
        return next((k for k, t in _KINDS.items() if isinstance(value, t)), None)
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return None


Criterion = Annotated[
    Union[tuple(Annotated[t, Tag(k)] for k, t in _KINDS.items())],  # type: ignore[misc]
    Discriminator(key_of, custom_error_type="criterion_kind",
                  custom_error_message="a criterion is a mapping with one key naming its kind"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()

