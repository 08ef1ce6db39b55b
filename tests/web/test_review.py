"""Reviewing before a change: the import's review (added, changed old -> new, unchanged), the
delete confirmation, an admin's restore from a record's history, and the filtered audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from cnotrack import records
from cnotrack.audit import AuditFilter
from cnotrack.errors import AccessError, RecordConflictError
from cnotrack.web import import_pages

from .conftest import assert_error_shape


def _csrf(client) -> str:
    return client.headers["X-CSRF-Token"]


def _upload(client, files: dict[str, str]):
    return client.post("/import", data={"csrf_token": _csrf(client)},
                       files=[("files", (name, data.encode(), "text/csv")) for name, data in files.items()])


def _token(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def _review_csv(client, token: str) -> list[dict[str, str]]:
    response = client.post("/import/diff.csv", data={"csrf_token": _csrf(client), "token": token})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def _counts(page: str, table: str) -> tuple[int, int, int]:
    row = re.search(rf'<tr><td>{table}</td>((?:<td class="num">\d+</td>){{3}})', page)
    return tuple(int(n) for n in re.findall(r"\d+", row.group(1)))


def test_the_import_review_lists_added_rows_changed_values_old_to_new_and_unchanged_rows(web, monkeypatch):
    admin = web.client("admin")
    r2 = web.ids[("R2", "patients")]
    records.delete_record(web.store, web.accounts["admin"], "patients", r2)
    files = {"patients.csv": "patient_id,sex,center\nR1,M,Rome\nR2,M,Rome\nN1,F,Rome\n",
             "treatments.csv": "patient_id,drug,start_date,stop_date\nR1,naproxen,2019-01-01,2019-06-01\n"}
    page = _upload(admin, files)
    assert page.status_code == 200
    assert _counts(page.text, "patients") == (1, 2, 0) and _counts(page.text, "treatments") == (0, 0, 1)
    changed = page.text[page.text.index('id="changed-patients"'):page.text.index('id="added-patients"')]
    assert re.search(r"patient_id=R1 .*?<code>sex</code></td><td class=\"review-old\"><del>F</del></td>"
                     r"<td class=\"review-new\"><ins>M</ins>", changed, re.S)
    assert "patient_id=R2" in changed and "deleted, restored with the same values" in changed
    assert "birth_date" not in changed  # not in the file: kept as stored, not shown as a change
    assert "kept as stored: birth_date" in page.text.replace("\n", " ")
    added = page.text[page.text.index('id="added-patients"'):]
    assert "patient_id=N1" in added.split("</table>")[0] and "R1" not in added.split("</table>")[0]
    rows = _review_csv(admin, _token(page.text))
    assert {(r["table"], r["action"], r["key"], r["column"], r["old"], r["new"]) for r in rows} == {
        ("patients", "update", "patient_id=R1", "sex", "F", "M"),
        ("patients", "restore", "patient_id=R2", "", "", ""),
        ("patients", "add", "patient_id=N1", "patient_id", "", "N1"),
        ("patients", "add", "patient_id=N1", "sex", "", "F"),
        ("patients", "add", "patient_id=N1", "center", "", "Rome")}
    # the review is capped with an honest count of what it leaves out
    monkeypatch.setattr(import_pages, "DIFF_ROWS", 1)
    capped = _upload(admin, files).text
    assert "and 1 more changed row (in the CSV" in capped and capped.count("review-row") == 1
    # what was reviewed is what the import does
    done = admin.post("/import/confirm", data={"csrf_token": _csrf(admin), "token": _token(page.text)})
    assert done.status_code == 200 and "Imported" in done.text
    r1 = records.get_record(web.store, web.accounts["admin"], "patients", web.ids[("R1", "patients")])
    assert (r1["sex"], r1["birth_date"]) == ("M", "2008-05")
    assert records.get_record(web.store, web.accounts["admin"], "patients", r2)["sex"] == "M"
    again = _upload(admin, files).text
    assert _counts(again, "patients") == (0, 0, 3) and 'id="review-nothing"' in again


def test_an_investigator_of_another_center_learns_nothing_from_the_review(web):
    genoa, rome = web.client("genoa"), web.client("rome")
    takeover = _upload(genoa, {"patients.csv": "patient_id,sex,center\nR1,M,Genoa\n"})
    assert takeover.status_code == 403 and "2008-05" not in takeover.text and "Rome" not in takeover.text
    own = _upload(genoa, {"patients.csv": "patient_id,sex,center\nG1,M,Genoa\nG9,F,Genoa\n"})
    assert own.status_code == 200 and _counts(own.text, "patients") == (1, 1, 0)
    assert not re.search(r"(?<![A-Za-z0-9_-])R[12](?![A-Za-z0-9_])|Rome", own.text)
    rows = _review_csv(genoa, _token(own.text))
    assert {r["key"] for r in rows} == {"patient_id=G1", "patient_id=G9"}
    # another user's waiting upload answers as one that does not exist, and keeps waiting
    for token in (_token(own.text), "no-such-token"):
        refused = rome.post("/import/diff.csv", data={"csrf_token": _csrf(rome), "token": token})
        assert refused.status_code == 404 and "G9" not in refused.text
    assert len(_review_csv(genoa, _token(own.text))) == len(rows)
    assert web.client("viewer").post("/import/diff.csv", data={"csrf_token": "x", "token": "y"}).status_code == 403


def test_a_delete_asks_first_and_shows_what_refers_to_the_record(web):
    rome = web.client("rome")
    tid = web.ids[("R1", "treatments")]
    ask = rome.get(f"/records/treatments/{tid}/delete")
    assert ask.status_code == 200 and "naproxen" in ask.text and 'id="confirm-delete"' in ask.text
    assert re.search(r'<a href="/patients/\d+" id="cancel-delete">Cancel</a>', ask.text)
    assert records.get_record(web.store, web.accounts["rome"], "treatments", tid)["drug"] == "naproxen"
    patient = rome.get(f"/records/patients/{web.ids[('R1', 'patients')]}/delete")
    assert patient.status_code == 200 and 'id="delete-dependents"' in patient.text
    assert "cannot be deleted yet" in patient.text and 'id="confirm-delete"' not in patient.text
    assert re.search(r"<li>2 assessments</li>", patient.text)
    assert web.client("viewer").get(f"/records/treatments/{tid}/delete").status_code == 403
    genoa = web.client("genoa")
    foreign, missing = genoa.get(f"/records/treatments/{tid}/delete"), genoa.get("/records/treatments/999999/delete")
    assert foreign.status_code == missing.status_code == 404
    assert "id 999999" in missing.text
    assert foreign.text.replace(f"id {tid}", "id N") == missing.text.replace("id 999999", "id N")
    version = re.search(r'name="version" value="(\d+)"', ask.text).group(1)
    done = rome.post(f"/records/treatments/{tid}/delete", data={"csrf_token": _csrf(rome), "version": version},
                     follow_redirects=False)
    assert done.status_code == 303
    assert rome.get(f"/records/treatments/{tid}/delete").status_code == 404  # deleted: nothing left to delete


def test_an_admin_restores_a_deleted_record_from_its_history_with_its_values_and_an_audit_entry(web):
    admin_user = web.accounts["admin"]
    tid = web.ids[("R1", "treatments")]
    before = records.get_record(web.store, admin_user, "treatments", tid)
    records.delete_record(web.store, web.accounts["rome"], "treatments", tid)
    history_url = f"/records/treatments/{tid}/history"
    for name in ("rome", "viewer"):
        client = web.client(name)
        page = client.get(history_url)
        assert page.status_code == 200 and "Deleted" in page.text and 'id="restore"' not in page.text
        refused = client.post(f"/records/treatments/{tid}/restore", data={"csrf_token": _csrf(client)})
        assert refused.status_code == 403
        assert assert_error_shape(client.post(f"/api/v1/treatments/{tid}/restore"), 403)["code"] == "forbidden"
    assert web.client("genoa").get(history_url).status_code == 404
    with pytest.raises(AccessError):
        records.restore_record(web.store, web.accounts["rome"], "treatments", tid)
    admin = web.client("admin")
    assert 'id="restore"' in admin.get(history_url).text
    restored = admin.post(f"/records/treatments/{tid}/restore", data={"csrf_token": _csrf(admin)})
    assert restored.status_code == 200 and 'id="restored"' in restored.text and "Live" in restored.text
    after = records.get_record(web.store, admin_user, "treatments", tid)
    assert {k: v for k, v in after.items() if k != "version"} == {k: v for k, v in before.items() if k != "version"}
    last = records.audit_trail(web.store, admin_user, table="treatments", record_id=tid)[-1]
    assert (last["action"], last["actor"], last["before"]) == ("restore", "admin", None)
    assert last["after"]["drug"] == "naproxen"
    again = admin.post(f"/records/treatments/{tid}/restore", data={"csrf_token": _csrf(admin)})
    assert again.status_code == 409 and "not deleted" in again.text
    records.delete_record(web.store, admin_user, "treatments", tid)
    through_api = admin.post(f"/api/v1/treatments/{tid}/restore")
    assert through_api.status_code == 200 and through_api.json()["start_date"] == "2019-01-01"
    assert_error_shape(admin.post("/api/v1/treatments/999999/restore"), 404)
    # a record whose patient is deleted comes back only after the patient
    extra = records.create_record(web.store, admin_user, "treatments",
                                  {"patient_id": "R2", "drug": "anakinra", "start_date": "2021-01-01"})
    records.delete_record(web.store, admin_user, "treatments", extra["id"])
    records.delete_record(web.store, admin_user, "patients", web.ids[("R2", "patients")])
    with pytest.raises(RecordConflictError, match="restore that patients record first"):
        records.restore_record(web.store, admin_user, "treatments", extra["id"])
    # a lesion whose lesion_id another live lesion of the study has taken since stays deleted
    lesion = {"study_id": "R1-S1", "bone": "tibia", "side": "right", "segment": "diaphysis", "lesion_id": "L7"}
    first = records.create_record(web.store, admin_user, "lesions", lesion)
    records.delete_record(web.store, admin_user, "lesions", first["id"])
    taker = records.create_record(web.store, admin_user, "lesions", {**lesion, "bone": "radius"})
    with pytest.raises(RecordConflictError, match=f"live record {taker['id']} has its lesion_id 'L7'"):
        records.restore_record(web.store, admin_user, "lesions", first["id"])


def _python_filter(entries, *, actor=None, patient=None, table=None, day_from=None, day_to=None):
    def of_patient(e):
        key = e["key"]
        return key.get("patient_id") == patient or key.get("study_id", "").startswith(f"{patient}-")
    return [e["id"] for e in entries
            if (actor is None or e["actor"] == actor) and (table is None or e["table"] == table)
            and (patient is None or of_patient(e))
            and (day_from is None or e["at"][:10] >= day_from) and (day_to is None or e["at"][:10] <= day_to)]


def _exported(client, **params) -> list[str]:
    response = client.get("/audit/export.csv", params=params)
    assert response.status_code == 200, response.text
    return [int(r["id"]) for r in csv.DictReader(io.StringIO(response.text))]


def test_the_audit_filters_each_narrow_in_the_database_and_combine(web):
    admin_user, rome_user = web.accounts["admin"], web.accounts["rome"]
    tid = web.ids[("R1", "treatments")]
    records.update_record(web.store, rome_user, "treatments", tid,
                          {"patient_id": "R1", "drug": "naproxen", "start_date": "2019-01-01"}, 1)
    admin = web.client("admin")
    page = _upload(admin, {"patients.csv": "patient_id,sex,center\nN1,F,Rome\nN2,M,Genoa\n"})
    admin.post("/import/confirm", data={"csrf_token": _csrf(admin), "token": _token(page.text)})
    trail = records.audit_trail(web.store, admin_user, limit=0)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    cases = [dict(actor="rome"), dict(patient="R1"), dict(patient="N1"), dict(table="labs"),
             dict(day_from=today, day_to=today), dict(actor="admin", patient="R1", table="lesions"),
             dict(actor="rome", patient="R2")]
    for case in cases:
        params = {"actor": case.get("actor"), "patient_id": case.get("patient"), "table": case.get("table"),
                  "from": case.get("day_from"), "to": case.get("day_to")}
        expected = _python_filter(trail, **case)
        assert _exported(admin, **{k: v for k, v in params.items() if v}) == expected, case
    assert len(_python_filter(trail, actor="rome")) == 1 and len(_python_filter(trail, patient="N1")) == 1
    assert _python_filter(trail, actor="rome", patient="R2") == []
    yesterday = (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()
    assert _exported(admin, to=yesterday) == [] and _exported(admin, **{"from": yesterday}) == [e["id"] for e in trail]
    empty_fields = dict.fromkeys(("actor", "patient_id", "table", "record_id", "from", "to"), "")
    blank_form = admin.get("/audit", params=empty_fields)
    assert blank_form.status_code == 200 and blank_form.text.count('<tr class="action-') == min(len(trail), 100)
    listed = admin.get("/audit", params={"actor": "ROME", "patient_id": "R1"}).text
    assert listed.count('<tr class="action-') == 1 and f'href="/records/treatments/{tid}/history"' in listed
    assert 'id="audit-export" ' not in listed and "/audit/export.csv?actor=ROME&amp;patient_id=R1" in listed
    assert records.audit_trail(web.store, admin_user, where=AuditFilter(patient_id="N1"), limit=0)[0]["key"] == \
        {"patient_id": "N1"}
    # an investigator's filter narrows their own center's entries: another center's patient is as one that is not
    rome = web.client("rome")
    assert _exported(rome, patient_id="G1") == [] == _exported(rome, patient_id="NO-SUCH")
    assert _exported(rome, patient_id="R1") == _python_filter(records.audit_trail(web.store, rome_user, limit=0),
                                                              patient="R1") != []


HOSTILE_FILTERS = [
    ({"patient_id": "R1' OR '1'='1"}, 200), ({"actor": "%"}, 200), ({"actor": "admin' --"}, 200),
    ({"patient_id": "R1\x00"}, 422), ({"table": "patients; DROP TABLE audit_log"}, 404),
    ({"from": "2020-13-45"}, 422), ({"from": "20200101"}, 422), ({"from": "2021-01-02", "to": "2021-01-01"}, 422),
    ({"record_id": "1 OR 1=1"}, 422), ({"actor": "x" * 201}, 422)]


def test_a_hostile_audit_filter_is_harmless(web):
    client = web.client("rome")
    whole = len(records.audit_trail(web.store, web.accounts["admin"], limit=0))
    for params, status in HOSTILE_FILTERS:
        for path in ("/audit", "/audit/export.csv"):
            response = client.get(path, params=params)
            assert response.status_code == status, (path, params, response.text[:300])
            if status == 200 and path.endswith(".csv"):
                assert response.text.count("\n") == 1, params  # the header alone
            elif status == 200:
                assert 'id="audit-empty"' in response.text and "action-" not in response.text, params
    assert len(records.audit_trail(web.store, web.accounts["admin"], limit=0)) == whole > 20  # nothing changed
