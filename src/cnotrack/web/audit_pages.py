"""The audit trail: its pages and its CSV export."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from .. import records
from ..users import User
from .deps import page_user
from .errors import ApiError
from .listing import MAX_PAGE_SIZE
from .templating import render

#: The audit trail's entries a page.
AUDIT_PAGE_SIZE = 100

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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
