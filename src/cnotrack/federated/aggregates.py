"""A centre's aggregates: what it may share of a protocol's evaluation, as one JSON document.

``centre_aggregates(dataset, protocol)`` evaluates the protocol and returns the document
(``aggregates_of`` when the evaluation is made already): the protocol's id and the SHA-256 of
its definition (the canonical JSON of the loaded protocol model), the cnotrack version, the
dataset's content fingerprint, the disclosure rule with its ``min_cell_count``, and for every
endpoint, paired test, time-to-event analysis and comparison the sufficient statistics that add
up across centres (``sections.py``), suppressed by the rule (``disclosure.py``). The layout is
the JSON Schema ``schema.json`` (``validate_aggregates``); no patient row, id or date is in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .. import __version__
from ..errors import CnotrackError
from ..protocols.model import Count, Protocol
from ..statistics.paired import PGA_LEVELS
from .disclosure import RULE, Cells
from .sections import (
    COHORT_N,
    TIME_BIN_DAYS,
    comparison_section,
    count_section,
    endpoint_section,
    paired_section,
    survival_section,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "AggregatesError", "aggregates_of", "centre_aggregates",
           "protocol_definition_sha256", "read_aggregates", "validate_aggregates", "write_aggregates"]

FORMAT = "cnotrack-aggregates"
FORMAT_VERSION = "1.0"


class AggregatesError(CnotrackError):
    """An aggregates file cannot be written, read or combined (the message names the file)."""


def protocol_definition_sha256(protocol: Protocol) -> str:
    """The SHA-256 of the protocol's definition: its loaded model as canonical JSON (sorted keys,
    no spaces), so that two centres with the same definition have the same hash whatever the
    layout or comments of their YAML files."""
    data = protocol.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def centre_aggregates(dataset: Any, protocol: Protocol, *, min_cell_count: int = 5,
                      centre: str | None = None) -> dict[str, Any]:
    """Evaluate ``protocol`` on ``dataset`` and return the centre's aggregates (module docstring)."""
    from ..engine import evaluate

    return aggregates_of(evaluate(dataset, protocol), dataset, min_cell_count=min_cell_count, centre=centre)


def aggregates_of(evaluation: Any, dataset: Any, *, min_cell_count: int = 5,
                  centre: str | None = None) -> dict[str, Any]:
    """The aggregates of an evaluation made from ``dataset`` (which the paired tests re-read)."""
    if not isinstance(min_cell_count, int) or isinstance(min_cell_count, bool) or min_cell_count < 0:
        raise AggregatesError(f"min_cell_count {min_cell_count!r}: give a whole number, 0 or more (default 5; "
                              "0 or 1 suppresses nothing)")
    protocol = evaluation.protocol
    table = evaluation.patients
    cells = Cells()
    n = cells.count(COHORT_N, evaluation.n)
    female = cells.count(("cohort", "female"), evaluation.female)
    cells.complement(("cohort", "female"), COHORT_N, n - female)
    synthetic = evaluation.synthetic.as_json()
    for k in ("patients", "of", "eligible"):
        cells.count(("synthetic", k), synthetic[k])
    cells.complement(("synthetic", "patients"), ("synthetic", "of"), synthetic["of"] - synthetic["patients"])
    cells.complement(("synthetic", "eligible"), COHORT_N, n - synthetic["eligible"])
    cells.depends([("synthetic", "of_eligible")], [COHORT_N])
    endpoints: dict[str, Any] = {}
    for e in protocol.endpoints:
        if isinstance(e, Count):
            r = evaluation.endpoints[e.id]
            endpoints[e.id] = count_section(cells, ("endpoints", e.id), e, r.value, r.missing, COHORT_N, n)
        else:
            endpoints[e.id] = endpoint_section(cells, e, table, protocol)
        endpoints[e.id]["label"] = e.label
    paired, survival = _statistics(cells, evaluation, dataset)
    comparisons = {c.key: comparison_section(cells, ("comparisons", c.key), c, evaluation.comparisons[c.key],
                                             table, protocol, endpoints)
                   for c in protocol.compare}
    document: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "cnotrack_version": __version__,
        "centre": centre or "centre",
        "protocol": {"id": protocol.id, "definition_sha256": protocol_definition_sha256(protocol)},
        "dataset_sha256": evaluation.dataset_sha256,
        "disclosure": {"rule": RULE, "min_cell_count": min_cell_count, "suppressed": 0},
        "bins": {"time_days": TIME_BIN_DAYS,
                 "distribution": {k: v["bin_width"] for k, v in endpoints.items() if v["kind"] == "distribution"}},
        "cohort": {"n": n, "female": female},
        "synthetic": synthetic,
        "endpoints": endpoints, "paired": paired, "survival": survival, "comparisons": comparisons,
    }
    document["disclosure"]["suppressed"] = cells.apply(document, min_cell_count)
    return document


