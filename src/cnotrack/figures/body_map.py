"""The body map: every lesion as a circle on a skeleton in anterior view, coloured by its fate.

``body_map_svg`` takes one row per lesion (``bone``, ``side``, ``segment``, ``fate``,
``symptomatic``); ``fate_sites`` makes that frame from an evaluation. A lesion that resolved,
improved, stayed stable or worsened is drawn at its site on the earlier study; a new lesion at its
site on the later one. Lesions at the same place are spread out round it so that none hides
another, and markers of neighbouring places are nudged apart until none overlaps (comparing
only markers in neighbouring cells of a grid, so that the cost is linear in the markers).

A place with more than :data:`SITE_MARKER_LIMIT` lesions (12; a registry of a thousand patients
has such places) is drawn aggregated: one numbered circle per fate there, its number the count
and its size growing with it, and the legend says at how many sites that was done. The figure
then has at most a dozen markers per place, so its size and cost stay linear in the lesions.

The skeleton and :func:`site_position` live in :mod:`cnotrack.figures.skeleton` and are re-exported
here, with :func:`skeleton_svg` for a clickable skeleton.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import polars as pl

from ..words import counted
from ._svg import FigureInputError, attrs, document, num, pair_labels, text
from .palette import FATE_COLOURS, FATE_ORDER, INK
from .skeleton import CANVAS, side_labels, site_position, skeleton_elements, skeleton_svg

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation

__all__ = ["MARKER_RADIUS", "SITE_MARKER_LIMIT", "body_map_svg", "crowded_sites", "fate_sites", "site_position",
           "skeleton_svg"]

#: The radius of a lesion marker, in skeleton units (the skeleton is 400 wide).
MARKER_RADIUS = 5.0
#: Above this many lesions at one place the body map draws, instead of one circle per lesion,
#: one numbered circle per fate there (its number: the count of lesions; see ``body_map_svg``).
SITE_MARKER_LIMIT = 12
_RING = 2.2                             # width of the dark ring round a symptomatic lesion
_SPACING = 2 * MARKER_RADIUS + 1.6      # centre to centre of lesions spread round one place
_MIN_GAP = 2 * MARKER_RADIUS + 1.0      # closest two markers may come after nudging
_SITE_COLUMNS = {"patient_id": pl.String, "bone": pl.String, "side": pl.String, "segment": pl.String,
                 "fate": pl.String, "symptomatic": pl.Boolean}
_KEY = ["bone", "side", "segment"]
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
    lesions = lesions.with_columns(pl.col(_KEY).cast(pl.String), pl.col("symptomatic").cast(pl.Boolean))
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


def _nudge(points: list[list[float]], radii: list[float] | None = None, rounds: int = 60) -> None:
    """Push apart markers closer than their radii and a 1-unit gap (in place, in a fixed order).

    Only markers in neighbouring cells of a grid (cells as wide as the largest gap) are compared,
    so a round costs time linear in the markers, not quadratic."""
    n = len(points)
    radii = radii if radii is not None else [MARKER_RADIUS] * n
    reach = 2 * max(radii, default=MARKER_RADIUS) + (_MIN_GAP - 2 * MARKER_RADIUS)
    for _ in range(rounds):
        cells: dict[tuple[int, int], list[int]] = {}
        home = [(math.floor(x / reach), math.floor(y / reach)) for x, y in points]
        for i, cell in enumerate(home):
            cells.setdefault(cell, []).append(i)
        around = {(cx, cy): sorted(j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in cells.get((cx + dx, cy + dy), ()))
                  for cx, cy in cells}   # the markers of a cell and its eight neighbours, in order
        moved = False
        for i in range(n):
            near = around[home[i]]
            for j in near[bisect_right(near, i):]:
                gap = radii[i] + radii[j] + (_MIN_GAP - 2 * MARKER_RADIUS)
                dx, dy = points[j][0] - points[i][0], points[j][1] - points[i][1]
                dist = math.hypot(dx, dy)
                if dist >= gap - 1e-6:
                    continue
                if dist < 1e-6:
                    angle = 0.7 * (i + 1) + 1.3 * j
                    dx, dy, dist = math.cos(angle), math.sin(angle), 1.0
                push = (gap - dist) / 2 + 0.01
                ux, uy = dx / dist, dy / dist
                points[i][0] -= ux * push
                points[i][1] -= uy * push
                points[j][0] += ux * push
                points[j][1] += uy * push
                moved = True
        if not moved:
            return


def _label(row: dict) -> str:
    extra = ", symptomatic" if row["symptomatic"] else ""
    return f"{_site_words(row)}: {row['fate']}{extra}"


def _site_words(row: dict) -> str:
    return " ".join(str(v).replace("_", " ") for v in (row["bone"], row["side"], row["segment"]) if v)


def _placed(lesions: pl.DataFrame) -> pl.DataFrame:
    """``lesions`` with the place of each (``_x``, ``_y``, rounded) and the number of lesions
    there (``_n``); the place is looked up once per distinct site, and an unknown site is an
    error naming the first lesion row that has it."""
    rows = lesions.with_row_index("_row", offset=1)
    sites = rows.group_by(_KEY, maintain_order=True).agg(pl.col("_row").min()).sort("_row")
    places = []
    for bone, side, segment, row in sites.iter_rows():   # one per distinct site, not per lesion
        try:
            x, y = site_position(bone, side, segment)
        except FigureInputError as error:
            raise FigureInputError(f"body_map_svg: lesion row {row}: {error}") from None
        places.append((round(x, 2), round(y, 2)))
    sites = sites.drop("_row").with_columns(pl.Series("_x", [p[0] for p in places], pl.Float64),
                                            pl.Series("_y", [p[1] for p in places], pl.Float64))
    rows = rows.join(sites, on=_KEY, how="left", nulls_equal=True, maintain_order="left")
    return rows.with_columns(pl.len().over("_x", "_y").alias("_n"))


def crowded_sites(lesions: pl.DataFrame, limit: int = SITE_MARKER_LIMIT) -> int:
    """How many places of the body map hold more than ``limit`` lesions of ``lesions`` (those
    are drawn as one numbered circle per fate; see :func:`body_map_svg`)."""
    placed = _placed(_checked(lesions))
    return placed.filter(pl.col("_n") > limit).select(pl.struct("_x", "_y").n_unique()).item() if placed.height else 0


def _group_radius(count: int) -> float:
    """The radius of a numbered circle of ``count`` lesions: it grows with the square root of
    the count, from 1.8 to 2.8 times a single marker's."""
    return MARKER_RADIUS * min(1.2 + 0.15 * math.sqrt(count), 2.8)


