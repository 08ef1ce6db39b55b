"""Every figure renders for the demo cohort as a well-formed, standalone, deterministic SVG
document with a title and readable labels; empty input gives a figure that says so."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import polars as pl
import pytest

import cnotrack.figures
from cnotrack.engine.cohort import Cohort
from cnotrack.figures import (
    FigureInputError,
    body_map_svg,
    fate_sites,
    km_svg,
    lesion_flow_counts,
    lesion_flow_svg,
    swimmer_svg,
    trajectories_svg,
)

from .conftest import SVG, parse, texts

FIGURES = ["body_map", "skeleton", "flow", "swimmer", "trajectories", "km"]


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_is_a_standalone_svg_document_with_a_title(figures, name):
    root = parse(figures[name])
    assert root.tag == f"{SVG}svg"
    for attribute in ("width", "height", "viewBox"):
        assert root.get(attribute), attribute
    title = root.find(f"{SVG}title")
    assert title is not None and title.text and title.text.strip()


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_references_nothing_outside_itself(figures, name):
    svg = figures[name]
    without_namespaces = re.sub(r'xmlns(:\w+)?="[^"]*"', "", svg)
    assert "http" not in without_namespaces
    assert "<!DOCTYPE" not in svg and "<image" not in svg
    hrefs = re.findall(r'href="([^"]*)"', svg)
    assert all(h.startswith("#") for h in hrefs), hrefs


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_renders_the_same_bytes_twice(renderers, name):
    assert renderers[name]() == renderers[name]()


@pytest.mark.parametrize("name", ["swimmer", "trajectories", "km"])
def test_matplotlib_figures_carry_no_date_and_keep_text_as_text(figures, name):
    svg = figures[name]
    assert "<dc:date>" not in svg and "<metadata>" not in svg
    assert "<text" in svg and "<use xlink:href=\"#DejaVu" not in svg


def test_the_body_map_has_one_marker_per_lesion_classed_by_fate(figures, evaluation):
    sites = fate_sites(evaluation)
    markers = [e for e in parse(figures["body_map"]).iter() if (e.get("class") or "").startswith("lesion ")]
    assert len(markers) == sites.height == 97
    by_fate = {f: sum(f"fate-{f}" in m.get("class").split() for m in markers) for f in cnotrack.figures.FATE_ORDER}
    assert by_fate == {"resolved": 42, "improved": 0, "stable": 35, "worsened": 0, "new": 20}
    assert sum("symptomatic" in m.get("class").split() for m in markers) == int(sites["symptomatic"].sum())


def test_the_body_map_names_fates_sides_and_the_view_in_its_legend(figures):
    words = " ".join(texts(figures["body_map"]))
    for needle in ("resolved (42)", "stable (35)", "new (20)", "improved (0)", "worsened (0)", "symptomatic",
                   "Anterior view", "R = patient's right (viewer's left)", "L = patient's left (viewer's right)",
                   "97 lesions", "Demo lesion sites"):
        assert needle in words, needle
    assert {"R", "L"} <= set(texts(figures["body_map"]))


def test_the_body_map_of_one_patient_shows_that_patients_lesions_only(evaluation):
    sites = fate_sites(evaluation, "SYN-P01")
    assert sites.height == evaluation.lesions.filter((pl.col("patient_id") == "SYN-P01") & (pl.col("to") == "month6")).height
    svg = body_map_svg(sites, title="SYN-P01")
    assert len([e for e in parse(svg).iter() if (e.get("class") or "").startswith("lesion ")]) == sites.height


def test_the_body_map_draws_no_rings_when_symptoms_are_left_out(evaluation):
    svg = body_map_svg(fate_sites(evaluation), title="t", symptomatic=False)
    assert ' symptomatic"' not in svg and "dark ring" not in svg


def test_markers_of_lesions_at_one_site_do_not_hide_each_other(figures):
    centres = [(float(m.get("cx")), float(m.get("cy")))
               for m in parse(figures["body_map"]).iter() if (m.get("class") or "").startswith("lesion ")]
    radius = cnotrack.figures.MARKER_RADIUS
    closest = min(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
                  for i, a in enumerate(centres) for b in centres[i + 1:])
    assert closest >= 2 * radius


def test_a_new_lesion_is_drawn_at_its_later_site_and_the_others_at_their_earlier_site(evaluation):
    sites = fate_sites(evaluation)
    lesions = evaluation.lesions.filter(pl.col("to") == "month6")
    assert sites.filter(pl.col("fate") == "new")["bone"].to_list() == \
        lesions.filter(pl.col("fate") == "new")["bone_later"].to_list()
    assert sites.filter(pl.col("fate") != "new")["bone"].to_list() == \
        lesions.filter(pl.col("fate") != "new")["bone_earlier"].to_list()


def test_the_flow_labels_every_fate_with_its_count(figures, evaluation):
    counts = lesion_flow_counts(evaluation)
    assert counts["resolved"] + counts["improved"] + counts["stable"] + counts["worsened"] == counts["baseline"] == 77
    words = " ".join(texts(figures["flow"]))
    for needle in ("resolved: 42 (55% of 77)", "stable: 35 (45% of 77)", "improved: 0", "worsened: 0", "new: 20",
                   "77 lesions", "baseline", "6 months", "Bone scintigraphy"):
        assert needle in words, needle


def test_the_swimmer_plot_has_a_lane_per_patient_labelled_axes_and_a_legend(figures, evaluation):
    words = texts(figures["swimmer"])
    joined = " ".join(words)
    for pid in evaluation.cohort.eligible["patient_id"]:
        assert pid in words
    for needle in ("Years from index date (start of anakinra)", "Patient (longest follow-up on top)",
                   "Biologic: anakinra", "NSAID:", "Bisphosphonate: pamidronate", "visit (assessment)",
                   "scan: bone scintigraphy", "scan: MRI", "ongoing at the last visit", "index: start of anakinra"):
        assert needle in joined, needle


def test_the_trajectories_show_units_grades_and_reference_limits(figures):
    joined = " ".join(texts(figures["trajectories"]))
    for needle in ("ESR (mm/h)", "CRP (mg/L)", "none", "minimal", "mild", "moderate", "severe",
                   "upper limit 20 mm/h", "upper limit 5 mg/L", "Years from index date", "cohort median",
                   "baseline:", "6 months:"):
        assert needle in joined, needle


def test_the_kaplan_meier_figure_has_curves_censor_ticks_and_numbers_at_risk(figures):
    words = texts(figures["km"])
    assert "Number at risk" in words and "anakinra" in words and "canakinumab" in words
    assert "Years" in words and "censored" in words
    for n in ("9", "7", "3", "5", "1"):
        assert n in words


def test_malformed_kaplan_meier_curves_are_named_in_the_error():
    with pytest.raises(FigureInputError, match=r"curves\[0\] \(a\): times and survival"):
        km_svg([{"label": "a", "times": [0, 1], "survival": [1.0]}])
    with pytest.raises(FigureInputError, match="between 0 and 1"):
        km_svg([{"label": "a", "times": [0, 1], "survival": [1.0, 1.5]}])


def test_kaplan_meier_curves_may_be_objects_with_attributes():
    @dataclasses.dataclass
    class Curve:
        label: str
        times: list
        survival: list
        censor_times: list
        at_risk: list

    svg = km_svg([Curve("group", [0, 1], [1.0, 0.5], [1.5], [(0, 4), (1, 2)])])
    assert "group" in texts(svg)


# ---- empty input -------------------------------------------------------------------------

def test_an_empty_body_map_says_no_lesions(evaluation):
    svg = body_map_svg(fate_sites(evaluation, "nobody"), title="Nobody")
    assert "no lesions" in texts(svg)
    assert not [e for e in parse(svg).iter() if (e.get("class") or "").startswith("lesion ")]
    assert "no lesions" in texts(body_map_svg(pl.DataFrame({"bone": [], "fate": []}, schema={"bone": pl.String, "fate": pl.String})))


def test_a_flow_without_lesions_says_no_lesions(evaluation):
    empty = dataclasses.replace(evaluation, lesions=evaluation.lesions.clear())
    assert any("no lesions" in t for t in texts(lesion_flow_svg(empty)))


def test_figures_of_a_cohort_without_eligible_patients_say_no_patients(evaluation, demo):
    nobody = dataclasses.replace(evaluation, cohort=Cohort(evaluation.cohort.eligible.clear(), evaluation.cohort.excluded))
    for svg in (swimmer_svg(nobody, demo), trajectories_svg(nobody, demo)):
        parse(svg)
        assert any(t.startswith("no patients") for t in texts(svg))


def test_no_curves_says_so():
    assert "no curves to draw" in texts(km_svg([]))


# ---- bad input ---------------------------------------------------------------------------

def test_an_unknown_fate_or_missing_column_is_named_in_the_error():
    with pytest.raises(FigureInputError, match="'gone' is not a lesion fate"):
        body_map_svg(pl.DataFrame({"bone": ["femur"], "side": ["left"], "fate": ["gone"]}))
    with pytest.raises(FigureInputError, match="no column fate"):
        body_map_svg(pl.DataFrame({"bone": ["femur"]}))


def test_a_pair_the_protocol_does_not_have_is_named_in_the_error(evaluation):
    with pytest.raises(FigureInputError, match="'month12'.*baseline, month6, last_followup"):
        lesion_flow_svg(evaluation, ("baseline", "month12"))
    with pytest.raises(FigureInputError, match="month12"):
        fate_sites(evaluation, pair=("baseline", "month12"))


# ---- the package's shape -----------------------------------------------------------------

def test_every_figure_module_is_short_and_declares_its_public_names():
    folder = Path(cnotrack.figures.__file__).parent
    for path in sorted(folder.glob("*.py")):
        source = path.read_text("utf-8")
        assert len(source.splitlines()) < 400, path.name
        names = [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name)]
        assert "__all__" in names, path.name


def test_the_package_exports_what_its_all_names():
    for name in cnotrack.figures.__all__:
        assert hasattr(cnotrack.figures, name), name
    for name in ("body_map_svg", "fate_sites", "site_position", "skeleton_svg", "lesion_flow_svg", "swimmer_svg",
                 "trajectories_svg", "km_svg", "FATE_COLOURS", "DRUG_CLASS_COLOURS"):
        assert name in cnotrack.figures.__all__, name


def test_the_fate_palette_gives_each_fate_its_own_colour():
    colours = [cnotrack.figures.fate_colour(f) for f in cnotrack.figures.FATE_ORDER]
    assert len(set(colours)) == len(colours)
    assert set(colours) <= set(cnotrack.figures.OKABE_ITO.values())
    with pytest.raises(ValueError, match="use one of"):
        cnotrack.figures.fate_colour("gone")
