"""An evaluation as JSON at any scale: the summary by default, the detail streamed.

``cnotrack evaluate --format json`` prints the summary (``write_evaluation_json``): protocol,
cohort with its excluded patients, endpoints, methods, reference limits, statistics,
comparisons, provenance, notes, synthetic. The detail is one row per eligible patient, per
lesion fate and per diagnostic criterion (``DETAIL_TABLES``):

- ``--detail`` adds it to that JSON as the arrays ``patients``, ``lesions`` and
  ``diagnostic_criteria`` (and each survival analysis its ``subjects`` and
  ``excluded_patients``), written batch by batch by Polars' JSON writer, never built as one
  string;
- ``--detail-out FILE.jsonl`` writes it as JSON Lines: one record per line, its kind first,
  ``{"record": "patient", ...}``, ``{"record": "lesion", ...}``,
  ``{"record": "diagnostic_criteria", ...}``, in that order (``write_detail``);
- ``--detail-out FILE.parquet`` writes one Parquet file per table: ``FILE.parquet`` (patients),
  ``FILE.lesions.parquet`` and ``FILE.diagnostic_criteria.parquet``, each with its own columns.

Dates are ISO 8601 text in JSON (as in the summary), Parquet dates in Parquet; a NaN is
``null`` in JSON.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import IO, Any

import polars as pl

from ..errors import CnotrackError

__all__ = ["BATCH_ROWS", "DETAIL_FORMATS", "DETAIL_TABLES", "check_detail_path", "detail_paths",
           "detail_tables", "write_detail", "write_evaluation_json"]

#: rows written per batch
BATCH_ROWS = 20_000
#: the detail tables: (JSON key in ``--detail`` output, record kind in JSON Lines, Parquet suffix)
DETAIL_TABLES = (("patients", "patient", ""), ("lesions", "lesion", ".lesions"),
                 ("diagnostic_criteria", "diagnostic_criteria", ".diagnostic_criteria"))
DETAIL_FORMATS = (".jsonl", ".parquet")


def detail_tables(evaluation: Any) -> dict[str, pl.DataFrame]:
    """The detail of ``evaluation`` by JSON key: ``patients``, ``lesions``, ``diagnostic_criteria``."""
    return {"patients": evaluation.patients, "lesions": evaluation.lesions,
            "diagnostic_criteria": evaluation.diagnosis}


def detail_paths(path: Path) -> list[Path]:
    """The files ``write_detail(…, path)`` writes: ``path`` itself for JSON Lines; for Parquet
    ``path`` (patients) and its ``.lesions`` and ``.diagnostic_criteria`` siblings."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        stem = path.with_suffix("")
        return [path if not suffix else stem.with_name(stem.name + suffix + path.suffix)
                for _, _, suffix in DETAIL_TABLES]
    return [path]


def check_detail_path(path: Path) -> list[Path]:
    """The files a detail written to ``path`` would be, after checking that ``path`` ends in
    ``.jsonl`` or ``.parquet`` and that each file can be written; raises ``CnotrackError``
    naming the path and the fix."""
    path = Path(path)
    if path.suffix.lower() not in DETAIL_FORMATS:
        raise CnotrackError(f"{path}: {path.suffix or 'no extension'!s} is not a detail format; give a file "
                            "ending in .jsonl (JSON Lines) or .parquet")
    targets = detail_paths(path)
    for target in targets:
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir():
            raise CnotrackError(f"{target}: is a folder; give a file name such as {target / 'detail'}{path.suffix}")
        if not folder.is_dir():
            raise CnotrackError(f"{target}: the folder {folder} does not exist; create it or choose another path")
        if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
            raise CnotrackError(f"{target}: cannot be written (permission denied); choose a path you may write to")
    return targets


def write_detail(evaluation: Any, path: Path, *, batch_rows: int = BATCH_ROWS) -> list[Path]:
    """Write the detail of ``evaluation`` to ``path`` (``.jsonl`` or ``.parquet``, see the
    module) and return the files written."""
    targets = check_detail_path(path)
    tables = detail_tables(evaluation)
    if Path(path).suffix.lower() == ".parquet":
        for (key, _, _), target in zip(DETAIL_TABLES, targets):
            tables[key].write_parquet(target)
        return targets
    with open(targets[0], "wb") as out:
        for key, kind, _ in DETAIL_TABLES:
            frame = tables[key]
            if frame.width == 0 or frame.height == 0:
                continue
            records = frame.select(pl.lit(kind).alias("record"), pl.all().exclude("record"))
            for batch in records.iter_slices(batch_rows):
                batch.write_ndjson(out)
    return targets


def write_evaluation_json(evaluation: Any, out: IO[str], *, detail: bool = False,
                          notice: str | None = None, batch_rows: int = BATCH_ROWS) -> None:
    """Write ``evaluation`` as ``cnotrack evaluate --format json`` does to the text stream
    ``out``: the summary (``Evaluation.as_json(detail=False)``), and with ``detail`` the
    detail arrays after it, streamed in batches of ``batch_rows`` rows. ``notice`` replaces the
    summary's ``notice`` (the demo's banner)."""
    body = evaluation.as_json(detail=False)
    if detail and evaluation.statistics is not None:
        body["statistics"] = evaluation.statistics.as_json(detail=True)
    if notice:
        body["notice"] = notice
    text = json.dumps(body, indent=2, ensure_ascii=False)
    if not detail:
        out.write(text + "\n")
        return
    out.write(text[:-2])  # the summary without its closing "\n}"
    for key, frame in detail_tables(evaluation).items():
        out.write(f',\n  {json.dumps(key)}: [')
        first = True
        if frame.width and frame.height:
            for batch in frame.iter_slices(batch_rows):
                buffer = io.BytesIO()
                batch.write_ndjson(buffer)
                lines = buffer.getvalue().decode("utf-8").rstrip("\n").replace("\n", ",\n    ")
                out.write(("\n    " if first else ",\n    ") + lines)
                first = False
            out.write("\n  ")
        out.write("]")
    out.write("\n}\n")
