"""Every API route for every role: unauthenticated 401, viewer 403 on writes, an investigator
403 on another center's patients, their own center and an admin allowed."""

from __future__ import annotations

import pytest

from cnotrack.records import RECORD_TYPES

from .conftest import PASSWORD, assert_error_shape, new_values


def _own(table: str) -> tuple[str, str]:
    """The Rome patient whose record of ``table`` the tests change (and the one it is created for)."""
    return ("R2" if table == "patients" else "R1"), "R2"


def _record(web, patient: str, table: str) -> int:
    return web.ids[(patient, table)]


def _update_body(web, table: str, patient: str) -> dict:
    client = web.client("admin")
    record = client.get(f"/api/v1/{table}/{_record(web, patient, table)}").json()
    body = {k: v for k, v in record.items() if k != "id" and v is not None}
    changes = {"patients": {"sex": "U"}, "treatments": {"dose": 2}, "assessments": {"pain_vas": 3},
               "labs": {"ref_high": 5}, "imaging": {"modality": "mri"}, "lesions": {"grade": 2},
               "adverse_events": {"grade": 2}, "diagnosis": {"femur": True}, "chaq": {"dressing_2": "2"},
               "manifestations": {"onset_date": "2019-04-01"}, "family_history": {"note": "paternal aunt too"},
               "biopsies": {"note": "second reading"}, "administrations": {"dose": 2},
               "complications": {"note": "seen on MRI"}}
    return {**body, **changes[table]}


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_unauthenticated_requests_to_every_record_route_get_401(web, table):
    client = web.client()
    rid = _record(web, "R1", table)
    for method, path, body in [("GET", f"/api/v1/{table}", None), ("GET", f"/api/v1/{table}/{rid}", None),
                               ("POST", f"/api/v1/{table}", new_values(table, "R1", "R2")),
                               ("PUT", f"/api/v1/{table}/{rid}", {"version": 1}),
                               ("DELETE", f"/api/v1/{table}/{rid}", None)]:
        assert_error_shape(client.request(method, path, json=body), 401)


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_a_viewer_reads_their_centers_records_and_may_change_none(web, table):
    client = web.client("viewer")
    listed = client.get(f"/api/v1/{table}").json()["items"]
    assert listed and all(r["id"] != _record(web, "G1", table) for r in listed)
    assert client.get(f"/api/v1/{table}/{_record(web, 'R1', table)}").status_code == 200
    assert_error_shape(client.post(f"/api/v1/{table}", json=new_values(table, "R1", "R2")), 403)
    target, _ = _own(table)
    assert_error_shape(client.put(f"/api/v1/{table}/{_record(web, target, table)}",
                                  json=_update_body(web, table, target)), 403)
    assert_error_shape(client.delete(f"/api/v1/{table}/{_record(web, target, table)}"), 403)


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_an_investigator_is_refused_every_route_on_another_centers_records(web, table):
    """Another center's record is answered as one that does not exist (404, no hint it exists);
    a new record for another center's patient as one for a patient that does not exist."""
    client = web.client("rome")
    target = "G2" if table == "patients" else "G1"
    rid = _record(web, target, table)
    assert assert_error_shape(client.get(f"/api/v1/{table}/{rid}"), 404)["message"] == f"no {table} record with id {rid}"
    body = new_values(table, "G1", "G2")
    if table == "patients":
        body["center"] = "Genoa"
        assert_error_shape(client.post(f"/api/v1/{table}", json=body), 403)
    else:
        refused = assert_error_shape(client.post(f"/api/v1/{table}", json=body), 422)
        key = "study_id" if table == "lesions" else "patient_id"
        missing = assert_error_shape(client.post(f"/api/v1/{table}", json={**body, key: "NO-SUCH-ID"}), 422)
        assert [d["message"] for d in refused["details"]] == [d["message"] for d in missing["details"]]
    assert_error_shape(client.put(f"/api/v1/{table}/{rid}", json=_update_body(web, table, target)), 404)
    assert_error_shape(client.delete(f"/api/v1/{table}/{rid}"), 404)
    assert all(r["id"] != _record(web, "G1", table) for r in client.get(f"/api/v1/{table}").json()["items"])


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_an_investigator_creates_edits_and_deletes_their_own_centers_records(web, table):
    client = web.client("rome")
    created = client.post(f"/api/v1/{table}", json=new_values(table, "R1", "R2"))
    assert created.status_code == 201, created.text
    if table == "patients":
        assert created.json()["center"] == "Rome"  # an investigator's new patient is of their center
    target, _ = _own(table)
    rid = _record(web, target, table)
    updated = client.put(f"/api/v1/{table}/{rid}", json=_update_body(web, table, target))
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    new_id = created.json()["id"]
    assert client.delete(f"/api/v1/{table}/{new_id}").status_code == 204
    assert_error_shape(client.get(f"/api/v1/{table}/{new_id}"), 404)


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_an_admin_reads_and_changes_every_centers_records(web, table):
    client = web.client("admin")
    listed = {r["id"] for r in client.get(f"/api/v1/{table}").json()["items"]}
    assert {_record(web, "R1", table), _record(web, "G1", table)} <= listed
    body = new_values(table, "G1", "G2")
    if table == "patients":
        body["center"] = "Genoa"
    assert client.post(f"/api/v1/{table}", json=body).status_code == 201
    target = "G2" if table == "patients" else "G1"
    rid = _record(web, target, table)
    assert client.put(f"/api/v1/{table}/{rid}", json=_update_body(web, table, target)).status_code == 200
    assert client.delete(f"/api/v1/{table}/{rid}").status_code == (409 if table in ("imaging",) else 204)


