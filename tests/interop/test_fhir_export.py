"""The FHIR R4 export: Bundles that the independent checks accept, deterministic to the byte,
coded only with confirmed codes, and shaped as docs/interoperability.md says (one BodyStructure
per lesion followed across studies, censored values as comparators, seriousness as R4 spells it).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from cnotrack.demo import demo_dataset
from cnotrack.errors import DatasetError
from cnotrack.interop.fhir import code_table, fhir_bundle, write_fhir
from cnotrack.interop.fhir.ids import NAMESPACE, resource_id
from cnotrack.interop.fhir.names import RESOURCE_ORDER
from cnotrack.synth import synthesize_registry
from cnotrack.vocabulary import anatomy, drugs, lab_tests

from .fhir_validation import SCHEMA_PATH, REFERENCE_MISSING, all_errors

needs_schema = pytest.mark.skipif(not SCHEMA_PATH.exists(), reason=REFERENCE_MISSING)


@pytest.fixture(scope="module")
def demo():
    return demo_dataset()


@pytest.fixture(scope="module")
def demo_bundle(demo):
    return fhir_bundle(demo)


def resources(bundle: dict, kind: str | None = None) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def codings(node: object):
    """Every Coding in the Bundle (an object with both system and code)."""
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node["system"], node["code"]
        for value in node.values():
            yield from codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from codings(value)


@needs_schema
@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_the_demo_bundle_passes_every_independent_check(demo, bundle_type):
    assert all_errors(fhir_bundle(demo, bundle_type=bundle_type)) == []


@needs_schema
def test_a_synthetic_registry_bundle_passes_every_independent_check():
    assert all_errors(fhir_bundle(synthesize_registry(25, seed=13), bundle_type="transaction")) == []


def test_writing_the_same_data_twice_gives_the_same_bytes(demo, tmp_path):
    first = write_fhir(demo, tmp_path / "a" / "demo.json").read_bytes()
    second = write_fhir(demo_dataset(), tmp_path / "b.json").read_bytes()
    assert first == second
    assert str(tmp_path).encode() not in first  # nothing from the environment
    assert json.loads(first) == fhir_bundle(demo)


def test_ids_are_uuid5_of_the_cnotrack_key_and_full_urls_are_their_urns(demo_bundle):
    patient = next(p for p in resources(demo_bundle, "Patient") if p["identifier"][0]["value"] == "SYN-P01")
    expected = str(uuid.uuid5(NAMESPACE, 'cnotrack/patients/["SYN-P01"]'))
    assert patient["id"] == expected == resource_id("patients", "SYN-P01")
    for entry in demo_bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        assert "request" not in entry


def test_entries_are_sorted_by_resource_type_then_id(demo_bundle):
    keys = [(RESOURCE_ORDER.index(r["resourceType"]), r["id"]) for r in resources(demo_bundle)]
    assert keys == sorted(keys)
    assert len({k[1] for k in keys}) == len(keys)


def test_a_transaction_puts_each_resource_at_its_type_and_id(demo):
    for entry in fhir_bundle(demo, bundle_type="transaction")["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}


def test_an_unknown_bundle_type_is_refused_with_the_choices(demo):
    with pytest.raises(DatasetError, match="collection or a transaction"):
        fhir_bundle(demo, bundle_type="document")


def test_every_code_written_is_in_the_verified_code_table(demo_bundle):
    table = code_table()
    confirmed = {(table.uri(c.system), c.code)
                 for group in ("conditions", "labs", "drugs", "bones", "laterality", "seriousness", "units")
                 for codes in getattr(table, group).values() for c in codes}
    written = Counter(codings(demo_bundle))
    assert written and set(written) <= confirmed
    assert ("http://hl7.org/fhir/sid/icd-10", "M86.3") in written
    assert ("http://www.orpha.net", "324964") in written


def test_the_code_table_agrees_with_the_vocabularies():
    table = code_table()
    for bone in anatomy().bones:
        assert [c.code for c in table.codes("bones", bone.name)] == ([bone.snomed_ct] if bone.snomed_ct else [])
    for test in lab_tests().tests:
        assert [c.code for c in table.codes("labs", test.code)] == ([test.loinc] if test.loinc else [])
    anakinra = drugs().drug("anakinra")
    assert {c.code for c in table.codes("drugs", "anakinra")} == {anakinra.atc, anakinra.snomed_ct}
    for code in (c for codes in table.model_dump().values() if isinstance(codes, dict)
                 for entries in codes.values() if isinstance(entries, list) for c in entries):
        assert code["citation"].strip()


def test_the_cno_condition_carries_onset_and_diagnosis_dates(demo, demo_bundle):
    row = demo["patients"].row(0, named=True)
    condition = next(r for r in resources(demo_bundle, "Condition")
                     if r["id"] == resource_id("patients/cno", row["patient_id"]))
    assert condition["onsetDateTime"] == row["onset_date"].isoformat()
    assert condition["recordedDate"] == row["diagnosis_date"].isoformat()


def test_anakinra_is_coded_and_a_drug_without_a_cited_code_is_text_only(demo_bundle):
    concepts = {r["medicationCodeableConcept"]["text"]: r["medicationCodeableConcept"]
                for r in resources(demo_bundle, "MedicationStatement")}
    assert concepts["anakinra"]["coding"] == [{"system": "http://www.whocc.no/atc", "code": "L04AC03"},
                                              {"system": "http://snomed.info/sct", "code": "385549000"}]
    assert concepts["naproxen"] == {"text": "naproxen"}


def test_a_course_without_a_stop_date_is_active_and_one_with_it_completed(demo_bundle):
    for statement in resources(demo_bundle, "MedicationStatement"):
        stopped = "end" in statement["effectivePeriod"]
        assert statement["status"] == ("completed" if stopped else "active")


def lab_bundle(tmp_path, value: str, unit: str = "mg/L", test: str = "CRP"):
    from cnotrack.exchange import load_dataset
    from conftest import make_dataset
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P1", "sex": "F", "birth_date": "2008-05"}],
                          labs=[{"patient_id": "P1", "date": "2016-03-02", "test": test, "value": value,
                                 "unit": unit, "ref_high": "5"}])
    return fhir_bundle(load_dataset(folder))


def test_a_censored_lab_value_is_a_quantity_with_its_comparator(tmp_path):
    bundle = lab_bundle(tmp_path, "<0.5")
    observation = resources(bundle, "Observation")[0]
    assert observation["code"]["coding"] == [{"system": "http://loinc.org", "code": "1988-5"}]
    assert observation["valueQuantity"] == {"value": 0.5, "comparator": "<", "unit": "mg/L",
                                            "system": "http://unitsofmeasure.org", "code": "mg/L"}
    assert observation["referenceRange"] == [{"high": {"value": 5.0, "unit": "mg/L",
                                                       "system": "http://unitsofmeasure.org", "code": "mg/L"}}]
    patient = resources(bundle, "Patient")[0]
    assert patient["birthDate"] == "2008-05" and patient["gender"] == "female"


def test_a_lab_without_a_confirmed_loinc_code_is_named_by_text(tmp_path):
    observation = resources(lab_bundle(tmp_path, "7.5", "10^9/L", "WBC"), "Observation")[0]
    assert "coding" not in observation["code"] and observation["code"]["text"]
    assert observation["valueQuantity"]["code"] == "10*9/L"


def test_a_lesion_followed_across_studies_is_one_body_structure(demo, demo_bundle):
    studies = dict(zip(demo["imaging"]["study_id"], demo["imaging"]["patient_id"]))
    sites = {(studies[r["study_id"]], r["bone"], r["side"], r["segment"]) for r in demo["lesions"].rows(named=True)}
    structures = resources(demo_bundle, "BodyStructure")
    assert len(structures) == len(sites) < demo["lesions"].height
    findings = [r for r in resources(demo_bundle, "Observation") if r["code"]["text"] == "Bone lesion finding"]
    assert len(findings) == demo["lesions"].height
    ids = {s["id"] for s in structures}
    assert all(f["focus"][0]["reference"].removeprefix("urn:uuid:") in ids for f in findings)


def test_a_body_structure_codes_the_bone_and_its_side_but_not_the_segment(demo_bundle):
    femur = next(s for s in resources(demo_bundle, "BodyStructure")
                 if s["location"]["text"] == "femur" and s["locationQualifier"][0]["text"] == "left")
    assert femur["location"]["coding"] == [{"system": "http://snomed.info/sct", "code": "71341001"}]
    assert femur["locationQualifier"][0]["coding"] == [{"system": "http://snomed.info/sct", "code": "7771000"}]
    assert all("coding" not in q for q in femur["locationQualifier"][1:])


def test_an_imaging_study_names_its_modality_as_text_without_a_dicom_code(demo_bundle):
    for study in resources(demo_bundle, "ImagingStudy"):
        assert "modality" not in study and "series" not in study
        assert study["procedureCode"][0].keys() == {"text"}


def test_adverse_event_seriousness_is_coded_as_r4_spells_it(demo, demo_bundle):
    events = resources(demo_bundle, "AdverseEvent")
    assert len(events) == demo["adverse_events"].height
    for event in events:
        assert event["actuality"] == "actual"
        codes = [c["code"] for c in event.get("seriousness", {}).get("coding", [])]
        assert codes in ([], ["Serious"], ["Non-serious"])  # R4 4.0.1's spelling; serious/non-serious are R5's
    by_url = {e["fullUrl"]: e["resource"] for e in demo_bundle["entry"]}
    for event in events:
        for suspect in event.get("suspectEntity", []):
            assert by_url[suspect["instance"]["reference"]]["resourceType"] in ("MedicationStatement", "Medication")
