"""The publication-ready report of an evaluation, in HTML, PDF, Word and Markdown.

``build_report(evaluation, dataset)`` gathers every section once (methods generated from the
protocol, Table 1, outcomes with 95% CIs and the published values, paired tests, Kaplan-Meier
analyses, figures, data completeness, reference limits, the per-patient listing and
provenance) into a :class:`Report`; ``write_report(report, path)`` lays it out in the format
the file's suffix names:

- ``.html``: one self-contained page (inline CSS and SVG, no script, no external reference);
- ``.pdf``: the same page printed by WeasyPrint (A4, page numbers, figures kept whole);
- ``.docx``: a Word document with Table 1 and the outcomes as Word tables and the figures as PNG;
- ``.md``: the Markdown report of ``cnotrack.render`` with completeness and provenance added.

Every format shows the banner (when given) at the top and ends with "cnotrack supports
research; it gives no treatment advice."
"""

from .build import build_report, format_generated_at
from .model import NO_ADVICE, Figure, Outcome, Report, ReportTable
from .write import FORMATS, report_bytes, write_report

__all__ = [
    "FORMATS",
    "NO_ADVICE",
    "Figure",
    "Outcome",
    "Report",
    "ReportTable",
    "build_report",
    "format_generated_at",
    "report_bytes",
    "write_report",
]
