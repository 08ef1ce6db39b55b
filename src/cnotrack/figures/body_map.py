"""The body map: every lesion as a circle on a skeleton in anterior view, coloured by its fate.

``body_map_svg`` takes one row per lesion (``bone``, ``side``, ``segment``, ``fate``,
``symptomatic``); ``fate_sites`` makes that frame from an evaluation. A lesion that resolved,
improved, stayed stable or worsened is drawn at its site on the earlier study; a new lesion at its
site on the later one. Lesions at the same place are spread out round it so that none hides
another, and markers of neighbouring places are nudged apart until none overlaps.

The skeleton and :func:`site_position` live in :mod:`cnotrack.figures.skeleton` and are re-exported
here, with :func:`skeleton_svg` for a clickable skeleton.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import polars as pl

from ._svg import FigureInputError, attrs, document, num, pair_labels, text
from .palette import FATE_COLOURS, FATE_ORDER, INK
from .skeleton import CANVAS, side_labels, site_position, skeleton_elements, skeleton_svg

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation

__all__ = ["MARKER_RADIUS", "body_map_svg", "fate_sites", "site_position", "skeleton_svg"]

#: The radius of a lesion marker, in skeleton units (the skeleton is 400 wide).
MARKER_RADIUS = 5.0
_RING = 2.2                             # width of the dark ring round a symptomatic lesion
_SPACING = 2 * MARKER_RADIUS + 1.6      # centre to centre of lesions spread round one place
_MIN_GAP = 2 * MARKER_RADIUS + 1.0      # closest two markers may come after nudging
_SITE_COLUMNS = {"patient_id": pl.String, "bone": pl.String, "side": pl.String, "segment": pl.String,
                 "fate": pl.String, "symptomatic": pl.Boolean}
_OFFSET = (12.0, 64.0)                  # where the skeleton sits in the body map
_WIDTH, _HEIGHT = 720.0, CANVAS[1] + 96


def fate_sites(evaluation: Evaluation, patient_id: str | None = None,
               pair: tuple[str, str] = ("baseline", "month6")) -> pl.DataFrame:
    """One row per lesion of ``pair`` (earlier, later timepoint) for the cohort or one patient:
    ``patient_id, bone, side, segment, fate, symptomatic``.

    A new lesion takes its site and symptoms from the later study, every other fate from the
    earlier one. A pair the evaluation did not track gives an empty frame.
    """
    pair_labels(evaluation.protocol, pair, "fate_sites")
    lesions = evaluation.lesions
    if lesions.is_empty() or "fate" not in lesions.columns:
        return pl.DataFrame(schema=_SITE_COLUMNS)
    rows = lesions.filter((pl.col("from") == pair[0]) & (pl.col("to") == pair[1]))
    if patient_id is not None:
        rows = rows.filter(pl.col("patient_id") == patient_id)
    new = pl.col("fate") == "new"
    pick = lambda name: pl.when(new).then(pl.col(f"{name}_later")).otherwise(pl.col(f"{name}_earlier"))  # noqa: E731
    return rows.select(
        "patient_id", *(pick(name).alias(name) for name in ("bone", "side", "segment", "symptomatic")), "fate",
    ).select(list(_SITE_COLUMNS)).cast(_SITE_COLUMNS)


def _checked(lesions: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in ("bone", "fate") if c not in lesions.columns]
    if missing:
        raise FigureInputError(f"body_map_svg: lesions has no column {', '.join(missing)} "
                               f"(it has {', '.join(lesions.columns) or 'none'}); give one row per lesion "
                               "with bone, side, segment, fate, symptomatic")
    for column in ("side", "segment", "symptomatic"):
        if column not in lesions.columns:
            lesions = lesions.with_columns(pl.lit(None).alias(column))
    bad = sorted(set(lesions["fate"].drop_nulls().to_list()) - set(FATE_ORDER)) + (
        ["(empty)"] if lesions["fate"].null_count() else [])
    if bad:
        raise FigureInputError(f"body_map_svg: fate {bad[0]!r} is not a lesion fate; use one of {', '.join(FATE_ORDER)}")
    return lesions


def _spread(n: int) -> list[tuple[float, float]]:
    """Offsets for ``n`` markers at one place: side by side, a triangle, a square, then a
    hexagonal spiral (centre, 6 round it, 12 round those, ...)."""
    if n == 1:
        return [(0.0, 0.0)]
    if n <= 4:
        radius = _SPACING / (2 * math.sin(math.pi / n))
        start = -math.pi / 2 if n == 3 else (math.pi if n == 2 else -3 * math.pi / 4)
        return [(radius * math.cos(start + 2 * math.pi * k / n), radius * math.sin(start + 2 * math.pi * k / n))
                for k in range(n)]
    out, ring = [(0.0, 0.0)], 1
    while len(out) < n:
        for k in range(6 * ring):
            angle = -math.pi / 2 + 2 * math.pi * k / (6 * ring)
            out.append((ring * _SPACING * math.cos(angle), ring * _SPACING * math.sin(angle)))
        ring += 1
    return out[:n]


def _nudge(points: list[list[float]], rounds: int = 60) -> None:
    """Push apart markers closer than the minimal gap (in place, in a fixed order)."""
    for _ in range(rounds):
        moved = False
        for i in range(len(points)):
            for j in range(i + 1, len(points)):
                dx, dy = points[j][0] - points[i][0], points[j][1] - points[i][1]
                dist = math.hypot(dx, dy)
                if dist >= _MIN_GAP - 1e-6:
                    continue
                if dist < 1e-6:
                    angle = 0.7 * (i + 1) + 1.3 * j
                    dx, dy, dist = math.cos(angle), math.sin(angle), 1.0
                push = (_MIN_GAP - dist) / 2 + 0.01
                ux, uy = dx / dist, dy / dist
                points[i][0] -= ux * push
                points[i][1] -= uy * push
                points[j][0] += ux * push
                points[j][1] += uy * push
                moved = True
        if not moved:
            return


def _label(row: dict) -> str:
    site = " ".join(str(v).replace("_", " ") for v in (row["bone"], row["side"], row["segment"]) if v)
    extra = ", symptomatic" if row["symptomatic"] else ""
    return f"{site}: {row['fate']}{extra}"


def _markers(lesions: pl.DataFrame, symptomatic: bool) -> list[str]:
    rank = {fate: i for i, fate in enumerate(FATE_ORDER)}
    rows = lesions.to_dicts()
    for i, row in enumerate(rows):
        try:
            row["_at"] = site_position(row["bone"], row["side"], row["segment"])
        except FigureInputError as error:
            raise FigureInputError(f"body_map_svg: lesion row {i + 1}: {error}") from None
        row["_sym"] = bool(symptomatic and row["symptomatic"])
    rows.sort(key=lambda r: (round(r["_at"][1], 2), round(r["_at"][0], 2), rank[r["fate"]], not r["_sym"],
                             str(r["bone"]), str(r["side"]), str(r["segment"])))
    groups: dict[tuple[float, float], list[dict]] = {}
    for row in rows:
        groups.setdefault((round(row["_at"][0], 2), round(row["_at"][1], 2)), []).append(row)
    placed, points = [], []
    for (x, y), members in groups.items():
        for row, (ox, oy) in zip(members, _spread(len(members))):
            placed.append(row)
            points.append([x + ox, y + oy])
    _nudge(points)
    out = []
    for row, (x, y) in zip(placed, points):
        ring = dict(stroke=INK, stroke_width=num(_RING)) if row["_sym"] else dict(stroke="#ffffff", stroke_width="1")
        classes = f"lesion fate-{row['fate']}" + (" symptomatic" if row["_sym"] else "")
        out.append(f"<circle{attrs(class_=classes, cx=num(x), cy=num(y), r=num(MARKER_RADIUS), fill=FATE_COLOURS[row['fate']], **ring, data_bone=row['bone'], data_side=row['side'] or '', data_segment=row['segment'] or '')}>"
                   f"<title>{escape(_label(row))}</title></circle>")
    return out


def _legend(lesions: pl.DataFrame, symptomatic: bool, x: float, y: float) -> list[str]:
    counts = dict(lesions.group_by("fate").len().iter_rows()) if lesions.height else {}
    out = [text(x, y, "Lesion fate", size=14, weight="bold")]
    for i, fate in enumerate(FATE_ORDER):
        cy = y + 26 + i * 24
        out.append(f"<circle{attrs(class_='legend-marker', cx=num(x + 8), cy=num(cy - 4), r='7', fill=FATE_COLOURS[fate], stroke='#ffffff')}/>")
        out.append(text(x + 22, cy, f"{fate} ({counts.get(fate, 0)})", size=13))
    y += 26 + len(FATE_ORDER) * 24 + 10
    if symptomatic:
        n_sym = int(lesions["symptomatic"].fill_null(False).cast(pl.Boolean).sum()) if lesions.height else 0
        out.append(f"<circle{attrs(class_='legend-marker', cx=num(x + 8), cy=num(y - 4), r='7', fill='#ffffff', stroke=INK, stroke_width=num(_RING))}/>")
        out.append(text(x + 22, y, f"symptomatic: dark ring ({n_sym})", size=13))
        out.append(text(x + 22, y + 18, "no ring: not symptomatic", size=11, fill="#555555"))
        out.append(text(x + 22, y + 33, "or not recorded", size=11, fill="#555555"))
        y += 58
    out.append(text(x, y + 8, f"{lesions.height} lesion{'s' if lesions.height != 1 else ''}", size=13, weight="bold"))
    notes = ["Anterior view.", "R = patient's right (viewer's left)", "L = patient's left (viewer's right)", "",
             "Resolved, improved, stable, worsened:", "drawn at the site on the earlier study;",
             "new: at the site on the later study.", "Lesions at one site are spread round it."]
    out += [text(x, y + 40 + 17 * k, line, size=11, fill="#444444", class_="note") for k, line in enumerate(notes)]
    return out


def body_map_svg(lesions: pl.DataFrame, *, title: str = "Lesion sites by fate", symptomatic: bool = True,
                 subtitle: str | None = None) -> str:
    """A skeleton body map with one circle per lesion, filled with the colour of its fate.

    ``lesions``: one row per lesion with ``bone``, ``side``, ``segment``, ``fate`` (resolved,
    improved, stable, worsened, new) and ``symptomatic`` (missing columns are read as empty; see
    :func:`fate_sites`). ``symptomatic``: draw a thick dark ring round symptomatic lesions (pass
    ``False`` when symptoms were not recorded, to leave the rings out). With no rows the map
    says "no lesions". Every marker has ``class="lesion fate-<fate>"`` (plus ``symptomatic``) and
    a tooltip naming its site.
    """
    lesions = _checked(lesions)
    markers = _markers(lesions, symptomatic)
    ox, oy = _OFFSET
    body = [text(_WIDTH / 2, 30, title, size=18, anchor="middle", weight="bold", class_="figure-title")]
    if subtitle:
        body.append(text(_WIDTH / 2, 52, subtitle, size=13, anchor="middle", fill="#444444"))
    body.append(f'<g transform="translate({num(ox)},{num(oy)})">')
    body += skeleton_elements(clickable=False) + side_labels() + markers
    body.append("</g>")
    legend_x = ox + CANVAS[0] + 22
    if lesions.is_empty():
        body.append(text(legend_x, oy + 60, "no lesions", size=16, weight="bold", fill="#555555",
                         class_="empty-message"))
    body += _legend(lesions, symptomatic, legend_x, oy + 110)
    desc = (f"{lesions.height} lesions on a skeleton in anterior view (patient's right on the viewer's left), "
            "coloured by fate: " + ", ".join(f"{f} {FATE_COLOURS[f]}" for f in FATE_ORDER))
    return document(_WIDTH, _HEIGHT, title, body, desc=desc, root_class="cnotrack-figure cnotrack-body-map")
