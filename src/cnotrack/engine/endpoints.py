"""Computing each endpoint from the per-patient table, with the method that produced it."""

from __future__ import annotations

import dataclasses

import polars as pl

from ..protocols.describe import describe_criterion, describe_measure, modality_name
from ..protocols.model import Count, Distribution, NewLesions, Protocol, Proportion, TimeToEvent
from ..results import CountResult, DistributionResult, EndpointResult, ProportionResult
from ..statistics.paired import wilcoxon_signed_rank
from ..words import counted, noun, verb
from .changes import (censored_count, change_column, describe_variable, lesions_column, pair_prefix, study_column,
                      value_column, zero_baseline_count)
from .criteria import criterion_expr
from .lesion_filters import effective, filter_key
from .patient_table import PatientTable
from .timepoints import day_expr

__all__ = ["compute_endpoints", "distribution_values", "endpoint_status"]

DAYS_PER_YEAR = 365.25


def endpoint_status(protocol: Protocol, table: pl.DataFrame) -> pl.DataFrame:
    """Per patient, each proportion endpoint's value (true/false/null) and group membership."""
    columns = []
    for e in protocol.endpoints:
        if isinstance(e, Proportion):
            columns.append(criterion_expr(e.criterion, protocol.imaging_modality).alias(e.id))
            if e.among is not None:
                columns.append(criterion_expr(e.among, protocol.imaging_modality).alias(f"{e.id}.among"))
    return table.select("patient_id", *columns)


def compute_endpoints(protocol: Protocol, patients: PatientTable,
                      status: pl.DataFrame | None = None) -> dict[str, EndpointResult]:
    """Every endpoint's result; ``status`` is ``endpoint_status(protocol, patients.patients)``
    when the caller has it already."""
    table = patients.patients
    status = endpoint_status(protocol, table) if status is None else status
    results: dict[str, EndpointResult] = {}
    for e in protocol.endpoints:
        if isinstance(e, Proportion):
            results[e.id] = _proportion(e, status, protocol)
            if note := _unknown_note(e, table, protocol):  # settled choice: empty symptomatic = not symptomatic
                results[e.id] = dataclasses.replace(results[e.id], method=results[e.id].method + note)
        elif isinstance(e, Count):
            results[e.id] = _count(e, table, protocol)
        elif isinstance(e, Distribution):
            results[e.id] = _distribution(e, table, protocol)
        elif isinstance(e, TimeToEvent):
            from .events import time_to_event_result

            results[e.id] = time_to_event_result(e, table, protocol)
    for e in protocol.endpoints:  # counts that are part of another count
        if isinstance(e, Count) and e.of:
            r = results[e.id]
            # lesions of the earlier study not assessed at the later one leave a baseline denominator
            base = next(x for x in protocol.endpoints if x.id == e.of)
            out = r.missing_lesions if _same_baseline(e, base) else 0
            results[e.id] = CountResult(r.id, r.label, r.value, r.method, r.published, e.of,
                                        results[e.of].as_json() - out, r.missing, r.missing_lesions)
    return results


def _proportion(e: Proportion, status: pl.DataFrame, protocol: Protocol) -> ProportionResult:
    values = status[e.id]
    among_missing = 0
    group = "all eligible patients"
    if e.among is not None:
        among = status[f"{e.id}.among"]
        among_missing = int(among.is_null().sum())
        values = values.filter(among.fill_null(False))
        group = "eligible patients with " + describe_criterion(e.among, protocol)
    n, missing = int(values.fill_null(False).sum()), int(values.is_null().sum())
    method = (f"Proportion of {group} with {describe_criterion(e.criterion, protocol)}; the denominator "
              f"counts every patient of that group, and those lacking any value the definition "
              f"needs are counted as missing.")
    if among_missing:
        method += f" {among_missing} patient(s) could not be placed in the group for missing data."
    from ..statistics.intervals import CLOPPER_PEARSON, clopper_pearson

    ci = clopper_pearson(n, len(values))
    return ProportionResult(e.id, e.label, n, len(values), missing, method, e.published, among_missing,
                            ci95=ci, ci_method=CLOPPER_PEARSON if ci is not None else None)


