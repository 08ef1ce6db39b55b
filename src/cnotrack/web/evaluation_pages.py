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

The page makes its reports in the background (``report_jobs``): ``POST /evaluation/reports``
starts a job (or returns the one already made for this user, protocol, format and state of the
data), ``GET /evaluation/reports/{id}`` is its status (the page polls it every second and is
answered 204 while nothing changed), ``GET /evaluation/reports/{id}/download`` the finished
report, once, audited as every download. ``GET /evaluation/download`` makes any format in the
request, for the API, the command line and browsers without script.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from fastapi import APIRouter, Depends, FastAPI, Form, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import records
from ..security_log import log_event
from ..store.state import data_state
from ..users import User
from .deps import page_user
from .errors import ApiError
from .evaluation_cache import CachedEvaluation
from .evaluation_view import evaluation_view
from .listing import Page, page_number
from .report_jobs import FORMAT_NAMES, JobNotFound, ReportFile, ReportJob, close_report_jobs, report_jobs
from .services import cached_evaluation, evaluation_json, protocol_names
from .templating import render

__all__ = ["EXCLUDED_PAGE_SIZE", "ReportArchive", "router"]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    close_report_jobs(app)  # every finished report's file removed at shutdown


router = APIRouter(include_in_schema=False, lifespan=_lifespan)

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
        "has_report": _report_module() is not None, "report_formats": FORMAT_NAMES,
        "report_jobs": report_jobs(request.app).of_user(user, protocol)})


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
    made = await run_in_threadpool(_report_file, _needed_report_module(), entry, request.app.state.store, user,
                                   protocol, format)
    return _attachment(made.data, made.media_type, made.file_name)


def _attachment(data: bytes, media_type: str, file_name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


def _needed_report_module():
    report = _report_module()
    if report is None:
        raise ApiError(404, "not_found", "this cnotrack has no report module; download JSON or Markdown")
    return report


def _report_file(report, entry: CachedEvaluation, store, user: User, protocol: str, format: str,
                 progress: Callable[[str], None] | None = None) -> ReportFile:
    """The report of ``entry`` in ``format`` (html, pdf or docx) as its download: the file, or
    the zip of the file and its listing CSV files (``_report_bytes``)."""
    name = f"cnotrack-{protocol}"
    suffix, media = _REPORT_FORMATS[format]
    extra = {"progress": progress} if progress is not None else {}
    data = _report_bytes(report, entry.evaluation, store, user, f"{name}{suffix}", **extra)
    if isinstance(data, ReportArchive):
        return ReportFile(data.data, f"{name}-{format}.zip", "application/zip", entry.token)
    return ReportFile(data, f"{name}{suffix}", media, entry.token)


@dataclass(frozen=True)
class ReportArchive:
    """A report downloaded with its listing CSV files: ``data`` is the ``.zip`` holding
    ``names`` (the report first, then each CSV as the report cites it)."""

    data: bytes
    names: tuple[str, ...]


def _report_bytes(report, evaluation, store, user: User, file_name: str,
                  progress: Callable[[str], None] | None = None) -> bytes | ReportArchive:
    """The report of ``evaluation`` on the patients ``user`` may see, written as ``file_name``
    (``cnotrack-pardeo2017.html``): its bytes, or, when ``write_report`` put listing CSV files
    beside it (an HTML or Word report of more than ``LISTING_MAX_ROWS`` patients), a zip of the
    report and those files. Written in a temporary folder, removed whatever happens.
    ``progress`` is told each stage (``build_report``'s and ``write_report``'s)."""
    extra = {"progress": progress} if progress is not None else {}
    built = report.build_report(evaluation, records.visible_dataset(store, user), **extra)
    with tempfile.TemporaryDirectory(prefix="cnotrack-report-") as folder:
        path = Path(report.write_report(built, Path(folder) / file_name, **extra))
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


# ---- reports in the background ----------------------------------------------------------------

def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _job_work(state, user: User, protocol: str, format: str, report) -> Callable:
    """What a job runs: the evaluation (from the cache), then the report, telling each stage."""
    def work(progress: Callable[[str], None]) -> ReportFile:
        progress("evaluate")
        entry = cached_evaluation(state.evaluations, state.store, user, protocol)
        return _report_file(report, entry, state.store, user, protocol, format, progress)
    return work


def _note(request: Request, status: str, message: str) -> Response:
    """For the page's script (HTMX swaps only a 2xx answer): why there is no progress to show."""
    return render(request, "_report_job_note.html", {"note_status": status, "message": message})


def _job_response(request: Request, job: ReportJob) -> Response:
    """The job's status: the fragment the page swaps in, or a page of its own (no script)."""
    return render(request, "_report_job.html" if _is_htmx(request) else "report_job.html", {"job": job})


@router.post("/evaluation/reports")
async def start_report(request: Request, protocol: str = Form("pardeo2017", max_length=100),
                       format: str = Form(..., pattern="^(html|pdf|docx)$"),
                       user: User = Depends(page_user)) -> Response:
    """Start the report of ``protocol`` in ``format`` in the background, or find the one of this
    user already made from this state of the data: its status (the page swaps it in), or a
    redirect to its status page."""
    if protocol not in protocol_names():
        raise ApiError(422, "invalid_request", f"protocol {protocol!r}: no such built-in protocol; use one of "
                                               f"{', '.join(protocol_names())}")
    report = _needed_report_module()
    state = request.app.state
    token = await run_in_threadpool(data_state, state.store)
    try:
        job, _ = report_jobs(request.app).start(user, protocol, format, token,
                                                _job_work(state, user, protocol, format, report))
    except ApiError as refused:
        if not _is_htmx(request):
            raise
        return _note(request, "refused", refused.message)  # shown in place of a progress bar
    if _is_htmx(request):
        return _job_response(request, job)
    return RedirectResponse(f"/evaluation/reports/{job.id}", status_code=303)


_JOB_ID = PathParam(..., min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@router.get("/evaluation/reports/{job_id}", response_class=HTMLResponse)
async def report_status(request: Request, job_id: str = _JOB_ID, seen: int = Query(-1, ge=-1, le=2**31 - 1),
                        user: User = Depends(page_user)) -> Response:
    """The status of a job of this user (404 for anyone else's): a fragment for the page's
    polling (204 while its version is still ``seen``), else a page."""
    try:
        job = report_jobs(request.app).get(job_id, user)
    except JobNotFound as gone:
        if not _is_htmx(request):
            raise
        return _note(request, "gone", gone.message)  # the page stops polling it
    if _is_htmx(request) and seen == job.version:
        return Response(status_code=204)
    return _job_response(request, job)


@router.get("/evaluation/reports/{job_id}/download")
async def report_download(request: Request, job_id: str = _JOB_ID, user: User = Depends(page_user)) -> Response:
    """The finished report of a job of this user, once (its file is removed), audited."""
    job, data = await run_in_threadpool(report_jobs(request.app).take, job_id, user)
    log_event(request.app.state.store, "download", actor=user.username, subject=user,
              key={"username": user.username, "protocol": job.protocol, "format": job.format})
    return _attachment(data, job.media_type or "application/octet-stream", job.file_name or "report")
