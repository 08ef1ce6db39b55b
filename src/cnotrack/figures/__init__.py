"""Figures of a cohort, each a standalone, deterministic SVG document returned as ``str``.

- :func:`body_map_svg`: lesions on a skeleton in anterior view, coloured by fate, aggregated
  per fate at a place with more than :data:`SITE_MARKER_LIMIT` lesions (:func:`crowded_sites`);
  (:func:`fate_sites` makes its input from an evaluation; :func:`site_position` and
  :func:`skeleton_svg` give the web app the places and a clickable skeleton);
- :func:`lesion_flow_svg`: where the lesions of one study went by the next, and the new ones;
- :func:`swimmer_svg`: treatment courses, visits and scans per patient (a summary above
  :data:`SWIMMER_MAX_PATIENTS`);
- :func:`trajectories_svg`: ESR, CRP and PGA over time, per patient and cohort median (bands
  of percentiles above :data:`TRAJECTORY_MAX_PATIENTS`);
- :func:`km_svg`: Kaplan-Meier curves with a numbers-at-risk table.

Colours come from :mod:`cnotrack.figures.palette` (Okabe-Ito, safe for colour-blind readers).
"""

from ._svg import FigureInputError
from .body_map import MARKER_RADIUS, SITE_MARKER_LIMIT, body_map_svg, crowded_sites, fate_sites
from .flow import lesion_flow_counts, lesion_flow_svg
from .palette import (
    DRUG_CLASS_COLOURS,
    FATE_COLOURS,
    FATE_ORDER,
    MODALITY_MARKERS,
    OKABE_ITO,
    drug_class_colour,
    fate_colour,
)
from .skeleton import CANVAS, LONG_BONE_SEGMENTS, site_position, skeleton_svg
from .survival import KaplanMeierCurve, km_svg
from .swimmer import SWIMMER_MAX_PATIENTS, swimmer_svg
from .trajectories import TRAJECTORY_MAX_PATIENTS, trajectories_svg

__all__ = [
    "CANVAS",
    "DRUG_CLASS_COLOURS",
    "FATE_COLOURS",
    "FATE_ORDER",
    "FigureInputError",
    "KaplanMeierCurve",
    "LONG_BONE_SEGMENTS",
    "MARKER_RADIUS",
    "MODALITY_MARKERS",
    "OKABE_ITO",
    "SITE_MARKER_LIMIT",
    "SWIMMER_MAX_PATIENTS",
    "TRAJECTORY_MAX_PATIENTS",
    "body_map_svg",
    "crowded_sites",
    "drug_class_colour",
    "fate_colour",
    "fate_sites",
    "km_svg",
    "lesion_flow_counts",
    "lesion_flow_svg",
    "site_position",
    "skeleton_svg",
    "swimmer_svg",
    "trajectories_svg",
]
