"""A patient's page: the course of one patient on one time axis (``web.course``), a body map
per scan, the patient's status for each built-in protocol, and every record of theirs.

The records are read with filters in SQL (``course.patient_records``: one query per table, the
lesions of every study in one); the protocol status comes from each protocol's cached evaluation
(``services.cached_evaluation``), loaded into the page by HTMX from
``/patients/{id}/protocols/{protocol}`` so that a cold cache never holds up the page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from .. import records
from ..users import User
from .course import (
    FATE_STYLE,
    body_map_svg,
    build_course,
    course_svg,
    drug_class_legend,
    patient_records,
    patient_status,
    scan_maps,
    skeleton_symbol_svg,
)
from .course.patient_records import PATIENT_TABLES
from .deps import page_user
from .errors import ApiError
from .forms import record_title
from .paths import RecordId
from .services import cached_evaluation, protocol_names
from .templating import render
from .timeline import patient_timeline

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/patients/{record_id}", response_class=HTMLResponse)
def patient_page(request: Request, record_id: RecordId, user: User = Depends(page_user)) -> Response:
    store = request.app.state.store
    patient = records.get_record(store, user, "patients", record_id)
    mine = patient_records(store, user, patient)
    course = build_course(mine)
    maps = scan_maps(course.studies, mine["lesions"])
    for scan in maps:
        scan["svg"] = Markup(body_map_svg(scan))
    classes = {t["drug_class"] or "other" for t in (*course.treatments, *course.administrations)}
    return render(request, "patient.html", {
        "patient": patient, "timeline": patient_timeline(mine, mine["lesions"]),
        "course": course, "chart": Markup(course_svg(course)), "legend": drug_class_legend(classes),
        "maps": maps, "skeleton_symbol": Markup(skeleton_symbol_svg()) if maps else "",
        "fate_style": FATE_STYLE, "protocols": protocol_names(),
        "diagnosis": mine.get("diagnosis", []), "chaq": mine.get("chaq", []),
        "record_types": list(PATIENT_TABLES),
        "titles": {t: record_title(t) for t in records.RECORD_TYPES}})


@router.get("/patients/{record_id}/protocols/{protocol}", response_class=HTMLResponse)
def patient_protocol(request: Request, record_id: RecordId, protocol: str,
                     user: User = Depends(page_user)) -> Response:
    """The patient's status for one built-in protocol (an HTMX fragment), from the protocol's
    cached evaluation of the data the user may see."""
    state = request.app.state
    patient = records.get_record(state.store, user, "patients", record_id)  # another center's: 404
    if protocol not in protocol_names():
        raise ApiError(404, "not_found", f"no built-in protocol {protocol!r}; use one of {', '.join(protocol_names())}")
    entry = cached_evaluation(state.evaluations, state.store, user, protocol, statistics=False)
    status = patient_status(entry.evaluation, patient["patient_id"])
    return render(request, "_course_protocol.html", {"patient": patient, "status": status})