def _count(e: Count, table: pl.DataFrame, protocol: Protocol) -> CountResult:
    modality = protocol.imaging_modality
    if e.patients == "all":
        return CountResult(e.id, e.label, table.height, "Number of eligible patients.", e.published)
    if e.patients is not None:
        values = table.select(criterion_expr(e.patients, modality)).to_series()
        return CountResult(e.id, e.label, int(values.fill_null(False).sum()),
                           f"Number of eligible patients with {describe_criterion(e.patients, protocol)}.",
                           e.published, missing=int(values.is_null().sum()))
    if e.lesions is not None:
        sel = e.lesions
        f = effective(sel, modality)
        prefix = pair_prefix(sel.from_, sel.to, filter_key(f))
        values = table[f"{prefix}.{sel.fate}"]
        first, second = protocol.timepoint(sel.from_).label, protocol.timepoint(sel.to).label
        study = modality_name(f.modality) if f is not None and f.modality else _modality(protocol)
        lesions = "lesions" if f is None else describe_variable("lesions", f.model_copy(
            update={"modality": None})).removeprefix("number of active ")
        what = (f"active {lesions} on the {first} {study}" if sel.fate == "baseline"
                else f"{lesions} of the {first} study {sel.fate} at {second}" if sel.fate != "new"
                else f"{lesions} at {second} matched to no lesion of the {first} study")
        method = (f"Number of {what}, over the {values.len() - values.null_count()} patients with both "
                  f"a {first} and a {second} {study} (lesions matched by lesion_id, "
                  "then site, then bone and side).")
        if f is not None:
            method += (" Lesions are matched on all active lesions of the two studies, then filtered: the site and "
                       "symptomatic value of a new lesion are the later study's, of any other the earlier study's.")
        not_assessed, note = _not_assessed_note(sel, table[f"{prefix}.not_assessed"], first, second)
        return CountResult(e.id, e.label, int(values.fill_null(0).sum()),
                           method + note + _unknown_note(e, table, protocol), e.published,
                           missing=int(values.null_count()), missing_lesions=not_assessed)
    pair = e.patients_missing_studies
    other = pair.modality if pair.modality not in (None, modality) else None
    missing = table.filter(pl.col(study_column(pair.from_, other)).is_null()
                           | pl.col(study_column(pair.to, other)).is_null())
    return CountResult(e.id, e.label, missing.height,
                       f"Number of eligible patients without both a {protocol.timepoint(pair.from_).label} "
                       f"and a {protocol.timepoint(pair.to).label} "
                       f"{modality_name(other) if other else _modality(protocol)}.", e.published)


def _same_baseline(e: Count, of) -> bool:
    """Whether ``of`` counts the baseline lesions of the lesion pair (and filter) ``e`` counts."""
    a, b = e.lesions, getattr(of, "lesions", None)
    return a is not None and b is not None and b.fate == "baseline" and (a.from_, a.to) == (b.from_, b.to) \
        and a.model_copy(update={"fate": "baseline"}) == b


def _not_assessed_note(sel, counts: pl.Series, first: str, second: str) -> tuple[int, str]:
    """The earlier lesions the later study did not assess (``activity`` ``not_assessed``): their
    number where they are missing (a fate count: in no fate, out of its denominator) and the
    words that say so."""
    n = int(counts.fill_null(0).sum())
    if n == 0:
        return 0, ""
    lesions = f"{counted(n, 'lesion')} of the {first} study {verb(n, 'was')} not assessed at {second}"
    if sel.fate == "new":
        return 0, f" {lesions} (activity not_assessed); a not assessed lesion is never counted as new."
    if sel.fate == "baseline":
        return 0, f" Of these, {lesions} (activity not_assessed): missing for the fates."
    return n, f" {lesions} (activity not_assessed): counted as missing, in no fate and out of the denominator."


