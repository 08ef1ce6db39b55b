"""A lesion a follow-up study did not assess (``lesions.activity`` ``not_assessed``, format 1.1)
in the FHIR and OMOP exports: FHIR says why the finding is absent (dataAbsentReason
``not-performed``, R4) and reads ``not_assessed`` back; OMOP writes no lesion observation for it
(that would say the lesion was seen) and lists it as not exported."""

from __future__ import annotations

import polars as pl
from conftest import make_dataset

from cnotrack.exchange import load_dataset
from cnotrack.interop.fhir import dataset_from_fhir, fhir_bundle
from cnotrack.interop.omop import omop_tables

from .fhir_validation import all_errors

PATIENT = [{"patient_id": "P1", "sex": "F", "birth_date": "2008-05", "diagnosis_date": "2014-01-01"}]
STUDIES = [{"patient_id": "P1", "study_id": "S1", "date": "2015-01-01", "modality": "bone_scintigraphy"},
           {"patient_id": "P1", "study_id": "S2", "date": "2016-01-01", "modality": "bone_scintigraphy"}]
LESIONS = [{"study_id": "S1", "bone": "femur", "side": "left", "segment": "diaphysis", "activity": "active"},
           {"study_id": "S1", "bone": "T7", "segment": "body", "activity": "active"},
           {"study_id": "S2", "bone": "femur", "side": "left", "segment": "diaphysis", "activity": "not_assessed"},
           {"study_id": "S2", "bone": "T7", "segment": "body", "activity": "active", "grade": 2}]
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def _dataset(tmp_path):
    return load_dataset(make_dataset(tmp_path, patients=PATIENT, imaging=STUDIES, lesions=LESIONS))


def test_fhir_says_not_performed_and_reads_not_assessed_back(tmp_path):
    dataset = _dataset(tmp_path)
    bundle = fhir_bundle(dataset)
    findings = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                and "focus" in e["resource"]]
    absent = [f for f in findings if "dataAbsentReason" in f]
    assert len(findings) == 4 and len(absent) == 1
    reason = {"coding": [{"system": DATA_ABSENT, "code": "not-performed"}], "text": "not_assessed"}
    assert absent[0]["dataAbsentReason"] == reason
    activity = next(c for c in absent[0]["component"] if c["code"]["text"] == "activity")
    assert activity == {"code": {"text": "activity"}, "dataAbsentReason": reason}   # no value[x] beside it
    # the femur's two findings are one BodyStructure: the same lesion, not assessed the second time
    assert len({f["focus"][0]["reference"] for f in findings}) == 2
    assert not all_errors(bundle)
    back = dataset_from_fhir(bundle)["lesions"].sort("study_id", "bone")
    assert back.filter(pl.col("study_id") == "S2")["activity"].to_list() == ["active", "not_assessed"]


def test_omop_writes_no_lesion_observation_for_it_and_lists_it_as_not_exported(tmp_path):
    export = omop_tables(_dataset(tmp_path))
    lesions = export.tables["observation"].filter(pl.col("observation_source_value") == "lesion")
    assert lesions.height == 3
    assert "not_assessed" not in lesions["qualifier_source_value"].to_list()
    listed = [p for p in export.problems if p.table == "lesions"]
    assert len(listed) == 1 and listed[0].column == "activity" and listed[0].value == "not_assessed"
    assert "the lesion at femur left diaphysis was not assessed" in listed[0].message
    assert "not exported" in listed[0].message
