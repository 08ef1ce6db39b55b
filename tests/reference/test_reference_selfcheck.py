"""Tests of the independent ``pardeo2017`` reference itself, on tiny hand-written cohorts.

Each test writes a cohort into ``tmp_path`` and states in its docstring how the expected
numbers follow from the protocol by hand. Unless said otherwise every patient is
eligible: naproxen from 2019-01-01, pamidronate from 2019-06-01, anakinra from the index
date 2020-01-01 for 300 days; ``day(n)`` is the date n days after the index date.
"""

from __future__ import annotations

import collections
import csv
import pathlib
import random
from datetime import date, timedelta

import numpy
import pytest

from . import holdout
from .holdout import make_holdout_cohort
from .pardeo2017_reference import evaluate_reference, read_table

INDEX = date(2020, 1, 1)

ENDPOINT_IDS = [
    "cohort.n",
    "cohort.female",
    "baseline.pga_mild_or_worse",
    "month6.pga_none_or_minimal",
    "baseline.esr_and_crp_elevated",
    "month6.esr_and_crp_normalized",
    "month6.esr_and_crp_decreased",
    "month6.lesions.baseline_total",
    "month6.lesions.resolved",
    "month6.lesions.stable",
    "month6.lesions.improved",
    "month6.lesions.worsened",
    "month6.lesions.new",
    "month6.lesions.patients_missing",
    "month6.patients_with_new_lesions",
    "month6.patients_with_symptomatic_new_lesions",
    "last_followup.pga_none_or_minimal",
    "last_followup.years",
]


def day(offset: int) -> str:
    return (INDEX + timedelta(days=offset)).isoformat()


def write_table(folder: pathlib.Path, name: str, rows: list[dict], bom: bool = False) -> None:
    columns: list[str] = []
    for row in rows:
        for column in row:
            if column not in columns:
                columns.append(column)
    encoding = "utf-8-sig" if bom else "utf-8"
    with (folder / f"{name}.csv").open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def standard_courses(patient_id: str, anakinra_days: int | None = 300) -> list[dict]:
    stop = "" if anakinra_days is None else day(anakinra_days)
    return [
        {"patient_id": patient_id, "drug": "naproxen", "start_date": "2019-01-01", "stop_date": "", "route": "oral"},
        {"patient_id": patient_id, "drug": "pamidronate", "start_date": "2019-06-01", "stop_date": "2019-06-03", "route": "iv"},
        {"patient_id": patient_id, "drug": "anakinra", "start_date": day(0), "stop_date": stop, "route": "sc"},
    ]


def cohort(tmp_path: pathlib.Path, patient_ids: list[str], **tables: list[dict]) -> pathlib.Path:
    """Write patients (sex F) with standard courses plus the given tables; return the folder."""
    write_table(tmp_path, "patients", [{"patient_id": pid, "sex": "F"} for pid in patient_ids])
    courses = [course for pid in patient_ids for course in standard_courses(pid)]
    write_table(tmp_path, "treatments", courses)
    for name, rows in tables.items():
        write_table(tmp_path, name, rows)
    return tmp_path


def lab(pid: str, offset: int, test: str, value: str, unit: str | None = None, ref_high: str = "") -> dict:
    unit = unit or {"ESR": "mm/h", "CRP": "mg/L"}[test]
    return {"patient_id": pid, "date": day(offset), "test": test, "value": value, "unit": unit, "ref_high": ref_high}


def visit(pid: str, offset: int, pga: str) -> dict:
    return {"patient_id": pid, "date": day(offset), "pga": pga}


def study(pid: str, study_id: str, offset: int, modality: str = "bone_scintigraphy") -> dict:
    return {"patient_id": pid, "study_id": study_id, "date": day(offset), "modality": modality}


def lesion(study_id: str, bone: str, side: str = "", segment: str = "", **extra: str) -> dict:
    row = {"study_id": study_id, "bone": bone, "side": side, "segment": segment,
           "activity": "", "grade": "", "symptomatic": "", "lesion_id": ""}
    row.update(extra)
    return row


def proportion(n: int, of: int, missing: int) -> dict:
    return {"n": n, "of": of, "missing": missing}


def lesion_counts(result: dict) -> dict:
    endpoints = result["endpoints"]
    return {key: endpoints[f"month6.lesions.{key}"]
            for key in ("baseline_total", "resolved", "stable", "improved", "worsened", "new", "patients_missing")}


# --- cohort ---------------------------------------------------------------------------


