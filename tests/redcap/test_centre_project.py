"""A REDCap project that cnotrack's REDCap code was not written for, read with a mapping written
from docs/redcap.md alone: a synthetic registry as a centre would capture it (a repeating event for
clinic visits, numbered drug and bone codes with brand names in the labels, a comma decimal, a
symptoms checkbox, a missing-data code, data access groups; ``centre_project``) imports into the
same dataset as its exchange-format twin and evaluates to the same endpoints."""

from __future__ import annotations

import json

import pytest

from cnotrack.engine import evaluate
from cnotrack.engine.fingerprint import dataset_fingerprint
from cnotrack.exchange import export_dataset, load_dataset
from cnotrack.interop.redcap.files import read_project
from cnotrack.interop.redcap.load import import_redcap, load_redcap
from cnotrack.interop.redcap.mapping import load_mapping
from cnotrack.protocols import load_protocol
from cnotrack.store import open_store, read_store
from cnotrack.synth import write_registry

from conftest import sqlite_url

from .centre_project import DRUGS, write_centre_project

MAPPING = """\
cnotrack_mapping: 1
project: Synthetic centre registry
missing_codes: {NA: Not assessed}
blocks:
  - table: patients
    form: demographics
    events: [enrolment_arm_1]
    columns:
      patient_id: {field: record_id}
      sex: {field: sex}
      birth_date: {field: dob}
      onset_date: {field: onset}
      diagnosis_date: {field: dx_date}
      center: {field: redcap_data_access_group}
  - table: treatments
    form: treatment
    columns:
      patient_id: {field: record_id}
      drug: {field: med, codes: {DRUG_CODES}}
      start_date: {field: med_start}
      stop_date: {field: med_stop}
      dose: {field: med_dose}
      dose_unit: {field: med_unit}
  - table: assessments
    form: visit
    when: [visit_date]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      pga: {field: pga}
      pga_vas: {field: pga_vas}
      pain_vas: {field: pain}
      bone_pain: {checked: {field: symptoms, code: "1"}}
      local_swelling: {checked: {field: symptoms, code: "2"}}
      functional_impairment: {checked: {field: symptoms, code: "3"}}
      fever: {checked: {field: symptoms, code: "4"}}
  - table: labs
    form: visit
    when: [esr]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      test: {value: ESR}
      value: {field: esr}
      unit: {value: mm/h}
  - table: labs
    form: visit
    when: [crp]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      test: {value: CRP}
      value: {field: crp}
      unit: {value: mg/L}
  - table: imaging
    form: scan
    columns:
      patient_id: {field: record_id}
      study_id: {field: scan_id}
      date: {field: scan_date}
      modality: {field: scan_type}
  - table: lesions
    form: lesion
    columns:
      study_id: {field: les_scan}
      bone: {field: les_bone}
      side: {field: les_side}
      segment: {field: les_segment}
      grade: {field: les_grade}
      symptomatic: {field: les_painful}
  - table: adverse_events
    form: adverse_event
    columns:
      patient_id: {field: record_id}
      onset_date: {field: ae_onset}
      term: {field: ae_term}
      grade: {field: ae_grade, codes: {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5"}}
      serious: {field: ae_serious}
""".replace("{DRUG_CODES}", "{" + ", ".join(f'"{code}": {drug}' for drug, (code, _) in DRUGS.items()) + "}")


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    root = tmp_path_factory.mktemp("centre")
    write_registry(40, 7, root / "registry")
    paths = write_centre_project(root / "registry", root / "redcap")
    (root / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    project = read_project(paths["dictionary"], paths["records"], events=paths["events"],
                           designations=paths["designations"], repeating=paths["repeating"])
    return project, load_mapping(root / "mapping.yaml"), paths, root


def test_the_project_reads_into_its_twin(centre, tmp_path) -> None:
    project, mapping, paths, _ = centre
    mapped, twin = load_redcap(project, mapping), load_dataset(paths["twin"])
    assert {n: t.height for n, t in mapped.tables.items() if t.height} == \
        {n: t.height for n, t in twin.tables.items() if t.height}
    assert dataset_fingerprint(mapped) == dataset_fingerprint(twin)
    export_dataset(mapped, tmp_path / "mapped")
    export_dataset(twin, tmp_path / "twin")
    for path in sorted((tmp_path / "twin").iterdir()):
        assert (tmp_path / "mapped" / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_project_evaluates_to_the_twins_endpoints(centre) -> None:
    project, mapping, paths, _ = centre
    protocol = load_protocol("pardeo2017")
    mapped = evaluate(load_redcap(project, mapping), protocol).as_json(detail=False)
    twin = evaluate(load_dataset(paths["twin"]), protocol).as_json(detail=False)
    for doc in (mapped, twin):
        doc.pop("provenance", None)
    assert json.dumps(mapped, sort_keys=True, default=str) == json.dumps(twin, sort_keys=True, default=str)


def test_an_esr_not_assessed_is_a_reason_never_a_value(centre) -> None:
    project, mapping, paths, _ = centre
    labs = load_redcap(project, mapping).tables["labs"]
    not_assessed = (project.records["esr"] == "NA").sum()
    assert not_assessed > 0  # the registry has visits with a CRP and no ESR
    assert labs.filter(labs["test"] == "ESR").height == (project.records["esr"].is_not_null().sum() - not_assessed)


def test_the_project_imports_once_and_then_changes_nothing(centre, tmp_path) -> None:
    project, mapping, paths, _ = centre
    with open_store(sqlite_url(tmp_path), create=True) as store:
        assert import_redcap(project, mapping, store).changed
        assert not import_redcap(project, mapping, store).changed
        stored = read_store(store)
    assert dataset_fingerprint(stored) == dataset_fingerprint(load_dataset(paths["twin"]))
