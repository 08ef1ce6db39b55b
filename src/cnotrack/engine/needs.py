"""What a protocol's endpoints need from the data: which values at which timepoints.

Besides the v1 needs (PGA, assessment fields, lab tests, studies of the protocol's modality and
lesion pairs), language v2 needs the PGA coded 0-4 (``pga_ordinal``), studies of other
modalities (``modality_studies``), lesion counts and lesion pairs under a lesion filter
(``lesion_counts``, ``filtered_pairs``, keyed by ``lesion_filters.filter_key``) and changes of a
variable between two timepoints (``changes``). Column names are in ``changes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ProtocolError
from ..protocols.criteria import LesionFilter
from ..protocols.model import VARIABLES, Count, Distribution, Protocol, Proportion
from ..vocabulary import lab_tests
from .lesion_filters import check_filter, effective, filter_key

__all__ = ["Needs", "check_variable", "protocol_needs"]

ASSESSMENT_VARIABLES = ("pga_vas", "patient_global_vas", "pain_vas", "chaq_di")
_FILTER_FIELDS = ("symptomatic", "regions", "bones", "modality")


@dataclass
class Needs:
    pga: set[str] = field(default_factory=set)                      # timepoints
    assessments: set[tuple[str, str]] = field(default_factory=set)  # (field, timepoint)
    labs: set[tuple[str, str]] = field(default_factory=set)         # (test, timepoint)
    studies: set[str] = field(default_factory=set)                  # timepoints
    lesion_pairs: set[tuple[str, str]] = field(default_factory=set) # (from, to)
    pga_ordinal: set[str] = field(default_factory=set)              # timepoints of pga_ord@<tp>
    modality_studies: set[tuple[str, str]] = field(default_factory=set)  # (modality, timepoint)
    lesion_counts: dict[tuple[str, str], LesionFilter] = field(default_factory=dict)  # (tp, key)
    filtered_pairs: dict[tuple[str, str, str], LesionFilter] = field(default_factory=dict)  # (from, to, key)
    changes: dict[tuple[str, str, str, str], LesionFilter | None] = field(default_factory=dict)  # (of, key, from, to)
    courses: set[tuple[str, str | None]] = field(default_factory=set)  # (measure, timepoint or None): course.<m>[@<tp>]
    time_to_event: bool = False  # the tte.<id>.* columns of the protocol's time-to-event endpoints


def check_variable(of: str, where: str) -> None:
    """Raise ``ProtocolError`` unless ``of`` is a variable of ``VARIABLES`` or a lab test code."""
    codes = [t.code for t in lab_tests().tests]
    if of not in VARIABLES and of not in codes:
        raise ProtocolError(f"{where}: unknown variable of: {of!r}; use one of {', '.join(VARIABLES)} "
                            f"or a lab test code ({', '.join(codes)})")


def _filter_of(args: Any) -> LesionFilter:
    if isinstance(args, LesionFilter):
        return LesionFilter(**{k: getattr(args, k) for k in _FILTER_FIELDS})
    return LesionFilter(**{k: args[k] for k in _FILTER_FIELDS if k in args and args[k] is not None})


def protocol_needs(protocol: Protocol) -> Needs:
    needs = Needs()
    modality = protocol.imaging_modality
    for endpoint in protocol.endpoints:
        where = f"endpoint {endpoint.id!r}"
        if isinstance(endpoint, Proportion):
            _criterion(endpoint.criterion.model_dump(by_alias=True), needs, modality, where)
            if endpoint.among is not None:
                _criterion(endpoint.among.model_dump(by_alias=True), needs, modality, where)
        elif isinstance(endpoint, Count):
            if endpoint.patients not in (None, "all"):
                _criterion(endpoint.patients.model_dump(by_alias=True), needs, modality, where)
            if endpoint.lesions is not None:
                sel = endpoint.lesions
                _pair(sel.from_, sel.to, needs, _filter_of(sel), modality, where)
            pair = endpoint.patients_missing_studies
            if pair is not None:
                if pair.modality in (None, modality):
                    _pair(pair.from_, pair.to, needs, None, modality, where)
                else:
                    needs.modality_studies.update({(pair.modality, pair.from_), (pair.modality, pair.to)})
        elif isinstance(endpoint, Distribution):
            m = endpoint.measure
            if m.lab_value:
                needs.labs.add((m.lab_value.test, m.lab_value.at))
            if m.assessment_value:
                needs.assessments.add((m.assessment_value.field, m.assessment_value.at))
            if m.lesion_count:
                _value("lesions", m.lesion_count.at, _filter_of(m.lesion_count), needs, modality, where)
            if m.value:
                check_variable(m.value.of, where)
                _value(m.value.of, m.value.at, _filter_of(m.value), needs, modality, where)
            for change in (m.change, m.percent_change):
                if change is not None:
                    _change(change.of, change.from_, change.to, _filter_of(change), needs, modality, where)
            if m.course:
                needs.courses.add((m.course.measure, m.course.at))
    needs.time_to_event = any(e.kind == "time_to_event" for e in protocol.endpoints)
    for comparison in protocol.compare:  # a criterion that makes the groups needs its values too
        if not isinstance(comparison.by, str):
            _criterion(comparison.by.model_dump(by_alias=True), needs, modality, f"compare {comparison.key!r}")
    return needs


def _value(of: str, tp: str, lesion_filter: LesionFilter | None, needs: Needs, modality: str, where: str) -> None:
    """Register the value of ``of`` at ``tp`` (column ``changes.value_column``)."""
    if of == "pga":
        needs.pga.add(tp)
        needs.pga_ordinal.add(tp)
    elif of in ASSESSMENT_VARIABLES:
        needs.assessments.add((of, tp))
    elif of == "lesions":
        check_filter(lesion_filter, where)
        f = effective(lesion_filter, modality)
        if f is None:
            needs.studies.add(tp)
        else:
            needs.lesion_counts[(tp, filter_key(f))] = f
            if f.modality:
                needs.modality_studies.add((f.modality, tp))
            else:
                needs.studies.add(tp)
    else:
        needs.labs.add((of, tp))


def _change(of: str, first: str, second: str, lesion_filter: LesionFilter, needs: Needs, modality: str,
            where: str) -> None:
    check_variable(of, where)
    f = effective(lesion_filter, modality) if of == "lesions" else None
    for tp in (first, second):
        _value(of, tp, f, needs, modality, where)
    needs.changes[(of, filter_key(f), first, second)] = f


def _pair(first: str, second: str, needs: Needs, lesion_filter: LesionFilter | None, modality: str,
          where: str = "a lesion endpoint") -> None:
    check_filter(lesion_filter, where)
    f = effective(lesion_filter, modality)
    if f is None:
        needs.studies.update((first, second))
        needs.lesion_pairs.add((first, second))
        return
    needs.filtered_pairs[(first, second, filter_key(f))] = f
    if f.modality:
        needs.modality_studies.update({(f.modality, first), (f.modality, second)})
    else:
        needs.studies.update((first, second))


def _criterion(node: dict, needs: Needs, modality: str = "bone_scintigraphy", where: str = "a criterion") -> None:
    (kind, args), = node.items()
    if kind in ("all", "any"):
        for child in args:
            _criterion(child, needs, modality, where)
    elif kind == "not":
        _criterion(args, needs, modality, where)
    elif kind == "pga":
        needs.pga.add(args["at"])
    elif kind == "assessment":
        needs.assessments.add((args["field"], args["at"]))
    elif kind in ("lab_elevated", "lab_normal"):
        needs.labs.add((args["test"], args["at"]))
    elif kind == "lab_decreased":
        needs.labs.update({(args["test"], args["from"]), (args["test"], args["to"])})
    elif kind == "new_lesions":
        _pair(args["from"], args["to"], needs, _filter_of(args), modality, where)
    elif kind == "change":
        _change(args["of"], args["from"], args["to"], _filter_of(args), needs, modality, where)
    elif kind == "course":
        needs.courses.add((args["measure"], args["at"]))
    elif kind in ("sex", "center", "age", "treatment", "diagnosis"):
        pass  # cohort columns: build_cohort adds them to the eligible table (engine.patient_criteria)
    elif kind == "pedcno":
        for tp in (args["from"], args["to"]):
            needs.labs.add(("ESR", tp))
            needs.studies.add(tp)
            needs.assessments.update({(f, tp) for f in ("pga_vas", "patient_global_vas", "chaq_di")})
