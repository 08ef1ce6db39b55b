"""Every course measure on the hand-made registry of ``conftest.py``, each number worked by hand.

The registry, by hand (days are stop - start; 2020 is a leap year):

- P1, diagnosed 2020-01-01, last assessment 2020-12-01 (no PGA that day). Naproxen 01-10..03-10
  and ibuprofen 03-01..04-30 overlap: one NSAID block 01-10..04-30 = 111 days. Pamidronate
  04-01..06-30 = 90 days. Topical diclofenac 07-01..07-05 counts nowhere. Naproxen from 09-01,
  ongoing: runs to the last assessment, 09-01..12-01 = 91 days. Amoxicillin 09-10..09-20 = 10 days.
- P2, no diagnosis date, last assessment 2021-07-15 (PGA none). Ibuprofen 01-01..02-01 = 31 days;
  adalimumab from 01-15, ongoing to 07-15 = 181 days.
- P3, diagnosed 2019-06-01, last assessment 2019-12-01 (PGA minimal). Naproxen 06-01..08-01 = 61
  days and 08-20..09-20 = 31 days (a gap of 19 days).
- P4, diagnosed 2020-01-01: no course, no assessment, no study.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cnotrack.courses import (
    course_measure, course_measures, flare_dates, flare_definitions, measure_names, merged_intervals,
    second_line_times,
)
from cnotrack.errors import ProtocolError
from cnotrack.protocols.model import FlareDefinition, TreatmentSelection


def values(registry, measure: str) -> dict[str, object]:
    table = course_measures(registry, [measure])
    return dict(zip(table["patient_id"], table[f"course.{measure}"]))


def test_days_on_a_class_merge_overlapping_courses_and_run_an_ongoing_course_to_the_last_assessment(registry):
    """NSAIDs: P1 111 + 91 = 202 (overlap merged, ongoing to 2020-12-01, topical left out); P2 31;
    P3 61 + 31 = 92; P4 0. Bisphosphonate P1 90; biologic P2 181; antibiotic P1 10."""
    assert values(registry, "days_on_nsaid") == {"P1": 202, "P2": 31, "P3": 92, "P4": 0}
    assert values(registry, "days_on_bisphosphonate") == {"P1": 90, "P2": 0, "P3": 0, "P4": 0}
    assert values(registry, "days_on_biologic") == {"P1": 0, "P2": 181, "P3": 0, "P4": 0}
    assert values(registry, "days_on_antibiotic") == {"P1": 10, "P2": 0, "P3": 0, "P4": 0}
    assert values(registry, "days_on_glucocorticoid") == {"P1": 0, "P2": 0, "P3": 0, "P4": 0}


def test_nsaid_monotherapy_leaves_out_the_days_another_class_ran_but_not_antibiotics(registry):
    """P1: 202 NSAID days, of which 04-01..04-30 (29 days) with pamidronate; amoxicillin does not
    count -> 173. P2: 31 NSAID days, 01-15..02-01 (17 days) with adalimumab -> 14. P3: 92. P4: 0."""
    assert values(registry, "nsaid_monotherapy_days") == {"P1": 173, "P2": 14, "P3": 92, "P4": 0}


def test_nsaids_tried_and_classes_started_count_distinct_systemic_drugs_and_classes(registry):
    """P1: naproxen and ibuprofen (topical diclofenac aside) -> 2; classes NSAID and bisphosphonate
    (the antibiotic aside) -> 2. P2: 1 NSAID, NSAID and biologic. P3: 1, 1. P4: 0, 0."""
    assert values(registry, "nsaids_tried") == {"P1": 2, "P2": 1, "P3": 1, "P4": 0}
    assert values(registry, "classes_started") == {"P1": 2, "P2": 2, "P3": 1, "P4": 0}


def test_lines_reached_is_the_highest_step_of_the_ladder(registry):
    """Steps: first_line (NSAID) 1, second_line (DMARD, bisphosphonate, biologic, JAK) 2; first and
    second biologic mark a drug's place and have no step. P1: first and second line -> 2; P2: first,
    second line and a first biologic -> 2; P3: first line -> 1; P4: 0."""
    assert values(registry, "lines_reached") == {"P1": 2, "P2": 2, "P3": 1, "P4": 0}


def test_time_to_second_line_from_diagnosis_is_censored_at_the_last_assessment(registry):
    """P1: pamidronate 2020-04-01 is second line, 91 days after 2020-01-01 (event). P2: no diagnosis
    date -> left out (and the measure missing). P3: no second line, censored at 2019-12-01, 183 days.
    P4: neither a second line nor an assessment -> left out."""
    times = second_line_times(registry)
    assert times.to_dicts() == [{"patient_id": "P1", "days": 91, "event": True},
                                {"patient_id": "P3", "days": 183, "event": False}]
    assert values(registry, "second_line_days") == {"P1": 91, "P2": None, "P3": None, "P4": None}


def test_a_flare_is_a_restart_after_more_than_the_gap_and_an_ongoing_course_never_ends(registry):
    """nsaid_restart (gap 30, systemic only): P1's naproxen of 2020-09-01 starts 124 days after the NSAID block
    ended (04-30) -> a flare (topical diclofenac 07-01 is not systemic); P3's gap is 19 days -> none.
    With gap 10, P3's restart of 08-20 is a flare too. After P2's ongoing adalimumab nothing flares."""
    shipped = flare_definitions()["nsaid_restart"]
    assert (shipped.gap_days, shipped.citation) == (30, "cnotrack definition")
    assert flare_dates(registry, shipped).to_dicts() == [{"patient_id": "P1", "date": dt.date(2020, 9, 1)}]
    assert values(registry, "flares.nsaid_restart") == {"P1": 1, "P2": 0, "P3": 0, "P4": 0}
    short = FlareDefinition(label="NSAID after 10 days", restart=TreatmentSelection(classes=("nsaid",), systemic_only=True),
                            gap_days=10)
    assert flare_dates(registry, short)["patient_id"].to_list() == ["P1", "P3"]
    # without systemic_only the topical diclofenac of 07-01 (62 days after 04-30) is a flare, and
    # the naproxen of 09-01 comes 58 days after it ended (07-05): two flares for P1
    topical_too = FlareDefinition(label="any NSAID", restart=TreatmentSelection(classes=("nsaid",)), gap_days=30)
    assert flare_dates(registry, topical_too)["date"].to_list() == [dt.date(2020, 7, 1), dt.date(2020, 9, 1)]
    any_course = FlareDefinition(label="any course", restart=TreatmentSelection(classes=("nsaid", "biologic")),
                                 gap_days=1)
    assert "P2" not in flare_dates(registry, any_course)["patient_id"].to_list()


def test_a_protocol_flare_definition_adds_a_measure_and_overrides_a_shipped_one(registry):
    """Overriding nsaid_restart with a gap of 200 days leaves P1's 124-day gap no flare."""
    mine = {"nsaid_restart": FlareDefinition(label="long gap", restart=TreatmentSelection(classes=("nsaid",)),
                                             gap_days=200),
            "quick": FlareDefinition(label="quick", restart=TreatmentSelection(classes=("nsaid",), systemic_only=True),
                                     gap_days=10)}
    table = course_measures(registry, ["flares.nsaid_restart", "flares.quick"], flares=mine)
    assert table["course.flares.nsaid_restart"].to_list() == [0, 0, 0, 0]
    assert table["course.flares.quick"].to_list() == [1, 0, 1, 0]
    assert "flares.quick" in measure_names(mine) and "flares.quick" not in measure_names()


