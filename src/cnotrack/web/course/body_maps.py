"""A small body map per imaging study: each active lesion a mark on the skeleton, coloured
(and shaped) by its fate against the previous study.

The previous study is the one the imaging page compares with: the latest earlier study of the
same modality, else the latest earlier study. Fates come from the engine's lesion tracking
(``cnotrack.engine.lesion_tracking.lesion_fates``, all of the patient's study pairs in one call):
a lesion matched to one of the previous study is *persisting* (stable, improved or worsened),
one matched to none is *new*, a lesion of the previous study matched to none is *resolved*
(drawn hollow at its earlier site); on a first study every lesion is *present*. A lesion of the
previous study that this one did not assess (a ``not_assessed`` row, exchange format 1.1) is
not drawn (nothing is known of it there): each map lists it as *not assessed* (``not_assessed``).

The skeleton is the figures' (``cnotrack.figures.skeleton``), drawn once per page as a
``<symbol>`` that every map ``<use>``\\ s, so that the page grows by the marks only."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import polars as pl

from ...engine.lesion_tracking import NOT_ASSESSED, NOT_PRESENT, lesion_fates
from ...errors import FigureInputError
from ...figures._svg import attrs, modality_label, num
from ...figures.skeleton import CANVAS, site_position, skeleton_elements
from .colours import FATE_STYLE

__all__ = ["SKELETON_ID", "body_map_svg", "previous_studies", "scan_maps", "skeleton_symbol_svg"]

SKELETON_ID = "course-skeleton"
_MARK = 15.0  # a mark's radius, in skeleton units (the skeleton is 400 wide)
_LESION_SCHEMA = {"pair": pl.String, "bone": pl.String, "side": pl.String, "segment": pl.String,
                  "activity": pl.String, "grade": pl.Int64, "symptomatic": pl.Boolean, "lesion_id": pl.String,
                  "__id": pl.Int64}


def previous_studies(studies: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """Per study id, the study it is compared with (see the module), or ``None``; ``studies``
    oldest first."""
    out: dict[str, dict[str, Any] | None] = {}
    latest: dict[str, dict[str, Any]] = {}
    before: dict[str, Any] | None = None
    for study in studies:
        out[study["study_id"]] = latest.get(study["modality"], before)
        latest[study["modality"]] = before = study
    return out


def _site_words(bone: str | None, side: str | None, segment: str | None) -> str:
    return " ".join(str(v).replace("_", " ") for v in (side, bone, segment) if v)


def _frame(rows: list[dict[str, Any]], pair: str) -> pl.DataFrame:
    return pl.DataFrame([{**{k: r.get(k) for k in _LESION_SCHEMA if not k.startswith("_") and k != "pair"},
                          "pair": pair, "__id": r["id"]} for r in rows], schema=_LESION_SCHEMA)


def _active(lesion: dict[str, Any]) -> bool:
    return lesion.get("activity") not in NOT_PRESENT


def scan_maps(studies: list[dict[str, Any]], lesions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per study (oldest first): ``study``, ``previous``, ``marks`` (``fate``, ``detail``,
    ``site``, ``bone``/``side``/``segment``, ``grade``), ``counts`` per fate, ``inactive`` (rows
    not drawn) and ``not_assessed`` (the sites of the previous study's lesions not assessed)."""
    by_study: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lesion in lesions:
        by_study[lesion["study_id"]].append(lesion)
    previous = previous_studies(studies)
    earlier, later = [], []
    for study in studies:
        before = previous[study["study_id"]]
        if before is not None:
            earlier.append(_frame(by_study[before["study_id"]], study["study_id"]))
            later.append(_frame(by_study[study["study_id"]], study["study_id"]))
    fates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if earlier:
        tracked = lesion_fates(pl.concat(earlier).drop("__id"), pl.concat(later).drop("__id"))
        for row in tracked.iter_rows(named=True):
            fates[row["pair"]].append(row)
    out = []
    for study in studies:
        sid = study["study_id"]
        marks = []
        if previous[sid] is None:
            for lesion in by_study[sid]:
                if _active(lesion):
                    marks.append(_mark("present", "present", lesion["bone"], lesion["side"], lesion["segment"],
                                       lesion["grade"]))
        not_assessed = []
        for row in fates.get(sid, []):
            if row["fate"] == NOT_ASSESSED:
                not_assessed.append(_site_words(row["bone_earlier"], row["side_earlier"], row["segment_earlier"]))
                continue
            side = "earlier" if row["fate"] == "resolved" else "later"
            fate = row["fate"] if row["fate"] in ("new", "resolved") else "persisting"
            detail = fate if fate != "persisting" else (
                f"persisting, {row['fate']}" + (f" (grade {row['grade_earlier']} to {row['grade_later']})"
                                                 if row["grade_earlier"] is not None and row["grade_later"] is not None
                                                 else ""))
            marks.append(_mark(fate, detail, row[f"bone_{side}"], row[f"side_{side}"], row[f"segment_{side}"],
                               row[f"grade_{side}"]))
        counts = {f: sum(m["fate"] == f for m in marks) for f in FATE_STYLE}
        out.append({"study": study, "previous": previous[sid], "marks": marks, "counts": counts,
                    "modality": modality_label(study["modality"]),
                    "inactive": sum(lesion.get("activity") == "inactive" for lesion in by_study[sid]),
                    "not_assessed": not_assessed})
    return out


