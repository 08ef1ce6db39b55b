"""The combined report as one self-contained HTML page, or a PDF printed from it (WeasyPrint).

It reads like the single-centre report (``cnotrack.report``): the same stylesheet, header,
contents, "Results in brief", tables with notes and the no-advice footer; its tables are
``render.combined_tables`` (centres, outcomes pooled and per centre, paired tests, time to
event, comparisons), with every approximate number marked and suppressed cells as "suppressed".
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..report.model import NO_ADVICE
from .aggregates import AggregatesError
from .combine import Combined
from .render import combined_tables, summary_lines

__all__ = ["METHODS", "combined_html", "combined_pdf", "write_combined_report"]

METHODS = (
    ("Each centre evaluated the same protocol definition (the same SHA-256 of its canonical JSON) on its own "
     "data and shared only aggregates: counts, counts per bin and per-centre rank statistics, never a patient "
     "row, identifier or date. Counts below each centre's min_cell_count were suppressed there, with "
     "complementary cells so that none can be recomputed from totals."),
    ("Exact (equal to the evaluation of the pooled rows): counts; proportions and their Clopper-Pearson exact "
     "95% intervals from the summed numerators and denominators; the exact McNemar test from the summed paired "
     "2 x 2 table; Fisher's exact test (two groups) and the chi-squared test (more groups) from the summed "
     "2 x k table. Heterogeneity of a proportion between centres: Cochran's Q and I²."),
    ("Centre-stratified (exact computations of the stratified tests, labelled so): the van Elteren test for a "
     "distribution compared between two groups; the stratified Wilcoxon signed-rank test (the sum of "
     "within-centre V with its tie-corrected variance, normal approximation) for a change and for the paired "
     "comparisons of values."),
    ("Approximate (labelled with the bin width): medians, quartiles and ranges from values counted in bins "
     "(each within half a bin of the pooled rows' value); Kaplan-Meier curves and medians from events and "
     "censored patients counted in bins of days, the estimate of the times rounded up to the end of their bin, "
     "and the log-rank test of a comparison from the same rounded times. A statistic needing a suppressed "
     "cell is not given; the table says which centre withheld it."),
)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("cnotrack.federated", "templates"),
                       autoescape=select_autoescape(["html", "j2"], default=True), undefined=StrictUndefined)


def _css() -> str:
    return resources.files("cnotrack.report").joinpath("templates").joinpath("report.css").read_text("utf-8")


def combined_html(c: Combined, *, generated: str | None = None) -> str:
    """The combined report as an HTML page (no script, no link outside the file)."""
    summary = summary_lines(c)
    banner = summary[0] if summary and summary[0].startswith("SYNTHETIC") else None
    when = generated or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _environment().get_template("combined.html.j2").render(
        c=c, tables=combined_tables(c), summary=summary[1:] if banner else summary, banner=banner,
        methods=METHODS, css=_css(), version=__version__, generated=when, footer=NO_ADVICE)


def combined_pdf(c: Combined) -> bytes:
    """The combined report as PDF bytes, printed from ``combined_html``."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # the Python package is there but Pango is not
        raise AggregatesError(f"writing a PDF needs the Pango library, which could not be loaded ({exc}); "
                              "write the report as .html") from exc
    quiet = logging.getLogger("weasyprint")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return HTML(string=combined_html(c)).write_pdf()
    finally:
        quiet.setLevel(level)


def write_combined_report(c: Combined, path: str | Path) -> Path:
    """Write the combined report to ``path``: ``.html`` or ``.pdf`` by its suffix."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise AggregatesError(f"--report {target}: write the report as .html or .pdf (not {suffix or 'no suffix'})")
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise AggregatesError(f"--report {target}: the folder {target.parent} does not exist; create it first")
    data = combined_pdf(c) if suffix == ".pdf" else combined_html(c).encode("utf-8")
    target.write_bytes(data)
    return target