def test_eligibility_excludes_each_patient_for_its_own_reason(tmp_path):
    """Index 2020-01-01 for every patient that has anakinra.

    P01 F, anakinra stopped on day 182 exactly            -> eligible
    P02 F, anakinra stopped on day 181                    -> excluded (short)
    P03 F, NSAID, pamidronate, adalimumab, no anakinra    -> excluded (no anakinra)
    P04 F, NSAID started on the index date (not before)   -> excluded (no prior NSAID)
    P05 F, NSAID + topical prednisone only                -> excluded (no systemic second line)
    P06 female, NSAID + prednisone with an empty route, anakinra ongoing, an assessment with
        an empty PGA on day 182                           -> eligible (empty route is systemic)
    P07 F, ongoing anakinra, last assessment on day 181   -> excluded (short)
    P08 M, "Kineret" stopped day 300, methylprednisolone iv before -> eligible
    P09 F, a first anakinra course days 0-100, a second from day 200, ongoing, visits to day 600
                                                          -> excluded (the index course is short)
    P10 F, pamidronate started on the index date          -> excluded (no prior second line)
    So n = 3 (P01, P06, P08), female = 2 (P01, P06), excluded = the other seven, sorted.
    """
    patients = [{"patient_id": f"P{i:02d}", "sex": "F"} for i in range(1, 11)]
    patients[5]["sex"] = "female"
    patients[7]["sex"] = "M"
    nsaid = lambda pid, start="2019-01-01": {"patient_id": pid, "drug": "naproxen", "start_date": start}
    pam = lambda pid, start="2019-06-01": {"patient_id": pid, "drug": "pamidronate", "start_date": start, "route": "iv"}
    ana = lambda pid, start=0, stop=None, drug="anakinra": {
        "patient_id": pid, "drug": drug, "start_date": day(start), "stop_date": "" if stop is None else day(stop)}
    treatments = [
        nsaid("P01"), pam("P01"), ana("P01", stop=182),
        nsaid("P02"), pam("P02"), ana("P02", stop=181),
        nsaid("P03"), pam("P03"), {"patient_id": "P03", "drug": "adalimumab", "start_date": day(0)},
        nsaid("P04", day(0)), pam("P04"), ana("P04", stop=300),
        nsaid("P05"), {"patient_id": "P05", "drug": "prednisone", "start_date": "2019-05-01", "route": "topical"},
        ana("P05", stop=300),
        nsaid("P06"), {"patient_id": "P06", "drug": "prednisone", "start_date": "2019-05-01", "route": ""},
        ana("P06"),
        nsaid("P07"), pam("P07"), ana("P07"),
        nsaid("P08"), {"patient_id": "P08", "drug": "methylprednisolone", "start_date": "2019-05-01", "route": "iv"},
        ana("P08", stop=300, drug="Kineret"),
        nsaid("P09"), pam("P09"), ana("P09", stop=100), ana("P09", start=200),
        nsaid("P10"), pam("P10", day(0)), ana("P10", stop=300),
    ]
    assessments = [visit("P06", 182, ""), visit("P07", 181, "mild"), visit("P07", 30, "mild"),
                   visit("P09", 600, "none")]
    write_table(tmp_path, "patients", patients)
    write_table(tmp_path, "treatments", treatments)
    write_table(tmp_path, "assessments", assessments)

    result = evaluate_reference(tmp_path)

    assert result["protocol"] == "pardeo2017"
    assert result["cohort"]["n"] == 3
    assert result["cohort"]["female"] == 2
    assert [item["patient_id"] for item in result["cohort"]["excluded"]] == [
        "P02", "P03", "P04", "P05", "P07", "P09", "P10"]
    assert all(item["reason"] for item in result["cohort"]["excluded"])
    assert result["endpoints"]["cohort.n"] == 3
    assert result["endpoints"]["cohort.female"] == 2


def test_every_endpoint_is_present_even_for_a_cohort_with_only_a_patients_table(tmp_path):
    """Only patients.csv: nobody has anakinra, so n = 0 and every proportion is 0 of 0."""
    write_table(tmp_path, "patients", [{"patient_id": "A", "sex": "M"}, {"patient_id": "B", "sex": "U"}])

    result = evaluate_reference(tmp_path)

    assert set(ENDPOINT_IDS) <= set(result["endpoints"])
    assert [item["patient_id"] for item in result["cohort"]["excluded"]] == ["A", "B"]
    assert result["endpoints"]["baseline.pga_mild_or_worse"] == proportion(0, 0, 0)
    assert result["endpoints"]["month6.lesions.new"] == 0
    assert result["endpoints"]["last_followup.years"]["n"] == 0


