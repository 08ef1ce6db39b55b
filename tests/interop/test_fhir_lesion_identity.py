"""A FHIR BodyStructure is one lesion as the exchange format matches lesions across studies.

The export chains the engine's matching (``lesion_fates``: rules 1-4 of "Matching a lesion
across two studies of one patient") over each patient's studies in date order, all patients at
once; these tests pin the cases the rules decide, the choices the export makes where the rules
say nothing (inactive rows, a lesion absent from a study in between, a study without lesions),
the stable ids, and that the import gives every row back its own ``lesion_id``. The property
test checks the vectorised chaining against a plain loop over patients and study pairs.
"""

from __future__ import annotations

import tempfile

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnotrack.engine import lesion_fates
from cnotrack.exchange import load_dataset
from cnotrack.interop.fhir import dataset_from_fhir, fhir_bundle
from cnotrack.interop.fhir.ids import resource_id

from conftest import make_dataset


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def findings(bundle: dict) -> list[dict]:
    return [r for r in resources(bundle, "Observation") if r["code"].get("text") == "Bone lesion finding"]


def structure_of(bundle: dict) -> dict[str, str]:
    """study id -> the BodyStructure id its (single, in these cases: per site) findings focus on."""
    studies = {s["id"]: s["identifier"][0]["value"] for s in resources(bundle, "ImagingStudy")}
    return {(studies[f["derivedFrom"][0]["reference"].removeprefix("urn:uuid:")],
             f["bodySite"]["text"]): f["focus"][0]["reference"].removeprefix("urn:uuid:") for f in findings(bundle)}


PATIENT = {"patient_id": "P1", "sex": "F", "birth_date": "2008-05", "diagnosis_date": "2014-01-01"}


def studies(n: int, patient: str = "P1", prefix: str = "S") -> list[dict]:
    return [{"patient_id": patient, "study_id": f"{prefix}{i + 1}", "date": f"{2015 + i}-01-01", "modality": "wb_mri"}
            for i in range(n)]


def export(tmp_path, lesions, imaging=None, patients=None):
    folder = make_dataset(tmp_path, patients=patients or [PATIENT], imaging=imaging or studies(3), lesions=lesions)
    dataset = load_dataset(folder)
    return dataset, fhir_bundle(dataset)


def femur(study, **more):
    return {"study_id": study, "bone": "femur", "side": "left", "segment": "distal_metaphysis", **more}


def test_a_lesion_id_then_none_then_another_lesion_id_is_one_body_structure_with_both(tmp_path):
    dataset, bundle = export(tmp_path, [femur("S1", lesion_id="L1"), femur("S2"), femur("S3", lesion_id="L2")])
    [structure] = resources(bundle, "BodyStructure")
    assert [i["value"] for i in structure["identifier"]] == ["L1", "L2"]
    back = dataset_from_fhir(bundle)["lesions"].sort("study_id")
    assert back["lesion_id"].to_list() == ["L1", None, "L2"]          # each row its own lesion_id


def test_a_segment_missing_in_the_middle_study_keeps_one_body_structure(tmp_path):
    tibia = {"bone": "tibia", "side": "right"}
    dataset, bundle = export(tmp_path, [{"study_id": "S1", **tibia, "segment": "distal_metaphysis"},
                                        {"study_id": "S2", **tibia},
                                        {"study_id": "S3", **tibia, "segment": "distal_metaphysis"}])
    assert len(resources(bundle, "BodyStructure")) == 1
    back = dataset_from_fhir(bundle)["lesions"].sort("study_id")
    assert back["segment"].to_list() == ["distal_metaphysis", None, "distal_metaphysis"]


def test_rule_3_does_not_join_two_lesions_at_one_bone_and_side(tmp_path):
    _, bundle = export(tmp_path, [femur("S1"), femur("S1", segment="diaphysis"), femur("S2", segment=None)],
                       imaging=studies(2))
    assert len(resources(bundle, "BodyStructure")) == 3


def test_an_inactive_row_at_the_site_of_a_lesion_is_that_lesion_seen_inactive(tmp_path):
    _, bundle = export(tmp_path, [femur("S1", activity="active"), femur("S2", activity="inactive"),
                                  femur("S3", activity="active")])
    assert len(resources(bundle, "BodyStructure")) == 1
    assert sorted(c["valueCodeableConcept"]["text"] for f in findings(bundle) for c in f["component"]
                  if c["code"]["text"] == "activity") == ["active", "active", "inactive"]


def test_a_lesion_absent_from_the_study_in_between_is_two_body_structures(tmp_path):
    """Study k is matched to study k-1 only: absent at S2 it is resolved, at S3 new (as the engine says)."""
    _, bundle = export(tmp_path, [femur("S1", lesion_id="L1"), {"study_id": "S2", "bone": "sacrum"},
                                  femur("S3", lesion_id="L1")])
    sites = structure_of(bundle)
    assert sites["S1", "femur"] != sites["S3", "femur"]
    assert len(resources(bundle, "BodyStructure")) == 3


