"""Importing a REDCap project is ``cnotrack import``'s import: planned, atomic, idempotent,
audited, its provenance naming the REDCap project and each record's row."""

from __future__ import annotations

import json

import polars as pl
import pytest
import sqlalchemy as sa

from cnotrack.errors import DatasetError
from cnotrack.exchange import load_dataset
from cnotrack.engine.fingerprint import dataset_fingerprint
from cnotrack.interop.redcap.load import import_redcap
from cnotrack.interop.redcap.mapping import load_mapping
from cnotrack.store import open_store, read_store
from cnotrack.store.provenance import record_provenance
from cnotrack.store.schema import imports

from conftest import snapshot, sqlite_url

from .test_apply import MAPPING, RECORDS, read_cno_project, write_cno_project, write_twin


@pytest.fixture
def store(tmp_path):
    with open_store(sqlite_url(tmp_path), create=True) as opened:
        yield opened


def test_importing_a_project_twice_equals_importing_it_once(tmp_path, store) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    project, mapping = read_cno_project(paths), load_mapping(paths["mapping"])
    first = import_redcap(project, mapping, store)
    assert first.changed and first.inserted["patients"] == 3 and first.inserted["lesions"] == 4
    before = snapshot(store)
    second = import_redcap(project, mapping, store)
    assert not second.changed and second.import_id is None
    assert snapshot(store) == before


def test_the_stored_dataset_is_the_twins(tmp_path, store) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    import_redcap(read_cno_project(paths), load_mapping(paths["mapping"]), store)
    twin = load_dataset(write_twin(tmp_path / "twin"))
    assert dataset_fingerprint(read_store(store)) == dataset_fingerprint(twin)


def test_the_import_and_each_row_name_the_project_and_the_records_row(tmp_path, store) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    report = import_redcap(read_cno_project(paths), load_mapping(paths["mapping"]), store)
    with store.engine.connect() as conn:
        source, files = conn.execute(sa.select(imports.c.source, imports.c.files)
                                     .where(imports.c.id == report.import_id)).one()
    assert source == 'REDCap project "CNO registry (test)" (records.csv)'
    assert "records.csv" in json.loads(files)
    rows = record_provenance(store, "patients")
    assert sorted(rows["source_row"].to_list()) == [2, 11, 17]  # the records rows of the three baselines
    assert set(rows["import_id"].to_list()) == {report.import_id}


def test_a_dry_run_plans_and_writes_nothing(tmp_path, store) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    before = snapshot(store)
    plan = import_redcap(read_cno_project(paths), load_mapping(paths["mapping"]), store, dry_run=True)
    assert plan.changed and plan.tables["treatments"].added == 7
    assert snapshot(store) == before


def test_missing_data_reasons_are_stored_and_a_second_import_changes_nothing(tmp_path, store) -> None:
    records = [list(r) for r in RECORDS]
    records[0][5] = {**records[0][5], "onset_date": "UNK"}
    paths = write_cno_project(tmp_path / "redcap", records=[tuple(r) for r in records])
    project = read_cno_project(paths, missing_codes="UNK, Unknown")
    mapping = load_mapping(paths["mapping"])
    import_redcap(project, mapping, store)
    patients = read_store(store)["patients"]
    extra = patients.filter(pl.col("patient_id") == "101")["_extra"].item()
    assert json.loads(extra) == {"redcap_missing.onset_date": "UNK"}
    before = snapshot(store)
    assert not import_redcap(project, mapping, store).changed
    assert snapshot(store) == before


def test_a_project_with_problems_imports_nothing(tmp_path, store) -> None:
    records = [list(r) for r in RECORDS]
    records[0][5] = {**records[0][5], "sex": "5"}
    paths = write_cno_project(tmp_path / "redcap", records=[tuple(r) for r in records],
                              mapping=MAPPING)
    before = snapshot(store)
    with pytest.raises(DatasetError):
        import_redcap(read_cno_project(paths), load_mapping(paths["mapping"]), store)
    assert snapshot(store) == before


def test_a_reason_is_cleared_when_a_later_export_has_the_value(tmp_path, store) -> None:
    known = write_cno_project(tmp_path / "known")
    records = [list(r) for r in RECORDS]
    records[0][5] = {**records[0][5], "onset_date": "UNK"}
    unknown = write_cno_project(tmp_path / "unknown", records=[tuple(r) for r in records])
    mapping = load_mapping(known["mapping"])

    def patient_101() -> dict:
        return read_store(store)["patients"].filter(pl.col("patient_id") == "101").row(0, named=True)

    import_redcap(read_cno_project(known), mapping, store)
    report = import_redcap(read_cno_project(unknown, missing_codes="UNK, Unknown"), mapping, store)
    assert report.updated["patients"] == 1
    assert patient_101()["onset_date"] is None
    assert json.loads(patient_101()["_extra"]) == {"redcap_missing.onset_date": "UNK"}
    import_redcap(read_cno_project(known), mapping, store)
    assert str(patient_101()["onset_date"]) == "2018-09-01" and patient_101().get("_extra") is None
