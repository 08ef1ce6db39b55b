"""A lesion a follow-up study did not assess (``lesions.activity`` ``not_assessed``, format 1.1).

Golden case, worked by hand: one patient, three baseline lesions (femur left diaphysis, T7 body,
tibia right diaphysis); at month 6 the femur is inactive (resolved), T7 active (stable), the tibia
``not_assessed``, and a ``not_assessed`` row at a new site (radius) that is no new lesion. So the
fates are resolved, stable and not_assessed; baseline total 3; resolved 1 of 2 and stable 1 of 2
(the not assessed lesion is missing: out of the denominator, and the method says so); new 0.
The per-patient listing, the lesion flow and the course body map say "not assessed" too.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

import cnotrack
from cnotrack.engine import evaluate, lesion_fates
from cnotrack.protocols import load_protocol

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "edge_inactive_lesions_ignored"
LESIONS = """study_id,bone,side,segment,activity,grade,symptomatic,lesion_id
P1-B,femur,left,diaphysis,active,2,,
P1-B,T7,,body,,2,,
P1-B,tibia,right,diaphysis,,2,,
P1-M6,femur,left,diaphysis,inactive,,,
P1-M6,T7,,body,active,2,,
P1-M6,tibia,right,diaphysis,not assessed,,,
P1-M6,radius,right,,not_assessed,,,
"""


def _dataset(tmp_path: Path):
    for name in ("patients", "imaging", "treatments"):
        (tmp_path / f"{name}.csv").write_text((GOLDEN / f"{name}.csv").read_text("utf-8"), "utf-8")
    (tmp_path / "lesions.csv").write_text(LESIONS, "utf-8")
    return cnotrack.load_dataset(tmp_path)


def test_the_three_baseline_lesions_are_resolved_stable_and_not_assessed(tmp_path: Path) -> None:
    lesions = _dataset(tmp_path)["lesions"]
    assert lesions.filter(pl.col("bone") == "tibia")["activity"].to_list() == [None, "not_assessed"]  # the alias
    earlier = lesions.filter(pl.col("study_id") == "P1-B").drop("study_id")
    later = lesions.filter(pl.col("study_id") == "P1-M6").drop("study_id")
    out = lesion_fates(earlier, later)
    assert dict(zip(out["bone_earlier"], out["fate"])) == {"femur": "resolved", "T7": "stable",
                                                          "tibia": "not_assessed"}
    assert out.height == 3   # the not assessed radius row is no new lesion
    # the other way round, an earlier study's not_assessed row is no lesion present then: the
    # tibia, not assessed at the first study, is new at the second
    back = lesion_fates(later, earlier.filter(pl.col("bone") != "femur"))
    assert dict(zip(back["bone_later"], back["fate"])) == {"T7": "stable", "tibia": "new"}


def test_the_endpoints_count_the_not_assessed_lesion_as_missing(tmp_path: Path) -> None:
    evaluation = evaluate(_dataset(tmp_path), load_protocol("pardeo2017"))
    got = evaluation.as_json(detail=False)["endpoints"]
    assert {k: got[f"month6.lesions.{k}"] for k in ("baseline_total", "resolved", "stable", "improved", "worsened",
                                                    "new")} \
        == {"baseline_total": 3, "resolved": 1, "stable": 1, "improved": 0, "worsened": 0, "new": 0}
    assert got["month6.patients_with_new_lesions"]["n"] == 0
    resolved = evaluation.endpoints["month6.lesions.resolved"]
    assert (resolved.of_value, resolved.missing_lesions, resolved.missing) == (2, 1, 0)
    assert "1 lesion of the baseline study was not assessed at 6 months" in resolved.method
    assert "out of the denominator" in resolved.method
    assert resolved.sentence().endswith("1 of 2 (50.0%); 1 lesion not assessed, counted as missing.")
    assert "not assessed" in evaluation.endpoints["month6.lesions.baseline_total"].method
    assert evaluation.endpoints["month6.lesions.new"].value == 0
    # a not_assessed row is no lesion present at its study: month 6 shows T7 only
    assert evaluation.patients.select("lesions@baseline", "lesions@month6", "baseline>month6.not_assessed").row(0) \
        == (3, 1, 1)


def test_the_listing_and_the_lesion_flow_say_not_assessed(tmp_path: Path) -> None:
    from cnotrack.figures import lesion_flow_counts, lesion_flow_svg
    from cnotrack.report.listing import patient_listing

    evaluation = evaluate(_dataset(tmp_path), load_protocol("pardeo2017"))
    table = next(t for t in patient_listing(evaluation) if t.id == "listing-fates-baseline-month6")
    row = dict(zip(table.header, table.rows[0]))
    assert (row["Lesions at baseline"], row["Resolved"], row["Stable"], row["New"], row["Not assessed"]) \
        == ("3", "1", "1", "0", "1")
    counts = lesion_flow_counts(evaluation)
    assert (counts["baseline"], counts["not_assessed"]) == (2, 1)
    assert "1 more baseline lesion(s) not assessed at 6 months: in no fate, not drawn." in lesion_flow_svg(evaluation)


def test_the_course_body_map_leaves_the_not_assessed_lesion_off_and_names_it() -> None:
    from cnotrack.web.course.body_maps import scan_maps

    rows = [line.split(",") for line in LESIONS.strip().splitlines()[1:]]
    lesions = [{"id": i, "study_id": r[0], "bone": r[1], "side": r[2] or None, "segment": r[3] or None,
                "activity": (r[4] or None) and r[4].replace(" ", "_"), "grade": int(r[5]) if r[5] else None,
                "symptomatic": None, "lesion_id": None} for i, r in enumerate(rows)]
    studies = [{"study_id": "P1-B", "date": "2020-01-01", "modality": "bone_scintigraphy"},
               {"study_id": "P1-M6", "date": "2020-07-01", "modality": "bone_scintigraphy"}]
    first, second = scan_maps(studies, lesions)
    assert [m["bone"] for m in first["marks"]] == ["femur", "T7", "tibia"]
    assert sorted((m["fate"], m["bone"]) for m in second["marks"]) == [("persisting", "T7"), ("resolved", "femur")]
    assert second["not_assessed"] == ["right tibia diaphysis"] and second["inactive"] == 1
