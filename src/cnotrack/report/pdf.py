"""The report as a PDF: the HTML page printed by WeasyPrint with the page's print styles
(A4, the banner at the top of every page, page numbers and the no-advice line at the bottom,
figures never split across pages, the per-patient listing on landscape pages). A listing table
cut to its first rows (``attachments.LISTING_MAX_ROWS``) is attached whole as a CSV file."""

from __future__ import annotations

import logging

from ..errors import CnotrackError
from .attachments import listing_csv, listing_file_name
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
        from weasyprint import Attachment

        attachments = [Attachment(string=listing_csv(table), name=listing_file_name(table),
                                  description=f"{table.title}: all {len(table.rows)} rows")
                       for table in report.listing_full]
        return HTML(string=report_html(report, place="pdf")).write_pdf(attachments=attachments)
    finally:
        quiet.setLevel(level)
