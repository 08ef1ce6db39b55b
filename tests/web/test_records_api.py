"""Records through the API: the exchange format's rules, stale edits, soft deletes, the audit
trail, and one error shape for every error."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cnotrack.errors import DatasetError
from cnotrack.exchange import load_dataset
from cnotrack.store.schema import audit_log, record_table

from conftest import make_dataset

from .conftest import assert_error_shape


def test_a_stale_edit_gets_409_with_both_versions(web):
    first, second = web.client("rome"), web.client("rome")
    rid = web.ids[("R1", "treatments")]
    loaded = first.get(f"/api/v1/treatments/{rid}").json()
    body = {k: v for k, v in loaded.items() if k != "id" and v is not None}
    assert second.put(f"/api/v1/treatments/{rid}", json={**body, "dose": 2}).status_code == 200
    stale = first.put(f"/api/v1/treatments/{rid}", json={**body, "dose": 3})
    error = assert_error_shape(stale, 409)
    versions = {d["version"]: d["record"] for d in error["details"]}
    assert versions["current"]["version"] == 2 and versions["current"]["dose"] == 2.0
    assert versions["submitted"]["version"] == 1 and versions["submitted"]["dose"] == 3
    assert first.get(f"/api/v1/treatments/{rid}").json()["dose"] == 2.0  # nothing overwritten


def test_a_record_is_validated_with_the_rules_of_a_dataset_file(web, tmp_path):
    row = {"patient_id": "R2", "drug": "anakinrra", "start_date": "2021-02-30", "stop_date": "2020-01-01",
           "dose": "-1", "route": "by mouth"}
    error = assert_error_shape(web.client("rome").post("/api/v1/treatments", json=row), 422)
    folder = make_dataset(tmp_path, patients=[{"patient_id": "R2", "sex": "M"}], treatments=[row])
    with pytest.raises(DatasetError) as file_problems:
        load_dataset(folder)
    expected = sorted((p.column, p.value, p.message) for p in file_problems.value.problems)
    assert sorted((d["column"], d["value"], d["message"]) for d in error["details"]) == expected


def test_rules_across_columns_apply_to_a_single_record(web):
    client = web.client("rome")
    backwards = {"patient_id": "R2", "drug": "naproxen", "start_date": "2021-02-01", "stop_date": "2021-01-01"}
    assert assert_error_shape(client.post("/api/v1/treatments", json=backwards), 422)["details"][0]["column"] == "stop_date"
    sideless = {"study_id": "R1-S1", "bone": "femur"}
    assert "paired bone" in assert_error_shape(client.post("/api/v1/lesions", json=sideless), 422)["details"][0]["message"]
    orphan = {"patient_id": "R1", "date": "2022-01-01", "dressing_1": "1"}
    assert "no assessment" in assert_error_shape(client.post("/api/v1/chaq", json=orphan), 422)["details"][0]["message"]
    unknown = {"patient_id": "R404", "drug": "naproxen", "start_date": "2021-02-01"}
    assert "no such patient_id" in assert_error_shape(client.post("/api/v1/treatments", json=unknown), 422)["details"][0]["message"]
    censored = client.post("/api/v1/labs", json={"patient_id": "R2", "date": "2021-01-01", "test": "crp",
                                                 "value": "<0.5", "unit": "mg/dl"})
    assert censored.status_code == 201
    assert {k: censored.json()[k] for k in ("test", "value", "censor", "unit")} == \
        {"test": "CRP", "value": 0.5, "censor": "<", "unit": "mg/dL"}


def test_a_taken_key_gets_409(web):
    client = web.client("rome")
    taken = {"patient_id": "R1", "drug": "naproxen", "start_date": "2019-01-01"}
    error = assert_error_shape(client.post("/api/v1/treatments", json=taken), 409)
    assert "exists already" in error["message"]


def test_every_change_is_in_the_audit_trail_with_who_before_and_after(web):
    client = web.client("rome")
    made = client.post("/api/v1/adverse_events", json={"patient_id": "R2", "onset_date": "2021-03-01",
                                                       "term": "fatigue"}).json()
    changed = client.put(f"/api/v1/adverse_events/{made['id']}",
                         json={"patient_id": "R2", "onset_date": "2021-03-01", "term": "fatigue", "grade": 2,
                               "version": 1}).json()
    assert client.delete(f"/api/v1/adverse_events/{made['id']}", params={"version": changed["version"]}).status_code == 204
    trail = client.get("/api/v1/audit", params={"table": "adverse_events", "record_id": made["id"]}).json()["items"]
    assert [e["action"] for e in trail] == ["insert", "update", "delete"]
    assert {e["actor"] for e in trail} == {"rome"}
    assert trail[0]["before"] is None and trail[0]["after"]["term"] == "fatigue"
    assert trail[1]["before"]["grade"] is None and trail[1]["after"]["grade"] == 2
    assert trail[2]["before"]["grade"] == 2 and trail[2]["after"] is None
    assert trail[0]["key"] == {"patient_id": "R2", "onset_date": "2021-03-01", "term": "fatigue"}


def test_a_change_and_its_audit_row_are_written_together_or_not_at_all(web, monkeypatch):
    from cnotrack import records

    def broken(*args, **kwargs):
        raise RuntimeError("the audit trail cannot be written")

    monkeypatch.setattr(records, "_audit", broken)
    client = web.client("rome", raise_server_exceptions=False)
    response = client.post("/api/v1/adverse_events", json={"patient_id": "R2", "onset_date": "2021-03-01",
                                                           "term": "fatigue"})
    assert_error_shape(response, 500)
    table = record_table("adverse_events")
    with web.store.engine.connect() as conn:
        assert conn.execute(sa.select(table).where(table.c.term == "fatigue")).first() is None


def test_a_soft_deleted_record_is_hidden_but_kept_in_the_database_and_the_audit_trail(web):
    client = web.client("admin")
    rid = web.ids[("G1", "adverse_events")]
    assert client.delete(f"/api/v1/adverse_events/{rid}").status_code == 204
    assert_error_shape(client.get(f"/api/v1/adverse_events/{rid}"), 404)
    assert rid not in {r["id"] for r in client.get("/api/v1/adverse_events").json()["items"]}
    assert_error_shape(client.delete(f"/api/v1/adverse_events/{rid}"), 404)
    table = record_table("adverse_events")
    with web.store.engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == rid)).mappings().one()
        audit = conn.execute(sa.select(audit_log).where(audit_log.c.table_name == "adverse_events",
                                                        audit_log.c.record_id == rid)).mappings().all()
    assert row["deleted_at"] is not None and row["term"] == "rash"
    assert audit[-1]["action"] == "delete" and json.loads(audit[-1]["before"])["term"] == "rash"
    again = client.post("/api/v1/adverse_events", json={"patient_id": "G1", "onset_date": "2020-02-01",
                                                        "term": "rash", "grade": 3})
    assert again.status_code == 201 and again.json()["id"] == rid  # the same key restores the record
    trail = client.get("/api/v1/audit", params={"table": "adverse_events", "record_id": rid}).json()["items"]
    assert trail[-1]["action"] == "restore"


def test_a_patient_or_study_still_referred_to_is_not_deleted(web):
    client = web.client("admin")
    error = assert_error_shape(client.delete(f"/api/v1/patients/{web.ids[('R1', 'patients')]}"), 409)
    assert "delete them first" in error["message"]
    assert_error_shape(client.delete(f"/api/v1/imaging/{web.ids[('R1', 'imaging')]}"), 409)
    assert client.delete(f"/api/v1/patients/{web.ids[('R2', 'patients')]}").status_code == 204


def test_the_referenced_identifier_of_a_patient_with_records_cannot_change(web):
    client = web.client("admin")
    rid = web.ids[("R1", "patients")]
    body = {k: v for k, v in client.get(f"/api/v1/patients/{rid}").json().items() if k != "id" and v is not None}
    assert_error_shape(client.put(f"/api/v1/patients/{rid}", json={**body, "patient_id": "R1b"}), 409)


def test_lists_filter_and_page(web):
    client = web.client("admin")
    only = client.get("/api/v1/treatments", params={"patient_id": "G1"}).json()["items"]
    assert [r["patient_id"] for r in only] == ["G1"]
    page = client.get("/api/v1/patients", params={"limit": 2, "offset": 1}).json()
    assert len(page["items"]) == 2 and page["offset"] == 1
    assert client.get("/api/v1/lesions", params={"study_id": "R1-S1"}).json()["items"][0]["bone"] == "femur"


def test_every_error_response_has_the_one_shape(web):
    """datasette's test_error_shape, for cnotrack: each status the API answers with."""
    anonymous, viewer, rome = web.client(), web.client("viewer"), web.client("rome")
    admin = web.client("admin")
    responses = [
        anonymous.get("/api/v1/patients"),                                              # 401
        viewer.post("/api/v1/patients", json={"patient_id": "X", "sex": "F"}),          # 403 role
        rome.get(f"/api/v1/patients/{web.ids[('G1', 'patients')]}"),                    # 403 center
        admin.get("/api/v1/patients/999999"),                                           # 404 record
        admin.get("/api/v1/no_such_table"),                                             # 404 route
        admin.patch("/api/v1/patients"),                                                # 405
        admin.post("/api/v1/patients", json={"patient_id": "R1", "sex": "F"}),          # 409
        admin.post("/api/v1/patients", json={"patient_id": "X", "sex": "X"}),           # 422 format
        admin.post("/api/v1/patients", json={"patient_id": ["X"]}),                     # 422 schema
        admin.post("/api/v1/patients", content=b"{not json", headers={"content-type": "application/json"}),
        admin.get("/api/v1/patients/0"),                                                # 422 path
        admin.get("/api/v1/evaluation", params={"protocol": "nope"}),                   # 422 protocol
    ]
    csrf = web.client("admin")
    csrf.headers.pop("X-CSRF-Token")
    responses.append(csrf.delete("/api/v1/patients/1"))                                # 403 csrf
    for _ in range(5):
        anonymous.post("/api/v1/login", json={"username": "x", "password": "wrong password!"})
    responses.append(anonymous.post("/api/v1/login", json={"username": "x", "password": "wrong password!"}))  # 429
    statuses = set()
    for response in responses:
        assert response.status_code >= 400, response.url
        assert_error_shape(response)
        statuses.add(response.status_code)
    assert statuses == {401, 403, 404, 405, 409, 422, 429}


def test_the_migrations_build_exactly_the_schema_of_the_code(web):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cnotrack.store.schema import metadata

    with web.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
