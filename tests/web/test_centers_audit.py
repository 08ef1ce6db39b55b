"""The audit trail of a non-admin is filtered in the database: the same entries as the old
filter in Python (by the audited record's patient's center), with the limit in SQL, so that a
viewer's ``limit=1`` does bounded work however large the trail."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from cnotrack import records, users
from cnotrack.records import RECORD_TYPES, audit_trail
from cnotrack.store import open_store
from cnotrack.store.schema import audit_log, record_table
from cnotrack.web import create_app
from conftest import migrated_sqlite_url

from .centers_fixtures import GX, centers_web  # noqa: F401  (centers_web is a fixture)
from .conftest import PASSWORD, Clock, Web


def python_filter(store, user, entries: list[dict]) -> list[dict]:
    """The filter of commit 1694e01: the patient named by the entry's row, through its study
    for a lesion, and that patient's center now (deleted patients and studies included)."""
    patients, imaging = record_table("patients"), record_table("imaging")
    with store.engine.connect() as conn:
        centers = dict(conn.execute(sa.select(patients.c.patient_id, patients.c.center)).all())
        studies = dict(conn.execute(sa.select(imaging.c.study_id, imaging.c.patient_id)).all())
    out = []
    for entry in entries:
        values = entry["after"] or entry["before"] or {}
        patient = studies.get(values.get("study_id")) if entry["table"] == "lesions" else values.get("patient_id")
        if entry["table"] in RECORD_TYPES and centers.get(patient) == user.center:
            out.append(entry)
    return out


def _vary(web) -> None:
    """Patients who moved center, records changed and deleted, on top of the fixture's."""
    admin = web.accounts["admin"]
    for pid, center in (("R2", "Genoa"), ("G2", "Rome")):
        rid = web.ids[(pid, "patients")]
        current = records.get_record(web.store, admin, "patients", rid)
        values = {k: current[k] for k in records.record_columns("patients")}
        records.update_record(web.store, admin, "patients", rid, {**values, "center": center}, current["version"])
    rome = web.accounts["rome"]
    lab = records.create_record(web.store, rome, "labs", {"patient_id": "R1", "date": "2022-02-02", "test": "ESR",
                                                          "value": 5, "unit": "mm/h"})
    records.delete_record(web.store, rome, "labs", lab["id"])
    records.create_record(web.store, rome, "lesions", {"study_id": "R1-S1", "bone": "tibia", "side": "left",
                                                       "segment": "diaphysis"})


@pytest.mark.parametrize("username", ["rome", "genoa", "viewer"])
def test_the_database_filter_gives_the_entries_of_the_python_filter(centers_web, username):
    web = centers_web
    _vary(web)
    user = web.accounts[username]
    admin = web.accounts["admin"]
    for table in (None, *RECORD_TYPES):
        everything = audit_trail(web.store, admin, table=table, limit=0)
        expected = python_filter(web.store, user, everything)
        assert audit_trail(web.store, user, table=table, limit=0) == expected, table
        for limit in (1, 3, 7):
            assert audit_trail(web.store, user, table=table, limit=limit) == expected[-limit:], (table, limit)
            assert audit_trail(web.store, user, table=table, limit=limit, offset=2) == \
                expected[:-2][-limit:], (table, limit)
    for entry in audit_trail(web.store, admin, limit=0):
        if entry["table"] not in RECORD_TYPES:  # the accounts' own entries: an admin's only
            assert entry not in audit_trail(web.store, user, limit=0)
            continue
        expected = python_filter(web.store, user, audit_trail(web.store, admin, table=entry["table"],
                                                              record_id=entry["record_id"], limit=0))
        assert audit_trail(web.store, user, table=entry["table"], record_id=entry["record_id"], limit=0) == expected


def test_a_patient_who_moved_center_takes_their_history_along(centers_web):
    web = centers_web
    _vary(web)
    genoa_sees = {(e["table"], e["record_id"]) for e in audit_trail(web.store, web.accounts["genoa"], limit=0)}
    rome_sees = {(e["table"], e["record_id"]) for e in audit_trail(web.store, web.accounts["rome"], limit=0)}
    assert ("patients", web.ids[("R2", "patients")]) in genoa_sees - rome_sees
    assert ("patients", web.ids[("G2", "patients")]) in rome_sees - genoa_sees
    assert ("patients", web.ids[(GX, "patients")]) in genoa_sees - rome_sees


