"""Evaluating a protocol on a dataset: cohort, timepoints, endpoints, per-patient detail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import __version__
from ..exchange.dataset import Dataset
from ..protocols.describe import methods_paragraph
from ..store.label import path_label, source_label
from ..protocols.model import Protocol
from ..results import ComparisonResult, EndpointResult
from ..vocabulary import lab_tests
from .cohort import Cohort, build_cohort
from .diagnostics import diagnostic_criteria
from .endpoints import compute_endpoints, endpoint_status
from .fingerprint import dataset_fingerprint
from .groups import compute_comparisons, group_expr
from .labs import protocol_limits
from .needs import protocol_needs
from .patient_table import build_patient_table

__all__ = ["Evaluation", "Synthetic", "dataset_fingerprint", "evaluate", "synthetic_count"]


@dataclass(frozen=True)
class Synthetic:
    """How many patients are marked synthetic (``patients.synthetic``): in the dataset and among
    the eligible."""

    patients: int = 0
    of: int = 0
    eligible: int = 0
    of_eligible: int = 0

    def __bool__(self) -> bool:
        return self.patients > 0

    def notice(self) -> str | None:
        """The banner every output shows when any patient is synthetic, else ``None``."""
        if not self.patients:
            return None
        return (f"SYNTHETIC DATA: {self.patients} of {self.of} patients are synthetic (marked synthetic "
                "in the data); they are not real patients.")

    def as_json(self) -> dict[str, int]:
        return {"patients": self.patients, "of": self.of, "eligible": self.eligible,
                "of_eligible": self.of_eligible}


def synthetic_count(dataset: Dataset, eligible: pl.Series | None = None) -> Synthetic:
    """The count of patients marked synthetic in ``dataset`` (and among ``eligible`` ids)."""
    patients = dataset.patients
    flag = patients["synthetic"] if "synthetic" in patients.columns else pl.repeat(None, patients.height,
                                                                                    dtype=pl.Boolean, eager=True)
    marked = patients.filter(flag.fill_null(False))["patient_id"]
    ids = eligible if eligible is not None else patients["patient_id"]
    return Synthetic(marked.len(), patients.height, int(ids.is_in(marked.implode()).sum()), ids.len())


@dataclass
class Evaluation:
    """The result of a protocol on a dataset, with everything needed to explain it."""

    protocol: Protocol
    cohort: Cohort
    endpoints: dict[str, EndpointResult]
    patients: pl.DataFrame            # per-patient values and endpoint statuses
    lesions: pl.DataFrame             # per-lesion fates
    diagnosis: pl.DataFrame = field(default_factory=pl.DataFrame)  # diagnostic criteria per patient
    statistics: Any = None            # cnotrack.analysis.Statistics, when computed
    source: str = ""                  # the dataset's safe label (``cnotrack.store.label``)
    dataset_sha256: str = ""          # its content fingerprint (``dataset_fingerprint``)
    notes: list[str] = field(default_factory=list)
    source_files: dict[str, str] = field(default_factory=dict)   # file name -> SHA-256 of its bytes
    synthetic: Synthetic = field(default_factory=Synthetic)
    comparisons: dict[str, ComparisonResult] = field(default_factory=dict)  # by Comparison.key

    @property
    def notice(self) -> str | None:
        """The synthetic-data banner when any patient of the dataset is marked synthetic."""
        return self.synthetic.notice()

    def banner(self, given: str | None = None) -> str | None:
        """The banner to show: ``given`` (a caller's wording, such as the demo's), with the
        synthetic-data notice in front unless ``given`` already says SYNTHETIC; else the notice."""
        notice = self.notice
        if given and (notice is None or "SYNTHETIC" in given.upper()):
            return given
        if given:
            return f"{notice} {given}"
        return notice

    @property
    def n(self) -> int:
        return self.cohort.eligible.height

    @property
    def female(self) -> int:
        return int((self.cohort.eligible["sex"] == "F").sum())

    def reference_limits_used(self) -> list[dict[str, Any]]:
        """Per lab test: the default limit and how many chosen values were judged by which limit."""
        defaults = {r["test"]: r for r in protocol_limits(self.protocol).to_dicts()}
        out = []
        tests = sorted({c.split("@")[0] for c in self.patients.columns if c.endswith(".limit_source")})
        for test in tests:
            cols = [c for c in self.patients.columns if c.startswith(f"{test}@") and c.endswith(".limit_source")]
            sources = pl.concat([self.patients[c] for c in cols])
            values = pl.concat([self.patients[c.removesuffix(".limit_source")] for c in cols])
            default = defaults.get(test)
            out.append({
                "test": test,
                "default_upper_limit": default["default_limit"] if default else None,
                "unit": lab_tests().test(test).canonical_unit,
                "default_source": default["default_source"] if default else None,
                "values_judged_by_laboratory_limit": int((sources == "laboratory").sum()),
                "values_judged_by_default_limit": int(sources.is_in(["protocol default", "cnotrack default"]).sum()),
                "values_without_limit": int((sources.is_null() & values.is_not_null()).sum()),
            })
        return out

    def as_json(self, *, detail: bool = True) -> dict[str, Any]:
        """The evaluation as plain values (``docs/json-output.md``): the summary, and with
        ``detail`` the rows per patient, per lesion and per diagnostic criterion and the survival
        analyses' subjects. ``cnotrack evaluate --format json`` prints ``detail=False`` and streams
        the detail (``cnotrack.render.detail``) instead of building it here."""
        out: dict[str, Any] = {
            "protocol": self.protocol.id,
            "cohort": {
                "n": self.n, "female": self.female,
                "excluded": self.cohort.excluded.to_dicts(),
            },
            "endpoints": {k: r.as_json() for k, r in self.endpoints.items()},
            "methods": {k: r.method for k, r in self.endpoints.items()},
            "reference_limits": self.reference_limits_used(),
            "statistics": self.statistics.as_json(detail=detail) if self.statistics is not None else None,
            "provenance": {"cnotrack_version": __version__, "dataset": self.source,
                           "dataset_sha256": self.dataset_sha256,
                           "files": [{"name": k, "sha256": v} for k, v in sorted(self.source_files.items())]},
            "synthetic": self.synthetic.as_json(),
        }
        if self.protocol.compare:  # only then: the JSON of a protocol without compare stays as it was
            out["comparisons"] = {k: c.as_json() for k, c in self.comparisons.items()}
        if self.notice:
            out["notice"] = self.notice
        if self.notes:  # such as a copied protocol's dropped published values (protocols/copies.py)
            out["notes"] = list(self.notes)
        if detail:
            out["patients"] = _jsonable(self.patients.to_dicts())
            out["lesions"] = _jsonable(self.lesions.to_dicts()) if self.lesions.height else []
            out["diagnostic_criteria"] = self.diagnosis.to_dicts() if self.diagnosis.height else []
        return out

    def methods(self) -> str:
        return methods_paragraph(self.protocol)


def evaluate(dataset: Dataset, protocol: Protocol, *, statistics: bool = True) -> Evaluation:
    """Evaluate ``protocol`` on ``dataset`` (all patients at once, vectorised with Polars).

    With ``statistics`` (the default) the evaluation also carries the paired baseline-versus-
    6-month tests, the Kaplan-Meier analyses and Table 1 (``cnotrack.analysis``). A protocol
    with ``compare`` also gets every endpoint per group (``comparisons``, ``groups.py``) and each
    patient's group as the column ``group.<comparison key>``."""
    # the content fingerprint (hashing the whole dataset as text) runs beside the evaluation:
    # Polars and hashlib release the GIL, so on two cores it costs no wall time of its own
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnotrack-fingerprint") as pool:
        fingerprint = pool.submit(dataset_fingerprint, dataset)
        cohort = build_cohort(dataset, protocol)
        table = build_patient_table(dataset, protocol, cohort, protocol_needs(protocol))
        status = endpoint_status(protocol, table.patients)
        results = compute_endpoints(protocol, table, status)
        patients = table.patients.join(status, on="patient_id", how="left")
        comparisons = compute_comparisons(protocol, table) if protocol.compare else {}
        if protocol.compare:  # each patient's group, as the column group.<comparison key>
            patients = patients.with_columns([group_expr(c, patients.columns).alias(f"group.{c.key}")
                                              for c in protocol.compare])
        evaluation = Evaluation(protocol, cohort, results, patients, table.lesions, diagnostic_criteria(dataset),
                                source=source_label(dataset.source),
                                source_files={path_label(k): v for k, v in dataset.sha256.items()},
                                synthetic=synthetic_count(dataset, cohort.eligible["patient_id"]),
                                comparisons=comparisons, notes=list(cohort.notes))
        if statistics:
            from ..analysis import statistics_for  # the analyses build on the engine

            evaluation.statistics = statistics_for(evaluation, dataset)
        evaluation.dataset_sha256 = fingerprint.result()
    return evaluation


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import datetime as dt

    for row in rows:
        for k, v in row.items():
            if isinstance(v, (dt.date, dt.datetime)):
                row[k] = v.isoformat()
    return rows
