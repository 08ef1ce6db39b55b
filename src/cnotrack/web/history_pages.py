"""A record's deletion (asked, then confirmed), its history, and an admin's restore.

- ``GET /records/{table}/{id}/delete`` shows what would be deleted: the record's values, and the
  records that still refer to it (a patient's treatments, visits, ...; a study's lesions).
  Deletes do not cascade: a patient or study with such records is not deleted
  (``records.delete_record`` refuses), so the page lists them and offers no Delete button.
- ``POST /records/{table}/{id}/delete`` is the confirmed delete (soft: the record stays, with
  its history, in the audit trail).
- ``GET /records/{table}/{id}/history`` is the record's audit trail, live or deleted, for
  anyone who may see its patient; an admin sees a Restore button on a deleted record.
- ``POST /records/{table}/{id}/restore`` brings a deleted record back (admins only: anyone else
  gets 403, whatever the record; ``records.restore_record``); ``POST /api/v1/{table}/{id}/restore`` (in ``web/api.py``)
  is the same for the JSON API (the restored record, or the API's one error shape).

A record of another center answers every one of these exactly as an id that does not exist
(404), deleted or not.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from .. import records
from ..errors import RecordConflictError
from ..users import User
from .audit_pages import entry_changes
from .deps import page_user
from .errors import ApiError
from .forms import field_label, record_title
from .paths import RecordId, see_other
from .record_pages import _back_url, _check_type
from .templating import render

__all__ = ["HISTORY_PAGE_SIZE", "router"]

#: The history entries a page.
HISTORY_PAGE_SIZE = 100

router = APIRouter(include_in_schema=False)


def _record_page(table: str, record: dict) -> str | None:
    """The page that shows a live record, where it has one of its own."""
    return {"patients": f"/patients/{record['id']}", "imaging": f"/imaging/{record['id']}"}.get(table)


def _values(table: str, record: dict) -> list[tuple[str, object]]:
    """(the field's words, the value) of each column of the record."""
    return [(field_label(table, c), record.get(c)) for c in records.record_columns(table)]


@router.get("/records/{table}/{record_id}/delete", response_class=HTMLResponse)
def delete_record_page(request: Request, table: str, record_id: RecordId, user: User = Depends(page_user)) -> Response:
    """Ask before deleting: the record, what refers to it, a Delete button and a Cancel link."""
    _check_type(table)
    if not user.can_write:
        raise ApiError(403, "forbidden", f"a {user.role.value} cannot delete records; ask an investigator or an admin")
    store = request.app.state.store
    record = records.get_record(store, user, table, record_id)
    dependents = records.dependent_records(store, user, table, record_id)
    back = _record_page(table, record) or _back_url(request, user, table, record)
    return render(request, "record_delete.html", {
        "table": table, "title": record_title(table), "record": record, "values": _values(table, record),
        "dependents": dependents, "n_dependents": sum(dependents.values()), "cancel": back})


@router.post("/records/{table}/{record_id}/delete")
async def delete_record_submit(request: Request, table: str, record_id: RecordId,
                               user: User = Depends(page_user)) -> Response:
    """The confirmed delete (the confirmation page's form, with the version it showed: a record
    changed since is not deleted, 409)."""
    _check_type(table)
    form = await request.form()
    version = str(form.get("version") or "")
    record = records.delete_record(request.app.state.store, user, table, record_id,
                                   int(version) if version.isdigit() else None)
    return see_other("/" if table == "patients" else _back_url(request, user, table, record))


@router.get("/records/{table}/{record_id}/history", response_class=HTMLResponse)
def record_history_page(request: Request, table: str, record_id: RecordId,
                        page: int = Query(1, ge=1, le=2**31 - 1), user: User = Depends(page_user)) -> Response:
    """The record (live or deleted) and its audit entries, newest first."""
    _check_type(table)
    size = HISTORY_PAGE_SIZE
    history = records.record_history(request.app.state.store, user, table, record_id, limit=size + 1,
                                     offset=(page - 1) * size)
    entries = history["entries"]
    has_next = len(entries) > size
    entries = entries[:size]
    for entry in entries:
        entry["changes"] = entry_changes(entry)
    record = history["record"]
    base = f"/records/{table}/{record_id}/history"
    return render(request, "record_history.html", {
        "table": table, "title": record_title(table), "record": record, "values": _values(table, record),
        "deleted": history["deleted"], "deleted_at": history["deleted_at"], "entries": entries,
        "record_page": None if history["deleted"] else _record_page(table, record),
        "page": page, "previous_url": f"{base}?page={page - 1}" if page > 1 else None,
        "next_url": f"{base}?page={page + 1}" if has_next else None,
        "restored": request.query_params.get("restored") == "1" and not history["deleted"]})


@router.post("/records/{table}/{record_id}/restore", response_class=HTMLResponse)
def restore_record_submit(request: Request, table: str, record_id: RecordId,
                          user: User = Depends(page_user)) -> Response:
    """Restore a deleted record (admins only), then show its history."""
    _check_type(table)
    try:
        records.restore_record(request.app.state.store, user, table, record_id)
    except RecordConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return see_other(f"/records/{table}/{record_id}/history?restored=1")
