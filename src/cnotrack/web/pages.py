"""The web pages: login, the cohort dashboard, a patient's course, record forms, the
evaluation, the audit trail and the users. Each page calls the library (``cnotrack.records``,
``cnotrack.users``, the engine) exactly as the API does."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from .. import records
from ..errors import DatasetError, RecordConflictError
from ..users import User
from ..security_log import log_event
from .auth import COOKIE, LOGIN_COOKIE, end_session, login_form_token
from .deps import login_or_refuse, page_user, set_session_cookie
from .errors import ApiError
from .evaluation_view import endpoint_rows
from .forms import form_fields, form_values, record_title
from .listing import MAX_PAGE_SIZE, Page
from .patient_list import PATIENT_SORT_KEYS, patient_list_page
from .services import cached_evaluation
from .templating import render
from .timeline import patient_timeline

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: The protocol whose cohort and results the dashboard shows, and its patients a page.
DASHBOARD_PROTOCOL = "pardeo2017"
DASHBOARD_PAGE_SIZE = 50
#: The audit trail's entries a page.
AUDIT_PAGE_SIZE = 100
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
def dashboard(request: Request, page: int = Query(1, ge=1, le=2**31 - 1),
              size: int = Query(DASHBOARD_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
              sort: str = Query(PATIENT_SORT_KEYS.default, max_length=40), user: User = Depends(page_user)) -> Response:
    """The cohort: one page of the patients (sorted and paged in the database), and the
    ``pardeo2017`` results (from the evaluation cache). An htmx request (``HX-Request``) for
    another page gets the patient list alone."""
    state = request.app.state
    PATIENT_SORT_KEYS.parse(sort)  # a refused sort is a 422 before it costs an evaluation
    entry = cached_evaluation(state.evaluations, state.store, user, DASHBOARD_PROTOCOL, statistics=False)
    cohort = entry.derived("eligible_ids", lambda e: frozenset(e.cohort.eligible["patient_id"].to_list()))
    listed = patient_list_page(state.store, user, page=page, size=size, sort=sort, cohort=cohort)
    context = {"patients": listed.items, "listed": listed, "links": listed.links("/") if listed.pages > 1 else [],
               "sort_links": _sort_links(listed), "protocol": DASHBOARD_PROTOCOL}
    if request.headers.get("HX-Request") == "true":
        return render(request, "_patient_list.html", context)
    return render(request, "dashboard.html", {**context, "endpoints": entry.derived("endpoint_rows", endpoint_rows),
                                              "n_eligible": entry.evaluation.n})


def _sort_links(listed: Page) -> dict[str, str]:
    """Per sort key, the address of the first page sorted by it (descending if it is the current key)."""
    current = listed.sort.lstrip("-")
    out = {}
    for key in PATIENT_SORT_KEYS.columns:
        order = f"-{key}" if key == current and not listed.sort.startswith("-") else key
        out[key] = f"/?{urlencode({'page': 1, 'size': listed.size, 'sort': order})}"
    return out


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


# ---- audit trail ------------------------------------------------------------------------------

def _audit_query(table: str | None, record_id: int | None) -> tuple[str | None, int | None]:
    if table is not None and table not in records.RECORD_TYPES:
        raise ApiError(404, "not_found", f"no record type {table!r}")
    return table, record_id


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, table: str | None = Query(None, max_length=40),
               record_id: int | None = Query(None, ge=1, le=2**31 - 1), page: int = Query(1, ge=1, le=2**31 - 1),
               size: int = Query(AUDIT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
               user: User = Depends(page_user)) -> Response:
    """The audit trail, newest first, ``size`` entries a page (read with LIMIT/OFFSET in the
    database; one entry more tells whether there is a next page, so no count of the trail)."""
    table, record_id = _audit_query(table or None, record_id)
    entries = records.audit_trail(request.app.state.store, user, table=table, record_id=record_id, limit=size + 1,
                                  offset=(page - 1) * size)
    has_next = len(entries) > size
    entries = list(reversed(entries[1:] if has_next else entries))
    for entry in entries:
        before, after = entry["before"] or {}, entry["after"] or {}
        entry["changes"] = [(k, before.get(k), after.get(k)) for k in (after or before)
                            if before.get(k) != after.get(k) and k != "extra"]

    def url(number: int) -> str:
        query = {"table": table, "record_id": record_id, "page": number, "size": size}
        return "/audit?" + urlencode({k: v for k, v in query.items() if v is not None})

    return render(request, "audit.html", {"entries": entries, "table": table, "record_id": record_id,
                                          "tables": records.RECORD_TYPES, "page": page,
                                          "previous_url": url(page - 1) if page > 1 else None,
                                          "next_url": url(page + 1) if has_next else None})


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
