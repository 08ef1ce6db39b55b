"""``write_report``: one report, the format chosen by the file's suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import CnotrackError
from .attachments import listing_csv, listing_files
from .model import Report

__all__ = ["FORMATS", "check_report_path", "report_bytes", "write_report"]

#: The suffixes ``write_report`` knows, with what each writes.
FORMATS = {
    ".html": "a self-contained HTML page",
    ".pdf": "a PDF (A4) printed from the HTML page",
    ".docx": "a Word document",
    ".md": "Markdown",
}


def check_report_path(path: str | Path, *, option: str = "path") -> Path:
    """``path`` as a Path when its suffix names a report format; otherwise a CnotrackError
    naming ``option``, the bad value and the suffixes that work."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        known = ", ".join(list(FORMATS)[:-1]) + f" or {list(FORMATS)[-1]}"
        problem = f"{path.suffix!r} is not a report format" if path.suffix else "the file name has no suffix"
        raise CnotrackError(f"{option} {str(path)!r}: {problem}; give a file ending in {known} "
                            "(for example report.html)")
    return path


def _renderer(suffix: str, place: str | None = None) -> Callable[[Report], bytes]:
    if suffix == ".html":
        from .html import report_html

        return lambda report: report_html(report, place=place).encode("utf-8")
    if suffix == ".pdf":
        from .pdf import report_pdf

        return report_pdf
    if suffix == ".docx":
        from .docx import report_docx

        return lambda report: report_docx(report, place=place)
    from .markdown import report_markdown

    return lambda report: report_markdown(report).encode("utf-8")


def report_bytes(report: Report, suffix: str) -> bytes:
    """The report in the format of ``suffix`` (``.html``, ``.pdf``, ``.docx`` or ``.md``).
    A listing table cut to its first rows says its CSV "comes with this report": take the
    files from ``attachments.listing_csv`` (a PDF carries them attached)."""
    suffix = check_report_path(f"report{suffix}", option="suffix").suffix.lower()
    return _renderer(suffix)(report)


def write_report(report: Report, path: str | Path, *, progress: Callable[[str], object] | None = None) -> Path:
    """Write ``report`` to ``path`` in the format its suffix names (see :data:`FORMATS`);
    the folder is made when missing. Returns the path written.

    A listing table of more than ``LISTING_MAX_ROWS`` rows is cut in the report and written
    whole as CSV: attached to a PDF, beside an HTML or Word file as ``<name>.<table id>.csv``
    (:func:`~cnotrack.report.attachments.listing_files` lists them).

    ``progress``, when given, is called with ``"render"`` as the layout starts and ``"files"``
    as the files are written; it changes nothing in what is written."""
    path = check_report_path(path)
    if progress is not None:
        progress("render")
    data = _renderer(path.suffix.lower(), place=path.name)(report)
    if progress is not None:
        progress("files")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    for table, side in zip(report.listing_full, listing_files(report, path)):
        side.write_bytes(listing_csv(table))
    return path