def test_a_study_without_lesions_rows_breaks_no_lesion(tmp_path):
    _, bundle = export(tmp_path, [femur("S1"), femur("S3")])
    assert len(resources(bundle, "BodyStructure")) == 1


def test_the_same_site_in_two_patients_is_two_body_structures(tmp_path):
    other = {**PATIENT, "patient_id": "P2"}
    _, bundle = export(tmp_path, [femur("S1"), femur("S2"), femur("T1"), femur("T2")],
                       imaging=studies(2) + studies(2, "P2", "T"), patients=[PATIENT, other])
    sites = structure_of(bundle)
    assert sites["S1", "femur"] == sites["S2", "femur"] != sites["T1", "femur"] == sites["T2", "femur"]
    patients = {s["patient"]["reference"] for s in resources(bundle, "BodyStructure")}
    assert len(patients) == 2


def test_a_body_structure_is_named_by_its_lesions_first_row(tmp_path):
    dataset, bundle = export(tmp_path, [femur("S2", lesion_id="L1"), femur("S3")])
    [structure] = resources(bundle, "BodyStructure")
    assert structure["id"] == resource_id("lesions/body-structure", "S2", "femur", "left", "distal_metaphysis")
    assert fhir_bundle(dataset) == bundle


# ---------------------------------------------------------------- the chaining against a loop
SITES = [("femur", "left", "distal_metaphysis"), ("femur", "left", None), ("femur", "left", "diaphysis"),
         ("tibia", "right", None), ("tibia", "right", "distal_metaphysis"), ("sacrum", None, None)]
lesion_row = st.fixed_dictionaries({"site": st.sampled_from(range(len(SITES))),
                                    "lesion_id": st.sampled_from([None, None, "L1", "L2"]),
                                    "activity": st.sampled_from([None, "active", "inactive"])})
cohort = st.lists(st.lists(st.lists(lesion_row, max_size=4), min_size=1, max_size=4), min_size=1, max_size=3)


def loop_identities(dataset) -> dict[tuple, tuple]:
    """(study, bone, side, segment) -> the key of its lesion's first row, one patient and one pair at a time."""
    lesions = dataset["lesions"].drop("activity")
    first: dict[tuple, tuple] = {}
    for (patient,), imaging in dataset["imaging"].sort("date", "study_id").group_by("patient_id", maintain_order=True):
        order = [s for s in imaging["study_id"] if s in set(lesions["study_id"])]
        for i, sid in enumerate(order):
            rows = lesions.filter(pl.col("study_id") == sid)
            for r in rows.iter_rows(named=True):
                first[(sid, r["bone"], r["side"], r["segment"])] = (sid, r["bone"], r["side"], r["segment"])
            if i == 0:
                continue
            earlier = order[i - 1]
            fates = lesion_fates(lesions.filter(pl.col("study_id") == earlier), rows)
            for m in fates.filter(pl.col("matched_by").is_not_null()).iter_rows(named=True):
                first[(sid, m["bone_later"], m["side_later"], m["segment_later"])] = \
                    first[(earlier, m["bone_earlier"], m["side_earlier"], m["segment_earlier"])]
    return first


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cohort)
def test_the_vectorised_chaining_gives_what_a_loop_over_patients_and_study_pairs_gives(patients):
    patient_rows, imaging, lesions = [], [], []
    for p, patient_studies in enumerate(patients):
        patient_rows.append({**PATIENT, "patient_id": f"P{p}"})
        for s, rows in enumerate(patient_studies):
            sid = f"P{p}S{s}"
            imaging.append({"patient_id": f"P{p}", "study_id": sid, "date": f"{2015 + s}-01-01", "modality": "mri"})
            seen, ids = set(), set()
            for r in rows:
                if r["site"] in seen:
                    continue                      # the lesions key: one row per site and study
                seen.add(r["site"])
                lesion_id = r["lesion_id"] if r["lesion_id"] not in ids else None  # one lesion_id per study
                ids.add(lesion_id)
                bone, side, segment = SITES[r["site"]]
                lesions.append({"study_id": sid, "bone": bone, "side": side, "segment": segment,
                                "lesion_id": lesion_id, "activity": r["activity"]})
    if not lesions:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_dataset(tmp, patients=patient_rows, imaging=imaging, lesions=lesions)
        dataset = load_dataset(folder)
    expected = {key: resource_id("lesions/body-structure", *first) for key, first in loop_identities(dataset).items()}
    bundle = fhir_bundle(dataset)
    got = {}
    for f in findings(bundle):
        values = {c["code"]["text"]: c.get("valueCodeableConcept", {}).get("text") for c in f.get("component", [])}
        sid = next(s["identifier"][0]["value"] for s in resources(bundle, "ImagingStudy")
                   if s["id"] == f["derivedFrom"][0]["reference"].removeprefix("urn:uuid:"))
        got[(sid, f["bodySite"]["text"], values.get("side"), values.get("segment"))] = \
            f["focus"][0]["reference"].removeprefix("urn:uuid:")
    assert got == expected
    assert {s["id"] for s in resources(bundle, "BodyStructure")} == set(expected.values())
