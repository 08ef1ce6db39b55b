"""A protocol said in words: criteria as phrases, the whole protocol as a methods paragraph."""

from __future__ import annotations

from ..protocols.model import (
    AllOf, AnyOf, AssessmentCriterion, Count, Criterion, Distribution, LabDecreased, LabElevated,
    LabNormal, Measure, NewLesions, Not, PedcnoCriterion, PgaCriterion, Protocol, Proportion, SexCriterion,
)
from ..vocabulary import drugs

__all__ = ["describe_criterion", "describe_measure", "methods_paragraph"]

_FIELDS = {"pga_vas": "physician global assessment (0-10)", "patient_global_vas": "patient global assessment (0-10)",
           "pain_vas": "pain (0-10)", "chaq_di": "CHAQ disability index", "bone_pain": "bone pain",
           "local_swelling": "local swelling", "functional_impairment": "functional impairment",
           "fever": "fever"}
_OPS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "equal to", "!=": "not equal to"}


def _tp(protocol: Protocol | None, tid: str) -> str:
    return protocol.timepoint(tid).label if protocol else tid


def _join(words: list[str], last: str) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def describe_criterion(c: Criterion, protocol: Protocol | None = None) -> str:
    """A phrase such as "PGA none or minimal at month6"."""
    if isinstance(c, AllOf):
        return _join([describe_criterion(x, protocol) for x in c.all], "and")
    if isinstance(c, AnyOf):
        return "(" + _join([describe_criterion(x, protocol) for x in c.any], "or") + ")"
    if isinstance(c, Not):
        return f"not ({describe_criterion(c.not_, protocol)})"
    if isinstance(c, PgaCriterion):
        return f"PGA {_join(list(c.pga.in_), 'or')} at {_tp(protocol, c.pga.at)}"
    if isinstance(c, AssessmentCriterion):
        a = c.assessment
        if isinstance(a.value, bool):
            return f"{'' if a.value else 'no '}{_FIELDS[a.field]} at {_tp(protocol, a.at)}"
        return f"{_FIELDS[a.field]} {_OPS[a.op]} {a.value:g} at {_tp(protocol, a.at)}"
    if isinstance(c, LabElevated):
        return f"{c.lab_elevated.test} elevated at {_tp(protocol, c.lab_elevated.at)}"
    if isinstance(c, LabNormal):
        return f"{c.lab_normal.test} normal at {_tp(protocol, c.lab_normal.at)}"
    if isinstance(c, LabDecreased):
        d = c.lab_decreased
        return f"{d.test} lower at {_tp(protocol, d.to)} than at {_tp(protocol, d.from_)}"
    if isinstance(c, NewLesions):
        n = c.new_lesions
        kind = {None: "", True: "symptomatic ", False: "clinically silent "}[n.symptomatic]
        return f"at least one {kind}new lesion at {_tp(protocol, n.to)} (not seen at {_tp(protocol, n.from_)})"
    if isinstance(c, PedcnoCriterion):
        a = c.pedcno
        return (f"a PedCNO-{a.level} response at {_tp(protocol, a.to)} compared with {_tp(protocol, a.from_)} "
                f"(at least 3 of ESR, MRI lesion count, physician and patient global VAS and CHAQ DI improved "
                f"by {a.level}% or more, at most one worsened by more than {a.worsening_limit:g}%)")
    if isinstance(c, SexCriterion):
        return "sex " + _join(list(c.sex.in_), "or")
    raise TypeError(c)


def describe_measure(m: Measure, protocol: Protocol) -> str:
    if m.follow_up_years:
        return f"Years from the index date to the {_tp(protocol, m.follow_up_years.to)} (days / 365.25)"
    if m.lab_value:
        return f"{m.lab_value.test} at {_tp(protocol, m.lab_value.at)}"
    if m.assessment_value:
        return f"{_FIELDS[m.assessment_value.field]} at {_tp(protocol, m.assessment_value.at)}"
    return f"Number of active lesions at {_tp(protocol, m.lesion_count.at)}"


def methods_paragraph(protocol: Protocol) -> str:
    """The protocol as a methods section would state it, generated from the definition."""
    index = protocol.index_treatment
    drug = index.name
    parts = [f"Protocol {protocol.id}: {protocol.title}."]
    if protocol.citation:
        parts.append(f"Source: {protocol.citation}")
    if index.drug:
        d = drugs().drug(index.drug)
        what = f"{index.drug} ({d.drug_class}{', ATC ' + d.atc if d.atc else ''})"
    else:
        what = "any drug of the classes " + _join(list(index.classes), "or")
    parts.append(f"The index treatment is each patient's first course of {what}; the index date "
                 "(day 0) is its start date.")
    el = protocol.eligibility
    conds = [f"a course of {p.label} that started before the index date" for p in el.prior_treatments]
    if el.minimum_course_days is not None:
        conds.append(f"{_article(drug)} {drug} course of at least {el.minimum_course_days} days (stopped no earlier than "
                     f"day {el.minimum_course_days}, or ongoing with an assessment on or after that day)")
    if conds:
        parts.append("Patients are eligible with " + _join(conds, "and") +
                     "; every other patient is listed as excluded with the reason.")
    tps = []
    for t in protocol.timepoints:
        if t.anchor == "last_assessment":
            tps.append(f"{t.label} (the patient's latest assessment)")
        else:
            tps.append(f"{t.label} (day {t.target_day}, window day {t.window[0]} to {t.window[1]})")
    parts.append("Timepoints: " + "; ".join(tps) + ". For each kind of data (PGA, each laboratory test, "
                 "each imaging study) the value at a timepoint is the one closest to the target day inside "
                 "the window, the earlier on a tie; empty values are ignored; none in the window is missing.")
    if protocol.reference_limits:
        limits = ", ".join(f"{k} {v.upper:g} {v.unit}" for k, v in protocol.reference_limits.items())
        parts.append("A laboratory value is elevated when above its laboratory's upper reference limit, or, "
                     f"where none is given, the default ({limits}); a censored value <x is compared as x.")
    parts.append(f"Lesions are counted on {modality_name(protocol.imaging_modality)} studies; each lesion "
                 "of the earlier study is matched to the later one by lesion identifier, then by bone, side "
                 "and segment, then by bone and side, and is resolved, improved, worsened or stable; "
                 "unmatched lesions of the later study are new.")
    for e in protocol.endpoints:
        parts.append(endpoint_sentence(e, protocol))
    return " ".join(parts)


def endpoint_sentence(e, protocol: Protocol) -> str:
    if isinstance(e, Proportion):
        group = "eligible patients" if e.among is None else \
            f"eligible patients with {describe_criterion(e.among, protocol)}"
        return f"{e.id}: the proportion of {group} with {describe_criterion(e.criterion, protocol)}."
    if isinstance(e, Count):
        return f"{e.id}: the number of {e.label}."
    if isinstance(e, Distribution):
        return f"{e.id}: {describe_measure(e.measure, protocol).lower()}, as median, quartiles and range."
    raise TypeError(e)


MODALITY_NAMES = {"bone_scintigraphy": "bone scintigraphy", "wb_mri": "whole-body MRI", "mri": "MRI",
                  "xray": "radiograph", "ct": "CT", "pet": "PET"}


def modality_name(modality: str) -> str:
    return MODALITY_NAMES[modality]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
