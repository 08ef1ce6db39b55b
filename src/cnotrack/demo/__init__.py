"""The demo: a synthetic reconstruction of the seed study's nine patients.

The cohort (``demo/pardeo2017/``) was made by hand to agree with every published aggregate of
Pardeo et al., J Rheumatol 2017, and where they fit with the interim reports. It is not
real patient data, and says so wherever it is shown: every patient is marked ``synthetic`` in
``patients.csv``, so the label travels with the data (exported, imported again, read back from
the database); every evaluation of it carries the count (``Evaluation.synthetic``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..engine import Evaluation, evaluate
from ..exchange import Dataset, load_dataset
from ..exchange.dataset import subset
from ..protocols import load_protocol
from ..report import build_report, write_report
from ..store import ImportReport, Store, import_dataset, read_store
from ..store.label import database_label

__all__ = ["DEMO_BANNER", "DemoRun", "demo_dataset", "demo_folder", "run_demo"]

DEMO_BANNER = ("SYNTHETIC DATA: the demo cohort is a synthetic reconstruction of the published aggregates "
               "of Pardeo et al., J Rheumatol 2017 (n = 9); these are not real patients.")


def demo_folder() -> Path:
    """The folder of the demo dataset inside the installed package."""
    return Path(str(resources.files("cnotrack.demo").joinpath("pardeo2017")))


def demo_dataset() -> Dataset:
    return load_dataset(demo_folder())


@dataclass
class DemoRun:
    evaluation: Evaluation
    imported: ImportReport
    reports: list[Path]


def run_demo(store: Store, out_dir: Path | None = None) -> DemoRun:
    """Import the demo cohort (idempotently), evaluate ``pardeo2017`` on it from the database,
    and write its report as ``pardeo2017-demo.md``, ``.html`` and ``.pdf`` into ``out_dir``
    (``DemoRun.reports`` lists the paths)."""
    data = demo_dataset()
    report = import_dataset(data, store, actor="cnotrack demo")
    stored = subset(read_store(store), data.patients["patient_id"].to_list())
    stored.source = f"{database_label(store.url)} (demo patients)"
    evaluation = evaluate(stored, load_protocol("pardeo2017"))
    reports = []
    if out_dir is not None:
        built = build_report(evaluation, stored, banner=DEMO_BANNER)
        reports = [write_report(built, out_dir / f"pardeo2017-demo{suffix}") for suffix in (".md", ".html", ".pdf")]
    return DemoRun(evaluation, report, reports)
