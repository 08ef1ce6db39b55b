"""Evaluating a protocol on a dataset: cohort, timepoints, endpoints, per-patient detail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import __version__
from ..exchange.dataset import Dataset
from ..protocols.describe import methods_paragraph
from ..protocols.model import Protocol
from ..results import EndpointResult
from ..vocabulary import lab_tests
from .cohort import Cohort, build_cohort
from .diagnostics import diagnostic_criteria
from .endpoints import compute_endpoints, endpoint_status
from .labs import protocol_limits
from .needs import protocol_needs
from .patient_table import build_patient_table

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """The result of a protocol on a dataset, with everything needed to explain it."""

    protocol: Protocol
    cohort: Cohort
    endpoints: dict[str, EndpointResult]
    patients: pl.DataFrame            # per-patient values and endpoint statuses
    lesions: pl.DataFrame             # per-lesion fates
    diagnosis: pl.DataFrame = field(default_factory=pl.DataFrame)  # diagnostic criteria per patient
    statistics: Any = None            # cnotrack.statistics.Statistics, when computed
    source: str = ""
    dataset_sha256: str = ""
    notes: list[str] = field(default_factory=list)

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
        out: dict[str, Any] = {
            "protocol": self.protocol.id,
            "cohort": {
                "n": self.n, "female": self.female,
                "excluded": self.cohort.excluded.to_dicts(),
            },
            "endpoints": {k: r.as_json() for k, r in self.endpoints.items()},
            "methods": {k: r.method for k, r in self.endpoints.items()},
            "reference_limits": self.reference_limits_used(),
            "statistics": self.statistics.as_json() if self.statistics is not None else None,
            "provenance": {"cnotrack_version": __version__, "dataset": self.source,
                           "dataset_sha256": self.dataset_sha256},
        }
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
    6-month tests, the Kaplan-Meier analyses and Table 1 (``cnotrack.statistics``)."""
    cohort = build_cohort(dataset, protocol)
    table = build_patient_table(dataset, protocol, cohort, protocol_needs(protocol))
    results = compute_endpoints(protocol, table)
    status = endpoint_status(protocol, table.patients)
    patients = table.patients.join(status, on="patient_id", how="left")
    evaluation = Evaluation(protocol, cohort, results, patients, table.lesions, diagnostic_criteria(dataset),
                            source=dataset.source, dataset_sha256=dataset_fingerprint(dataset))
    if statistics:
        from ..statistics import statistics_for  # the statistics build on the engine

        evaluation.statistics = statistics_for(evaluation, dataset)
    return evaluation


def dataset_fingerprint(dataset: Dataset) -> str:
    """SHA-256 over the source files' hashes, or over the data when it came from a database."""
    digest = hashlib.sha256()
    if dataset.sha256:
        digest.update(json.dumps(dataset.sha256, sort_keys=True).encode())
    else:
        for name in sorted(dataset.tables):
            frame = dataset.tables[name]
            digest.update(name.encode())
            digest.update(str(frame.drop([c for c in frame.columns if c.startswith("_")]).hash_rows(seed=0).sum()).encode())
    return digest.hexdigest()


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import datetime as dt

    for row in rows:
        for k, v in row.items():
            if isinstance(v, (dt.date, dt.datetime)):
                row[k] = v.isoformat()
    return rows
