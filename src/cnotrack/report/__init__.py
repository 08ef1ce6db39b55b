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

A per-patient listing table of more than ``LISTING_MAX_ROWS`` (100) rows shows its first 100
rows and goes whole into a CSV file (attached to the PDF, beside an HTML or Word report;
``listing_files`` names them), and the report says where and how many rows it has.
"""

from .attachments import LISTING_MAX_ROWS, listing_csv, listing_files
from .build import build_report, format_generated_at
from .model import NO_ADVICE, Figure, Outcome, Report, ReportTable
from .write import FORMATS, report_bytes, write_report

__all__ = [
    "FORMATS",
    "LISTING_MAX_ROWS",
    "NO_ADVICE",
    "Figure",
    "Outcome",
    "Report",
    "ReportTable",
    "build_report",
    "format_generated_at",
    "listing_csv",
    "listing_files",
    "report_bytes",
    "write_report",
]
