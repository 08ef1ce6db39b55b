"""An imaging study's page: its lesions charted on the skeleton (by mouse, or by keyboard with
a roving focus and the arrow keys) or picked from a searchable list of bones, and the previous
study's lesions, each marked resolved, still present (with its grade) or left undecided.

The decisions are :func:`cnotrack.lesion_decisions.record_lesion_decision` (a lesion row of this
study, audited, that the evaluation's lesion fates read); each is one POST that answers an htmx
request with the lesion's row (and the parts of the page it changes), any other with a redirect
to the page, so that every control also works without JavaScript.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import records
from ..errors import AccessError, DatasetError, FigureInputError, RecordConflictError
from ..figures import site_position
from ..figures._svg import modality_label
from ..figures.skeleton import CANVAS, skeleton_svg
from ..engine.lesion_tracking import NOT_PRESENT
from ..lesion_decisions import FollowUp, follow_up, not_assessed_recordable, record_lesion_decision, site_label
from ..users import User
from ..vocabulary import anatomy
from .deps import page_user
from .forms import form_fields, form_values
from .paths import RecordId
from .skeleton_zones import keyboard_skeleton, search_sites, zones
from .templating import render

__all__ = ["router", "study_skeleton"]

router = APIRouter(include_in_schema=False)
_SITE = ("bone", "side", "segment")
_SAID = {"resolved": "marked resolved", "present": "marked still present", "not_assessed": "marked not assessed",
         "clear": "decision cleared"}


def _site(lesion: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return lesion["bone"], lesion["side"], lesion["segment"]


def _marks(current: list[dict[str, Any]], previous: list[dict[str, Any]]) -> str:
    """This study's lesions (dots) and the previous study's lesions not decided (rings), in a
    nested ``<svg id="skeleton-marks">`` that a decision's answer replaces."""
    by_site = {z.site: z.id for z in zones()}
    marks = []
    for kind, lesions in (("previous", previous), ("current", current)):
        for lesion in lesions:
            try:
                x, y = site_position(*_site(lesion))
            except FigureInputError:
                continue
            zone = by_site.get(_site(lesion))
            marks.append(f'<circle class="marker {kind}" cx="{x:.1f}" cy="{y:.1f}" r="{7 if kind == "current" else 9}" '
                         + (f'data-zone="{zone}" ' if zone else "")
                         + f'pointer-events="none"><title>{site_label(lesion)}</title></circle>')
    width, height = CANVAS
    return (f'<svg id="skeleton-marks" x="0" y="0" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'overflow="visible" pointer-events="none" aria-hidden="true">{"".join(marks)}</svg>')


def _active(lesions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [lesion for lesion in lesions if lesion.get("activity") not in NOT_PRESENT]


def study_skeleton(current: list[dict[str, Any]], previous: list[dict[str, Any]], *, operable: bool = True) -> str:
    """The skeleton with ``current`` lesions (filled) and ``previous`` ones (hollow). ``operable``:
    every zone a named button for mouse and keyboard; otherwise a picture (for a viewer). Its style
    lives in ``static/charting.css`` (the page's CSP allows no inline style)."""
    marks = _marks(_active(current), previous)
    if operable:
        return keyboard_skeleton({_site(lesion) for lesion in _active(current)},
                                 {_site(lesion) for lesion in previous}, marks)
    names = ", ".join(site_label(lesion) for lesion in _active(current)) or "none"
    svg = skeleton_svg(clickable=False, title=f"Skeleton with this study's lesions: {names}")
    svg = svg.replace("<svg ", '<svg role="img" aria-label="Skeleton with this study\'s lesions: '
                      + names.replace('"', "") + '" ', 1)
    svg = re.sub(r' width="[\d.]+" height="[\d.]+"', "", svg, count=1)
    return svg.replace("</svg>", marks + "</svg>")


def _context(user: User, state: FollowUp) -> dict[str, Any]:
    undecided = [p for p in state.previous_lesions if p["decision"] == "undecided"]
    # a decision row that is no lesion present (resolved, not assessed) is listed with the previous lesion
    listed = [row for row in state.lesions if not (row.get("decides") and row.get("activity") in NOT_PRESENT)]
    return {"study": state.study, "patient": state.patient, "previous": state.previous,
            "previous_lesions": state.previous_lesions, "lesions": listed,
            "modality": modality_label(state.study["modality"]), "not_assessed": not_assessed_recordable(),
            "skeleton": study_skeleton(state.lesions, undecided, operable=user.can_write),
            "marks": _marks(_active(state.lesions), undecided)}


def _study_context(request: Request, user: User, record_id: int) -> dict[str, Any]:
    return _context(user, follow_up(request.app.state.store, user, record_id))


def _lesion_fields(values: dict[str, Any], problems) -> list:
    fields = form_fields("lesions", values, problems)
    bone = values.get("bone")
    for f in fields:
        if f.name == "segment" and bone:
            try:
                allowed = anatomy().allowed_segments(str(bone))
            except (KeyError, StopIteration):
                continue
            f.choices = [("", "")] + [(s, s.replace("_", " ")) for s in allowed]
    return [f for f in fields if f.name != "study_id"]  # the study is this page's: no picker


def _site_values(bone: str, side: str, segment: str) -> dict[str, Any]:
    values: dict[str, Any] = {"bone": bone[:60], "side": side[:10] or None, "segment": segment[:40] or None}
    try:
        if segment and segment not in anatomy().allowed_segments(bone):
            values["segment"] = None
    except (KeyError, StopIteration):
        values["segment"] = None
    return values


def _require_writer(user: User) -> None:
    if not user.can_write:
        raise AccessError(f"user {user.username!r} is a viewer: charting a lesion needs the role investigator or admin")


@router.get("/imaging/{record_id}", response_class=HTMLResponse)
def study_page(request: Request, record_id: RecordId, bone: str = "", side: str = "", segment: str = "",
               q: str = "", user: User = Depends(page_user)) -> Response:
    """The study's page; ``bone``/``side``/``segment`` open the lesion form of that site and
    ``q`` lists the matching bones (what the bone list does without JavaScript)."""
    context = _study_context(request, user, record_id)
    if user.can_write:
        if bone:
            values = _site_values(bone, side, segment)
            context.update(form_fields=_lesion_fields(values, []), form_site=site_label(values))
        context.update(bone_query=q[:60], bone_results=_bone_results(q) if q else None)
    return render(request, "imaging.html", context)


def _bone_results(q: str) -> list[dict[str, Any]]:
    out = []
    for bone, side, segment in search_sites(q):
        out.append({"bone": bone, "side": side or "", "segment": segment or "",
                    "label": site_label({"bone": bone, "side": side, "segment": segment})})
    return out


@router.get("/imaging/{record_id}/bones", response_class=HTMLResponse)
def bone_search(request: Request, record_id: RecordId, q: str = "", user: User = Depends(page_user)) -> Response:
    """The sites of the skeleton that match ``q`` (at most 12), as links to their lesion form."""
    _require_writer(user)
    study = records.get_record(request.app.state.store, user, "imaging", record_id)
    return render(request, "_bone_results.html", {"study": study, "bone_query": q[:60], "bone_results": _bone_results(q)})


@router.get("/imaging/{record_id}/lesion-form", response_class=HTMLResponse)
def lesion_form(request: Request, record_id: RecordId, bone: str = "", side: str = "", segment: str = "",
                user: User = Depends(page_user)) -> Response:
    """The small form to chart a lesion at the chosen site (an HTMX fragment)."""
    _require_writer(user)
    study = records.get_record(request.app.state.store, user, "imaging", record_id)
    values = _site_values(bone, side, segment)
    return render(request, "_lesion_form.html", {"study": study, "fields": _lesion_fields(values, []),
                                                 "site": site_label(values)})


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
        context.update({"form_fields": _lesion_fields(values, problems),
                        "form_message": str(exc) if isinstance(exc, RecordConflictError) else
                        "The lesion was not added: correct the fields marked below.",
                        "form_site": site_label({k: values.get(k) for k in _SITE})})
        return render(request, "imaging.html", context, 422 if isinstance(exc, DatasetError) else 409)
    return RedirectResponse(f"/imaging/{record_id}", status_code=303)


def _decide(request: Request, user: User, record_id: int, lesion_record_id: int, decision: str,
            grade: str = "") -> Response:
    _require_writer(user)
    store = request.app.state.store
    grade_value: Any = grade.strip()[:10] or None
    try:
        state = record_lesion_decision(store, user, record_id, lesion_record_id, decision, grade_value)
    except DatasetError as exc:
        state = follow_up(store, user, record_id)
        problem = "; ".join(f"{p.column}: {p.message}" for p in exc.problems)
        return _decision_answer(request, user, state, lesion_record_id, error=problem, status=422)
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/imaging/{record_id}#previous-{lesion_record_id}", status_code=303)
    return _decision_answer(request, user, state, lesion_record_id, said=_SAID[decision])


def _decision_answer(request: Request, user: User, state: FollowUp, lesion_record_id: int, *, said: str = "",
                     error: str = "", status: int = 200) -> Response:
    """The lesion's row with the parts of the page a decision changes (htmx out-of-band swaps),
    or, for a refused decision without htmx, the whole page with the problem at the row."""
    context = _context(user, state)
    lesion = next(p for p in state.previous_lesions if p["id"] == lesion_record_id)
    lesion["error"] = error
    if error and request.headers.get("HX-Request") != "true":
        return render(request, "imaging.html", context, status)
    announce = f"{lesion['site']} {said}" if said else f"{lesion['site']}: not saved: {error}"
    context.update(l=lesion, announce=announce, oob=True)
    return render(request, "_charting_decision.html", context, status)


@router.post("/imaging/{record_id}/decisions/{lesion_record_id}", response_class=HTMLResponse)
async def lesion_decision(request: Request, record_id: RecordId, lesion_record_id: RecordId,
                          user: User = Depends(page_user)) -> Response:
    """Record this study's decision about a lesion of the previous study: form fields
    ``decision`` (``resolved``, ``present``, ``clear``; ``not_assessed`` where the format has
    it) and, for ``present``, ``grade`` (1 to 3 or empty)."""
    form = await request.form()
    return _decide(request, user, record_id, lesion_record_id, str(form.get("decision") or "")[:20],
                   str(form.get("grade") or ""))


@router.post("/imaging/{record_id}/still-present/{lesion_record_id}")
def still_present(request: Request, record_id: RecordId, lesion_record_id: RecordId,
                  user: User = Depends(page_user)) -> Response:
    """Chart a lesion of the previous study again in this one, at the same site (the decision
    ``present`` without a grade; kept for links and scripts made before the decisions route)."""
    _require_writer(user)
    record_lesion_decision(request.app.state.store, user, record_id, lesion_record_id, "present")
    return RedirectResponse(f"/imaging/{record_id}", status_code=303)


@router.post("/imaging/{record_id}/resolved/{lesion_record_id}", response_class=HTMLResponse)
def resolved(request: Request, record_id: RecordId, lesion_record_id: RecordId,
             user: User = Depends(page_user)) -> Response:
    """Mark a previous lesion resolved (the decision ``resolved``, kept as an inactive row of this
    study); the answer is the lesion's row."""
    _require_writer(user)
    state = record_lesion_decision(request.app.state.store, user, record_id, lesion_record_id, "resolved")
    return _decision_answer(request, user, state, lesion_record_id, said=_SAID["resolved"])
