"""An imaging study's page: its lesions charted on a clickable skeleton, and the previous
study's lesions, each to be marked still present (a lesion at the same site is added to this
study) or resolved (nothing is added: a lesion not charted again counts as resolved)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import records
from ..errors import DatasetError, FigureInputError, RecordConflictError
from ..figures import site_position, skeleton_svg
from ..figures._svg import modality_label
from ..users import User
from ..vocabulary import anatomy
from .deps import page_user
from .errors import ApiError
from .forms import form_fields, form_values
from .paths import RecordId
from .templating import render

__all__ = ["router", "study_skeleton"]

router = APIRouter(include_in_schema=False)
_SITE = ("bone", "side", "segment")


def _site(lesion: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return lesion["bone"], lesion["side"], lesion["segment"]


def _site_label(lesion: dict[str, Any]) -> str:
    return " ".join(str(v).replace("_", " ") for v in (lesion["side"], lesion["bone"], lesion["segment"]) if v)


def study_skeleton(current: list[dict[str, Any]], previous: list[dict[str, Any]]) -> str:
    """The clickable skeleton with this study's lesions (filled) and the previous study's lesions
    not charted again (hollow). Its style lives in ``static/app.css`` (the page's CSP allows no
    inline style), so the SVG's own ``<style>`` is dropped."""
    svg = skeleton_svg(clickable=True, title="Click a bone (or a segment of a long bone) to chart a lesion")
    svg = re.sub(r"<style>.*?</style>", "", svg, count=1, flags=re.S)
    svg = re.sub(r' width="[\d.]+" height="[\d.]+"', "", svg, count=1)
    marks = []
    for kind, lesions in (("previous", previous), ("current", current)):
        for lesion in lesions:
            try:
                x, y = site_position(*_site(lesion))
            except FigureInputError:
                continue
            marks.append(f'<circle class="marker {kind}" cx="{x:.1f}" cy="{y:.1f}" r="{7 if kind == "current" else 9}" '
                         f'pointer-events="none"><title>{_site_label(lesion)}</title></circle>')
    return svg.replace("</svg>", "".join(marks) + "</svg>")


def _study_context(request: Request, user: User, record_id: int) -> dict[str, Any]:
    store = request.app.state.store
    study = records.get_record(store, user, "imaging", record_id)
    patient = records.list_records(store, user, "patients", filters={"patient_id": study["patient_id"]})[0]
    studies = records.list_records(store, user, "imaging", filters={"patient_id": study["patient_id"]}, limit=100_000)
    earlier = sorted((s for s in studies if s["date"] < study["date"]), key=lambda s: (s["date"], s["id"]))
    same = [s for s in earlier if s["modality"] == study["modality"]]
    previous = (same or earlier or [None])[-1]
    current = records.list_records(store, user, "lesions", filters={"study_id": study["study_id"]}, limit=100_000)
    charted = {_site(lesion) for lesion in current}
    before = []
    if previous is not None:
        for lesion in records.list_records(store, user, "lesions", filters={"study_id": previous["study_id"]},
                                           limit=100_000):
            before.append({**lesion, "site": _site_label(lesion), "present_here": _site(lesion) in charted})
    for lesion in current:
        lesion["site"] = _site_label(lesion)
    return {"study": study, "patient": patient, "previous": previous, "previous_lesions": before,
            "lesions": current, "modality": modality_label(study["modality"]),
            "skeleton": study_skeleton(current, [p for p in before if not p["present_here"]])}


@router.get("/imaging/{record_id}", response_class=HTMLResponse)
def study_page(request: Request, record_id: RecordId, user: User = Depends(page_user)) -> Response:
    return render(request, "imaging.html", _study_context(request, user, record_id))


