"""Words for the constructs of protocol language v2: treatment selections, lesion filters, the
variables of values and changes, events, comparisons, paired tests and the Kaplan-Meier median.

``describe.py`` assembles these into criteria phrases and the methods paragraph; a v1 protocol
uses none of them, so its paragraph is unchanged.
"""

from __future__ import annotations

from typing import Callable

from ..vocabulary import anatomy, drugs, lines
from .criteria import LesionFilter, TreatmentSelection
from .model import (
    Comparison, FlareEvent, NewLesionEvent, PgaReached, Protocol, TreatmentStarted, TreatmentStopped,
)

__all__ = ["COMPARISON_TESTS", "KM_MEDIAN_RULES", "describe_comparison", "describe_line", "describe_event", "describe_lesion_filter",
           "describe_selection", "describe_variable", "lower_first", "paired_tests_sentence"]

MODALITY_WORDS = {"bone_scintigraphy": "bone scintigraphy", "wb_mri": "whole-body MRI", "mri": "MRI",
                  "xray": "radiograph", "ct": "CT", "pet": "PET"}
_VARIABLES = {"pga": "PGA (coded 0-4, none to severe)", "pga_vas": "physician global assessment (0-10)",
              "patient_global_vas": "patient global assessment (0-10)", "pain_vas": "pain (0-10)",
              "chaq_di": "CHAQ disability index", "lesions": "number of active lesions"}

#: the Kaplan-Meier median where the curve sits at exactly 0.5 over an interval
KM_MEDIAN_RULES = {
    "midpoint": ("Kaplan-Meier medians are the first time the survival estimate falls below 0.5; where it "
                 "stays at exactly 0.5 over an interval, the midpoint of that interval (to the next event "
                 "time), as R's quantile(survfit) computes it (survival 3.5-3)."),
    "first": ("Kaplan-Meier medians are the first time the survival estimate reaches 0.5 or less (where it "
              "stays at exactly 0.5 over an interval, the start of that interval), as "
              "min(time[surv <= 0.5]) in R."),
}


def _join(words: list[str], last: str) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def lower_first(text: str) -> str:
    """The first letter in lower case, unless the word is an acronym ("NSAID", "CRP")."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _drugs(drug_names, classes, targets) -> list[str]:
    vocabulary = drugs()
    return [*drug_names, *(f"any {lower_first(vocabulary.classes.get(c, c))}" for c in classes),
            *(f"any {vocabulary.targets[t].label if t in vocabulary.targets else t}" for t in targets)]


def describe_line(name: str) -> str:
    """ "second-line treatment (the first course of any conventional DMARD, ..., as
    vocabularies/lines.yaml defines it)"."""
    line = lines().line(name)
    chosen = line.selection
    rule = _join(_drugs(chosen.drugs, chosen.classes, chosen.targets), "or")
    nth = {2: "second", 3: "third"}.get(line.order, f"{line.order}th")
    of = f"the first course of the {nth} distinct drug of {rule}" if line.order > 1 else f"the first course of {rule}"
    return f"{line.label} ({of}, as vocabularies/lines.yaml defines it)"


def describe_selection(s: TreatmentSelection) -> str:
    """ "adalimumab, any NSAID or any TNF inhibitor"; with a line, "the course that starts the
    second-line treatment (...), when it is of ..."."""
    parts = _drugs(s.drugs, s.classes, s.targets)
    what = _join(parts, "or") if parts else ""
    if s.systemic_only and what:
        what += " (topical courses not counted)"
    if s.line is None:
        return what or "any drug"
    return f"the course that starts the {describe_line(s.line)}" + (f", when it is of {what}" if what else "")


def describe_lesion_filter(f: LesionFilter) -> str:
    """ " (symptomatic only) of the spine or pelvis on whole-body MRI": empty without a filter."""
    words = ""
    if f.symptomatic is not None:
        words += " (symptomatic only)" if f.symptomatic else " (clinically silent only)"
    sites = [anatomy().regions.get(r, r).lower() for r in f.regions]
    sites += [next((b.label for b in anatomy().bones if b.name == name), name).lower() for name in f.bones]
    if sites:
        words += " of the " + _join(sites, "or")
    if f.modality is not None:
        words += f" on {MODALITY_WORDS[f.modality]}"
    return words


