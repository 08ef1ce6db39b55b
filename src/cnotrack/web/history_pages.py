"""A record's deletion."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import records
from ..users import User
from .deps import page_user
from .paths import RecordId, see_other
from .record_pages import _back_url, _check_type

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.post("/records/{table}/{record_id}/delete")
async def delete_record_submit(request: Request, table: str, record_id: RecordId,
                               user: User = Depends(page_user)) -> Response:
    _check_type(table)
    form = await request.form()
    version = str(form.get("version") or "")
    record = records.delete_record(request.app.state.store, user, table, record_id,
                                   int(version) if version.isdigit() else None)
    return see_other("/" if table == "patients" else _back_url(request, user, table, record))