def _lesion_fields(request: Request, user: User, values: dict[str, Any], problems) -> list:
    fields = form_fields("lesions", values, problems)
    bone = values.get("bone")
    for f in fields:
        if f.name == "segment" and bone:
            try:
                allowed = anatomy().allowed_segments(str(bone))
            except (KeyError, StopIteration):
                continue
            f.choices = [("", "")] + [(s, s.replace("_", " ")) for s in allowed]
    return [f for f in fields if f.name != "study_id"]


@router.get("/imaging/{record_id}/lesion-form", response_class=HTMLResponse)
def lesion_form(request: Request, record_id: RecordId, bone: str = "", side: str = "", segment: str = "",
                user: User = Depends(page_user)) -> Response:
    """The small form to chart a lesion at the clicked site (an HTMX fragment)."""
    study = records.get_record(request.app.state.store, user, "imaging", record_id)
    values: dict[str, Any] = {"bone": bone, "side": side or None, "segment": segment or None}
    try:
        if segment and segment not in anatomy().allowed_segments(bone):
            values["segment"] = None
    except (KeyError, StopIteration):
        values["segment"] = None
    return render(request, "_lesion_form.html", {"study": study, "fields": _lesion_fields(request, user, values, []),
                                                 "site": _site_label({k: values.get(k) for k in _SITE})})


@router.post("/imaging/{record_id}/lesions", response_class=HTMLResponse)
async def add_lesion(request: Request, record_id: RecordId, user: User = Depends(page_user)) -> Response:
    store = request.app.state.store
    study = records.get_record(store, user, "imaging", record_id)
    values = {**form_values("lesions", await request.form()), "study_id": study["study_id"]}
    try:
        records.create_record(store, user, "lesions", values)
    except (DatasetError, RecordConflictError) as exc:
        context = _study_context(request, user, record_id)
        problems = exc.problems if isinstance(exc, DatasetError) else []
        context.update({"form_fields": _lesion_fields(request, user, values, problems),
                        "form_message": str(exc) if isinstance(exc, RecordConflictError) else
                        "The lesion was not added: correct the fields marked below.",
                        "form_site": _site_label({k: values.get(k) for k in _SITE})})
        return render(request, "imaging.html", context, 422 if isinstance(exc, DatasetError) else 409)
    return RedirectResponse(f"/imaging/{record_id}", status_code=303)


def _previous_lesion(request: Request, user: User, record_id: int,
                     lesion_record_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The study and a lesion of its previous study, both of which ``user`` may see; a 404 (the
    same as for an id that does not exist) otherwise."""
    store = request.app.state.store
    study = records.get_record(store, user, "imaging", record_id)
    old = records.get_record(store, user, "lesions", lesion_record_id)
    context = _study_context(request, user, record_id)
    if context["previous"] is None or old["study_id"] != context["previous"]["study_id"]:
        raise ApiError(404, "not_found", "that lesion is not one of the previous study's")
    return study, old


@router.post("/imaging/{record_id}/still-present/{lesion_record_id}")
def still_present(request: Request, record_id: RecordId, lesion_record_id: RecordId,
                  user: User = Depends(page_user)) -> Response:
    """Chart a lesion of the previous study again in this one, at the same site."""
    store = request.app.state.store
    study, old = _previous_lesion(request, user, record_id, lesion_record_id)
    values = {k: old[k] for k in ("bone", "side", "segment", "lesion_id")}
    records.create_record(store, user, "lesions", {**values, "study_id": study["study_id"]})
    return RedirectResponse(f"/imaging/{record_id}", status_code=303)


@router.post("/imaging/{record_id}/resolved/{lesion_record_id}", response_class=HTMLResponse)
def resolved(request: Request, record_id: RecordId, lesion_record_id: RecordId,
             user: User = Depends(page_user)) -> Response:
    """Mark a previous lesion resolved: nothing is written (a lesion not charted again in this
    study is resolved), the row says so."""
    _, old = _previous_lesion(request, user, record_id, lesion_record_id)
    return render(request, "_resolved.html", {"lesion": {**old, "site": _site_label(old)}})
