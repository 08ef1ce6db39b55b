"""The colours of a patient's course: the figures' Okabe-Ito colours (``cnotrack.figures.palette``),
each darkened just enough to stand out at 3:1 or more against the page (WCAG 2.1, 1.4.11
non-text contrast) and the skeleton's bone colour, so that a bar, tick or dot is seen by
everyone. The hues, and so the colour-blind safety, stay the figures'; the legend and the
data table name every colour's meaning in words besides."""

from __future__ import annotations

from functools import cache

from ...figures.palette import DRUG_CLASS_COLOURS, FATE_COLOURS, OKABE_ITO, OTHER_COLOUR
from ...vocabulary import drugs

__all__ = ["BACKGROUNDS", "FATE_STYLE", "MIN_CONTRAST", "SERIES", "class_colour", "contrast", "drug_class_legend",
           "legible"]

#: The least contrast of a graphic against what it is drawn on (WCAG 2.1 AA, non-text).
MIN_CONTRAST = 3.0
#: What the course's marks are drawn on: the page (white) and the skeleton's bones.
BACKGROUNDS = ("#ffffff", "#F3EFE4")


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@cache
def legible(colour: str, ratio: float = MIN_CONTRAST) -> str:
    """``colour`` darkened (mixed with black, in steps of 2 %) until it has ``ratio`` against
    every colour of :data:`BACKGROUNDS`; unchanged when it has already."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    for step in range(51):
        f = 1 - step * 0.02
        out = "#" + "".join(f"{round(c * f):02X}" for c in rgb)
        if all(contrast(out, bg) >= ratio for bg in BACKGROUNDS):
            return out
    return "#000000"


def class_colour(drug_class: str | None) -> str:
    """The colour of a drug class of the drug vocabulary (black for an unknown one), legible."""
    return legible(DRUG_CLASS_COLOURS.get(drug_class or "", OTHER_COLOUR))


def drug_class_legend(present: set[str] | None = None) -> list[tuple[str, str, str]]:
    """``(class key, label, colour)`` of the drug vocabulary's classes (those in ``present`` if
    given), in the vocabulary's order, and ``other`` for drugs of no known class."""
    out = [(key, label, class_colour(key)) for key, label in drugs().classes.items()
           if present is None or key in present]
    if present is not None and present - set(drugs().classes):
        out.append(("other", "Other or unknown class", class_colour(None)))
    return out


#: How a lesion is drawn on a scan's body map, by its fate against the previous scan:
#: (label, colour, shape); the shape tells the fate without its colour too.
FATE_STYLE: dict[str, tuple[str, str, str]] = {
    "present": ("present (first scan)", legible(FATE_COLOURS["baseline"]), "circle"),
    "new": ("new since the previous scan", legible(FATE_COLOURS["new"]), "diamond"),
    "persisting": ("persisting from the previous scan", legible(FATE_COLOURS["stable"]), "square"),
    "resolved": ("resolved since the previous scan", legible(FATE_COLOURS["resolved"]), "ring"),
}

#: The series of the charts (name -> colour, marker).
SERIES: dict[str, tuple[str, str]] = {
    "ESR": (legible(OKABE_ITO["blue"]), "circle"),
    "CRP": (legible(OKABE_ITO["vermillion"]), "circle"),
    "pga_vas": (legible(OKABE_ITO["blue"]), "circle"),
    "patient_global_vas": (legible(OKABE_ITO["reddish_purple"]), "triangle"),
    "pain_vas": (legible(OKABE_ITO["orange"]), "square"),
    "pga": (legible(OKABE_ITO["bluish_green"]), "circle"),
    "scan": (legible(OKABE_ITO["black"]), "diamond"),
}
