"""The audit trail: its pages and its CSV export, filtered in the database.

Every filter is in the address (``table``, ``record_id``, ``actor``, ``patient_id``, ``from``,
``to``, ``page``, ``size``), so a filtered page can be bookmarked, shared and exported: the
export link carries the page's filters. The filters are bound parameters of the audit trail's
query (:class:`cnotrack.audit.AuditFilter`), read a page at a time (LIMIT/OFFSET; one entry
more tells whether there is a next page, so no count of the trail). A filter narrows what the
signed-in user may see (an investigator or viewer: the records of their center's patients),
never widens it; a patient of another center answers exactly as one that does not exist (no
entries). Each entry links to its record's history page (``history_pages``), which answers 404
for a record the user may not see.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from .. import records
from ..audit import AuditFilter
from ..users import User
from .deps import page_user
from .errors import ApiError
from .listing import MAX_PAGE_SIZE
from .templating import render

#: The audit trail's entries a page.
AUDIT_PAGE_SIZE = 100

__all__ = ["AUDIT_PAGE_SIZE", "entry_changes", "router"]

router = APIRouter(include_in_schema=False)


class _Filters:
    """The audit page's filters, read from the query string: an empty value is no condition (the
    filter form sends its empty fields), a bad date or record id is a 422 that names it, text is
    bound as a parameter, never written into SQL."""

    def __init__(self, table: str | None = Query(None, max_length=40),
                 record_id: str | None = Query(None, max_length=12, description="a record id (digits)"),
                 actor: str | None = Query(None, max_length=200),
                 patient_id: str | None = Query(None, max_length=200),
                 date_from: str | None = Query(None, alias="from", max_length=10, description="YYYY-MM-DD"),
                 date_to: str | None = Query(None, alias="to", max_length=10, description="YYYY-MM-DD")) -> None:
        # an empty field of the filter form is sent as an empty value: no condition
        if table and table not in records.RECORD_TYPES:
            raise ApiError(404, "not_found", f"no record type {table!r}")
        self.record_id = _number("record_id", record_id)
        date_from, date_to = _day("from", date_from), _day("to", date_to)
        if date_from and date_to and date_from > date_to:
            raise ApiError(422, "invalid_request", f"the date range from {date_from} to {date_to} is empty: "
                                                   "choose a 'from' date on or before the 'to' date")
        for name, value in (("actor", actor), ("patient_id", patient_id)):
            if value and not value.isprintable():
                raise ApiError(422, "invalid_request", f"the {name} filter holds a control character; type the "
                                                       f"{'user name' if name == 'actor' else 'patient identifier'} "
                                                       "as text")
        self.table = table or None
        self.actor = (actor or "").strip() or None
        self.patient_id = (patient_id or "").strip() or None
        self.date_from, self.date_to = date_from, date_to

    @property
    def where(self) -> AuditFilter:
        return AuditFilter(actor=self.actor, patient_id=self.patient_id, date_from=self.date_from,
                           date_to=self.date_to)

    def query(self, **more: object) -> dict[str, object]:
        """The filters as query parameters (empty ones left out), with ``more``."""
        values = {"table": self.table, "record_id": self.record_id, "actor": self.actor,
                  "patient_id": self.patient_id, "from": self.date_from, "to": self.date_to, **more}
        return {k: v for k, v in values.items() if v is not None}


def _number(name: str, text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        raise ApiError(422, "invalid_request", f"{name} {text!r} is not a record id; give a whole number from 1")
    return int(text)


def _day(name: str, text: str | None) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid_request", f"the {name!r} date {text!r} is not a date; write it as "
                                               "YYYY-MM-DD (2024-03-31)") from None


def entry_changes(entry: dict) -> list[tuple[str, object, object]]:
    """An audit entry's changed columns as (column, before, after), the extra attributes left out."""
    before, after = entry["before"] or {}, entry["after"] or {}
    return [(k, before.get(k), after.get(k)) for k in (after or before)
            if before.get(k) != after.get(k) and k != "extra"]


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, filters: _Filters = Depends(), page: int = Query(1, ge=1, le=2**31 - 1),
               size: int = Query(AUDIT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
               user: User = Depends(page_user)) -> Response:
    """The audit trail, newest first, ``size`` entries a page, narrowed by the filters."""
    entries = records.audit_trail(request.app.state.store, user, table=filters.table, record_id=filters.record_id,
                                  limit=size + 1, offset=(page - 1) * size, where=filters.where)
    has_next = len(entries) > size
    entries = list(reversed(entries[1:] if has_next else entries))
    for entry in entries:
        entry["changes"] = entry_changes(entry)

    def url(number: int) -> str:
        return "/audit?" + urlencode(filters.query(page=number, size=size))

    return render(request, "audit.html", {"entries": entries, "filters": filters, "table": filters.table,
                                          "record_id": filters.record_id, "tables": records.RECORD_TYPES,
                                          "page": page, "export_url": "/audit/export.csv?" + urlencode(filters.query()),
                                          "filtered": bool(filters.query()),
                                          "previous_url": url(page - 1) if page > 1 else None,
                                          "next_url": url(page + 1) if has_next else None})


@router.get("/audit/export.csv")
def audit_export(request: Request, filters: _Filters = Depends(), user: User = Depends(page_user)) -> Response:
    """The audit trail as CSV, narrowed by the same filters as the page, streamed a batch at a time."""
    from ..exchange import spreadsheet_safe  # no cell of the export runs as a formula (OWASP)

    def lines():
        """The CSV, a batch of entries at a time: memory bounded by the batch, not the trail."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "at", "actor", "action", "table", "record_id", "key", "before", "after", "import_id"])
        for batch in records.audit_trail_batches(request.app.state.store, user, table=filters.table,
                                                 record_id=filters.record_id, where=filters.where):
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
