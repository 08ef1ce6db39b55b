"""A schematic skeleton in anterior view, the places of lesions on it, and a clickable version.

The drawing is cnotrack's own simple geometry (no artwork is copied): a 400 x 1100 canvas,
the body's midline at x = 200, the patient facing the viewer, so the patient's **right is on
the viewer's left**. Long bones are drawn along an axis from their proximal to their distal
end; their seven segments (``proximal_epiphysis`` ... ``distal_epiphysis``) are consecutive
zones along it. Vertebrae are blocks with their posterior elements as a small dot beside the
body; the clavicle has medial, shaft and lateral thirds. The feet are drawn below the ankles
as seen from above (talus, calcaneus just below it, then navicular and cuboid, cuneiforms,
metatarsals 1 (medial) to 5, toes), the hands palm forward with the thumb lateral.

A segment that names no end (``epiphysis``, ``metaphysis``) and a lesion with no segment are
placed at the middle of the bone; so is a finger or toe phalanx lesion (drawn on the middle
digit: the vocabulary does not say which digit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from ..vocabulary import anatomy, normalise_key
from ._svg import FigureInputError, attrs, document, num, text

__all__ = ["CANVAS", "LONG_BONE_SEGMENTS", "side_labels", "site_position", "skeleton_elements", "skeleton_svg"]

CANVAS = (400.0, 1100.0)
_CX = 200.0
_BONE_FILL, _BONE_LINE, _RIB_LINE = "#F3EFE4", "#8A8275", "#A89F90"
_SIDES = {"right": -1.0, "left": 1.0}

#: Long-bone segments as (name, start, end) fractions of the bone's length, proximal first.
LONG_BONE_SEGMENTS: tuple[tuple[str, float, float], ...] = (
    ("proximal_epiphysis", 0.0, 0.08), ("proximal_metaphysis", 0.08, 0.18),
    ("proximal_diaphysis", 0.18, 0.40), ("diaphysis", 0.40, 0.60), ("distal_diaphysis", 0.60, 0.82),
    ("distal_metaphysis", 0.82, 0.92), ("distal_epiphysis", 0.92, 1.0),
)
_CLAVICLE_SEGMENTS = (("medial", 0.0, 0.3), ("shaft", 0.3, 0.7), ("lateral", 0.7, 1.0))
_UNPLACED_SEGMENTS = ("epiphysis", "metaphysis")   # no end named: drawn at the bone's middle

Point = tuple[float, float]


@dataclass(frozen=True)
class _Axis:
    """A bone drawn along a polyline (offsets from the midline, y) with bulging ends."""

    points: tuple[Point, ...]
    width: float
    bulge: float = 0.55

    def _lengths(self) -> list[float]:
        return [math.dist(a, b) for a, b in zip(self.points, self.points[1:])]

    def at(self, t: float) -> tuple[Point, Point]:
        """The point at fraction ``t`` of the length and the unit direction there."""
        lengths = self._lengths()
        goal = t * sum(lengths)
        for (a, b), length in zip(zip(self.points, self.points[1:]), lengths):
            if goal <= length or (a, b) == (self.points[-2], self.points[-1]):
                f = min(goal / length, 1.0) if length else 0.0
                d = ((b[0] - a[0]) / length, (b[1] - a[1]) / length)
                return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), d
            goal -= length
        raise AssertionError("unreachable")

    def half_width(self, t: float) -> float:
        ends = max(0.0, 1 - t / 0.16) ** 2 + max(0.0, 1 - (1 - t) / 0.16) ** 2
        return self.width / 2 * (1 + self.bulge * ends)

    def outline(self, s: float, t0: float = 0.0, t1: float = 1.0) -> str:
        """The outline path between fractions ``t0`` and ``t1``, on side ``s``, capped at the ends."""
        cum, ts = 0.0, set()
        total = sum(self._lengths())
        for length in self._lengths()[:-1]:
            cum += length
            ts.add(cum / total)
        ts |= {t0 + (t1 - t0) * i / 12 for i in range(13)}
        samples = sorted(t for t in ts if t0 <= t <= t1)
        left, right = [], []
        for t in samples:
            (px, py), (dx, dy) = self.at(t)
            h = self.half_width(t)
            left.append((_CX + s * (px - dy * h), py + dx * h))
            right.append((_CX + s * (px + dy * h), py - dx * h))
        parts = ["M" + " L".join(f"{num(x)},{num(y)}" for x, y in left)]
        h1 = self.half_width(t1)
        parts.append(f"A{num(h1)},{num(h1)} 0 0 {0 if s > 0 else 1} {num(right[-1][0])},{num(right[-1][1])}"
                     if t1 == 1.0 else f"L{num(right[-1][0])},{num(right[-1][1])}")
        parts.append("L" + " L".join(f"{num(x)},{num(y)}" for x, y in reversed(right[:-1])))
        h0 = self.half_width(t0)
        parts.append(f"A{num(h0)},{num(h0)} 0 0 {0 if s > 0 else 1} {num(left[0][0])},{num(left[0][1])}Z"
                     if t0 == 0.0 else "Z")
        return " ".join(parts)


def _long(points, width, bulge=0.55):
    return _Axis(tuple(points), width, bulge)


# Long bones: axis from proximal to distal end, as (offset from the midline, y).
_LONG: dict[str, tuple[_Axis, ...]] = {
    "humerus": (_long([(98, 236), (112, 392)], 11),),
    "radius": (_long([(122, 402), (138, 526)], 7),),
    "ulna": (_long([(105, 398), (116, 528)], 7),),
    "femur": (_long([(70, 538), (84, 556), (88, 574), (56, 758)], 14),),
    "tibia": (_long([(50, 766), (46, 940)], 12),),
    "fibula": (_long([(70, 772), (66, 944)], 5, 0.8),),
    **{f"metacarpal_{k}": (_long([p, q], 5),) for k, (p, q) in enumerate(
        [((142, 542), (154, 566)), ((135, 548), (137, 582)), ((126, 549), (126, 585)),
         ((117, 548), (115, 581)), ((108, 546), (104, 577))], start=1)},
    # digits: the middle one (listed first) carries the lesion positions
    "finger_phalanx": tuple(_long(a, 4.5, 0.4) for a in [
        [(126, 589), (126, 630)], [(156, 569), (163, 592)], [(138, 586), (140, 622)],
        [(114, 585), (112, 622)], [(103, 580), (100, 608)]]),
    **{f"metatarsal_{k}": (_long([p, q], 6 if k == 1 else 5),) for k, (p, q) in enumerate(
        [((36, 1018), (34, 1054)), ((46, 1019), (46, 1058)), ((55, 1019), (56, 1057)),
         ((64, 1018), (66, 1055)), ((73, 1016), (77, 1052))], start=1)},
    "toe_phalanx": tuple(_long(a, 4.5, 0.4) for a in [
        [(56, 1061), (57, 1086)], [(34, 1058), (33, 1086)], [(46, 1062), (46, 1089)],
        [(66, 1059), (68, 1083)], [(77, 1056), (80, 1077)]]),
}
_CLAVICLE = _long([(10, 234), (40, 230), (66, 226), (88, 222)], 6, 0.3)

# Vertebrae: (first name, count, top y, height, step, half width).
_SPINE = (("C", 7, 164.0, 7.0, 8.0, 7.0), ("T", 12, 222.0, 12.0, 13.0, 10.0), ("L", 5, 379.0, 16.0, 17.0, 13.0))
_RIB_WIDTH = (40, 52, 62, 70, 76, 80, 82, 82, 80, 76, 66, 56)

# Other paired bones: (polygon or ellipse, marker), offsets from the midline.
_PAIRED_SHAPES: dict[str, tuple[tuple, Point]] = {
    "scapula": (("poly", [(60, 232), (93, 234), (96, 244), (74, 316), (66, 300)]), (86, 256)),
    "ilium": (("poly", [(24, 468), (34, 452), (56, 442), (80, 444), (98, 456), (102, 470), (94, 486),
                        (82, 502), (76, 520), (74, 532), (58, 532), (46, 518), (30, 506), (24, 490)]), (64, 482)),
    "pubis": (("poly", [(62, 540), (34, 544), (8, 548), (5, 552), (5, 572), (10, 580), (26, 588), (30, 578),
                        (20, 572), (20, 560), (30, 556), (56, 554)]), (32, 549)),
    "ischium": (("poly", [(72, 550), (70, 572), (64, 590), (54, 598), (40, 598), (26, 588), (30, 578),
                          (46, 582), (54, 574), (56, 554)]), (58, 590)),
    "patella": (("ellipse", (53, 738, 8, 10)), (52, 738)),
    "carpal": (("rects", [(112, 529, 8, 8), (121, 529, 8, 8), (130, 529, 8, 8), (139, 530, 6, 7),
                          (113, 538, 8, 8), (122, 538, 8, 8), (131, 538, 8, 8), (140, 539, 6, 7)]), (126, 537)),
    "talus": (("ellipse", (52, 955, 11, 7)), (52, 955)),
    "calcaneus": (("ellipse", (55, 973, 12, 8)), (55, 973)),
    "navicular": (("ellipse", (42, 990, 8, 6)), (42, 990)),
    "cuboid": (("rects", [(58, 986, 16, 24)]), (66, 998)),
    "cuneiform": (("rects", [(28, 998, 8, 15), (37, 998, 9, 15), (47, 998, 9, 15)]), (43, 1006)),
}
# Bones whose side is optional: one half on each side, the middle when no side is given.
_HALVES: dict[str, tuple[list[Point], Point, Point]] = {
    "maxilla": ([(0, 100), (24, 98), (30, 112), (22, 122), (0, 124)], (14, 112), (200, 116)),
    "mandible": ([(0, 160), (22, 156), (36, 140), (40, 118), (32, 118), (28, 136), (16, 146), (0, 148)],
                 (30, 140), (200, 154)),
}
_MIDLINE_SHAPES: dict[str, tuple[tuple, Point]] = {
    "skull": (("ellipse", (200, 60, 47, 50)), (200, 42)),
    "sternum": (("poly", [(191, 238), (209, 238), (207, 262), (206, 328), (200, 346), (194, 328), (193, 262)]),
                (200, 290)),
    "sacrum": (("poly", [(178, 466), (222, 466), (214, 500), (206, 520), (194, 520), (186, 500)]), (200, 488)),
    "coccyx": (("poly", [(195, 523), (205, 523), (202, 538), (198, 538)]), (200, 530)),
}


def _vertebrae():
    for prefix, count, top, height, step, hw in _SPINE:
        for i in range(count):
            y = top + i * step
            yield f"{prefix}{i + 1}", y, height, hw


def _rib_path(i: int, s: float) -> tuple[str, Point]:
    cy = next(y + h / 2 for name, y, h, _ in _vertebrae() if name == f"T{i}")
    w = _RIB_WIDTH[i - 1]
    end = (12, cy + 30) if i <= 7 else (22 + (i - 8) * 10, cy + 30) if i <= 10 else (w - 16, cy + 20)
    x = lambda dx: num(_CX + s * dx)  # noqa: E731
    d = (f"M{x(20)},{num(cy)} C{x(0.55 * w)},{num(cy - 6)} {x(w)},{num(cy - 4)} {x(w)},{num(cy + 10)} "
         f"C{x(w)},{num(cy + 20)} {x(end[0] + 0.4 * (w - end[0]))},{num(end[1])} {x(end[0])},{num(end[1])}")
    return d, (w, cy + 10)


@cache
def _positions() -> dict[tuple[str, str | None, str | None], Point]:
    """Every place: (bone, side or None, segment or None) -> (x, y) on the canvas."""
    pos: dict[tuple[str, str | None, str | None], Point] = {}
    for side, s in _SIDES.items():
        for bone, axes in _LONG.items():
            axis = axes[0]
            for name, t0, t1 in LONG_BONE_SEGMENTS:
                (px, py), _ = axis.at((t0 + t1) / 2)
                pos[bone, side, name] = (_CX + s * px, py)
            pos[bone, side, None] = pos[bone, side, "diaphysis"]
        for name, t0, t1 in _CLAVICLE_SEGMENTS:
            (px, py), _ = _CLAVICLE.at((t0 + t1) / 2)
            pos["clavicle", side, name] = (_CX + s * px, py)
        pos["clavicle", side, None] = pos["clavicle", side, "shaft"]
        for bone, (_, (mx, my)) in _PAIRED_SHAPES.items():
            pos[bone, side, None] = (_CX + s * mx, my)
        for i in range(1, 13):
            _, (w, y) = _rib_path(i, s)
            pos[f"rib_{i}", side, None] = (_CX + s * w, y)
        for bone, (_, (mx, my), _) in _HALVES.items():
            pos[bone, side, None] = (_CX + s * mx, my)
    for bone, (_, _, middle) in _HALVES.items():
        pos[bone, None, None] = middle
    for bone, (_, marker) in _MIDLINE_SHAPES.items():
        pos[bone, None, None] = marker
    for name, y, h, hw in _vertebrae():
        pos[name, None, "body"] = pos[name, None, None] = (_CX, y + h / 2)
        pos[name, None, "posterior_elements"] = (_CX + hw + 4.5, y + h / 2)
    return pos


def site_position(bone: str, side: str | None = None, segment: str | None = None) -> tuple[float, float]:
    """Where a lesion of ``bone`` (``side``, ``segment``) is drawn, as (x, y) on :data:`CANVAS`.

    ``bone`` is a canonical name of the site vocabulary or a synonym; ``side`` is ``left`` or
    ``right`` (required for paired bones, ignored for midline ones, optional for the mandible and
    maxilla); ``segment`` is one the bone accepts, or ``None`` for the bone's middle.
    """
    table = anatomy().lookup()
    canonical = table.get(normalise_key(bone)) if isinstance(bone, str) else None
    if canonical is None:
        raise FigureInputError(f"site_position: bone {bone!r} is not in the site vocabulary; "
                               "use a canonical name such as 'femur', 'T7' or 'rib_4'")
    entry = anatomy().bone(canonical)
    side_key = side.strip().lower() if isinstance(side, str) and side.strip() else None
    if entry.laterality == "midline":
        side_key = None
    elif side_key not in (None, *_SIDES):
        raise FigureInputError(f"site_position: side {side!r} of {canonical} must be 'left' or 'right'")
    elif side_key is None and entry.laterality == "paired":
        raise FigureInputError(f"site_position: {canonical} is a paired bone; give side='left' or side='right'")
    seg = segment.strip().lower() if isinstance(segment, str) and segment.strip() else None
    if seg is not None and seg not in anatomy().allowed_segments(canonical):
        allowed = ", ".join(anatomy().allowed_segments(canonical)) or "none (leave it empty)"
        raise FigureInputError(f"site_position: segment {segment!r} does not apply to {canonical}; "
                               f"valid segments: {allowed}")
    if seg in _UNPLACED_SEGMENTS:
        seg = None
    return _positions()[canonical, side_key, seg]


# ---- drawing ---------------------------------------------------------------------------

def _shape_svg(shape: tuple, s: float, classes: str = "shape") -> str:
    kind, geometry = shape
    paint = dict(fill=_BONE_FILL, stroke=_BONE_LINE, stroke_width="1")
    if kind == "poly":
        pts = " ".join(f"{num(_CX + s * x if s else x)},{num(y)}" for x, y in geometry)
        return f"<polygon{attrs(class_=classes, points=pts, **paint)}/>"
    if kind == "ellipse":
        x, y, rx, ry = geometry
        return f"<ellipse{attrs(class_=classes, cx=num(_CX + s * x if s else x), cy=num(y), rx=num(rx), ry=num(ry), **paint)}/>"
    rects = []
    for x, y, w, h in geometry:
        left = _CX + s * x - (w if s < 0 else 0)
        rects.append(f"<rect{attrs(class_=classes, x=num(left), y=num(y), width=num(w), height=num(h), rx='1.5', **paint)}/>")
    return "".join(rects)


def _group(bone: str, side: str | None, inner: list[str], clickable: bool) -> str:
    ident = f"bone-{bone}" + (f"-{side}" if side else "")
    head = attrs(class_="bone", id=ident if clickable else None, data_bone=bone, data_side=side or "")
    return f"<g{head}>" + "".join(inner) + "</g>"


def _long_svg(bone: str, side: str, axes: tuple[_Axis, ...], segments, clickable: bool) -> str:
    s = _SIDES[side]
    inner = []
    for digit, axis in enumerate(axes):
        inner.append(f"<path{attrs(class_='shape', d=axis.outline(s), fill=_BONE_FILL, stroke=_BONE_LINE, stroke_width='1')}/>")
        if clickable:
            for name, t0, t1 in segments:
                ident = f"bone-{bone}-{side}-{name}" + (f"-d{digit}" if digit else "")
                inner.append(f"<path{attrs(class_='segment', id=ident, data_segment=name, d=axis.outline(s, t0, t1), fill='transparent')}/>")
    return _group(bone, side, inner, clickable)


def skeleton_elements(clickable: bool = False) -> list[str]:
    """The skeleton as SVG elements on :data:`CANVAS`, each bone a ``<g class="bone">`` with
    ``data-bone`` and ``data-side``; when ``clickable``, also ``id`` and one element per segment
    zone with ``data-segment``."""
    out: list[str] = []
    for side, s in _SIDES.items():
        shape, _ = _PAIRED_SHAPES["scapula"]
        out.append(_group("scapula", side, [_shape_svg(shape, s)], clickable))
    out.append(_group("skull", None, [_shape_svg(_MIDLINE_SHAPES["skull"][0], 0)], clickable))
    for cx in (183, 217):  # orbits and nose: drawing only, no bone
        out.append(f'<ellipse cx="{cx}" cy="78" rx="10" ry="8" fill="#ffffff" stroke="{_BONE_LINE}" stroke-width="0.8"/>')
    out.append(f'<polygon points="200,86 195,97 205,97" fill="#ffffff" stroke="{_BONE_LINE}" stroke-width="0.8"/>')
    for bone, (half, _, _) in _HALVES.items():
        for side, s in _SIDES.items():
            out.append(_group(bone, side, [_shape_svg(("poly", half), s)], clickable))
    for name, y, h, hw in _vertebrae():
        body = f"<rect{attrs(class_='shape segment', x=num(_CX - hw), y=num(y), width=num(2 * hw), height=num(h), rx='2', fill=_BONE_FILL, stroke=_BONE_LINE, stroke_width='1')}/>"
        dot = f"<circle{attrs(class_='shape segment', cx=num(_CX + hw + 4.5), cy=num(y + h / 2), r='2.6', fill=_BONE_FILL, stroke=_BONE_LINE, stroke_width='1')}/>"
        inner = [_segment_attr(body, name, "body", clickable), _segment_attr(dot, name, "posterior_elements", clickable)]
        out.append(_group(name, None, inner, clickable))
    for side, s in _SIDES.items():
        for i in range(1, 13):
            d, _ = _rib_path(i, s)
            inner = [f"<path{attrs(class_='shape', d=d, fill='none', stroke=_RIB_LINE, stroke_width='2', stroke_linecap='round')}/>"]
            if clickable:
                inner.append(f"<path{attrs(class_='hit', d=d, fill='none', stroke='transparent', stroke_width='7', pointer_events='stroke')}/>")
            out.append(_group(f"rib_{i}", side, inner, clickable))
    for bone in ("sternum", "sacrum", "coccyx"):
        out.append(_group(bone, None, [_shape_svg(_MIDLINE_SHAPES[bone][0], 0)], clickable))
    for side in _SIDES:
        out.append(_long_svg("clavicle", side, (_CLAVICLE,), _CLAVICLE_SEGMENTS, clickable))
    order = ["ilium", "ischium", "pubis", "femur", "patella", "tibia", "fibula", "talus", "calcaneus",
             "navicular", "cuboid", "cuneiform", *[f"metatarsal_{k}" for k in range(1, 6)], "toe_phalanx",
             "humerus", "ulna", "radius", "carpal", *[f"metacarpal_{k}" for k in range(1, 6)], "finger_phalanx"]
    for side, s in _SIDES.items():
        for bone in order:
            if bone in _LONG:
                out.append(_long_svg(bone, side, _LONG[bone], LONG_BONE_SEGMENTS, clickable))
            else:
                out.append(_group(bone, side, [_shape_svg(_PAIRED_SHAPES[bone][0], s)], clickable))
    return out


def _segment_attr(element: str, bone: str, segment: str, clickable: bool) -> str:
    tag_end = element.index(" ")
    extra = attrs(id=f"bone-{bone}-{segment}" if clickable else None, data_segment=segment)
    return element[:tag_end] + extra + element[tag_end:]


_CLICK_STYLE = (".bone{cursor:pointer}.bone:hover .shape{fill:#DCEBF7}"
                ".segment:hover{fill:#56B4E9;fill-opacity:0.45}")


def side_labels(y: float = 24) -> list[str]:
    """The R and L letters of the anterior view, at the top corners of the canvas."""
    return [text(16, y, "R", size=18, weight="bold", class_="side-label"),
            text(CANVAS[0] - 16, y, "L", size=18, anchor="end", weight="bold", class_="side-label")]


def skeleton_svg(clickable: bool = True, *, title: str = "Skeleton, anterior view") -> str:
    """The skeleton alone as an SVG document; with ``clickable`` every bone has an ``id`` and
    ``data-bone``/``data-side``, every segment zone ``data-segment``, and bones highlight on
    hover, so that a click tells bone, side and segment (``event.target.closest('[data-bone]')``)."""
    width, height = CANVAS
    caption = text(width / 2, height + 14, "Anterior view: patient's right (R) on the viewer's left",
                   size=10, anchor="middle", fill="#555555")
    return document(width, height + 22, title, [*skeleton_elements(clickable), *side_labels(), caption],
                    style=_CLICK_STYLE if clickable else None, root_class="cnotrack-skeleton")