def _new_lesion_filters(e, protocol: Protocol) -> list[tuple[str, str, str]]:
    """The (from, to, key) lesion pairs of an endpoint whose filter has a ``symptomatic`` value."""
    found = []
    if isinstance(e, Count) and e.lesions is not None and e.lesions.symptomatic is not None \
            and e.lesions.fate == "new":
        found.append(e.lesions)
    nodes = [c for c in (getattr(e, "criterion", None), getattr(e, "among", None),
                         e.patients if isinstance(e, Count) and e.patients != "all" else None) if c is not None]
    while nodes:
        node = nodes.pop()
        if isinstance(node, NewLesions):
            if node.new_lesions.symptomatic is not None:
                found.append(node.new_lesions)
        else:
            nodes += [c for c in (getattr(node, "all", None) or getattr(node, "any", None) or ())]
            if getattr(node, "not_", None) is not None:
                nodes.append(node.not_)
    keys = {(x.from_, x.to, filter_key(x, protocol.imaging_modality)) for x in found}
    return sorted(keys)


def _unknown_note(e, table: pl.DataFrame, protocol: Protocol) -> str:
    """How many new lesions had an empty ``symptomatic`` and were counted as not symptomatic."""
    notes = []
    for first, second, key in _new_lesion_filters(e, protocol):
        column = f"{pair_prefix(first, second, key)}.new_symptomatic_unknown"
        if column not in table.columns:
            continue
        n = int(table[column].fill_null(0).sum())
        at = protocol.timepoint(second).label
        if n == 0:
            notes.append(f" No new lesion at {at} had an empty symptomatic value (an empty value counts as "
                         "not symptomatic).")
            continue
        notes.append(f" {counted(n, 'new lesion')} at {at} had an empty symptomatic value and "
                     f"{verb(n, 'was')} counted as not symptomatic.")
    return "".join(notes)


def _modality(protocol: Protocol) -> str:
    return modality_name(protocol.imaging_modality)


def distribution_values(e: Distribution, table: pl.DataFrame, protocol: Protocol) -> pl.Series:
    """The measure's value per patient of ``table`` (null where missing), in the table's order."""
    m = e.measure
    if m.follow_up_years:
        tp = protocol.timepoint(m.follow_up_years.to)
        date_col = "last_assessment_date" if tp.anchor == "last_assessment" else f"study@{tp.id}.date"
        values = table.select(day_expr(date_col) / DAYS_PER_YEAR).to_series()
    elif m.lab_value:
        values = table[f"{m.lab_value.test}@{m.lab_value.at}"]
    elif m.assessment_value:
        values = table[f"{m.assessment_value.field}@{m.assessment_value.at}"]
    elif m.lesion_count:
        values = table[lesions_column(m.lesion_count.at, filter_key(m.lesion_count, protocol.imaging_modality))
                       ].cast(pl.Float64)
    elif m.value:
        values = table[value_column(m.value.of, m.value.at, _key(m.value, protocol))].cast(pl.Float64)
    elif m.change or m.percent_change:
        c = m.change or m.percent_change
        values = table[change_column(c.of, c.from_, c.to, _key(c, protocol), percent=m.percent_change is not None)]
    elif m.course:
        values = _course_values(e, table)
    elif m.age:
        from .patient_criteria import age_years_expr

        values = table.select(age_years_expr(m.age.at)).to_series()
    else:
        raise TypeError(f"distribution {e.id!r}: measure {m.kind!r} has no values here")
    return values


