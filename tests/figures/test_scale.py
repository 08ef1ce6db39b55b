"""Figures of a registry: each grows at most linearly with its input, and says when it summarises.

The body map aggregates a place with more than ``SITE_MARKER_LIMIT`` lesions into one numbered
circle per fate; the swimmer plot and the trajectories become summaries above their patient
limits. Costs are checked by the size of the SVG (elements), never by time.
"""

from __future__ import annotations

import polars as pl
import pytest

from cnotrack.engine import evaluate
from cnotrack.figures import (
    MARKER_RADIUS,
    SITE_MARKER_LIMIT,
    SWIMMER_MAX_PATIENTS,
    TRAJECTORY_MAX_PATIENTS,
    FigureInputError,
    body_map_svg,
    crowded_sites,
    km_svg,
    swimmer_svg,
    trajectories_svg,
)
from cnotrack.figures.skeleton import _positions
from cnotrack.protocols import load_protocol
from cnotrack.synth import synthesize_registry

from .conftest import parse, texts

FATES = ("resolved", "improved", "stable", "worsened", "new")


def _places(k: int) -> list[tuple[str, str | None, str | None]]:
    """``k`` distinct places of the skeleton (bone, side, segment), head to foot."""
    seen, out = set(), []
    for key, xy in sorted(_positions().items(), key=lambda item: (item[1][1], item[1][0])):
        if xy not in seen:
            seen.add(xy)
            out.append(key)
    assert len(out) >= k
    return out[:k]


