"""Fixtures of the figure tests: the demo cohort evaluated with the seed study's protocol,
every figure rendered from it, and helpers to read an SVG document."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cnotrack.figures import (
    body_map_svg,
    fate_sites,
    km_svg,
    lesion_flow_svg,
    skeleton_svg,
    swimmer_svg,
    trajectories_svg,
)

SVG = "{http://www.w3.org/2000/svg}"

KM_CURVES = [
    {"label": "anakinra", "times": [0, 0.5, 1.0, 1.5], "survival": [1.0, 0.89, 0.78, 0.67],
     "censor_times": [1.2, 1.8, 2.4], "at_risk": [[0, 9], [1, 7], [2, 3]]},
    {"label": "canakinumab", "times": [0.3, 1.2], "survival": [0.8, 0.5], "censor_times": [0.7],
     "at_risk": [[0, 5], [1, 3], [2, 1]]},
]


@pytest.fixture(scope="session")
def renderers(demo, evaluation):
    """Each figure of the demo cohort as a function that renders it anew."""
    return {
        "body_map": lambda: body_map_svg(fate_sites(evaluation), title="Demo lesion sites"),
        "skeleton": lambda: skeleton_svg(clickable=True),
        "flow": lambda: lesion_flow_svg(evaluation),
        "swimmer": lambda: swimmer_svg(evaluation, demo),
        "trajectories": lambda: trajectories_svg(evaluation, demo),
        "km": lambda: km_svg(KM_CURVES),
    }


@pytest.fixture(scope="session")
def figures(renderers):
    return {name: render() for name, render in renderers.items()}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    """The content of every ``<text>`` element (and its ``<tspan>``s), whitespace trimmed."""
    root = parse(svg)
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def lesion_markers(svg: str) -> list[ET.Element]:
    return [e for e in parse(svg).iter() if (e.get("class") or "").split()[:1] == ["lesion"]]
