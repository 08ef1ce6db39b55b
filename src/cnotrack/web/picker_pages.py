"""The type-ahead pickers of the record forms: the patients and the imaging studies whose
identifier contains what was typed, at most ``SEARCH_LIMIT``, as the ``<option>`` elements of
the field's ``<datalist>`` (an htmx fragment; ``cnotrack.record_search`` does the search).

The field is a plain text input: without JavaScript one types the identifier and the server
checks it when the form is saved, as for any field. Only the records the user may see are
searched, so another center's identifiers never appear. htmx sends the input's value under the
field's own name (``?field=patient_id&patient_id=P0``); ``q`` may be given instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from ..record_search import (
    MAX_SEARCH_TEXT,
    SEARCH_LIMIT,
    has_control_character,
    search_patients,
    search_studies,
)
from ..users import User
from .deps import page_user
from .errors import ApiError
from .templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: The fields whose typed value a picker reads when ``q`` is not given.
PICKER_FIELDS = ("patient_id", "study_id")


def _typed(request: Request, q: str | None, field: str) -> str:
    if field not in PICKER_FIELDS:
        raise ApiError(422, "invalid_request", f"field {field!r} has no picker; the fields are "
                       + ", ".join(PICKER_FIELDS))
    text = q if q is not None else request.query_params.get(field, "")
    if len(text) > MAX_SEARCH_TEXT:
        raise ApiError(422, "invalid_request", f"the search text has {len(text)} characters; type at most "
                       f"{MAX_SEARCH_TEXT} (an identifier is shorter)")
    _refuse_control(field, text)
    return text


def _refuse_control(name: str, text: str) -> None:
    """A 422 for a text with a control character (PostgreSQL refuses a NUL in a parameter)."""
    if has_control_character(text.strip()):
        raise ApiError(422, "invalid_request", f"the {name} search holds a control character; type part of "
                       "an identifier")


def _options(request: Request, field: str, options: list[tuple[str, str]]) -> Response:
    return render(request, "_picker_options.html", {"field": field, "options": options, "limit": SEARCH_LIMIT})


@router.get("/pick/patients", response_class=HTMLResponse)
async def pick_patients(request: Request, q: str | None = Query(None, max_length=MAX_SEARCH_TEXT),
                        field: str = Query("patient_id", max_length=20), user: User = Depends(page_user)) -> Response:
    text = _typed(request, q, field)
    found = await run_in_threadpool(search_patients, request.app.state.store, user, text)
    return _options(request, field, [(p["patient_id"], p["center"] or "no center") for p in found])


@router.get("/pick/studies", response_class=HTMLResponse)
async def pick_studies(request: Request, q: str | None = Query(None, max_length=MAX_SEARCH_TEXT),
                       field: str = Query("study_id", max_length=20),
                       patient_id: str | None = Query(None, max_length=MAX_SEARCH_TEXT),
                       user: User = Depends(page_user)) -> Response:
    text = _typed(request, q, field)
    _refuse_control("patient_id", patient_id or "")
    found = await run_in_threadpool(search_studies, request.app.state.store, user, text,
                                    patient_id=patient_id or None)
    return _options(request, field, [(s["study_id"], f"{s['patient_id']} · {s['date']} · {s['modality']}")
                                     for s in found])
