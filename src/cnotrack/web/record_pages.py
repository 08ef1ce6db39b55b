"""The record forms: a new record and an edit of one, for every record type.

A viewer reads but does not change records: every form of this module answers them with a page
that says so (403, the same for any table and record id, so it tells nothing of what exists).
An investigator's center is shown, not editable, on a patient's form; ``cnotrack.records``
refuses a patient of another center whatever the form sends."""

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


#: The page a viewer gets from a record form (``error.html`` adds the links back).
READ_ONLY = ("Your role ({role}) can read but not change records; ask an admin if you need to add or "
             "edit records.")


def read_only(user: User) -> ApiError:
    """The answer to a user who may not change records, opening or sending a record form."""
    return ApiError(403, "read_only", READ_ONLY.format(role=user.role.value))


def _check_writer(user: User) -> None:
    if not user.can_write:
        raise read_only(user)


def _form_page(request: Request, user: User, table: str, values: dict[str, Any], problems, *, record=None,
               conflict=None, status: int = 200, message: str = "") -> Response:
    fields = form_fields(table, values, problems, fixed_center=None if user.is_admin else user.center)
    return render(request, "record_form.html", {
        "table": table, "title": record_title(table), "fields": fields, "record": record, "conflict": conflict,
        "message": message, "back": _back_url(request, user, table, record or values)}, status)


def _back_url(request: Request, user: User, table: str, values: dict[str, Any]) -> str:
    """The page of the record's study or patient, if ``user`` may see it (the values may come
    from the query string: an identifier of another center leads to the dashboard)."""
    store = request.app.state.store
    study = str(values.get("study_id") or "")
    if table == "lesions" and study and _storable(study):
        studies = records.list_records(store, user, "imaging", filters={"study_id": study}, limit=1)
        if studies:
            return f"/imaging/{studies[0]['id']}"
    pid = values.get("patient_id")
    if pid and _storable(str(pid)):
        patients = records.list_records(store, user, "patients", filters={"patient_id": str(pid)}, limit=1)
        if patients:
            return f"/patients/{patients[0]['id']}"
    return "/"


def _storable(identifier: str) -> bool:
    """Whether ``identifier`` can be looked up at all: one with a NUL (refused by the form's
    validation) is no record's, and PostgreSQL refuses it as a parameter."""
    return "\x00" not in identifier


def _check_type(table: str) -> None:
    if table not in records.RECORD_TYPES:
        raise ApiError(404, "not_found", f"no record type {table!r}")


@router.get("/records/{table}/new", response_class=HTMLResponse)
def new_record_page(request: Request, table: str, user: User = Depends(page_user)) -> Response:
    _check_type(table)
    _check_writer(user)
    values = {k: v for k, v in request.query_params.items()}
    return _form_page(request, user, table, values, [])


@router.post("/records/{table}/new", response_class=HTMLResponse)
async def new_record_submit(request: Request, table: str, user: User = Depends(page_user)) -> Response:
    _check_type(table)
    _check_writer(user)
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
    _check_writer(user)
    record = records.get_record(request.app.state.store, user, table, record_id)
    return _form_page(request, user, table, record, [], record=record)


@router.post("/records/{table}/{record_id}/edit", response_class=HTMLResponse)
async def edit_record_submit(request: Request, table: str, record_id: RecordId,
                             user: User = Depends(page_user)) -> Response:
    _check_type(table)
    _check_writer(user)
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
