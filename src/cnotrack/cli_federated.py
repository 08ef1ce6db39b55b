"""``cnotrack combine`` and ``cnotrack evaluate --aggregates``: a thin layer over ``cnotrack.federated``.

``cnotrack evaluate DIR --protocol P --aggregates OUT.json [--min-cell-count N] [--centre NAME]``
writes what a centre may share (``federated.aggregates_of``); ``cnotrack combine A.json B.json
... [--format text|json|markdown] [--report OUT.html|.pdf]`` pools the files
(``federated.combine``). This module never imports ``cnotrack.cli`` (``cli`` registers the
command), and imports the library only when a command runs.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["CombineFormat", "combine_command", "write_centre_aggregates"]


class CombineFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def check_aggregates_options(aggregates: Path | None, min_cell_count: int | None, centre: str | None) -> None:
    """``--min-cell-count`` and ``--centre`` only with ``--aggregates``; checked before any work."""
    from .federated import AggregatesError

    if aggregates is None and (min_cell_count is not None or centre is not None):
        option = "--min-cell-count" if min_cell_count is not None else "--centre"
        raise AggregatesError(f"{option}: belongs to the aggregates file; add --aggregates OUT.json")
    if aggregates is not None and aggregates.suffix.lower() != ".json":
        raise AggregatesError(f"--aggregates {aggregates}: write the aggregates as a .json file")
    if min_cell_count is not None and min_cell_count < 0:
        raise AggregatesError(f"--min-cell-count {min_cell_count}: give 0 or more (default 5; 0 suppresses nothing)")


def write_centre_aggregates(evaluation: Any, dataset: Any, path: Path, min_cell_count: int | None,
                            centre: str | None) -> Path:
    """Write the centre's aggregates of ``evaluation`` to ``path``; returns the path."""
    from .federated import aggregates_of, write_aggregates

    document = aggregates_of(evaluation, dataset, min_cell_count=5 if min_cell_count is None else min_cell_count,
                             centre=centre)
    return write_aggregates(document, path)


def combine_command(
    files: Annotated[list[Path], typer.Argument(help="The centres' aggregates files (cnotrack evaluate --aggregates).")],
    format: Annotated[CombineFormat, typer.Option("--format", help="text, json or markdown.")] = CombineFormat.text,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the combined report to OUT.html or OUT.pdf.")] = None,
) -> None:
    """Combine centres' aggregates into pooled endpoints (exact where the rows' statistic is; stratified or approximate, labelled, where not)."""
    from .federated import combine
    from .federated.render import combined_json, combined_markdown, combined_text
    from .federated.report import write_combined_report

    combined = combine(files)
    if report is not None:
        written = write_combined_report(combined, report)
        print(f"Wrote the combined report to {written}", file=sys.stderr)
    render = {CombineFormat.json: combined_json, CombineFormat.markdown: combined_markdown}.get(format, combined_text)
    sys.stdout.write(render(combined))