def test_an_investigator_cannot_move_a_patient_to_another_center(web):
    client = web.client("rome")
    body = _update_body(web, "patients", "R2")
    body["center"] = "Genoa"
    assert_error_shape(client.put(f"/api/v1/patients/{_record(web, 'R2', 'patients')}", json=body), 403)


def test_the_evaluation_covers_only_the_patients_a_user_may_see(web):
    seen = {}
    for name in ("admin", "rome", "viewer", "genoa"):
        body = web.client(name).get("/api/v1/evaluation", params={"protocol": "pardeo2017"}).json()
        excluded = {row["patient_id"] for row in body["cohort"]["excluded"]}
        seen[name] = excluded
    assert seen["admin"] == {"R1", "R2", "G1", "G2"}
    assert seen["rome"] == seen["viewer"] == {"R1", "R2"}
    assert seen["genoa"] == {"G1", "G2"}
    assert_error_shape(web.client().get("/api/v1/evaluation"), 401)
    assert_error_shape(web.client("admin").get("/api/v1/evaluation", params={"protocol": "/etc/passwd"}), 422)


def test_the_audit_trail_shows_a_non_admin_only_their_centers_records(web):
    rome = web.client("rome").get("/api/v1/audit").json()["items"]
    admin = web.client("admin").get("/api/v1/audit").json()["items"]
    assert rome and len(rome) < len(admin)
    assert all("G" not in str(e["key"].get("patient_id", e["key"].get("study_id", ""))) for e in rome)
    g1 = web.client("viewer").get("/api/v1/audit", params={"table": "patients",
                                                            "record_id": web.ids[("G1", "patients")]}).json()
    assert g1["items"] == []
    assert_error_shape(web.client().get("/api/v1/audit"), 401)


def test_only_an_admin_manages_users(web):
    assert_error_shape(web.client().get("/api/v1/users"), 401)
    for name in ("viewer", "rome"):
        client = web.client(name)
        assert_error_shape(client.get("/api/v1/users"), 403)
        assert_error_shape(client.post("/api/v1/users", json={"username": "eve", "password": PASSWORD,
                                                              "role": "admin"}), 403)
    admin = web.client("admin")
    assert {u["username"] for u in admin.get("/api/v1/users").json()} == {"admin", "rome", "genoa", "viewer"}
    made = admin.post("/api/v1/users", json={"username": "milan", "password": PASSWORD, "role": "viewer",
                                             "center": "Milan"})
    assert made.status_code == 201 and made.json()["center"] == "Milan"
    assert_error_shape(admin.post("/api/v1/users", json={"username": "short", "password": "tooshort",
                                                         "role": "viewer", "center": "Milan"}), 422)


def test_me_and_logout_need_a_session(web):
    assert_error_shape(web.client().get("/api/v1/me"), 401)
    assert_error_shape(web.client().post("/api/v1/logout"), 401)
    client = web.client("viewer")
    assert client.get("/api/v1/me").json()["username"] == "viewer"
    assert client.post("/api/v1/logout").status_code == 204
    assert_error_shape(client.get("/api/v1/me"), 401)
