"""Synthetic cohorts split into centres, for the federated tests (helpers, no tests here).

``split(dataset, k, rng)`` puts every patient in one of ``k`` centres at random (each centre
gets at least one patient) and returns the centres' datasets with the centre of each patient;
``centre_documents`` evaluates each part to its aggregates.
"""

from __future__ import annotations

import numpy as np

from cnotrack.engine import evaluate
from cnotrack.exchange.dataset import Dataset, subset
from cnotrack.federated import aggregates_of

__all__ = ["centre_documents", "split"]


def split(dataset: Dataset, k: int, rng: np.random.Generator) -> tuple[list[Dataset], dict[str, int]]:
    """``k`` random parts of ``dataset`` by patient, and each patient's part."""
    ids = dataset.patients["patient_id"].to_list()
    labels = rng.integers(0, k, len(ids))
    labels[rng.permutation(len(ids))[:k]] = np.arange(k)  # no part is empty of patients
    parts = [subset(dataset, [i for i, lab in zip(ids, labels) if lab == c]) for c in range(k)]
    return parts, dict(zip(ids, labels.tolist()))


def centre_documents(parts: list[Dataset], protocol, *, min_cell_count: int = 0) -> list[dict]:
    """Each part's aggregates, its centre named ``C1``, ``C2``, ..."""
    return [aggregates_of(evaluate(part, protocol), part, min_cell_count=min_cell_count, centre=f"C{i + 1}")
            for i, part in enumerate(parts)]
