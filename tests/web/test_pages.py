"""The web pages, without a browser: forms and their errors, stale edits, the imaging study,
the upload, the evaluation downloads, the audit trail, the users."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from cnotrack.records import RECORD_TYPES, audit_trail

from conftest import GOOD_TABLES, csv_text, table_as_rows


def _csrf(client) -> str:
    return client.headers["X-CSRF-Token"]


@pytest.mark.parametrize("path", ["/", "/patients/{R1}", "/evaluation", "/evaluation?protocol=pedcno", "/audit",
                                  "/audit?table=patients&record_id={R1}", "/imaging/{S1}"])
def test_every_page_shows_for_a_viewer(web, path):
    path = path.format(R1=web.ids[("R1", "patients")], S1=web.ids[("R1", "imaging")])
    response = web.client("viewer").get(path)
    assert response.status_code == 200, response.text
    # another center's patient never shows (as a word: a random CSRF token may hold the letters G1)
    assert not re.search(r"(?<![A-Za-z0-9_-])G1(?![A-Za-z0-9_])", response.text)


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_every_record_type_has_a_new_and_an_edit_form(web, table):
    client = web.client("rome")
    new = client.get(f"/records/{table}/new", params={"patient_id": "R1"})
    assert new.status_code == 200 and 'name="csrf_token"' in new.text
    edit = client.get(f"/records/{table}/{web.ids[('R1', table)]}/edit")
    assert edit.status_code == 200 and 'name="version" value="1"' in edit.text


def test_a_form_shows_each_problem_beside_its_field_and_keeps_the_values(web):
    client = web.client("rome")
    response = client.post("/records/treatments/new", data={
        "csrf_token": _csrf(client), "patient_id": "R2", "drug": "aspirinx", "start_date": "2021-01-01",
        "dose": "two"})
    assert response.status_code == 422
    assert re.search(r'id="err-drug">not a drug of the vocabulary', response.text)
    assert re.search(r'id="err-dose">not a number', response.text)
    assert 'value="aspirinx"' in response.text and "Nothing was saved" in response.text


def test_a_stale_form_edit_shows_both_versions(web):
    client = web.client("rome")
    rid = web.ids[("R1", "adverse_events")]
    form = {"csrf_token": _csrf(client), "version": "1", "patient_id": "R1", "onset_date": "2020-02-01",
            "term": "rash"}
    assert client.post(f"/records/adverse_events/{rid}/edit", data={**form, "grade": "2"},
                       follow_redirects=False).status_code == 303
    stale = client.post(f"/records/adverse_events/{rid}/edit", data={**form, "grade": "3"})
    assert stale.status_code == 409 and 'id="conflict"' in stale.text
    row = re.search(r"<tr class=\"differs\"><td>grade</td><td>(\d)</td><td>(\d)</td>", stale.text)
    assert row and row.groups() == ("2", "3")
    assert 'name="version" value="2"' in stale.text  # saving again now overwrites knowingly


def test_a_viewer_gets_403_on_every_page_that_writes(web):
    client = web.client("viewer")
    token = _csrf(client)
    for path, data in [("/records/patients/new", {"patient_id": "V1", "sex": "F"}),
                       (f"/records/adverse_events/{web.ids[('R1', 'adverse_events')]}/delete", {}),
                       (f"/imaging/{web.ids[('R1', 'imaging')]}/lesions", {"bone": "T7"}),
                       ("/import/confirm", {"token": "x"}), ("/users", {"username": "x"})]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert client.get("/import").status_code == 403 and client.get("/users").status_code == 403


def test_an_investigator_cannot_open_another_centers_patient_page(web):
    page = web.client("rome").get(f"/patients/{web.ids[('G1', 'patients')]}")
    assert page.status_code == 404 and "G1" not in page.text and "Genoa" not in page.text


def test_the_imaging_page_charts_lesions_and_carries_previous_ones(web):
    client = web.client("rome")
    token = _csrf(client)
    follow = client.post("/records/imaging/new", data={"csrf_token": token, "patient_id": "R1", "study_id": "R1-S2",
                                                      "date": "2020-07-01", "modality": "bone_scintigraphy"},
                         follow_redirects=False)
    study = follow.headers["location"]
    page = client.get(study).text
    assert "left femur diaphysis" in page and 'class="marker previous"' in page and "data-bone=\"femur\"" in page
    form = client.get(f"{study}/lesion-form", params={"bone": "T7", "side": "", "segment": "body"}).text
    assert re.search(r'name="bone"[^>]*value="T7"', form) and '<option value="body" selected>' in form
    bad = client.post(f"{study}/lesions", data={"csrf_token": token, "bone": "femur"})
    assert bad.status_code == 422 and "paired bone" in bad.text
    assert client.post(f"{study}/lesions", data={"csrf_token": token, "bone": "T7", "segment": "body"},
                       follow_redirects=False).status_code == 303
    previous = re.search(r'id="previous-(\d+)"', page).group(1)
    assert "resolved" in client.post(f"{study}/resolved/{previous}", data={"csrf_token": token}).text
    assert client.post(f"{study}/still-present/{previous}", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    page = client.get(study).text
    assert "still present (charted here)" in page and page.count('class="marker current"') == 2


def _upload(client, files):
    return client.post("/import", data={"csrf_token": _csrf(client)},
                       files=[("files", (name, data, "text/csv")) for name, data in files.items()])


def test_an_upload_shows_every_problem_and_imports_nothing(web):
    client = web.client("admin")
    response = _upload(client, {"patients.csv": b"patient_id,sex\nN1,X\nN2,F\n",
                                "treatments.csv": b"patient_id,drug,start_date\nN3,naproxen,2020-01-01\n"})
    assert response.status_code == 422 and 'id="problems"' in response.text
    assert "not one of F, M, U" in response.text and "no such patient_id" in response.text
    assert "N2" not in client.get("/").text


def test_a_valid_upload_is_imported_only_when_confirmed_and_audited_with_the_user(web):
    client = web.client("admin")
    files = {f"{name}.csv": csv_text(table_as_rows(GOOD_TABLES[name])).encode()
             for name in ("patients", "treatments")}
    checked = _upload(client, files)
    assert checked.status_code == 200 and 'id="counts"' in checked.text
    assert "P01" not in client.get("/").text
    token = re.search(r'name="token" value="([^"]+)"', checked.text).group(1)
    other = web.client("rome")
    assert other.post("/import/confirm", data={"csrf_token": _csrf(other), "token": token}).status_code == 404
    done = client.post("/import/confirm", data={"csrf_token": _csrf(client), "token": token})
    assert done.status_code == 200 and "Imported" in done.text
    assert "P01" in client.get("/").text
    trail = audit_trail(web.store, web.accounts["admin"], table="patients")
    assert any(e["actor"] == "admin" and e["key"] == {"patient_id": "P01"} for e in trail)
    assert client.post("/import/confirm", data={"csrf_token": _csrf(client), "token": token}).status_code == 404


def test_an_investigator_may_import_only_their_own_centers_patients(web):
    client = web.client("rome")
    foreign = _upload(client, {"patients.csv": b"patient_id,sex,center\nN1,F,Genoa\n"})
    assert foreign.status_code == 403
    takeover = _upload(client, {"patients.csv": b"patient_id,sex,center\nG1,F,Rome\n"})
    assert takeover.status_code == 403
    assert _upload(client, {"patients.csv": b"patient_id,sex,center\nN1,F,Rome\n"}).status_code == 200


def test_the_evaluation_downloads_as_json_and_markdown(web):
    client = web.client("viewer")
    as_json = client.get("/evaluation/download", params={"protocol": "pardeo2017", "format": "json"})
    assert as_json.headers["content-disposition"].endswith('.json"')
    assert json.loads(as_json.text)["protocol"] == "pardeo2017"
    as_md = client.get("/evaluation/download", params={"protocol": "pardeo2017", "format": "markdown"})
    assert as_md.text.startswith("# ") and "## Methods" in as_md.text


def test_the_audit_trail_exports_as_csv(web):
    client = web.client("rome")
    rid = web.ids[("R1", "patients")]
    exported = client.get("/audit/export.csv", params={"table": "patients", "record_id": rid})
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert [r[3] for r in rows[1:]] == ["insert"] and json.loads(rows[1][6]) == {"patient_id": "R1"}


def test_an_admin_adds_users_on_the_users_page(web):
    client = web.client("admin")
    short = client.post("/users", data={"csrf_token": _csrf(client), "username": "newbie", "password": "short",
                                        "role": "viewer", "center": "Rome"})
    assert short.status_code == 422 and "at least 12" in short.text
    ok = client.post("/users", data={"csrf_token": _csrf(client), "username": "newbie",
                                     "password": "a long enough password", "role": "viewer", "center": "Rome"})
    assert ok.status_code == 200 and "newbie" in ok.text


def test_logging_in_and_out_through_the_pages(web):
    client = web.client()
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    wrong = client.post("/login", data={"csrf_token": login_token, "username": "rome", "password": "nope nope nope"})
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    logged = client.post("/login", data={"csrf_token": login_token, "username": "rome",
                                        "password": "correct horse battery staple"},
                         follow_redirects=False)
    assert logged.status_code == 303 and "httponly" in logged.headers["set-cookie"].lower()
    home = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_report_downloads_as_html_when_cnotrack_has_its_report_module(web):
    pytest.importorskip("cnotrack.report")
    client = web.client("viewer")
    page = client.get("/evaluation", params={"protocol": "pardeo2017"})
    assert "format=html" in page.text and "format=pdf" in page.text
    report = client.get("/evaluation/download", params={"protocol": "pardeo2017", "format": "html"})
    assert report.status_code == 200, report.text[:300]
    assert report.headers["content-type"].startswith("text/html")
    assert report.headers["content-disposition"].endswith('.html"') and "<html" in report.text.lower()
    assert "G1" not in report.text  # the report covers the user's center only