def _rank() -> pl.Expr:
    return pl.col("fate").replace_strict({f: i for i, f in enumerate(FATE_ORDER)}, return_dtype=pl.Int32)


def _markers(lesions: pl.DataFrame, symptomatic: bool, limit: int) -> tuple[list[str], int]:
    """The markers' SVG elements and the number of places drawn as numbered circles."""
    placed = _placed(lesions).with_columns(_rank().alias("_rank"),
                                           (pl.col("symptomatic").fill_null(False) & symptomatic).alias("_sym"))
    single = placed.filter(pl.col("_n") <= limit).sort(
        ["_y", "_x", "_rank", "_sym", "bone", "side", "segment"], descending=[False, False, False, True, False, False, False],
        nulls_last=False)
    crowd = (placed.filter(pl.col("_n") > limit).sort("_row")
             .group_by("_x", "_y", "fate", "_rank", maintain_order=True)
             .agg(pl.len().alias("count"), pl.col("_sym").sum().alias("n_symptomatic"),
                  pl.col("bone", "side", "segment").first())
             .sort("_y", "_x", "_rank"))
    groups: dict[tuple[float, float], list[tuple[dict, float]]] = {}
    for row in single.to_dicts():                         # at most ``limit`` per place
        groups.setdefault((row["_x"], row["_y"]), []).append((row, MARKER_RADIUS))
    for row in crowd.to_dicts():                          # at most one per fate and place
        groups.setdefault((row["_x"], row["_y"]), []).append((row, _group_radius(row["count"])))
    placed_rows, points, radii = [], [], []
    for (x, y), members in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        scale = (2 * max(r for _, r in members) + 1.6) / _SPACING
        for (row, radius), (ox, oy) in zip(members, _spread(len(members))):
            placed_rows.append(row)
            points.append([x + ox * scale, y + oy * scale])
            radii.append(radius)
    _nudge(points, radii)
    out = []
    for row, (x, y), radius in zip(placed_rows, points, radii):
        out.append(_group_svg(row, x, y, radius) if "count" in row else _marker_svg(row, x, y))
    return out, crowd.select(pl.struct("_x", "_y").n_unique()).item() if crowd.height else 0


def _marker_svg(row: dict, x: float, y: float) -> str:
    ring = dict(stroke=INK, stroke_width=num(_RING)) if row["_sym"] else dict(stroke="#ffffff", stroke_width="1")
    classes = f"lesion fate-{row['fate']}" + (" symptomatic" if row["_sym"] else "")
    return (f"<circle{attrs(class_=classes, cx=num(x), cy=num(y), r=num(MARKER_RADIUS), fill=FATE_COLOURS[row['fate']], **ring, data_bone=row['bone'], data_side=row['side'] or '', data_segment=row['segment'] or '')}>"
            f"<title>{escape(_label(row))}</title></circle>")