def _statistics(cells: Cells, evaluation: Any, dataset: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The paired tests (McNemar cells, signed-rank parts) and the binned survival analyses."""
    stats = evaluation.statistics
    if stats is None:
        return {}, {}
    paired: dict[str, Any] = {}
    table = None
    for key, test in stats.paired.items():
        differences = None
        if test.test != "mcnemar_exact":
            if table is None:
                from ..analysis._values import analysis_table

                pairs = evaluation.protocol.pairs()
                table = analysis_table(evaluation, dataset, timepoints=list(dict.fromkeys(t for p in pairs for t in p)))
            differences = _differences(table, key)
        paired[key] = paired_section(cells, ("paired", key), test, differences)
    survival = {}
    for key, result in stats.survival.items():
        survival[key] = survival_section(cells, ("survival", key), result)
        survival[key]["label"] = result.label
    return paired, survival


def _differences(table: pl.DataFrame, key: str) -> list[float | None]:
    """``before - after`` per patient of a paired signed-rank test ``<from>_vs_<to>.<what>``, coded
    as ``cnotrack.analysis`` codes it (the PGA by its position among the levels)."""
    pair, what = key.split(".", 1)
    first, second = pair.split("_vs_", 1)
    column = {"ESR": "ESR", "CRP": "CRP", "lesions": "lesions", "PGA": "pga"}[what]
    values = []
    for tp in (first, second):
        s = table[f"{column}@{tp}"]
        if what == "PGA":
            s = s.cast(pl.String).replace_strict(list(PGA_LEVELS), [float(i) for i in range(len(PGA_LEVELS))],
                                                 default=None, return_dtype=pl.Float64)
        values.append(s.cast(pl.Float64))
    return (values[0] - values[1]).to_list()


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads((Path(__file__).with_name("schema.json")).read_text(encoding="utf-8"))


def validate_aggregates(data: Any, *, source: str = "aggregates") -> None:
    """Check ``data`` against ``schema.json``; an ``AggregatesError`` names ``source``, the place
    of the first violation and what is wrong."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise AggregatesError(f"{source}: not a cnotrack aggregates file: at {where}: {first.message} "
                              f"({len(errors)} problem(s)); write it again with cnotrack evaluate --aggregates")


def write_aggregates(aggregates: dict[str, Any], path: str | Path) -> Path:
    """Validate ``aggregates`` and write them to ``path`` as UTF-8 JSON (atomically: a partial
    file is never left)."""
    target = Path(path)
    validate_aggregates(aggregates, source=str(target))
    text = json.dumps(aggregates, indent=2, ensure_ascii=False, default=_plain) + "\n"
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise AggregatesError(f"--aggregates {target}: the folder {folder} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_aggregates(path: str | Path) -> dict[str, Any]:
    """Read and validate an aggregates file; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AggregatesError(f"{p}: cannot be read as a UTF-8 text file ({error.__class__.__name__}: {error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AggregatesError(f"{p}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    validate_aggregates(data, source=str(p))
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
