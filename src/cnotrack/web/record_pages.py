"""The record forms: a new record and an edit of one, for every record type."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from .. import records
from ..errors import DatasetError, RecordConflictError
from ..users import User
from .deps import page_user
from .errors import ApiError
from .forms import form_fields, form_values, record_title
from .paths import RecordId, see_other
from .templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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
    return see_other(_after_save(request, user, table, record))


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
    return see_other(_after_save(request, user, table, record))
