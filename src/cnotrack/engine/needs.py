"""What a protocol's endpoints need from the data: which values at which timepoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..protocols.model import Count, Distribution, Protocol, Proportion

__all__ = ["Needs", "protocol_needs"]


@dataclass
class Needs:
    pga: set[str] = field(default_factory=set)                      # timepoints
    assessments: set[tuple[str, str]] = field(default_factory=set)  # (field, timepoint)
    labs: set[tuple[str, str]] = field(default_factory=set)         # (test, timepoint)
    studies: set[str] = field(default_factory=set)                  # timepoints
    lesion_pairs: set[tuple[str, str]] = field(default_factory=set) # (from, to)


def protocol_needs(protocol: Protocol) -> Needs:
    needs = Needs()
    for endpoint in protocol.endpoints:
        if isinstance(endpoint, Proportion):
            _criterion(endpoint.criterion.model_dump(by_alias=True), needs)
            if endpoint.among is not None:
                _criterion(endpoint.among.model_dump(by_alias=True), needs)
        elif isinstance(endpoint, Count):
            if endpoint.patients not in (None, "all"):
                _criterion(endpoint.patients.model_dump(by_alias=True), needs)
            for pair in (endpoint.lesions, endpoint.patients_missing_studies):
                if pair is not None:
                    _pair(pair.from_, pair.to, needs)
        elif isinstance(endpoint, Distribution):
            m = endpoint.measure
            if m.lab_value:
                needs.labs.add((m.lab_value.test, m.lab_value.at))
            if m.assessment_value:
                needs.assessments.add((m.assessment_value.field, m.assessment_value.at))
            if m.lesion_count:
                needs.studies.add(m.lesion_count.at)
    return needs


def _pair(first: str, second: str, needs: Needs) -> None:
    needs.studies.update((first, second))
    needs.lesion_pairs.add((first, second))


def _criterion(node: dict, needs: Needs) -> None:
    (kind, args), = node.items()
    if kind in ("all", "any"):
        for child in args:
            _criterion(child, needs)
    elif kind == "not":
        _criterion(args, needs)
    elif kind == "pga":
        needs.pga.add(args["at"])
    elif kind == "assessment":
        needs.assessments.add((args["field"], args["at"]))
    elif kind in ("lab_elevated", "lab_normal"):
        needs.labs.add((args["test"], args["at"]))
    elif kind == "lab_decreased":
        needs.labs.update({(args["test"], args["from"]), (args["test"], args["to"])})
    elif kind == "new_lesions":
        _pair(args["from"], args["to"], needs)
    elif kind == "pedcno":
        for tp in (args["from"], args["to"]):
            needs.labs.add(("ESR", tp))
            needs.studies.add(tp)
            needs.assessments.update({(f, tp) for f in ("pga_vas", "patient_global_vas", "chaq_di")})