def test_sites_on_the_earliest_study_of_the_modality(registry):
    """Earliest bone scintigraphy (P1's earlier MRI with a skull lesion is another modality):
    P1 S1: femur L and R, tibia L, sacrum (the inactive clavicle lesion is not present) ->
    regions Lower limb and Pelvis (2), bones 4, symmetric, multifocal. P2 S3: no lesions -> 0, '',
    0, not symmetric, neither unifocal nor multifocal. P3 S4: two tibia L lesions -> 1 region,
    1 bone, not symmetric, multifocal. P4: no study -> missing."""
    assert values(registry, "regions_affected") == {"P1": 2, "P2": 0, "P3": 1, "P4": None}
    assert values(registry, "regions_list") == {"P1": "Lower limb, Pelvis", "P2": "", "P3": "Lower limb", "P4": None}
    assert values(registry, "bones_affected") == {"P1": 4, "P2": 0, "P3": 1, "P4": None}
    assert values(registry, "symmetric") == {"P1": True, "P2": False, "P3": False, "P4": None}
    assert values(registry, "unifocal") == {"P1": False, "P2": False, "P3": False, "P4": None}
    assert values(registry, "multifocal") == {"P1": True, "P2": False, "P3": True, "P4": None}
    mri = course_measures(registry, ["regions_list", "unifocal"], modality="mri")
    assert mri.row(0) == ("P1", "Head", True)


def test_status_at_the_last_follow_up(registry):
    """On treatment at the last assessment: P1 (naproxen ongoing), P2 (adalimumab ongoing); P3's
    last course stopped 2019-09-20, before 2019-12-01 -> no; P4 without an assessment -> missing.
    PGA of the last visit: P1's has none -> missing (not the mild of July); P2 none; P3 minimal."""
    assert values(registry, "on_treatment_at_last") == {"P1": True, "P2": True, "P3": False, "P4": None}
    assert values(registry, "pga_at_last") == {"P1": None, "P2": "none", "P3": "minimal", "P4": None}


def test_merged_intervals_join_touching_and_overlapping_ones():
    d = dt.date
    frame = pl.DataFrame({"patient_id": ["A", "A", "A", "A", "B"],
                          "start": [d(2020, 1, 1), d(2020, 1, 5), d(2020, 1, 20), d(2020, 1, 10), d(2020, 1, 1)],
                          "end": [d(2020, 1, 10), d(2020, 1, 8), d(2020, 1, 25), d(2020, 1, 12), d(2020, 1, 2)]})
    assert merged_intervals(frame, ["patient_id"]).rows() == [
        ("A", d(2020, 1, 1), d(2020, 1, 12)), ("A", d(2020, 1, 20), d(2020, 1, 25)), ("B", d(2020, 1, 1), d(2020, 1, 2))]


def test_an_unknown_measure_names_the_nearest_ones(registry):
    with pytest.raises(ProtocolError, match=r"'nsaid_tried' is unknown; did you mean nsaids_tried"):
        course_measure("nsaid_tried")
    with pytest.raises(ProtocolError, match="days_on_biologic"):
        course_measures(registry, ["days_on_biologics"])
    assert course_measure("symmetric").per_study and course_measure("symmetric").type == "boolean"


def test_every_measure_is_documented_in_docs_courses_md():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "courses.md").read_text("utf-8")
    for name in measure_names():
        assert f"`{name}`" in text, name
        assert course_measure(name).definition and course_measure(name).source