def _lesions(per_place: list[int], places: list, fates=FATES) -> pl.DataFrame:
    rows = [(*places[p], fates[i % len(fates)], i % 3 == 0)
            for p, count in enumerate(per_place) for i in range(count)]
    schema = {"bone": pl.String, "side": pl.String, "segment": pl.String, "fate": pl.String, "symptomatic": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _elements(svg: str) -> int:
    return sum(1 for _ in parse(svg).iter())


def _classed(svg: str, first: str) -> list:
    return [e for e in parse(svg).iter() if (e.get("class") or "").split()[:1] == [first]]


def test_a_place_with_the_limit_of_lesions_keeps_one_marker_per_lesion():
    svg = body_map_svg(_lesions([SITE_MARKER_LIMIT], _places(1)))
    assert len(_classed(svg, "lesion")) == SITE_MARKER_LIMIT
    assert _classed(svg, "lesion-group") == []
    assert not any(t.startswith("Aggregated") for t in texts(svg))


def test_a_place_with_one_lesion_more_than_the_limit_is_one_numbered_circle_per_fate():
    svg = body_map_svg(_lesions([SITE_MARKER_LIMIT + 1], _places(1)))
    groups = _classed(svg, "lesion-group")
    assert _classed(svg, "lesion") == []
    assert sum(int(g.get("data-count")) for g in groups) == SITE_MARKER_LIMIT + 1
    assert sorted(g.get("class").split()[1] for g in groups) == sorted(f"fate-{f}" for f in FATES)
    counts = {g.get("class").split()[1]: g.get("data-count") for g in groups}
    assert counts["fate-resolved"] == "3" and counts["fate-new"] == "2"
    for group in groups:   # the number is printed on the circle, and the tooltip says the site
        assert "".join(group.find("{http://www.w3.org/2000/svg}text").itertext()) == group.get("data-count")
        assert group.find("{http://www.w3.org/2000/svg}title").text.endswith(
            f"{group.get('data-count')} {group.get('class').split()[1][5:]}" + (
                f" ({group.get('data-symptomatic')} symptomatic)" if group.get("data-symptomatic") != "0" else ""))


def test_the_legend_and_description_say_how_many_sites_were_aggregated():
    places = _places(4)
    svg = body_map_svg(_lesions([20, 13, 3, 12], places))
    words = " ".join(texts(svg))
    assert "Aggregated: at 2 sites with more than 12 lesions, one numbered circle" in words
    assert "48 lesions" in words and "resolved (" in words
    assert "at 2 sites with more than 12 lesions" in parse(svg).find("{http://www.w3.org/2000/svg}desc").text
    assert crowded_sites(_lesions([20, 13, 3, 12], places)) == 2
    assert len(_classed(svg, "lesion")) == 15


def test_the_site_limit_can_be_set_and_must_be_positive():
    lesions = _lesions([2, 1], _places(2))
    svg = body_map_svg(lesions, site_limit=1)
    assert len(_classed(svg, "lesion")) == 1 and len(_classed(svg, "lesion-group")) == 2
    with pytest.raises(FigureInputError, match="site_limit must be at least 1"):
        body_map_svg(lesions, site_limit=0)


def test_the_body_map_grows_linearly_with_lesions_below_the_limit():
    places = _places(100)
    sizes = [100, 300, 900]    # 1, 3 and 9 lesions per place: all below the limit
    elements = [_elements(body_map_svg(_lesions([n // 100] * 100, places))) for n in sizes]
    markers = [len(_classed(body_map_svg(_lesions([n // 100] * 100, places)), "lesion")) for n in sizes]
    assert markers == sizes
    slopes = [(elements[1] - elements[0]) / (sizes[1] - sizes[0]), (elements[2] - elements[1]) / (sizes[2] - sizes[1])]
    assert slopes[0] == slopes[1] == 2   # a circle and its tooltip per lesion, nothing more


def test_the_body_map_of_ever_more_lesions_stops_growing_once_places_are_aggregated():
    places = _places(50)
    sizes = [50 * 20, 50 * 80, 50 * 320]     # far above the limit at every place
    elements = [_elements(body_map_svg(_lesions([n // 50] * 50, places))) for n in sizes]
    assert elements[0] == elements[1] == elements[2]


def test_aggregated_circles_and_markers_of_neighbouring_places_do_not_overlap():
    places = _places(30)    # the head, the neck and the upper spine: close places
    svg = body_map_svg(_lesions([40 if k % 2 else 5 for k in range(30)], places))
    circles = [(float(c.get("cx")), float(c.get("cy")), float(c.get("r")))
               for c in parse(svg).iter("{http://www.w3.org/2000/svg}circle")
               if c.get("cx") and ("lesion" in (c.get("class") or "") or c.get("class") is None and c.get("fill") != "#ffffff")]
    marks = [c for c in circles if c[2] >= MARKER_RADIUS]
    closest = min(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 - a[2] - b[2]
                  for i, a in enumerate(marks) for b in marks[i + 1:])
    assert len(marks) > 60 and closest >= -0.05


def test_an_unknown_site_names_the_first_lesion_row_that_has_it():
    lesions = _lesions([2], _places(1)).vstack(pl.DataFrame(
        [("kneecap-ish", "left", None, "new", False)] * 2, orient="row",
        schema={"bone": pl.String, "side": pl.String, "segment": pl.String, "fate": pl.String, "symptomatic": pl.Boolean}))
    with pytest.raises(FigureInputError, match=r"lesion row 3: site_position: bone 'kneecap-ish'"):
        body_map_svg(lesions)


@pytest.fixture(scope="module")
def registries():
    """Two synthetic registries, of 150 and 450 patients (about 75 and 225 eligible, above the
    limit of 50 the tests pass), evaluated with the seed protocol."""
    out = {}
    for n in (150, 450):
        data = synthesize_registry(n, seed=7)
        out[n] = (data, evaluate(data, load_protocol("pardeo2017"), statistics=False))
    return out


def test_the_swimmer_plot_of_many_patients_is_a_summary_whose_size_does_not_grow_with_them(registries):
    sizes = {}
    for n, (data, evaluation) in registries.items():
        svg = swimmer_svg(evaluation, data, max_patients=50)
        assert f"Summary of {evaluation.n} eligible patients (above 50 patients" in " ".join(texts(svg))
        sizes[n] = _elements(svg)
    assert sizes[450] <= sizes[150] * 1.2


def test_the_default_limits_of_the_per_patient_figures_are_documented_numbers():
    assert (SWIMMER_MAX_PATIENTS, TRAJECTORY_MAX_PATIENTS, SITE_MARKER_LIMIT) == (50, 50, 12)


def test_the_swimmer_plot_has_a_lane_per_patient_up_to_its_limit(evaluation, demo):
    full = swimmer_svg(evaluation, demo, max_patients=evaluation.n)
    summary = swimmer_svg(evaluation, demo, max_patients=evaluation.n - 1)
    assert "Summary of" not in " ".join(texts(full))
    assert f"Summary of {evaluation.n} eligible patients (above {evaluation.n - 1} patients" in " ".join(texts(summary))
    assert set(evaluation.cohort.eligible["patient_id"]) <= set(texts(full))
    assert not set(evaluation.cohort.eligible["patient_id"]) & set(texts(summary))


def test_the_trajectories_of_many_patients_are_bands_whose_size_does_not_grow_with_them(registries):
    sizes = {}
    for n, (data, evaluation) in registries.items():
        svg = trajectories_svg(evaluation, data, max_patients=50)
        assert "Above 50 patients the values are summarised per 0.25 year (bands)" in " ".join(texts(svg))
        assert "10th to 90th percentile" in texts(svg)
        sizes[n] = _elements(svg)
    assert sizes[450] <= sizes[150] * 1.2


def test_the_trajectories_draw_a_line_per_patient_up_to_their_limit(evaluation, demo):
    full = trajectories_svg(evaluation, demo, max_patients=evaluation.n)
    summary = trajectories_svg(evaluation, demo, max_patients=evaluation.n - 1)
    assert "one patient" in texts(full) and "one patient" not in texts(summary)
    assert "middle half of the values (quartiles)" in texts(summary)


def test_censor_ticks_at_one_time_are_drawn_once():
    one = km_svg([{"label": "a", "times": [0, 1], "survival": [1, 0.5], "censor_times": [0.5]}])
    many = km_svg([{"label": "a", "times": [0, 1], "survival": [1, 0.5], "censor_times": [0.5] * 500}])
    assert one.count("<use") == many.count("<use")