def test_column_names_and_vocabulary_are_matched_case_insensitively_after_trimming(tmp_path):
    """Headers ' Patient_ID ', 'SEX', 'DRUG'... with a BOM; sex 'Female', drugs 'Naproxen',
    'ZOLEDRONIC ACID', 'KINERET', route ' IV '; PGA ' Moderate ' on day 0 -> one eligible
    female patient whose baseline PGA is mild or worse (1 of 1)."""
    write_table(tmp_path, "patients", [{" Patient_ID ": "X1", "SEX": "Female"}], bom=True)
    write_table(tmp_path, "treatments", [
        {"PATIENT_ID": "X1", "Drug": "Naproxen", "Start_Date": "2019-01-01", "STOP_DATE": "", "Route": ""},
        {"PATIENT_ID": "X1", "Drug": "ZOLEDRONIC ACID", "Start_Date": "2019-02-01", "STOP_DATE": "", "Route": " IV "},
        {"PATIENT_ID": "X1", "Drug": "KINERET", "Start_Date": day(0), "STOP_DATE": day(200), "Route": "sc"},
    ])
    write_table(tmp_path, "assessments", [{"patient_id": "X1", "DATE": day(0), " PGA": " Moderate "}])

    result = evaluate_reference(tmp_path)

    assert result["cohort"]["n"] == 1
    assert result["cohort"]["female"] == 1
    assert result["endpoints"]["baseline.pga_mild_or_worse"] == proportion(1, 1, 0)


# --- timepoints -----------------------------------------------------------------------


