"""The per-patient listing, made by Polars expressions, agrees cell for cell with the row-by-row
reference below (the listing as cnotrack built it before it was vectorised), for every built-in
protocol, on the demo and on a synthetic registry."""

from __future__ import annotations

import pytest

from cnotrack.engine import evaluate
from cnotrack.engine.evaluate import Evaluation
from cnotrack.engine.lesion_tracking import FATES
from cnotrack.protocols import load_protocol
from cnotrack.protocols.model import Proportion
from cnotrack.report.completeness import timepoint_columns
from cnotrack.report.listing import MISSING, _capital, _short_kind, patient_listing
from cnotrack.report.model import ReportTable
from cnotrack.synth import synthesize_registry


@pytest.fixture(scope="module")
def registry():
    return synthesize_registry(200, seed=11)


@pytest.mark.parametrize("protocol", ["pardeo2017", "pedcno", "tnf_vs_anakinra", "bisphosphonate_wbmri"])
@pytest.mark.parametrize("source", ["demo", "registry"])
def test_the_listing_agrees_with_the_row_by_row_reference(protocol, source, demo, registry):
    evaluation = evaluate(demo if source == "demo" else registry, load_protocol(protocol), statistics=False)
    tables = patient_listing(evaluation)
    reference = [_reference_values(evaluation), _reference_statuses(evaluation), *_reference_fates(evaluation)]
    assert tables[:len(reference)] == reference
    assert len(tables[0].rows) == evaluation.patients.height


# ---- the reference: one Python loop per patient -------------------------------------------

def _reference_values(evaluation: Evaluation) -> ReportTable:
    patients = evaluation.patients
    labels = {t.id: t.label for t in evaluation.protocol.timepoints}
    columns = timepoint_columns(evaluation)
    groups: list[tuple[str, int]] = [("", 1)]
    for _, _, tp in columns:
        if groups[-1][0] == labels[tp] and len(groups) > 1:
            groups[-1] = (labels[tp], groups[-1][1] + 1)
        else:
            groups.append((labels[tp], 1))
    header = ("Patient", *(_short_kind(kind, evaluation) for _, kind, _ in columns))
    rows = []
    for row in patients.iter_rows(named=True):
        rows.append((row["patient_id"], *(_value(row, column, kind) for column, kind, _ in columns)))
    notes = ["A value is the one the protocol chose at the timepoint (closest to the target day inside "
             f"the window); {MISSING}: none."]
    if any(kind == "study" for _, kind, _ in columns):
        notes.append(f"Lesions: active lesions on the {evaluation.protocol.imaging_modality.replace('_', ' ')} "
                     "study chosen at the timepoint.")
    if any(row.get(f"{c}.censor") for row in patients.iter_rows(named=True) for c, _, _ in columns):
        notes.append("A value such as <0.5 was reported as below that limit.")
    return ReportTable("listing-values", "Values at each timepoint", header, tuple(rows),
                       header_groups=tuple(groups), notes=tuple(notes))


def _value(row: dict, column: str, kind: str) -> str:
    value = row[column]
    if value is None:
        return MISSING
    if kind == "study":
        return str(row[column.replace("study@", "lesions@", 1)])
    if isinstance(value, float):
        return f"{row.get(f'{column}.censor') or ''}{value:g}"
    return str(value)


def _reference_statuses(evaluation: Evaluation) -> ReportTable:
    endpoints = [e for e in evaluation.protocol.endpoints if isinstance(e, Proportion)]
    header = ("Patient", *(f"E{i}" for i in range(1, len(endpoints) + 1)))
    rows = []
    for row in evaluation.patients.iter_rows(named=True):
        cells = []
        for e in endpoints:
            if e.among is not None and row.get(f"{e.id}.among") is not True:
                cells.append("n/a" if row.get(f"{e.id}.among") is False else "missing")
            else:
                cells.append({True: "yes", False: "no", None: "missing"}[row[e.id]])
        rows.append((row["patient_id"], *cells))
    key = tuple(f"E{i}: {_capital(evaluation.endpoints[e.id].label)} ({e.id})" for i, e in enumerate(endpoints, 1))
    return ReportTable("listing-endpoints", "Endpoint status per patient", header, tuple(rows),
                       notes=key + ("yes/no: the patient meets the endpoint's definition or not; missing: a value "
                                    "the definition needs is missing; n/a: not in the endpoint's denominator.",))


def _reference_fates(evaluation: Evaluation) -> list[ReportTable]:
    lesions, patients = evaluation.lesions, evaluation.patients
    if lesions.is_empty():
        return []
    labels = {t.id: t.label for t in evaluation.protocol.timepoints}
    tables = []
    for first, second in lesions.select("from", "to").unique().sort(["from", "to"]).iter_rows():
        prefix = f"{first}>{second}"
        if f"{prefix}.baseline" not in patients.columns:
            continue
        header = ("Patient", f"Lesions at {labels[first]}", *(f.capitalize() for f in FATES),
                  "Symptomatic new lesion")
        rows = []
        for row in patients.iter_rows(named=True):
            if row[f"{prefix}.baseline"] is None:
                rows.append((row["patient_id"], *([MISSING] * (len(FATES) + 1)), MISSING))
                continue
            symptomatic = {True: "yes", False: "no", None: "unknown"}[row[f"{prefix}.new_symptomatic"]]
            if not row[f"{prefix}.new"]:
                symptomatic = "no new lesion"
            rows.append((row["patient_id"], str(row[f"{prefix}.baseline"]),
                         *(str(row[f"{prefix}.{f}"]) for f in FATES), symptomatic))
        tables.append(ReportTable(
            f"listing-fates-{first}-{second}", f"Lesion fates per patient, {labels[first]} to {labels[second]}",
            header, tuple(rows),
            notes=(f"{MISSING}: the patient lacks a study at {labels[first]} or at {labels[second]}.",)))
    return tables