def _course_values(e: Distribution, table: pl.DataFrame) -> pl.Series:
    """A numeric course measure's column (``cnotrack.courses``); a boolean or text one is refused."""
    from ..errors import ProtocolError

    c = e.measure.course
    values = table[f"course.{c.measure}" + (f"@{c.at}" if c.at else "")]
    if not values.dtype.is_numeric():
        kind = "boolean" if values.dtype == pl.Boolean else "text"
        raise ProtocolError(
            f"endpoint {e.id}: course measure {c.measure!r} is a {kind} measure and a distribution takes numbers; "
            f"use it as a criterion in a proportion: {{kind: proportion, criterion: {{course: {{measure: "
            f"{c.measure}, op: '==', value: ...}}}}}}")
    return values.cast(pl.Float64)


def _key(m, protocol: Protocol) -> str:
    return filter_key(m, protocol.imaging_modality) if m.of == "lesions" else ""


def _distribution(e: Distribution, table: pl.DataFrame, protocol: Protocol) -> DistributionResult:
    m = e.measure
    values = distribution_values(e, table, protocol)
    known = values.drop_nulls().cast(pl.Float64)
    stats = dict(median=None, minimum=None, maximum=None, q1=None, q3=None)
    if known.len():
        stats = dict(median=float(known.median()), minimum=float(known.min()), maximum=float(known.max()),
                     q1=float(known.quantile(0.25, "linear")), q3=float(known.quantile(0.75, "linear")))
    extra = {}
    if m.kind in ("value", "change", "percent_change"):
        what, extra = _continuous(e, table, protocol, values)
    else:
        what = describe_measure(m, protocol)
    method = (f"{what} over eligible patients; median, quartiles by linear "
              "interpolation (as numpy's default), minimum and maximum.")
    if "test" in extra:
        t = extra["test"]
        p = "no p value" if t["p_value"] is None else f"p = {t['p_value']:.3g}"
        v = "" if t["statistic"] is None else f"V = {t['statistic']:g}, "
        method += (f" Paired test of the two values over the same {t['pairs']} "
                   f"{noun(t['pairs'], 'patient')}: {t['method']}; {v}{p}.")
    return DistributionResult(e.id, e.label, known.len(), values.len() - known.len(), method=method,
                              unit=e.unit, published=e.published, extra=extra, **stats)


def _continuous(e: Distribution, table: pl.DataFrame, protocol: Protocol, values: pl.Series) -> tuple[str, dict]:
    """The words of a value, change or percent-change measure, and for a change the paired
    Wilcoxon signed-rank test of ``from`` vs ``to`` over the patients the change has."""
    m = e.measure
    c = m.value or m.change or m.percent_change
    key = _key(c, protocol)
    variable = describe_variable(c.of, effective(c, protocol.imaging_modality) if c.of == "lesions" else None)
    used = values.is_not_null()
    if m.value:
        text = f"{variable[0].upper()}{variable[1:]} at {protocol.timepoint(c.at).label}"
        points: tuple[str, ...] = (c.at,)
    else:
        first, second = protocol.timepoint(c.from_).label, protocol.timepoint(c.to).label
        text = (f"Change in {variable} from {first} to {second} ({second} minus {first})" if m.change else
                f"Percent change in {variable} from {first} to {second} (100 x ({second} - {first}) / {first})")
        points = (c.from_, c.to)
    censored = censored_count(table, c.of, points, pl.lit(used))
    if censored:
        text += f"; {counted(censored, 'censored value')} (<x or >x) {verb(censored, 'was')} taken as x"
    if m.percent_change:
        zeros = zero_baseline_count(table, c.of, c.from_, c.to, key)
        text += (f"; {counted(zeros, 'patient')} with a {first} value of 0 {verb(zeros, 'has')} no percent "
                 f"change and {verb(zeros, 'is')} counted as missing")
    if m.value:
        return text, {}
    kept = table.filter(used)
    test = wilcoxon_signed_rank(kept[value_column(c.of, c.from_, key)].cast(pl.Float64),
                                kept[value_column(c.of, c.to, key)].cast(pl.Float64),
                                variable=variable, unit=e.unit if m.change else "",
                                labels=(first, second))
    return text, {"test": test.as_json()}
