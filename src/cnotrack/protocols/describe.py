"""A protocol said in words: criteria as phrases, the whole protocol as a methods paragraph."""

from __future__ import annotations

from ..protocols.model import (
    AgeCriterion, AllOf, AnyOf, AssessmentCriterion, CenterCriterion, ChangeCriterion, Count,
    CourseCriterion, Criterion, DiagnosisCriterion, Distribution, IndexTreatment, LabDecreased, LabElevated,
    LabNormal, LesionFilter, Measure, NewLesions, Not, PedcnoCriterion, PgaCriterion, Protocol, Proportion,
    SexCriterion, TimeToEvent, TreatmentCriterion,
)
from ..protocols.model import NewLesionEvent  # an event, not in the model's __all__
from ..vocabulary import drugs
from .describe_v2 import (
    COMPARISON_TESTS, KM_MEDIAN_RULES, describe_comparison, describe_event, describe_lesion_filter,
    describe_line, describe_selection, describe_variable, lower_first, paired_tests_sentence,
)

__all__ = ["describe_criterion", "describe_index", "describe_measure", "endpoint_sentence", "methods_paragraph"]

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
        where = describe_lesion_filter(n.model_copy(update={"symptomatic": None}))
        return (f"at least one {kind}new lesion{where} at {_tp(protocol, n.to)} "
                f"(not seen at {_tp(protocol, n.from_)})")
    if isinstance(c, PedcnoCriterion):
        a = c.pedcno
        return (f"a PedCNO-{a.level} response at {_tp(protocol, a.to)} compared with {_tp(protocol, a.from_)} "
                f"(at least 3 of ESR, MRI lesion count, physician and patient global VAS and CHAQ DI improved "
                f"by {a.level}% or more, at most one worsened by more than {a.worsening_limit:g}%)")
    if isinstance(c, SexCriterion):
        return "sex " + _join(list(c.sex.in_), "or")
    if isinstance(c, CenterCriterion):
        return "center " + _join(list(c.center.in_), "or")
    if isinstance(c, AgeCriterion):
        return f"age at {_AGE_AT[c.age.at]} {_OPS[c.age.op]} {c.age.value:g} years"
    if isinstance(c, TreatmentCriterion):
        t = c.treatment
        what = describe_selection(t)
        if t.when == "index":
            return f"an index course of {what}"
        return f"a course of {what} " + {"before_index": "that started before the index date",
                                         "after_index": "other than the index course that started on or after the index date",
                                         "ever": "at any time"}[t.when]
    if isinstance(c, DiagnosisCriterion):
        field = c.diagnosis.field.replace("_", " ")
        return f"{field} {'yes' if c.diagnosis.value else 'no'} at diagnosis (diagnosis table)"
    if isinstance(c, ChangeCriterion):
        ch = c.change
        return f"a {_change_words(ch, protocol)} {_OPS[ch.op]} {ch.value:g}{'%' if ch.percent else ''}"
    if isinstance(c, CourseCriterion):  # the measure's own words, from cnotrack.courses
        from ..courses.registry import describe_course

        return describe_course(c.course.measure, c.course.at, protocol, c.course.op, c.course.value)
    raise TypeError(c)


_AGE_AT = {"index": "the index date", "onset": "onset", "diagnosis": "diagnosis"}


def _change_words(ch, protocol: Protocol | None, percent: bool | None = None) -> str:
    """ "change in pain (0-10) from baseline to month 3 (month 3 minus baseline)"."""
    percent = ch.percent if percent is None else percent
    what = describe_variable(ch.of, ch, protocol)
    a, b = _tp(protocol, ch.from_), _tp(protocol, ch.to)
    if percent:
        return (f"percent change in {what} from {a} to {b} (100 ({b} - {a}) / {a}; missing when the {a} "
                "value is 0)")
    return f"change in {what} from {a} to {b} ({b} minus {a})"


def describe_index(index: IndexTreatment) -> str:
    """The index course in words: "anakinra (biologic, ATC L04AC03)", "any drug of the classes
    nsaid or biologic" (v1), "any of adalimumab or etanercept", "the course that starts the
    second-line treatment (...)"."""
    if index.drug and not index.line:
        d = drugs().drug(index.drug)
        what = f"{index.drug} ({d.drug_class}{', ATC ' + d.atc if d.atc else ''})"
    elif index.classes and not (index.drugs or index.targets or index.line):
        what = "any drug of the classes " + _join(list(index.classes), "or")
    else:
        what = describe_selection(index.selection.model_copy(update={"line": None, "systemic_only": False}))
    if index.systemic_only:
        what += " (topical courses not counted)"
    if index.line:
        rule = f"the course that starts each patient's {describe_line(index.line)}"
        return rule + ("" if index.selection.model_copy(update={"line": None}).empty else f", when it is of {what}")
    return what


