"""A patient's page: the course of one patient, every record of theirs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from .. import records
from ..users import User
from .deps import page_user
from .forms import record_title
from .paths import RecordId
from .templating import render
from .timeline import patient_timeline

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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