def _mark(fate: str, detail: str, bone: str, side: str | None, segment: str | None, grade: int | None) -> dict:
    return {"fate": fate, "detail": detail, "bone": bone, "side": side, "segment": segment, "grade": grade,
            "site": _site_words(bone, side, segment)}


@cache
def skeleton_symbol_svg() -> str:
    """A hidden SVG holding the skeleton as ``<symbol id="course-skeleton">`` (once per page),
    its bones painted by one group so that each bone carries only its geometry."""
    body = "".join(skeleton_elements(clickable=False))
    body = re.sub(r' (?:class|data-[a-z-]+)="[^"]*"', "", body)
    body = body.replace(' fill="#F3EFE4" stroke="#8A8275" stroke-width="1"', "").replace("<g>", "").replace("</g>", "")
    w, h = CANVAS
    return (f'<svg class="course-symbols" aria-hidden="true" focusable="false" width="0" height="0">'
            f'<symbol id="{SKELETON_ID}" viewBox="0 0 {num(w)} {num(h)}">'
            f'<g fill="#F3EFE4" stroke="#8A8275" stroke-width="1">{body}</g></symbol></svg>')


def _shape(fate: str, x: float, y: float, title: str) -> str:
    _, colour, shape = FATE_STYLE[fate]
    tip = f"<title>{escape(title)}</title>"
    r = _MARK
    if shape == "diamond":
        pts = f"{num(x)},{num(y - r * 1.25)} {num(x + r * 1.25)},{num(y)} {num(x)},{num(y + r * 1.25)} {num(x - r * 1.25)},{num(y)}"
        return f"<polygon{attrs(points=pts, fill=colour, stroke='#ffffff', stroke_width='2')}>{tip}</polygon>"
    if shape == "square":
        return (f"<rect{attrs(x=x - r, y=y - r, width=2 * r, height=2 * r, fill=colour, stroke='#ffffff', stroke_width='2')}>"
                f"{tip}</rect>")
    if shape == "ring":
        return f"<circle{attrs(cx=x, cy=y, r=r - 2.5, fill='#ffffff', stroke=colour, stroke_width='5')}>{tip}</circle>"
    return f"<circle{attrs(cx=x, cy=y, r=r, fill=colour, stroke='#ffffff', stroke_width='2')}>{tip}</circle>"


def _summary(scan: dict[str, Any]) -> str:
    study = scan["study"]
    parts = [f"{n} {FATE_STYLE[f][0].split(' (')[0].split(' since')[0].split(' from')[0]}"
             for f, n in scan["counts"].items() if n]
    against = (f" compared with {scan['previous']['study_id']} of {scan['previous']['date']}"
               if scan["previous"] is not None else " (first study)")
    return (f"Body map of {scan['modality']} {study['study_id']} of {study['date']}{against}: "
            + (", ".join(parts) if parts else "no active lesion charted"))


def body_map_svg(scan: dict[str, Any]) -> str:
    """One study's small body map (``scan_maps`` entry): the shared skeleton and a mark per
    lesion, every text escaped; marks at one site are set side by side."""
    w, h = CANVAS
    marks, unplaced = [], 0
    seen: dict[tuple[float, float], int] = defaultdict(int)
    for m in scan["marks"]:
        try:
            x, y = site_position(m["bone"], m["side"], m["segment"])
        except FigureInputError:
            unplaced += 1
            continue
        k = seen[(x, y)]
        seen[(x, y)] += 1
        dx = (k % 2 * 2 - 1) * ((k + 1) // 2) * _MARK * 1.6 if k else 0.0
        grade = f", grade {m['grade']}" if m["grade"] is not None else ""
        marks.append(_shape(m["fate"], x + dx, y, f"{m['site']}: {m['detail']}{grade}"))
    label = _summary(scan) + (f"; {unplaced} not placed on the skeleton" if unplaced else "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="course-body-map" viewBox="0 0 {num(w)} {num(h)}" '
            f'role="img"{attrs(aria_label=label)}><title>{escape(label)}</title>'
            f'<use href="#{SKELETON_ID}" x="0" y="0" width="{num(w)}" height="{num(h)}"/>'
            + "".join(marks) + "</svg>")
