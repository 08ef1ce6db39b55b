"""Every mark on a figure has a legend entry: each distinct mark style (a line's colour and
dash, a marker's shape, a bar's fill; a body-map marker's fill and ring) drawn on a figure is
also drawn in its legend.

Matplotlib figures are checked on the figure object itself (``figure_svg`` is wrapped to keep
it), the body map on its SVG."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

import cnotrack.figures.survival as survival
import cnotrack.figures.swimmer as swimmer
import cnotrack.figures.trajectories as trajectories
from cnotrack.figures import body_map_svg, fate_sites

from .conftest import KM_CURVES, parse


def _style(artist) -> tuple | None:
    """What tells a mark apart: a line by colour and dash, a bare marker by its shape, a bar by fill."""
    if isinstance(artist, Line2D):
        if artist.get_linestyle() not in ("None", "none", "") and len(artist.get_xdata()) == 1:
            return ("marker", str(artist.get_marker()))   # one point: only its marker shows
        if artist.get_linestyle() not in ("None", "none", ""):
            return ("line", to_hex(artist.get_color()), artist.get_linestyle())
        return ("marker", str(artist.get_marker()))
    if isinstance(artist, Rectangle):
        return ("fill", to_hex(artist.get_facecolor()))
    return None


def _marks_and_legend(fig) -> tuple[set, set]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    assert legends, "the figure has no legend"
    keyed = {_style(h) for legend in legends for h in legend.legend_handles} - {None}
    marks = set()
    for ax in fig.axes:
        grid = {*ax.get_xgridlines(), *ax.get_ygridlines()}
        artists = [line for line in ax.get_lines() if line not in grid and len(line.get_xdata())]
        artists += [p for p in ax.patches if isinstance(p, Rectangle)]
        marks |= {_style(a) for a in artists} - {None}
    return marks, keyed


@pytest.fixture()
def kept(monkeypatch):
    """The matplotlib figures the figure modules render, in order."""
    figures = []
    for module in (survival, swimmer, trajectories):
        original = module.figure_svg

        def keep(fig, *args, _original=original, **kwargs):
            figures.append(fig)
            return _original(fig, *args, **kwargs)

        monkeypatch.setattr(module, "figure_svg", keep)
    return figures


@pytest.mark.parametrize("name", ["swimmer", "trajectories", "km"])
def test_every_mark_of_a_matplotlib_figure_has_a_legend_entry(name, kept, evaluation, demo):
    render = {"swimmer": lambda: swimmer.swimmer_svg(evaluation, demo),
              "trajectories": lambda: trajectories.trajectories_svg(evaluation, demo),
              "km": lambda: survival.km_svg(KM_CURVES)}[name]
    render()
    marks, keyed = _marks_and_legend(kept[-1])
    assert marks, "no marks found"
    assert marks <= keyed, f"{name}: marks without a legend entry: {sorted(marks - keyed)}"


def test_the_swimmer_legend_names_the_index_line(kept, evaluation, demo):
    swimmer.swimmer_svg(evaluation, demo)
    labels = [t.get_text() for t in kept[-1].axes[0].get_legend().get_texts()]
    assert any(label.startswith("index date: start of ") for label in labels)


def test_every_body_map_marker_has_its_fill_and_ring_in_the_legend(evaluation):
    root = parse(body_map_svg(fate_sites(evaluation), title="Demo lesion sites"))
    circles = [e for e in root.iter() if e.tag.endswith("circle")]
    markers = [c for c in circles if (c.get("class") or "").split()[:1] == ["lesion"]]
    legend = [c for c in circles if c.get("class") == "legend-marker"]
    assert markers and legend
    assert {m.get("fill") for m in markers} <= {c.get("fill") for c in legend}
    ringed = [m for m in markers if "symptomatic" in (m.get("class") or "").split()]
    if ringed:
        assert any(c.get("fill") == "#ffffff" and c.get("stroke-width") for c in legend)