def describe_measure(m: Measure, protocol: Protocol) -> str:
    if m.follow_up_years:
        return f"Years from the index date to the {_tp(protocol, m.follow_up_years.to)} (days / 365.25)"
    if m.lab_value:
        return f"{m.lab_value.test} at {_tp(protocol, m.lab_value.at)}"
    if m.assessment_value:
        return f"{_FIELDS[m.assessment_value.field]} at {_tp(protocol, m.assessment_value.at)}"
    if m.course:
        from ..courses.registry import describe_course

        return describe_course(m.course.measure, m.course.at, protocol)
    if m.value:
        what = describe_variable(m.value.of, m.value, protocol)
        return f"{what[:1].upper()}{what[1:]} at {_tp(protocol, m.value.at)}"
    if m.change:
        text = _change_words(m.change, protocol, percent=False)
        return text[:1].upper() + text[1:]
    if m.percent_change:
        text = _change_words(m.percent_change, protocol, percent=True)
        return text[:1].upper() + text[1:]
    if m.age:
        return f"Age in years at {_AGE_AT[m.age.at]} (days from the birth date / 365.25)"
    return (f"Number of active lesions{describe_lesion_filter(m.lesion_count)} "
            f"at {_tp(protocol, m.lesion_count.at)}")


def methods_paragraph(protocol: Protocol) -> str:
    """The protocol as a methods section would state it, generated from the definition."""
    index = protocol.index_treatment
    drug = index.name
    parts = [f"Protocol {protocol.id}: {protocol.title}."]
    if protocol.citation:
        parts.append(f"Source: {protocol.citation}")
    what = describe_index(index)
    if index.line:
        parts.append(f"The index treatment is {what}; the index date (day 0) is its start date.")
    else:
        parts.append(f"The index treatment is each patient's first course of {what}; the index date "
                     "(day 0) is its start date.")
    el = protocol.eligibility
    conds = [f"a course of {p.label} that started before the index date" for p in el.prior_treatments]
    if el.minimum_course_days is not None:
        conds.append(f"{_article(drug)} {drug} course of at least {el.minimum_course_days} days (stopped no earlier than "
                     f"day {el.minimum_course_days}, or ongoing with an assessment on or after that day)")
    conds += [describe_criterion(c, None) for c in el.require]
    if conds:
        parts.append("Patients are eligible with " + _join(conds, "and") +
                     "; every other patient is listed as excluded with the reason.")
    if el.exclude:
        parts.append("Patients with " + _join([describe_criterion(c, None) for c in el.exclude], "or with")
                     + " are excluded" + ("." if conds else ", and listed with the reason."))
    if el.exclude_patients:
        listed = "; ".join(f"{x.patient_id}: {x.reason}" for x in el.exclude_patients)
        n = len(el.exclude_patients)
        parts.append(f"{n} {'patient is' if n == 1 else 'patients are'} left out by name ({listed}).")
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
    if any(isinstance(e, TimeToEvent) for e in protocol.endpoints):
        parts.append(KM_MEDIAN_RULES[protocol.km_median])
    if protocol.paired_tests is not None:
        parts.append(paired_tests_sentence(protocol))
    for comparison in protocol.compare:
        parts.append(describe_comparison(comparison, protocol, describe_criterion))
    if protocol.compare:
        parts.append(COMPARISON_TESTS)
    return " ".join(parts)


def endpoint_sentence(e, protocol: Protocol) -> str:
    if isinstance(e, Proportion):
        group = "eligible patients" if e.among is None else \
            f"eligible patients with {describe_criterion(e.among, protocol)}"
        return f"{e.id}: the proportion of {group} with {describe_criterion(e.criterion, protocol)}."
    if isinstance(e, Count):
        chosen = e.lesions or e.patients_missing_studies
        where = describe_lesion_filter(LesionFilter.model_validate(
            chosen.model_dump(include=set(LesionFilter.model_fields)))) if chosen is not None else ""
        return f"{e.id}: the number of {e.label}" + (f" (lesions{where})" if where else "") + "."
    if isinstance(e, Distribution):
        text = describe_measure(e.measure, protocol)
        text = text.lower() if e.measure.kind not in _CASED else lower_first(text)
        return f"{e.id}: {text}, as median, quartiles and range."
    if isinstance(e, TimeToEvent):
        start = {"index": "the index date", "diagnosis": "diagnosis", "onset": "onset"}[e.start]
        times = _join([f"{t:g}" for t in e.times_years], "and")
        follow = "the patient's latest imaging study" if isinstance(e.event, NewLesionEvent) else \
            "the patient's latest assessment"
        return (f"{e.id}: days from {start} to the first {describe_event(e.event, protocol)} after it, censored "
                f"at the last follow-up ({follow}), as a Kaplan-Meier estimate with the numbers at risk at "
                f"{times} years.")
    raise TypeError(e)


#: measures whose words keep their capitals (names, tests): all but the v1 ones, lowercased as before
_CASED = {"value", "change", "percent_change", "course", "age"}


MODALITY_NAMES = {"bone_scintigraphy": "bone scintigraphy", "wb_mri": "whole-body MRI", "mri": "MRI",
                  "xray": "radiograph", "ct": "CT", "pet": "PET"}


def modality_name(modality: str) -> str:
    return MODALITY_NAMES[modality]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
