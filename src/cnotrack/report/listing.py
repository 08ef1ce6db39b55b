"""The per-patient listing: values at each timepoint, endpoint statuses, lesion fates and
diagnostic criteria, one row per eligible patient (sorted by patient id).

Every cell is made by a Polars expression over the whole cohort (no loop over patients); a
report shows the first rows of a long table and its CSV all of them (``attachments``)."""

from __future__ import annotations

import polars as pl

from ..engine.evaluate import Evaluation
from ..engine.lesion_tracking import FATES, NOT_ASSESSED
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
    cells = patients.select(pl.col("patient_id").cast(pl.String),
                            *(_value(patients.schema, column, kind).alias(f"_{i}")
                              for i, (column, kind, _) in enumerate(columns)))
    notes = ["A value is the one the protocol chose at the timepoint (closest to the target day inside "
             f"the window); {MISSING}: none."]
    if any(kind == "study" for _, kind, _ in columns):
        notes.append(f"Lesions: active lesions on the {evaluation.protocol.imaging_modality.replace('_', ' ')} "
                     "study chosen at the timepoint.")
    censors = [f"{c}.censor" for c, _, _ in columns if f"{c}.censor" in patients.columns]
    if censors and patients.select(pl.any_horizontal(pl.col(censors).cast(pl.String).fill_null("") != "").any()).item():
        notes.append("A value such as <0.5 was reported as below that limit.")
    return ReportTable("listing-values", "Values at each timepoint", header, tuple(cells.rows()),
                       header_groups=tuple(groups), notes=tuple(notes))


def _short_kind(kind: str, evaluation: Evaluation) -> str:
    return "Lesions" if kind == "study" else kind_label(kind, evaluation)


def _number(value: pl.Expr) -> pl.Expr:
    """A float as ``f"{value:g}"`` writes it for the values of a listing (6 significant digits,
    no trailing ``.0``)."""
    return value.round_sig_figs(6).cast(pl.String).str.replace(r"\.0$", "")


def _text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Boolean:
        return pl.when(value).then(pl.lit("True")).otherwise(pl.lit("False"))
    return value.cast(pl.String)


def _value(schema: pl.Schema, column: str, kind: str) -> pl.Expr:
    """The cell of ``column``: the lesion count of a study, a number with its ``<`` when it was
    reported below a limit, or the value as text; MISSING when there is none."""
    value = pl.col(column)
    if kind == "study":
        shown = pl.col(column.replace("study@", "lesions@", 1)).cast(pl.String).fill_null(MISSING)
    elif schema[column].is_float():
        censor = (pl.col(f"{column}.censor").cast(pl.String).fill_null("") if f"{column}.censor" in schema
                  else pl.lit(""))
        shown = censor + _number(value)
    else:
        shown = _text(value, schema[column])
    return pl.when(value.is_null()).then(pl.lit(MISSING)).otherwise(shown)


def _yes_no(value: pl.Expr, yes: str = "yes", no: str = "no", unknown: str = "missing") -> pl.Expr:
    return pl.when(value.is_null()).then(pl.lit(unknown)).when(value).then(pl.lit(yes)).otherwise(pl.lit(no))


def _status(e, columns: list[str]) -> pl.Expr:
    """An endpoint's cell: yes, no, missing, or n/a when the patient is not in its denominator."""
    status = _yes_no(pl.col(e.id))
    if e.among is None:
        return status
    if f"{e.id}.among" not in columns:
        return pl.lit("missing")
    among = pl.col(f"{e.id}.among")
    return pl.when(among.fill_null(False)).then(status).when(among.is_not_null()).then(pl.lit("n/a")) \
        .otherwise(pl.lit("missing"))


def _statuses(evaluation: Evaluation) -> ReportTable:
    endpoints = [e for e in evaluation.protocol.endpoints if isinstance(e, Proportion)]
    header = ("Patient", *(f"E{i}" for i in range(1, len(endpoints) + 1)))
    patients = evaluation.patients
    cells = patients.select(pl.col("patient_id").cast(pl.String),
                            *(_status(e, patients.columns).alias(f"_{i}") for i, e in enumerate(endpoints)))
    key = tuple(f"E{i}: {_capital(evaluation.endpoints[e.id].label)} ({e.id})" for i, e in enumerate(endpoints, 1))
    return ReportTable("listing-endpoints", "Endpoint status per patient", header, tuple(cells.rows()),
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
        # format 1.1: a column for lesions not assessed at the later study, when there are any
        fates = (*FATES, NOT_ASSESSED) if patients[f"{prefix}.{NOT_ASSESSED}"].fill_null(0).sum() else FATES
        header = ("Patient", f"Lesions at {labels[first]}", *(f.replace("_", " ").capitalize() for f in fates),
                  "Symptomatic new lesion")
        studied = pl.col(f"{prefix}.baseline").is_not_null()
        new = pl.col(f"{prefix}.new")
        symptomatic = pl.when(new.fill_null(0) == 0).then(pl.lit("no new lesion")).otherwise(
            _yes_no(pl.col(f"{prefix}.new_symptomatic"), unknown="unknown"))
        counts = [pl.col(f"{prefix}.{name}") for name in ("baseline", *fates)]
        cells = patients.select(
            pl.col("patient_id").cast(pl.String),
            *(pl.when(studied).then(c.cast(pl.String).fill_null("None")).otherwise(pl.lit(MISSING)).alias(f"_{i}")
              for i, c in enumerate(counts)),
            pl.when(studied).then(symptomatic).otherwise(pl.lit(MISSING)).alias("_symptomatic"))
        tables.append(ReportTable(
            f"listing-fates-{first}-{second}", f"Lesion fates per patient, {labels[first]} to {labels[second]}",
            header, tuple(cells.rows()),
            notes=(f"{MISSING}: the patient lacks a study at {labels[first]} or at {labels[second]}.",)))
    return tables
