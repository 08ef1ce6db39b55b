"""The evaluation page and its downloads (JSON, Markdown, the report as HTML, PDF or Word).

The evaluation comes from the application's cache (``evaluation_cache``): computed once per
state of the data, protocol and user scope, so that asking again, or another user of the same
scope asking, costs no evaluation. What the page shows of it (``evaluation_view``) and the JSON
and Markdown downloads are computed once per cached evaluation too. The patients not in the
cohort are listed a page at a time (``excluded_page``, 100 a page).

A report whose per-patient listing is cut (more than ``cnotrack.report.LISTING_MAX_ROWS`` rows)
says its full tables are in CSV files: a PDF carries them attached, so it is downloaded alone;
an HTML or Word report is downloaded as one ``.zip`` holding the report and those CSV files,
under the names the report cites (``_report_bytes``, written in a temporary folder that is
always removed). A report with no CSV file is downloaded bare.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from .. import records
from ..security_log import log_event
from ..users import User
from .deps import page_user
from .errors import ApiError
from .evaluation_cache import CachedEvaluation
from .evaluation_view import evaluation_view
from .listing import Page, page_number
from .services import cached_evaluation, evaluation_json, protocol_names
from .templating import render

__all__ = ["EXCLUDED_PAGE_SIZE", "ReportArchive", "router"]

router = APIRouter(include_in_schema=False)

#: The patients not in the cohort shown on one page of the evaluation.
EXCLUDED_PAGE_SIZE = 100


def _evaluation(request: Request, user: User, protocol: str) -> CachedEvaluation:
    state = request.app.state
    return cached_evaluation(state.evaluations, state.store, user, protocol)


def _excluded_page(excluded: pl.DataFrame, number: int) -> Page:
    number = page_number(number, EXCLUDED_PAGE_SIZE, excluded.height)
    rows = excluded.slice((number - 1) * EXCLUDED_PAGE_SIZE, EXCLUDED_PAGE_SIZE).to_dicts()
    return Page(rows, excluded.height, number, EXCLUDED_PAGE_SIZE, "")


@router.get("/evaluation", response_class=HTMLResponse)
async def evaluation_page(request: Request, protocol: str = Query("pardeo2017", max_length=100),
                          excluded_page: int = Query(1, ge=1, le=2**31 - 1),
                          user: User = Depends(page_user)) -> Response:
    with request.app.state.report_slots.hold(user):  # one evaluation or report at a time per user
        entry = await run_in_threadpool(_evaluation, request, user, protocol)
    view = await run_in_threadpool(entry.derived, "view", evaluation_view)  # never on the event loop
    excluded = _excluded_page(entry.evaluation.cohort.excluded, excluded_page)
    return render(request, "evaluation.html", {
        "protocol": protocol, "protocols": protocol_names(), "evaluation": entry.evaluation, **view,
        "excluded": excluded.items, "excluded_page": excluded,
        "excluded_links": excluded.links("/evaluation", page_param="excluded_page", protocol=protocol) if excluded.pages > 1 else [],
        "has_report": _report_module() is not None})


def _report_module():
    try:
        from .. import report
    except ImportError:
        return None
    return report if hasattr(report, "build_report") and hasattr(report, "write_report") else None


_REPORT_FORMATS = {"html": (".html", "text/html; charset=utf-8"), "pdf": (".pdf", "application/pdf"),
                   "docx": (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")}


@router.get("/evaluation/download")
async def evaluation_download(request: Request, protocol: str = Query("pardeo2017", max_length=100),
                              format: str = Query("json", pattern="^(json|markdown|html|pdf|docx)$"),
                              user: User = Depends(page_user)) -> Response:
    """The evaluation as JSON or Markdown, or its report (``cnotrack.report``) as HTML, PDF or Word:
    one at a time per user (a second request while one runs gets 429), and audited."""
    with request.app.state.report_slots.hold(user):
        response = await _download(request, protocol, format, user)
    log_event(request.app.state.store, "download", actor=user.username, subject=user,
              key={"username": user.username, "protocol": protocol, "format": format})
    return response


def _json_body(evaluation) -> str:
    return json.dumps(evaluation_json(evaluation), indent=2, ensure_ascii=False)


def _markdown(evaluation) -> str:
    from ..render import evaluation_markdown

    return evaluation_markdown(evaluation)


async def _download(request: Request, protocol: str, format: str, user: User) -> Response:
    entry = await run_in_threadpool(_evaluation, request, user, protocol)
    name = f"cnotrack-{protocol}"
    if format == "json":
        body = await run_in_threadpool(_json_body, entry.evaluation)  # every row: not kept, it is large
        return Response(body, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if format == "markdown":
        text = await run_in_threadpool(entry.derived, "markdown", _markdown)
        return Response(text, media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.md"'})
    report = _report_module()
    if report is None:
        raise ApiError(404, "not_found", "this cnotrack has no report module; download JSON or Markdown")
    suffix, media = _REPORT_FORMATS[format]
    data = await run_in_threadpool(_report_bytes, report, entry.evaluation, request.app.state.store, user,
                                   f"{name}{suffix}")
    if isinstance(data, ReportArchive):
        return Response(data.data, media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}-{format}.zip"'})
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}{suffix}"'})


@dataclass(frozen=True)
class ReportArchive:
    """A report downloaded with its listing CSV files: ``data`` is the ``.zip`` holding
    ``names`` (the report first, then each CSV as the report cites it)."""

    data: bytes
    names: tuple[str, ...]


def _report_bytes(report, evaluation, store, user: User, file_name: str) -> bytes | ReportArchive:
    """The report of ``evaluation`` on the patients ``user`` may see, written as ``file_name``
    (``cnotrack-pardeo2017.html``): its bytes, or, when ``write_report`` put listing CSV files
    beside it (an HTML or Word report of more than ``LISTING_MAX_ROWS`` patients), a zip of the
    report and those files. Written in a temporary folder, removed whatever happens."""
    built = report.build_report(evaluation, records.visible_dataset(store, user))
    with tempfile.TemporaryDirectory(prefix="cnotrack-report-") as folder:
        path = Path(report.write_report(built, Path(folder) / file_name))
        files = [path, *report.listing_files(built, path)]
        if len(files) == 1:
            return path.read_bytes()
        return ReportArchive(_zip(files), tuple(f.name for f in files))


def _zip(files: list[Path]) -> bytes:
    """``files`` in one zip (deflated, each under its own name), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, arcname=file.name)
    return buffer.getvalue()
