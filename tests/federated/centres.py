"""Three synthetic centres for the federated Done-when tests (helpers, no tests here).

``three_centres(folder)`` splits one generated cohort by patient into three centres of
different sizes, each stored as a centre would keep it:

- ``Centre A``: most patients, a cnotrack SQLite database;
- ``Centre B``: a small centre (a few eligible patients, so that the default ``min_cell_count``
  of 5 suppresses cells), a cnotrack SQLite database;
- ``Centre C``: no eligible patient at all, an exchange-format CSV folder.

Every patient is in exactly one centre, so the pooled evaluation of ``pooled`` is the analysis
of the same rows in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnotrack.engine import evaluate
from cnotrack.exchange.dataset import Dataset, subset
from cnotrack.exchange.writer import write_csv_folder
from cnotrack.protocols import load_protocol
from cnotrack.store import import_dataset, open_store
from cnotrack.synth import synthesize_registry

__all__ = ["Centre", "Centres", "three_centres"]

PROTOCOL = "pardeo2017"


@dataclass
class Centre:
    name: str
    source: str          # the SQLite file or the exchange-format folder, an absolute path
    patient_ids: list[str]
    eligible: int


@dataclass
class Centres:
    centres: list[Centre]
    pooled: Dataset      # the same rows in one dataset
    pooled_evaluation: object
    protocol: object


def three_centres(folder: Path, *, patients: int = 160, seed: int = 15) -> Centres:
    protocol = load_protocol(PROTOCOL)
    pooled = synthesize_registry(patients, seed)
    evaluation = evaluate(pooled, protocol)
    eligible = evaluation.patients["patient_id"].to_list()
    ineligible = sorted(set(pooled.patients["patient_id"].to_list()) - set(eligible))
    rng = np.random.default_rng(seed)
    eligible = [eligible[i] for i in rng.permutation(len(eligible))]
    ineligible = [ineligible[i] for i in rng.permutation(len(ineligible))]
    parts = {
        "Centre C": ([], ineligible[:12]),
        "Centre B": (eligible[:9], ineligible[12:20]),
        "Centre A": (eligible[9:], ineligible[20:]),
    }
    centres = []
    for name in ("Centre A", "Centre B", "Centre C"):
        chosen, others = parts[name]
        ids = sorted(chosen + others)
        part = subset(pooled, ids)
        slug = name.split()[-1].lower()
        if name == "Centre C":
            target = folder / f"centre-{slug}"
            write_csv_folder(part, target)
        else:
            target = folder / f"centre-{slug}.sqlite"
            with open_store(f"sqlite:///{target}") as store:
                import_dataset(part, store)
        centres.append(Centre(name, str(target.resolve()), ids, len(chosen)))
    return Centres(centres, pooled, evaluation, protocol)