def _big_store(tmp_path, n_patients: int):
    """``n_patients`` patients of alternating centers with two labs each, and an audit trail of
    three entries per patient (written directly: the filter, not the writing, is measured)."""
    store = open_store(migrated_sqlite_url(tmp_path, f"big{n_patients}.db"))
    viewer = users.add_user(store, "viewer", PASSWORD, "viewer", "Rome")
    admin = users.add_user(store, "admin", PASSWORD, "admin")
    patients, labs = record_table("patients"), record_table("labs")
    now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    p_rows, l_rows, a_rows = [], [], []
    for i in range(1, n_patients + 1):
        pid, center = f"P{i:05d}", ("Rome" if i % 2 else "Genoa")
        p_rows.append({"id": i, "patient_id": pid, "sex": "F", "center": center, "version": 1})
        a_rows.append({"at": now, "actor": "admin", "action": "insert", "table_name": "patients", "record_id": i,
                       "record_key": json.dumps({"patient_id": pid}), "before": None,
                       "after": json.dumps({"patient_id": pid, "center": center})})
        for j, test in enumerate(("CRP", "ESR")):
            lab_id = 2 * i + j
            l_rows.append({"id": lab_id, "patient_id": pid, "date": dt.date(2020, 1, 1), "test": test, "value": 1.0,
                           "unit": "mg/L", "version": 1})
            a_rows.append({"at": now, "actor": "admin", "action": "insert", "table_name": "labs",
                           "record_id": lab_id, "record_key": json.dumps({"patient_id": pid}), "before": None,
                           "after": json.dumps({"patient_id": pid, "test": test})})
    with store.engine.begin() as conn:
        conn.execute(patients.insert(), p_rows)
        conn.execute(labs.insert(), l_rows)
        conn.execute(audit_log.insert(), a_rows)
    return store, viewer, admin


def _work_of_one_request(tmp_path, n_patients: int) -> tuple[int, list[str]]:
    """SQLite virtual-machine steps (in hundreds) and the statements of a viewer's
    ``GET /api/v1/audit?limit=1``."""
    store, _, _ = _big_store(tmp_path, n_patients)
    web = Web(create_app(store=store, clock=Clock()), store, Clock(), {})
    client = web.client("viewer")
    steps, statements = [0], []

    def count() -> int:
        steps[0] += 1
        return 0

    def checkout(dbapi_connection, record, proxy):
        dbapi_connection.set_progress_handler(count, 100)

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(store.engine, "checkout", checkout)
    sa.event.listen(store.engine, "before_cursor_execute", before)
    response = client.get("/api/v1/audit", params={"limit": 1})
    sa.event.remove(store.engine, "checkout", checkout)
    sa.event.remove(store.engine, "before_cursor_execute", before)
    assert response.status_code == 200 and len(response.json()["items"]) == 1
    store.close()
    return steps[0], statements


def test_a_viewers_limit_1_audit_request_does_the_same_work_at_2000_patients_as_at_200(tmp_path):
    small_steps, small_statements = _work_of_one_request(tmp_path, 200)
    big_steps, big_statements = _work_of_one_request(tmp_path, 2000)
    assert len(big_statements) == len(small_statements) <= 12
    reads = [s for s in big_statements if "FROM audit_log" in s]
    assert reads and all("LIMIT" in s for s in reads), reads
    # ten times the patients and the trail: far less than ten times the work (the filter and the
    # limit run in the database, which stops at the newest visible entry)
    assert big_steps < 2 * small_steps, (small_steps, big_steps)


@pytest.mark.parametrize("username", ["admin", "rome", "viewer"])
def test_the_audit_trail_read_in_batches_is_the_whole_trail_in_order(centers_web, username):
    web = centers_web
    _vary(web)
    user = web.accounts[username]
    for table in (None, "patients", "lesions"):
        whole = audit_trail(web.store, user, table=table, limit=0)
        for size in (1, 2, 5, 10_000):
            batches = list(records.audit_trail_batches(web.store, user, table=table, batch=size))
            assert all(0 < len(b) <= size for b in batches), (table, size)
            assert [e for b in batches for e in b] == whole, (table, size)


def test_the_audit_export_streams_the_whole_visible_trail(centers_web):
    web = centers_web
    _vary(web)
    for username in ("admin", "viewer"):
        response = web.client(username).get("/audit/export.csv")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = response.text.splitlines()
        expected = audit_trail(web.store, web.accounts[username], limit=0)
        assert rows[0].startswith("id,at,actor") and len(rows) - 1 >= len(expected)
        ids = [int(line.split(",", 1)[0]) for line in rows[1:] if line[:1].isdigit()]
        assert ids == [e["id"] for e in expected]
