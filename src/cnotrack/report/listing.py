"""The per-patient listing: values at each timepoint, endpoint statuses, lesion fates and
diagnostic criteria, one row per eligible patient (sorted by patient id)."""

from __future__ import annotations

from ..engine.evaluate import Evaluation
from ..engine.lesion_tracking import FATES
from ..protocols.model import Proportion
from ..render.text import DIAGNOSIS_HEADER, diagnosis_rows
from .completeness import kind_label, timepoint_columns
from .model import ReportTable

__all__ = ["patient_listing"]

MISSING = "—"


def patient_listing(evaluation: Evaluation) -> list[ReportTable]:
    """The listing's tables; the lesion and diagnosis tables only when there is something in them."""
    tables = [_values(evaluation), _statuses(evaluation)]
    tables += _fates(evaluation)
    if evaluation.diagnosis.height:
        tables.append(ReportTable("listing-diagnosis", "Diagnostic criteria per patient",
                                  tuple(DIAGNOSIS_HEADER), tuple(tuple(r) for r in diagnosis_rows(evaluation)),
                                  notes=("Research aids computed from the diagnosis table; they do not make "
                                         "or exclude a diagnosis.",)))
    return tables


def _values(evaluation: Evaluation) -> ReportTable:
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


def _short_kind(kind: str, evaluation: Evaluation) -> str:
    return "Lesions" if kind == "study" else kind_label(kind, evaluation)


def _value(row: dict, column: str, kind: str) -> str:
    value = row[column]
    if value is None:
        return MISSING
    if kind == "study":
        return str(row[column.replace("study@", "lesions@", 1)])
    if isinstance(value, float):
        return f"{row.get(f'{column}.censor') or ''}{value:g}"
    return str(value)


def _statuses(evaluation: Evaluation) -> ReportTable:
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


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fates(evaluation: Evaluation) -> list[ReportTable]:
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
