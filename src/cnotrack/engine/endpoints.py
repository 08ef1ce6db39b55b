"""Computing each endpoint from the per-patient table, with the method that produced it."""

from __future__ import annotations

import polars as pl

from ..protocols.describe import describe_criterion, describe_measure, modality_name
from ..protocols.model import Count, Distribution, Protocol, Proportion
from ..results import CountResult, DistributionResult, EndpointResult, ProportionResult
from .criteria import criterion_expr
from .patient_table import PatientTable
from .timepoints import day_expr

__all__ = ["compute_endpoints", "endpoint_status"]

DAYS_PER_YEAR = 365.25


def endpoint_status(protocol: Protocol, table: pl.DataFrame) -> pl.DataFrame:
    """Per patient, each proportion endpoint's value (true/false/null) and group membership."""
    columns = []
    for e in protocol.endpoints:
        if isinstance(e, Proportion):
            columns.append(criterion_expr(e.criterion).alias(e.id))
            if e.among is not None:
                columns.append(criterion_expr(e.among).alias(f"{e.id}.among"))
    return table.select("patient_id", *columns)


def compute_endpoints(protocol: Protocol, patients: PatientTable) -> dict[str, EndpointResult]:
    table = patients.patients
    status = endpoint_status(protocol, table)
    results: dict[str, EndpointResult] = {}
    for e in protocol.endpoints:
        if isinstance(e, Proportion):
            results[e.id] = _proportion(e, status, protocol)
        elif isinstance(e, Count):
            results[e.id] = _count(e, table, protocol)
        elif isinstance(e, Distribution):
            results[e.id] = _distribution(e, table, protocol)
    for e in protocol.endpoints:  # counts that are part of another count
        if isinstance(e, Count) and e.of:
            r = results[e.id]
            results[e.id] = CountResult(r.id, r.label, r.value, r.method, r.published, e.of,
                                        results[e.of].as_json(), r.missing)
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
    if e.patients == "all":
        return CountResult(e.id, e.label, table.height, "Number of eligible patients.", e.published)
    if e.patients is not None:
        values = table.select(criterion_expr(e.patients)).to_series()
        return CountResult(e.id, e.label, int(values.fill_null(False).sum()),
                           f"Number of eligible patients with {describe_criterion(e.patients, protocol)}.",
                           e.published, missing=int(values.is_null().sum()))
    if e.lesions is not None:
        sel = e.lesions
        column = f"{sel.from_}>{sel.to}.{sel.fate}"
        values = table[column]
        first, second = protocol.timepoint(sel.from_).label, protocol.timepoint(sel.to).label
        what = (f"active lesions on the {first} {_modality(protocol)}" if sel.fate == "baseline"
                else f"lesions of the {first} study {sel.fate} at {second}" if sel.fate != "new"
                else f"lesions at {second} matched to no lesion of the {first} study")
        method = (f"Number of {what}, over the {values.len() - values.null_count()} patients with both "
                  f"a {first} and a {second} {_modality(protocol)} (lesions matched by lesion_id, "
                  "then site, then bone and side).")
        return CountResult(e.id, e.label, int(values.fill_null(0).sum()), method, e.published,
                           missing=int(values.null_count()))
    pair = e.patients_missing_studies
    missing = table.filter(pl.col(f"study@{pair.from_}").is_null() | pl.col(f"study@{pair.to}").is_null())
    return CountResult(e.id, e.label, missing.height,
                       f"Number of eligible patients without both a {protocol.timepoint(pair.from_).label} "
                       f"and a {protocol.timepoint(pair.to).label} {_modality(protocol)}.", e.published)


def _modality(protocol: Protocol) -> str:
    return modality_name(protocol.imaging_modality)


def _distribution(e: Distribution, table: pl.DataFrame, protocol: Protocol) -> DistributionResult:
    m = e.measure
    if m.follow_up_years:
        tp = protocol.timepoint(m.follow_up_years.to)
        date_col = "last_assessment_date" if tp.anchor == "last_assessment" else f"study@{tp.id}.date"
        values = table.select(day_expr(date_col) / DAYS_PER_YEAR).to_series()
    elif m.lab_value:
        values = table[f"{m.lab_value.test}@{m.lab_value.at}"]
    elif m.assessment_value:
        values = table[f"{m.assessment_value.field}@{m.assessment_value.at}"]
    else:
        values = table[f"lesions@{m.lesion_count.at}"].cast(pl.Float64)
    known = values.drop_nulls().cast(pl.Float64)
    stats = dict(median=None, minimum=None, maximum=None, q1=None, q3=None)
    if known.len():
        stats = dict(median=float(known.median()), minimum=float(known.min()), maximum=float(known.max()),
                     q1=float(known.quantile(0.25, "linear")), q3=float(known.quantile(0.75, "linear")))
    method = (f"{describe_measure(m, protocol)} over eligible patients; median, quartiles by linear "
              "interpolation (as numpy's default), minimum and maximum.")
    return DistributionResult(e.id, e.label, known.len(), values.len() - known.len(), method=method,
                              unit=e.unit, published=e.published, **stats)
