"""The report as a PDF: the HTML page printed by WeasyPrint with the page's print styles
(A4, the banner at the top of every page, page numbers and the no-advice line at the bottom,
figures never split across pages, the per-patient listing on landscape pages)."""

from __future__ import annotations

import logging

from ..errors import CnotrackError
from .html import report_html
from .model import Report

__all__ = ["report_pdf"]


def report_pdf(report: Report) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:  # the Python package is there but Pango is not
        raise CnotrackError(
            f"writing a PDF needs the Pango library, which could not be loaded ({exc}); install it "
            "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core) "
            "or write the report as .html") from exc
    quiet = logging.getLogger("weasyprint")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # font-subsetting notes; real failures still raise
    try:
        return HTML(string=report_html(report)).write_pdf()
    finally:
        quiet.setLevel(level)