def _group_svg(row: dict, x: float, y: float, radius: float) -> str:
    """A numbered circle: the ``count`` lesions of one fate at one crowded place."""
    count, n_sym = row["count"], row["n_symptomatic"]
    ring = dict(stroke=INK, stroke_width=num(_RING)) if n_sym else dict(stroke="#ffffff", stroke_width="1")
    classes = f"lesion-group fate-{row['fate']}" + (" symptomatic" if n_sym else "")
    tip = f"{_site_words(row)}: {count} {row['fate']}" + (f" ({n_sym} symptomatic)" if n_sym else "")
    size = 8 if count < 100 else 7 if count < 1000 else 6
    return (f"<g{attrs(class_=classes, data_count=str(count), data_symptomatic=str(n_sym), data_bone=row['bone'], data_side=row['side'] or '', data_segment=row['segment'] or '')}>"
            f"<title>{escape(tip)}</title>"
            f"<circle{attrs(cx=num(x), cy=num(y), r=num(radius), fill=FATE_COLOURS[row['fate']], **ring)}/>"
            + text(x, y + size * 0.36, str(count), size=size, anchor="middle", weight="bold", class_="lesion-count")
            + "</g>")


def _legend(lesions: pl.DataFrame, symptomatic: bool, x: float, y: float, crowded: int, limit: int) -> list[str]:
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
    if crowded:
        y += 40 + 17 * len(notes) + 16
        sample = _group_radius(20)
        out.append(f"<circle{attrs(class_='legend-marker legend-group', cx=num(x + sample), cy=num(y + sample), r=num(sample), fill='#ffffff', stroke=INK, stroke_width='1')}/>")
        out.append(text(x + sample, y + sample + 3, "20", size=8, anchor="middle", weight="bold"))
        lines = [f"Aggregated: at {counted(crowded, 'site')} with more", f"than {limit} lesions, one numbered circle",
                 "per fate: the number is its lesions, the", "size grows with it; a dark ring: at least",
                 "one symptomatic (tooltip: how many)."]
        out += [text(x + 2 * sample + 8, y + 4 + 15 * k, line, size=11, fill="#444444", class_="note aggregated-note")
                for k, line in enumerate(lines)]
    return out


def body_map_svg(lesions: pl.DataFrame, *, title: str = "Lesion sites by fate", symptomatic: bool = True,
                 subtitle: str | None = None, site_limit: int = SITE_MARKER_LIMIT) -> str:
    """A skeleton body map with one circle per lesion, filled with the colour of its fate.

    ``lesions``: one row per lesion with ``bone``, ``side``, ``segment``, ``fate`` (resolved,
    improved, stable, worsened, new) and ``symptomatic`` (missing columns are read as empty; see
    :func:`fate_sites`). ``symptomatic``: draw a thick dark ring round symptomatic lesions (pass
    ``False`` when symptoms were not recorded, to leave the rings out). With no rows the map
    says "no lesions". Every marker has ``class="lesion fate-<fate>"`` (plus ``symptomatic``) and
    a tooltip naming its site.

    A place with more than ``site_limit`` lesions (default :data:`SITE_MARKER_LIMIT`) gets one
    numbered circle per fate instead, ``<g class="lesion-group fate-<fate>" data-count="N">``
    (a dark ring when any of them is symptomatic, ``data-symptomatic`` how many), and the legend
    says which sites were aggregated. So the figure has at most ``site_limit`` markers per place
    and costs time linear in the lesions, however many there are.
    """
    if site_limit < 1:
        raise FigureInputError(f"body_map_svg: site_limit must be at least 1 (got {site_limit})")
    lesions = _checked(lesions)
    markers, crowded = _markers(lesions, symptomatic, site_limit)
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
    body += _legend(lesions, symptomatic, legend_x, oy + 110, crowded, site_limit)
    desc = (f"{lesions.height} lesions on a skeleton in anterior view (patient's right on the viewer's left), "
            "coloured by fate: " + ", ".join(f"{f} {FATE_COLOURS[f]}" for f in FATE_ORDER))
    if crowded:
        desc += (f"; at {counted(crowded, 'site')} with more than {site_limit} lesions the lesions of each fate are one "
                 "numbered circle")
    return document(_WIDTH, _HEIGHT, title, body, desc=desc, root_class="cnotrack-figure cnotrack-body-map")