def test_a_tie_in_the_window_goes_to_the_earlier_date(tmp_path):
    """One patient, T.

    PGA: day -7 mild, day +7 none -> baseline mild (earlier) -> mild or worse 1/1.
         day 170 minimal, day 194 severe (both 12 from 182) -> month6 minimal -> 1/1.
    ESR: day -10 30, day 10 10 -> baseline 30 (elevated); day 172 5, day 192 50 -> month6 5.
    CRP: day -3 12, day 3 2 mg/L -> baseline 12 (elevated); day 162 1, day 202 40 -> month6 1.
    So elevated 1/1, normalized 1/1, decreased 1/1 (5 < 30, 1 < 12).
    Studies: day -14 (femur left diaphysis, tibia right diaphysis) and day 14 (none): the
    day -14 study is baseline; month6 study day 182 has femur left diaphysis ->
    2 baseline lesions, 1 resolved, 1 stable, 0 new.
    Last follow-up: latest visit day 194, severe -> 0/1; years 194 / 365.25.
    """
    folder = cohort(
        tmp_path, ["T"],
        assessments=[visit("T", -7, "mild"), visit("T", 7, "none"), visit("T", 170, "minimal"),
                     visit("T", 194, "severe")],
        labs=[lab("T", -10, "ESR", "30"), lab("T", 10, "ESR", "10"), lab("T", 172, "ESR", "5"),
              lab("T", 192, "ESR", "50"), lab("T", -3, "CRP", "12"), lab("T", 3, "CRP", "2"),
              lab("T", 162, "CRP", "1"), lab("T", 202, "CRP", "40")],
        imaging=[study("T", "S-late", 14), study("T", "S-early", -14), study("T", "S-m6", 182)],
        lesions=[lesion("S-early", "femur", "left", "diaphysis"), lesion("S-early", "tibia", "right", "diaphysis"),
                 lesion("S-m6", "femur", "left", "diaphysis")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.pga_mild_or_worse"] == proportion(1, 1, 0)
    assert endpoints["month6.pga_none_or_minimal"] == proportion(1, 1, 0)
    assert endpoints["baseline.esr_and_crp_elevated"] == proportion(1, 1, 0)
    assert endpoints["month6.esr_and_crp_normalized"] == proportion(1, 1, 0)
    assert endpoints["month6.esr_and_crp_decreased"] == proportion(1, 1, 0)
    assert lesion_counts({"endpoints": endpoints}) == {
        "baseline_total": 2, "resolved": 1, "stable": 1, "improved": 0, "worsened": 0, "new": 0,
        "patients_missing": 0}
    assert endpoints["last_followup.pga_none_or_minimal"] == proportion(0, 1, 0)
    assert endpoints["last_followup.years"]["max"] == 194 / 365.25


def test_window_edges_are_inclusive_and_one_day_beyond_is_outside(tmp_path):
    """E1: day -91 none (out), day -90 moderate (in) -> baseline moderate: mild or worse.
           day 119 none (out), day 120 mild (in) -> month6 mild: not none/minimal.
    E2: day 14 severe (in), day 15 none (out) -> baseline severe: mild or worse.
        day 240 minimal (in), day 241 severe (out) -> month6 minimal: none/minimal.
    E3: only days -91, 15, 119, 241 -> baseline and month6 missing.
    baseline.pga_mild_or_worse = 2 of 3, 1 missing; month6.pga_none_or_minimal = 1 of 3, 1 missing.
    Studies follow the same edges: E1 baseline study day -90 (one lesion), month6 day 241 (out)
    -> missing; E2 baseline day 14, month6 day 120 (one new lesion); E3 studies on -91 and 119
    -> missing. So patients_missing 2; E2: 0 baseline lesions, 1 new.
    """
    folder = cohort(
        tmp_path, ["E1", "E2", "E3"],
        assessments=[
            visit("E1", -91, "none"), visit("E1", -90, "moderate"), visit("E1", 119, "none"), visit("E1", 120, "mild"),
            visit("E2", 14, "severe"), visit("E2", 15, "none"), visit("E2", 240, "minimal"), visit("E2", 241, "severe"),
            visit("E3", -91, "severe"), visit("E3", 15, "severe"), visit("E3", 119, "none"), visit("E3", 241, "none"),
        ],
        imaging=[study("E1", "E1a", -90), study("E1", "E1b", 241), study("E2", "E2a", 14),
                 study("E2", "E2b", 120), study("E3", "E3a", -91), study("E3", "E3b", 119)],
        lesions=[lesion("E1a", "sacrum"), lesion("E2b", "T5", "", "body"), lesion("E3a", "L2")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.pga_mild_or_worse"] == proportion(2, 3, 1)
    assert endpoints["month6.pga_none_or_minimal"] == proportion(1, 3, 1)
    assert endpoints["month6.lesions.patients_missing"] == 2
    assert endpoints["month6.lesions.baseline_total"] == 0
    assert endpoints["month6.lesions.new"] == 1
    assert endpoints["month6.patients_with_new_lesions"] == proportion(1, 3, 2)


def test_empty_pga_rows_are_ignored_but_still_set_the_last_follow_up_date(tmp_path):
    """A: day 0 empty, day -30 Mild -> baseline mild (1). Day 182 empty, day 200 NONE ->
          month6 none (1). Latest visit day 400 (empty PGA): no PGA on the latest assessment
          date -> last follow-up PGA missing (issue 10 settled choice; v1 took day 350
          moderate, the closest).
    B: only empty PGAs on day 0 and day 500 -> baseline, month6 and last PGA missing.
    last_followup.pga_none_or_minimal = 0 of 2, 2 missing;
    years = 400/365.25 and 500/365.25: median 450/365.25.
    """
    folder = cohort(
        tmp_path, ["A", "B"],
        assessments=[visit("A", 0, ""), visit("A", -30, "Mild"), visit("A", 182, ""), visit("A", 200, "NONE"),
                     visit("A", 300, "none"), visit("A", 350, "moderate"), visit("A", 400, ""),
                     visit("B", 0, ""), visit("B", 500, "")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.pga_mild_or_worse"] == proportion(1, 2, 1)
    assert endpoints["month6.pga_none_or_minimal"] == proportion(1, 2, 1)
    assert endpoints["last_followup.pga_none_or_minimal"] == proportion(0, 2, 2)
    years = endpoints["last_followup.years"]
    assert years["n"] == 2
    assert years["min"] == 400 / 365.25
    assert years["max"] == 500 / 365.25
    assert years["median"] == pytest.approx(450 / 365.25)


def test_last_followup_years_quartiles_are_numpy_linear_percentiles(tmp_path):
    """Latest visits on days 300, 400, 500, 1000 (Q has no visit, so it is not counted).
    Sorted years y = d/365.25: q1 at position 0.75 -> 375/365.25, median 450/365.25,
    q3 at position 2.25 -> 625/365.25; the same as numpy.percentile."""
    offsets = {"Q1": 300, "Q2": 1000, "Q3": 500, "Q4": 400}
    folder = cohort(tmp_path, list(offsets) + ["Q"],
                    assessments=[visit(pid, offset, "none") for pid, offset in offsets.items()])

    years = evaluate_reference(folder)["endpoints"]["last_followup.years"]

    values = [offset / 365.25 for offset in offsets.values()]
    assert years["n"] == 4
    assert years["q1"] == pytest.approx(375 / 365.25)
    assert years["median"] == pytest.approx(450 / 365.25)
    assert years["q3"] == pytest.approx(625 / 365.25)
    assert years["q1"] == numpy.percentile(values, 25)
    assert years["median"] == numpy.median(values)
    assert years["q3"] == numpy.percentile(values, 75)
    assert (years["min"], years["max"]) == (300 / 365.25, 1000 / 365.25)


# --- labs -----------------------------------------------------------------------------


def test_a_patient_lacking_any_needed_value_is_missing_even_if_the_other_is_normal(tmp_path):
    """M1: baseline ESR 10 (normal), no CRP at all; month6 ESR 5, CRP 1 -> missing for
    elevated, normalized and decreased. M2: baseline ESR 40, CRP 30; month6 ESR 5, CRP 1 ->
    elevated, normalized, decreased. Each proportion: 1 of 2, 1 missing."""
    folder = cohort(
        tmp_path, ["M1", "M2"],
        labs=[lab("M1", 0, "ESR", "10"), lab("M1", 182, "ESR", "5"), lab("M1", 182, "CRP", "1"),
              lab("M2", 0, "ESR", "40"), lab("M2", 0, "CRP", "30"), lab("M2", 182, "ESR", "5"),
              lab("M2", 182, "CRP", "1")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.esr_and_crp_elevated"] == proportion(1, 2, 1)
    assert endpoints["month6.esr_and_crp_normalized"] == proportion(1, 2, 1)
    assert endpoints["month6.esr_and_crp_decreased"] == proportion(1, 2, 1)


def test_censored_values_are_compared_as_their_bound(tmp_path):
    """C1: baseline ESR 50, CRP <0.5 mg/dL (= 5 mg/L, at the limit: normal) -> not both
           elevated. Month6 ESR 10, CRP <0.5 mg/dL -> normalized (ESR was elevated);
           decreased no (5 is not below 5).
    C2: baseline ESR 30, CRP <6 mg/L (6 > 5: elevated) -> both elevated. Month6 ESR 20
        (= default limit: normal), CRP <5 -> normalized; decreased (20 < 30, 5 < 6).
    C3: baseline ESR >100 with ref_high 100 (elevated: 100 >= 100), CRP 3 -> not both.
        Month6 ESR 15, CRP 2 -> normalized, decreased (15 < 100, 2 < 3).
    elevated 1/3, normalized 3/3, decreased 2/3, none missing.
    """
    folder = cohort(
        tmp_path, ["C1", "C2", "C3"],
        labs=[lab("C1", 0, "ESR", "50"), lab("C1", 0, "CRP", "<0.5", "mg/dL"),
              lab("C1", 182, "ESR", "10"), lab("C1", 182, "CRP", "<0.5", "mg/dL"),
              lab("C2", 0, "ESR", "30"), lab("C2", 0, "CRP", "<6"),
              lab("C2", 182, "ESR", "20"), lab("C2", 182, "CRP", "<5"),
              lab("C3", 0, "ESR", ">100", ref_high="100"), lab("C3", 0, "CRP", "3"),
              lab("C3", 182, "ESR", "15"), lab("C3", 182, "CRP", "2")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.esr_and_crp_elevated"] == proportion(1, 3, 0)
    assert endpoints["month6.esr_and_crp_normalized"] == proportion(3, 3, 0)
    assert endpoints["month6.esr_and_crp_decreased"] == proportion(2, 3, 0)


def test_crp_in_mg_per_dl_is_compared_in_mg_per_l(tmp_path):
    """U1: baseline CRP 0.5 mg/dL = 5 mg/L (normal), ESR 40 -> not both elevated. Month6 CRP
           5 mg/L, ESR 10 -> normalized; not decreased (5 is not below 5).
    U2: baseline CRP 0.51 mg/dL = 5.1 (elevated), ESR 25 -> both elevated. Month6 CRP
        5.09 mg/L (elevated), ESR 20 -> not normalized; decreased (5.09 < 5.1, 20 < 25).
    U3: baseline CRP 5.7 mg/L, ESR 22 -> both elevated. Month6 CRP 0.57 mg/dL = exactly
        5.7 mg/L, ESR 5 -> not normalized, not decreased (5.7 is not below 5.7; binary
        floats would say 0.57 * 10 = 5.699999999999999 < 5.7).
    U4: baseline CRP 0.4 mg/dL with ref_high 0.3 mg/dL (4 > 3 mg/L), ESR 21 -> both elevated.
        Month6 CRP 0.35 mg/dL ref_high 0.3 (elevated), ESR 19 -> not normalized; decreased.
    elevated 3/4, normalized 1/4, decreased 2/4.
    """
    folder = cohort(
        tmp_path, ["U1", "U2", "U3", "U4"],
        labs=[lab("U1", 0, "CRP", "0.5", "mg/dL"), lab("U1", 0, "ESR", "40"),
              lab("U1", 182, "CRP", "5", "mg/L"), lab("U1", 182, "ESR", "10"),
              lab("U2", 0, "CRP", "0.51", "mg/dl"), lab("U2", 0, "ESR", "25"),
              lab("U2", 182, "CRP", "5.09", "mg/L"), lab("U2", 182, "ESR", "20"),
              lab("U3", 0, "CRP", "5.7", "mg/l"), lab("U3", 0, "ESR", "22"),
              lab("U3", 182, "CRP", "0.57", "MG/DL"), lab("U3", 182, "ESR", "5"),
              lab("U4", 0, "CRP", "0.4", "mg/dL", ref_high="0.3"), lab("U4", 0, "ESR", "21"),
              lab("U4", 182, "CRP", "0.35", "mg/dL", ref_high="0.3"), lab("U4", 182, "ESR", "19")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.esr_and_crp_elevated"] == proportion(3, 4, 0)
    assert endpoints["month6.esr_and_crp_normalized"] == proportion(1, 4, 0)
    assert endpoints["month6.esr_and_crp_decreased"] == proportion(2, 4, 0)


def test_a_rows_own_ref_high_replaces_the_default_limit(tmp_path):
    """R1: ESR 22 with ref_high 25 (normal), CRP 10 -> not both elevated.
    R2: ESR 18 with ref_high 15 (elevated), CRP 6 with ref_high 10 (normal) -> not both.
    R3: ESR 20 and CRP 5.0, no ref_high (exactly the defaults: normal) -> not both.
    R4: ESR 21, CRP 5.01 (just above the defaults) -> both elevated.
    elevated 1/4; no month6 values, so normalized and decreased are 0/4 with 4 missing.
    """
    folder = cohort(
        tmp_path, ["R1", "R2", "R3", "R4"],
        labs=[lab("R1", 0, "ESR", "22", ref_high="25"), lab("R1", 0, "CRP", "10"),
              lab("R2", 0, "ESR", "18", ref_high="15"), lab("R2", 0, "CRP", "6", ref_high="10"),
              lab("R3", 0, "ESR", "20"), lab("R3", 0, "CRP", "5.0"),
              lab("R4", 0, "ESR", "21"), lab("R4", 0, "CRP", "5.01")],
    )

    endpoints = evaluate_reference(folder)["endpoints"]

    assert endpoints["baseline.esr_and_crp_elevated"] == proportion(1, 4, 0)
    assert endpoints["month6.esr_and_crp_normalized"] == proportion(0, 4, 4)


# --- lesions --------------------------------------------------------------------------


def test_rule_1_a_shared_lesion_id_matches_across_sites_and_inactive_lesions_take_no_part(tmp_path):
    """Baseline (day 0): femur left diaphysis id A grade 3; tibia right distal_metaphysis id B
    grade 2; sacrum grade 1 inactive.
    Month6 (day 182): femur RIGHT proximal_metaphysis id A grade 2 -> rule 1: improved;
    tibia right distal_metaphysis id B inactive -> B resolved; sacrum active, symptomatic
    -> new (the baseline sacrum was inactive).
    A wb_mri on day 0 with a calcaneus lesion is ignored.
    Totals: 2 baseline, 1 improved, 1 resolved, 1 new; new lesions 1/1; symptomatic 1/1.
    """
    folder = cohort(
        tmp_path, ["L"],
        imaging=[study("L", "b", 0), study("L", "m", 182), study("L", "mri", 0, "wb_mri")],
        lesions=[lesion("b", "femur", "left", "diaphysis", lesion_id="A", grade="3"),
                 lesion("b", "tibia", "right", "distal_metaphysis", lesion_id="B", grade="2"),
                 lesion("b", "sacrum", grade="1", activity="inactive"),
                 lesion("m", "femur", "right", "proximal_metaphysis", lesion_id="A", grade="2"),
                 lesion("m", "tibia", "right", "distal_metaphysis", lesion_id="B", activity="Inactive"),
                 lesion("m", "sacrum", grade="1", symptomatic="yes"),
                 lesion("mri", "calcaneus", "left")],
    )

    result = evaluate_reference(folder)

    assert lesion_counts(result) == {"baseline_total": 2, "resolved": 1, "stable": 0, "improved": 1,
                                     "worsened": 0, "new": 1, "patients_missing": 0}
    assert result["endpoints"]["month6.patients_with_new_lesions"] == proportion(1, 1, 0)
    assert result["endpoints"]["month6.patients_with_symptomatic_new_lesions"] == proportion(1, 1, 0)


def test_rule_2_same_site_matches_unless_both_carry_different_lesion_ids(tmp_path):
    """Baseline: femur left diaphysis grade 1; tibia right proximal_metaphysis id X grade 2;
    sacrum (no side, no segment) grade 2; L2 body grade 3.
    Month6: Femur LEFT Diaphysis grade 2 -> worsened; tibia right proximal_metaphysis id Y
    -> never the same as X (X resolved, Y new; rule 3 needs a segment-less lesion);
    sacrum no grade -> stable (an empty side equals an empty side); L2 body grade 3 -> stable.
    Totals: 4 baseline, 1 worsened, 1 resolved, 2 stable, 1 new. Y has symptomatic empty, which
    counts as not symptomatic (issue 10 settled choice): 0 of 1, 0 missing.
    """
    folder = cohort(
        tmp_path, ["R"],
        imaging=[study("R", "b", -5), study("R", "m", 180)],
        lesions=[lesion("b", "femur", "left", "diaphysis", grade="1"),
                 lesion("b", "tibia", "right", "proximal_metaphysis", lesion_id="X", grade="2"),
                 lesion("b", "sacrum", grade="2"),
                 lesion("b", "L2", "", "body", grade="3"),
                 lesion("m", "Femur", "LEFT", "Diaphysis", grade="2"),
                 lesion("m", "tibia", "right", "proximal_metaphysis", lesion_id="Y", grade="2"),
                 lesion("m", "sacrum", symptomatic="no"),
                 lesion("m", "L2", "", "body", grade="3")],
    )

    result = evaluate_reference(folder)

    assert lesion_counts(result) == {"baseline_total": 4, "resolved": 1, "stable": 2, "improved": 0,
                                     "worsened": 1, "new": 1, "patients_missing": 0}
    assert result["endpoints"]["month6.patients_with_symptomatic_new_lesions"] == proportion(0, 1, 0)


def test_rule_3_pairs_a_segmentless_lesion_only_when_it_is_the_single_candidate(tmp_path):
    """A: baseline femur left diaphysis grade 2 -> month6 femur left (no segment) grade 1:
          rule 3, improved. Baseline clavicle right (no segment) -> month6 clavicle right
          medial: rule 3, stable.
    B: baseline tibia right diaphysis and tibia right distal_metaphysis -> month6 tibia right
       (no segment): two candidates, no match: 2 resolved, 1 new.
    C: baseline fibula left diaphysis id P -> month6 fibula left (no segment) id Q: different
       ids, no match: 1 resolved, 1 new.
    D: baseline femur right diaphysis and femur right distal_metaphysis -> month6 femur right
       diaphysis (rule 2) and femur right (no segment): after rule 2 one candidate each,
       rule 3 matches: 2 stable.
    Totals: 7 baseline, 1 improved, 3 stable, 3 resolved, 0 worsened, 2 new; new lesions in
    B and C: 2 of 4.
    """
    folder = cohort(
        tmp_path, ["A", "B", "C", "D"],
        imaging=[study(pid, f"{pid}-{when}", offset) for pid in "ABCD" for when, offset in (("b", 0), ("m", 182))],
        lesions=[lesion("A-b", "femur", "left", "diaphysis", grade="2"), lesion("A-b", "clavicle", "right"),
                 lesion("A-m", "femur", "left", grade="1"), lesion("A-m", "clavicle", "right", "medial"),
                 lesion("B-b", "tibia", "right", "diaphysis"), lesion("B-b", "tibia", "right", "distal_metaphysis"),
                 lesion("B-m", "tibia", "right"),
                 lesion("C-b", "fibula", "left", "diaphysis", lesion_id="P"),
                 lesion("C-m", "fibula", "left", lesion_id="Q"),
                 lesion("D-b", "femur", "right", "diaphysis"), lesion("D-b", "femur", "right", "distal_metaphysis"),
                 lesion("D-m", "femur", "right", "diaphysis"), lesion("D-m", "femur", "right")],
    )

    result = evaluate_reference(folder)

    assert lesion_counts(result) == {"baseline_total": 7, "resolved": 3, "stable": 3, "improved": 1,
                                     "worsened": 0, "new": 2, "patients_missing": 0}
    assert result["endpoints"]["month6.patients_with_new_lesions"] == proportion(2, 4, 0)


def test_lesion_counts_skip_patients_without_both_scintigraphies(tmp_path):
    """S1: baseline scintigraphy with femur left diaphysis, month6 scintigraphy with no lesion
           -> 1 resolved; wb_mri studies on day 0 and day 182 with lesions are ignored.
    S2: month6 scintigraphy only on day 241 (outside) -> missing.
    S3: no imaging -> missing.
    S4: empty baseline study; month6 two new lesions, symptomatic no and empty -> not
        symptomatic (an empty value counts as not symptomatic).
    S5: empty baseline study; month6 one new lesion, symptomatic Yes.
    Totals: 1 baseline, 1 resolved, 3 new, 2 patients missing; new lesions 2 of 5, 2 missing;
    symptomatic 1 of 2, 0 missing.
    """
    folder = cohort(
        tmp_path, ["S1", "S2", "S3", "S4", "S5"],
        imaging=[study("S1", "S1b", 0), study("S1", "S1m", 182), study("S1", "S1x", 0, "wb_mri"),
                 study("S1", "S1y", 182, "WB_MRI"),
                 study("S2", "S2b", 0), study("S2", "S2m", 241),
                 study("S4", "S4b", 0), study("S4", "S4m", 182),
                 study("S5", "S5b", 0), study("S5", "S5m", 182)],
        lesions=[lesion("S1b", "femur", "left", "diaphysis"),
                 lesion("S1x", "tibia", "left", "diaphysis"), lesion("S1y", "ilium", "left"),
                 lesion("S2b", "sacrum"),
                 lesion("S4m", "ilium", "left", symptomatic="no"), lesion("S4m", "calcaneus", "right"),
                 lesion("S5m", "T5", "", "posterior_elements", symptomatic="Yes")],
    )

    result = evaluate_reference(folder)

    assert lesion_counts(result) == {"baseline_total": 1, "resolved": 1, "stable": 0, "improved": 0,
                                     "worsened": 0, "new": 3, "patients_missing": 2}
    assert result["endpoints"]["month6.patients_with_new_lesions"] == proportion(2, 5, 2)
    assert result["endpoints"]["month6.patients_with_symptomatic_new_lesions"] == proportion(1, 2, 0)


# --- the hold-out generator -----------------------------------------------------------


def test_holdout_cohorts_are_deterministic_for_a_seed(tmp_path):
    make_holdout_cohort(7, 25, tmp_path / "one")
    make_holdout_cohort(7, 25, tmp_path / "two")
    make_holdout_cohort(8, 25, tmp_path / "three")

    for name in holdout.COLUMNS:
        assert (tmp_path / "one" / f"{name}.csv").read_bytes() == (tmp_path / "two" / f"{name}.csv").read_bytes()
    assert (tmp_path / "one" / "labs.csv").read_bytes() != (tmp_path / "three" / "labs.csv").read_bytes()


@pytest.mark.parametrize("seed", range(8))
def test_holdout_cohorts_keep_the_keys_of_a_valid_dataset(tmp_path, seed):
    make_holdout_cohort(seed, 30, tmp_path)
    tables = {name: read_table(tmp_path, name) for name in holdout.COLUMNS}

    def once(keys):
        counts = collections.Counter(keys)
        assert not counts or max(counts.values()) == 1, counts.most_common(1)

    for name, rows in tables.items():
        assert rows and set(holdout.COLUMNS[name]) == set(rows[0]), name
    patient_ids = {row["patient_id"] for row in tables["patients"]}
    once(row["patient_id"] for row in tables["patients"])
    once(row["study_id"] for row in tables["imaging"])
    once((row["patient_id"], row["date"]) for row in tables["assessments"])
    once((row["patient_id"], row["date"], row["test"].lower()) for row in tables["labs"])
    drug = lambda row: {"kineret": "anakinra"}.get(row["drug"].lower(), row["drug"].lower())
    once((row["patient_id"], drug(row), row["start_date"]) for row in tables["treatments"])
    once((row["study_id"], row["bone"].lower(), row["side"].lower(), row["segment"].lower())
         for row in tables["lesions"])
    once((row["study_id"], row["lesion_id"]) for row in tables["lesions"] if row["lesion_id"])
    study_ids = {row["study_id"] for row in tables["imaging"]}
    assert all(row["study_id"] in study_ids for row in tables["lesions"])
    for name in ("treatments", "assessments", "labs", "imaging"):
        assert all(row["patient_id"] in patient_ids for row in tables[name])
    for row in tables["treatments"]:
        assert not row["stop_date"] or date.fromisoformat(row["stop_date"]) >= date.fromisoformat(row["start_date"])


@pytest.mark.parametrize("seed", range(8))
def test_the_reference_agrees_with_the_eligibility_the_generator_intended(tmp_path, seed):
    """``_kinds`` is the generator's first use of its random stream, so replaying it gives
    each patient's intended kind; the reference must exclude exactly the excluded kinds."""
    make_holdout_cohort(seed, 30, tmp_path)
    kinds = holdout._kinds(random.Random(seed), 30)

    result = evaluate_reference(tmp_path)

    excluded = {item["patient_id"] for item in result["cohort"]["excluded"]}
    intended = {f"{number:03d}" for number, kind in enumerate(kinds, start=1) if kind in holdout.EXCLUDED_KINDS}
    assert {patient_id[1:] for patient_id in excluded} == intended
    endpoints = result["endpoints"]
    fates = sum(endpoints[f"month6.lesions.{fate}"] for fate in ("resolved", "stable", "improved", "worsened"))
    assert fates == endpoints["month6.lesions.baseline_total"]
