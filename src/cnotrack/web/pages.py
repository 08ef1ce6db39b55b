"""The web pages: login, the cohort dashboard, a patient's course, record forms, the
evaluation, the audit trail and the users. Each page calls the library (``cnotrack.records``,
``cnotrack.users``, the engine) exactly as the API does."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from .. import records
from ..errors import DatasetError, RecordConflictError
from ..store.schema import record_table
from ..users import User
from ..security_log import log_event
from .auth import COOKIE, LOGIN_COOKIE, end_session, login_form_token
from .deps import login_or_refuse, page_user, set_session_cookie
from .errors import ApiError
from .evaluation_view import endpoint_rows, evaluation_view
from .forms import form_fields, form_values, record_title
from .services import evaluate_for, evaluation_json, protocol_names
from .templating import render
from .timeline import completeness_rows, patient_timeline

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: A record id in a page's path: anything else (too large, negative, not a number) is a 404.
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---- log in and out -------------------------------------------------------------------------

def _login_form(request: Request, username: str, message: str = "", status: int = 200) -> Response:
    """The login page, with its login token (``auth.login_form_token``): the form's hidden field
    and, as the ``cnotrack_login`` cookie, the value it was made from."""
    nonce, field = login_form_token(request)
    response = render(request, "login.html", {"username": username, "message": message, "login_token": field},
                      status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=7200, path="/login", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _login_form(request, "")


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    """Log in (the login token was checked by ``auth.csrf_protect``)."""
    form = await request.form()
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    try:
        _, token, _ = await run_in_threadpool(login_or_refuse, request, username, password)
    except ApiError as exc:
        if exc.status not in (401, 429):
            raise
        response = _login_form(request, username, exc.message, exc.status)
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    response = _see_other("/")
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_submit(request: Request, user: User = Depends(page_user)) -> Response:
    end_session(request.app.state.store, request.cookies.get(COOKIE))
    log_event(request.app.state.store, "logout", actor=user.username, subject=user)
    response = _see_other("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# ---- the cohort -------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: User = Depends(page_user)) -> Response:
    store = request.app.state.store
    dataset = records.visible_dataset(store, user)
    evaluation = evaluate_for(store, user, "pardeo2017", statistics=False)
    eligible = set(evaluation.cohort.eligible["patient_id"].to_list())
    ids = _patient_record_ids(store, user)
    rows = completeness_rows(dataset)
    for row in rows:
        row["record_id"] = ids.get(row["patient_id"])
        row["in_cohort"] = row["patient_id"] in eligible
    return render(request, "dashboard.html", {"patients": rows, "endpoints": _endpoint_rows(evaluation),
                                              "n_eligible": evaluation.n, "protocol": "pardeo2017"})


def _patient_record_ids(store, user: User) -> dict[str, int]:
    """The record id of each patient ``user`` may see."""
    patients = record_table("patients")
    query = sa.select(patients.c.patient_id, patients.c.id).where(patients.c.deleted_at.is_(None))
    if not user.is_admin:
        query = query.where(patients.c.center == user.center)
    with store.engine.connect() as conn:
        return dict(conn.execute(query).all())


def _endpoint_rows(evaluation) -> list[dict[str, str]]:
    return endpoint_rows(evaluation)


@router.get("/patients/{record_id}", response_class=HTMLResponse)
def patient_page(request: Request, record_id: RecordId, user: User = Depends(page_user)) -> Response:
    store = request.app.state.store
    patient = records.get_record(store, user, "patients", record_id)
    pid = patient["patient_id"]
    mine = {t: records.list_records(store, user, t, filters={"patient_id": pid}, limit=100_000)
            for t in records.RECORD_TYPES if t not in ("patients", "lesions")}
    lesions = []
    for study in mine["imaging"]:
        lesions += records.list_records(store, user, "lesions", filters={"study_id": study["study_id"]}, limit=100_000)
    return render(request, "patient.html", {
        "patient": patient, "timeline": patient_timeline(mine, lesions),
        "diagnosis": mine.get("diagnosis", []), "chaq": mine.get("chaq", []),
        "record_types": [t for t in records.RECORD_TYPES if t not in ("patients", "lesions")],
        "titles": {t: record_title(t) for t in records.RECORD_TYPES}})


# ---- record forms -----------------------------------------------------------------------------

def _choices(request: Request, user: User) -> dict[str, list[str]]:
    store = request.app.state.store
    studies = records.list_records(store, user, "imaging", limit=100_000)
    return {"patient_ids": records.visible_patient_ids(store, user),
            "study_ids": sorted(s["study_id"] for s in studies)}


def _form_page(request: Request, user: User, table: str, values: dict[str, Any], problems, *, record=None,
               conflict=None, status: int = 200, message: str = "") -> Response:
    fields = form_fields(table, values, problems, **_choices(request, user))
    return render(request, "record_form.html", {
        "table": table, "title": record_title(table), "fields": fields, "record": record, "conflict": conflict,
        "message": message, "back": _back_url(request, user, table, record or values)}, status)


def _back_url(request: Request, user: User, table: str, values: dict[str, Any]) -> str:
    """The page of the record's study or patient, if ``user`` may see it (the values may come
    from the query string: an identifier of another center leads to the dashboard)."""
    store = request.app.state.store
    if table == "lesions" and values.get("study_id"):
        studies = records.list_records(store, user, "imaging", filters={"study_id": str(values["study_id"])}, limit=1)
        if studies:
            return f"/imaging/{studies[0]['id']}"
    pid = values.get("patient_id")
    if pid:
        patients = records.list_records(store, user, "patients", filters={"patient_id": str(pid)}, limit=1)
        if patients:
            return f"/patients/{patients[0]['id']}"
    return "/"


def _check_type(table: str) -> None:
    if table not in records.RECORD_TYPES:
        raise ApiError(404, "not_found", f"no record type {table!r}")


@router.get("/records/{table}/new", response_class=HTMLResponse)
def new_record_page(request: Request, table: str, user: User = Depends(page_user)) -> Response:
    _check_type(table)
    values = {k: v for k, v in request.query_params.items()}
    return _form_page(request, user, table, values, [])


@router.post("/records/{table}/new", response_class=HTMLResponse)
async def new_record_submit(request: Request, table: str, user: User = Depends(page_user)) -> Response:
    _check_type(table)
    values = form_values(table, await request.form())
    try:
        record = records.create_record(request.app.state.store, user, table, values)
    except DatasetError as exc:
        return _form_page(request, user, table, values, exc.problems, status=422,
                          message="Nothing was saved: correct the fields marked below.")
    except RecordConflictError as exc:
        return _form_page(request, user, table, values, [], status=409, message=str(exc))
    return _see_other(_after_save(request, user, table, record))


def _after_save(request: Request, user: User, table: str, record: dict[str, Any]) -> str:
    if table == "patients":
        return f"/patients/{record['id']}"
    if table == "imaging":
        return f"/imaging/{record['id']}"
    return _back_url(request, user, table, record)


@router.get("/records/{table}/{record_id}/edit", response_class=HTMLResponse)
def edit_record_page(request: Request, table: str, record_id: RecordId, user: User = Depends(page_user)) -> Response:
    _check_type(table)
    record = records.get_record(request.app.state.store, user, table, record_id)
    return _form_page(request, user, table, record, [], record=record)


@router.post("/records/{table}/{record_id}/edit", response_class=HTMLResponse)
async def edit_record_submit(request: Request, table: str, record_id: RecordId,
                             user: User = Depends(page_user)) -> Response:
    _check_type(table)
    form = await request.form()
    values = form_values(table, form)
    try:
        version = int(str(form.get("version") or "0"))
    except ValueError:
        version = 0
    store = request.app.state.store
    try:
        record = records.update_record(store, user, table, record_id, values, version)
    except DatasetError as exc:
        current = records.get_record(store, user, table, record_id)
        return _form_page(request, user, table, values, exc.problems, record={**current, "version": version},
                          status=422, message="Nothing was saved: correct the fields marked below.")
    except RecordConflictError as exc:
        current = exc.current or records.get_record(store, user, table, record_id)
        conflict = {"current": current, "submitted": values,
                    "columns": records.record_columns(table)}
        return _form_page(request, user, table, values, [], record=current, conflict=conflict, status=409,
                          message=str(exc))
    return _see_other(_after_save(request, user, table, record))


@router.post("/records/{table}/{record_id}/delete")
async def delete_record_submit(request: Request, table: str, record_id: RecordId,
                               user: User = Depends(page_user)) -> Response:
    _check_type(table)
    form = await request.form()
    version = str(form.get("version") or "")
    record = records.delete_record(request.app.state.store, user, table, record_id,
                                   int(version) if version.isdigit() else None)
    return _see_other("/" if table == "patients" else _back_url(request, user, table, record))


# ---- evaluation -------------------------------------------------------------------------------

@router.get("/evaluation", response_class=HTMLResponse)
async def evaluation_page(request: Request, protocol: str = Query("pardeo2017", max_length=100),
                          user: User = Depends(page_user)) -> Response:
    with request.app.state.report_slots.hold(user):  # one evaluation or report at a time per user
        evaluation = await run_in_threadpool(evaluate_for, request.app.state.store, user, protocol)
    return render(request, "evaluation.html", {
        "protocol": protocol, "protocols": protocol_names(), "evaluation": evaluation,
        **evaluation_view(evaluation), "has_report": _report_module() is not None})


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


async def _download(request: Request, protocol: str, format: str, user: User) -> Response:
    store = request.app.state.store
    evaluation = await run_in_threadpool(evaluate_for, store, user, protocol)
    name = f"cnotrack-{protocol}"
    if format == "json":
        body = json.dumps(evaluation_json(evaluation), indent=2, ensure_ascii=False)
        return Response(body, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if format == "markdown":
        from ..render import evaluation_markdown

        return Response(evaluation_markdown(evaluation), media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.md"'})
    report = _report_module()
    if report is None:
        raise ApiError(404, "not_found", "this cnotrack has no report module; download JSON or Markdown")
    suffix, media = _REPORT_FORMATS[format]
    data = await run_in_threadpool(_report_bytes, report, evaluation, records.visible_dataset(store, user), suffix)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}{suffix}"'})


def _report_bytes(report, evaluation, dataset, suffix: str) -> bytes:
    import tempfile
    from pathlib import Path

    built = report.build_report(evaluation, dataset)
    with tempfile.TemporaryDirectory() as folder:
        return Path(report.write_report(built, Path(folder) / f"report{suffix}")).read_bytes()


# ---- audit trail ------------------------------------------------------------------------------

def _audit_query(table: str | None, record_id: int | None) -> tuple[str | None, int | None]:
    if table is not None and table not in records.RECORD_TYPES:
        raise ApiError(404, "not_found", f"no record type {table!r}")
    return table, record_id


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, table: str | None = Query(None, max_length=40),
               record_id: int | None = Query(None, ge=1, le=2**31 - 1),
               user: User = Depends(page_user)) -> Response:
    table, record_id = _audit_query(table or None, record_id)
    entries = records.audit_trail(request.app.state.store, user, table=table, record_id=record_id, limit=500)
    for entry in entries:
        before, after = entry["before"] or {}, entry["after"] or {}
        entry["changes"] = [(k, before.get(k), after.get(k)) for k in (after or before)
                            if before.get(k) != after.get(k) and k != "extra"]
    return render(request, "audit.html", {"entries": list(reversed(entries)), "table": table, "record_id": record_id,
                                          "tables": records.RECORD_TYPES})


@router.get("/audit/export.csv")
def audit_export(request: Request, table: str | None = Query(None, max_length=40),
                 record_id: int | None = Query(None, ge=1, le=2**31 - 1),
                 user: User = Depends(page_user)) -> Response:
    table, record_id = _audit_query(table or None, record_id)
    from ..exchange import spreadsheet_safe  # no cell of the export runs as a formula (OWASP)

    def lines():
        """The CSV, a batch of entries at a time: memory bounded by the batch, not the trail."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "at", "actor", "action", "table", "record_id", "key", "before", "after", "import_id"])
        for batch in records.audit_trail_batches(request.app.state.store, user, table=table, record_id=record_id):
            for e in batch:
                cells = [e["id"], e["at"], e["actor"], e["action"], e["table"], e["record_id"],
                         json.dumps(e["key"], ensure_ascii=False, sort_keys=True),
                         "" if e["before"] is None else json.dumps(e["before"], ensure_ascii=False, sort_keys=True),
                         "" if e["after"] is None else json.dumps(e["after"], ensure_ascii=False, sort_keys=True),
                         "" if e["import_id"] is None else e["import_id"]]
                writer.writerow([spreadsheet_safe("" if c is None else str(c)) for c in cells])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="cnotrack-audit.csv"'})


# ---- users (admins) and one's own account: ``account_pages`` ----------------------------------

from .account_pages import router as _account_router  # noqa: E402

router.include_router(_account_router)
