"""The skeleton of an imaging study's page made operable by keyboard and screen reader, and the
searchable list of its sites.

Every zone of the clickable skeleton (:func:`cnotrack.figures.skeleton_svg`: a segment of a long
bone or a vertebra, or a whole bone without segments) becomes a button (``role="button"``) named
in words ("left femur distal metaphysis"), with its position on the canvas (``data-x``/``data-y``,
from :func:`cnotrack.figures.site_position`) so that ``static/app.js`` moves focus to the nearest
zone in an arrow key's direction. One zone at a time is in the tab order (a roving tabindex).
The annotated drawing is built once per process; a page only names the zones that carry a lesion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from ..errors import FigureInputError
from ..figures import site_position, skeleton_svg
from ..vocabulary import anatomy

__all__ = ["Zone", "keyboard_skeleton", "search_sites", "zones"]

#: the zone that is in the tab order before any other has had focus
FIRST_ZONE = "bone-skull"
_QUERY_LIMIT = 60
_ELEMENT = re.compile(r'<(g|path|rect|circle)\b([^>]*?) id="(bone-[^"]+)"([^>]*)>')


@dataclass(frozen=True)
class Zone:
    """One operable zone of the skeleton: its element id, site and position on the canvas."""

    id: str
    bone: str
    side: str | None
    segment: str | None
    x: float
    y: float

    @property
    def label(self) -> str:
        return " ".join(v.replace("_", " ") for v in (self.side, self.bone, self.segment) if v)

    @property
    def site(self) -> tuple[str, str | None, str | None]:
        return self.bone, self.side, self.segment


@lru_cache(maxsize=1)
def _drawing() -> tuple[str, tuple[Zone, ...]]:
    svg = skeleton_svg(clickable=True, title="Skeleton: choose a bone, or a segment of a long bone, to chart a lesion")
    svg = re.sub(r"<style>.*?</style>", "", svg, count=1, flags=re.DOTALL)
    svg = re.sub(r' width="[\d.]+" height="[\d.]+"', "", svg, count=1)
    found: list[Zone] = []
    group: tuple[str, str | None] | None = None
    pieces: list[str] = []
    last = 0
    for match in _ELEMENT.finditer(svg):
        tag, before, ident, after = match.groups()
        head = before + after
        if tag == "g":
            bone = re.search(r'data-bone="([^"]+)"', head).group(1)
            side = re.search(r'data-side="([^"]*)"', head).group(1) or None
            group = (bone, side)
            closing = svg.index("</g>", match.end())
            if "data-segment" in svg[match.end():closing]:
                continue  # its segments are the zones
            segment = None
        else:
            segment_match = re.search(r'data-segment="([^"]+)"', head)
            if segment_match is None or group is None or re.search(r"-d\d+$", ident):
                continue  # not a zone, or another digit's copy of one (only the first takes focus)
            bone, side = group
            segment = segment_match.group(1)
        try:
            x, y = site_position(bone, side, segment)
        except FigureInputError:
            continue
        zone = Zone(ident, bone, side, segment, round(x, 1), round(y, 1))
        found.append(zone)
        element = match.group(0).replace(' class="', ' class="zone ', 1)
        element = element.replace(f' id="{ident}"', f' id="{ident}" role="button" tabindex='
                                  f'"{0 if ident == FIRST_ZONE else -1}" aria-label="{escape(zone.label)}" '
                                  f'data-x="{zone.x:g}" data-y="{zone.y:g}"', 1)
        pieces.append(svg[last:match.start()] + element)
        last = match.end()
    pieces.append(svg[last:])
    drawing = "".join(pieces).replace("<svg ", '<svg role="group" aria-label="Skeleton, anterior view: '
                                              'one button per bone or segment" ', 1)
    return drawing, tuple(found)


def zones() -> tuple[Zone, ...]:
    """Every operable zone of the skeleton, in drawing order."""
    return _drawing()[1]


def keyboard_skeleton(charted: set[tuple[str, str | None, str | None]],
                      previous: set[tuple[str, str | None, str | None]], marks: str) -> str:
    """The skeleton with ``marks`` (SVG elements) drawn on it; a zone whose site is in
    ``charted`` is named "..., lesion charted", one in ``previous`` (a lesion of the previous
    study not charted again) "..., lesion at the previous study"."""
    svg, all_zones = _drawing()
    for zone in all_zones:
        state = ("charted", "lesion charted") if zone.site in charted else \
            ("previous", "lesion at the previous study") if zone.site in previous else None
        if state is not None:
            label = escape(zone.label)
            svg = svg.replace(f'aria-label="{label}"', f'aria-label="{label}, {state[1]}" data-state="{state[0]}"', 1)
    return svg.replace("</svg>", marks + "</svg>")


@lru_cache(maxsize=1)
def _sites() -> tuple[tuple[str, tuple[str, str | None, str | None]], ...]:
    """(searchable text, site) of every site of the skeleton, bones before their segments."""
    vocabulary = anatomy()
    out: list[tuple[str, tuple[str, str | None, str | None]]] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for zone in zones():
        bone = vocabulary.bone(zone.bone)
        words = " ".join((bone.label, *bone.synonyms)).lower()
        for site in ((zone.bone, zone.side, None), zone.site):
            if site not in seen:
                seen.add(site)
                label = " ".join(v.replace("_", " ") for v in site if v)
                out.append((f"{label.lower()} {words}", site))
    return tuple(out)


def search_sites(query: str, limit: int = 12) -> list[tuple[str, str | None, str | None]]:
    """The sites whose words contain every word of ``query`` (case-insensitive; bone names,
    labels and synonyms), at most ``limit``; an empty query matches none."""
    words = query.lower().replace("_", " ")[:_QUERY_LIMIT].split()
    if not words:
        return []
    out = []
    for text, site in _sites():
        if all(w in text for w in words):
            out.append(site)
            if len(out) == limit:
                break
    return out