def describe_variable(of: str, f: LesionFilter | None = None, protocol: Protocol | None = None) -> str:
    """The variable a value or change is taken of: a lab test code, or one of ``VARIABLES``."""
    if of == "lesions":
        return _VARIABLES[of] + (describe_lesion_filter(f) if f is not None else "")
    if of in _VARIABLES:
        return _VARIABLES[of]
    unit = ""
    try:
        from ..vocabulary import lab_tests

        unit = f" ({lab_tests().test(of).canonical_unit})"
    except KeyError:
        pass
    return f"{of}{unit}"


def describe_event(event: object, protocol: Protocol) -> str:
    """ "start of a course of any TNF inhibitor", "flare (NSAID restart: ...)"."""
    if isinstance(event, TreatmentStarted):
        chosen = event.treatment_started
        if chosen.line is not None:
            return f"start of {describe_selection(chosen).removeprefix('the course that starts ')}"
        return f"start of a course of {describe_selection(chosen)}"
    if isinstance(event, TreatmentStopped):
        reasons = [r.replace("_", " ") for r in event.treatment_stopped.reasons]
        return "stop of the index course" + (f" for {_join(reasons, 'or')}" if reasons else "")
    if isinstance(event, PgaReached):
        return f"assessment with PGA {_join(list(event.pga_reached.in_), 'or')}"
    if isinstance(event, NewLesionEvent):
        return f"new lesion{describe_lesion_filter(event.new_lesion)} (a lesion not matched on the previous study)"
    if isinstance(event, FlareEvent):
        name = event.flare.definition
        definition = protocol.flare_definitions.get(name)
        if definition is None:
            try:
                from ..courses.registry import flare_definitions

                definition = flare_definitions().get(name)
            except ImportError:
                definition = None
        if definition is None:
            return f"flare ({name})"
        return (f"flare ({definition.label}: a course of {describe_selection(definition.restart)} started more "
                f"than {definition.gap_days} days after the patient's previous course of it ended)")
    raise TypeError(event)


def paired_tests_sentence(protocol: Protocol) -> str:
    """The declared pairs of the paired tests (or that none are made)."""
    pairs = protocol.pairs()
    if not pairs:
        return "No paired tests are made (paired_tests: [])."
    label = lambda t: protocol.timepoint(t).label  # noqa: E731
    said = _join([f"{label(a)} with {label(b)}" for a, b in pairs], "and")
    return (f"Paired tests compare {said}, over the patients with a value at both timepoints: Wilcoxon "
            "signed-rank tests of ESR, CRP, the active lesion count and the PGA (none = 0 to severe = 4), and "
            "exact McNemar tests of ESR elevated, CRP elevated and PGA none or minimal.")


_BY_WORDS = {"index_drug": "index drug", "index_class": "class of the index drug",
             "index_target": "target of the index drug", "sex": "sex", "center": "center"}


#: how the groups of every comparison are tested, said once after the comparisons
COMPARISON_TESTS = ("Groups are compared by Fisher's exact test for proportions (chi-squared for more than two "
                    "groups), the Mann-Whitney U (Wilcoxon rank-sum) test for distributions (Kruskal-Wallis "
                    "for more than two groups) and the log-rank test for times to event; counts are not "
                    "tested. A patient without a group is left out of the comparison, with the reason.")


def describe_comparison(c: Comparison, protocol: Protocol, criterion_words: Callable) -> str:
    """ "Comparison index_drug: every endpoint per index drug (anakinra and adalimumab)." """
    title = f"{c.key}" + (f" ({c.label})" if c.label else "")
    if not isinstance(c.by, str):
        named = [f"{c.group_labels[g]} ({g})" if g in c.group_labels else g for g in (c.groups or ("yes", "no"))]
        return (f"Comparison {title}: every endpoint in the patients with {criterion_words(c.by, protocol)} "
                f"(yes) and without (no), in the order {_join(named, 'then')}.")
    groups = [f"{c.group_labels[g]} ({g})" if g in c.group_labels else g for g in c.groups]
    which = f" ({_join(groups, 'and')})" if groups else " (every group found, sorted)"
    return f"Comparison {title}: every endpoint per {_BY_WORDS[c.by]}{which}."
