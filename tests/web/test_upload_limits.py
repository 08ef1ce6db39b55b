"""Uploads are bounded and leave nothing behind (issue 9, items 1, 5 and 6): the body is capped
by the bytes actually received (a chunked request has no Content-Length to check), pending
uploads are deleted when confirmed, cancelled, expired or at shutdown, no page names the
server's temporary folder, and the confirmation lists what the import would add and change."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cnotrack.web import import_pages

from conftest import GOOD_TABLES, csv_text, table_as_rows
from web.conftest import PASSWORD
from web.live import live_server

BOUNDARY = "cnotrackboundary"


def multipart_chunks(csrf: str, name: str, size: int, chunk: int = 64 * 1024):
    """A multipart body (the CSRF field, then one file of ``size`` bytes), as a generator: sent
    with chunked transfer encoding, without a Content-Length."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
           f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
           "Content-Type: text/csv\r\n\r\npatient_id,sex\r\n").encode()
    sent = 0
    line = b"P1,F\r\n" * (chunk // 6)
    while sent < size:
        yield line
        sent += len(line)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _upload(client, files: dict[str, bytes]):
    return client.post("/import", data={"csrf_token": client.headers["X-CSRF-Token"]},
                       files=[("files", (name, data, "text/csv")) for name, data in files.items()])


def _token(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def _good_files(*names: str) -> dict[str, bytes]:
    return {f"{n}.csv": csv_text(table_as_rows(GOOD_TABLES[n])).encode() for n in names}


def test_a_chunked_upload_is_stopped_at_the_cap_by_the_bytes_received(web, monkeypatch):
    monkeypatch.setenv(import_pages.MAX_UPLOAD_ENV_VAR, str(200_000))
    client = web.client("admin")
    csrf = client.headers["X-CSRF-Token"]
    for with_header in (True, False):  # the token as a header, and only in the form (as a browser sends it)
        if not with_header:
            client.headers.pop("X-CSRF-Token")
        response = client.post("/import", content=multipart_chunks(csrf, "patients.csv", 1_000_000),
                               headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        assert "content-length" not in {k.lower() for k in response.request.headers}
        assert response.status_code == 413 and "larger than 200,000 bytes" in response.text
    client.headers["X-CSRF-Token"] = csrf
    small = client.post("/import", content=multipart_chunks(client.headers["X-CSRF-Token"], "patients.csv", 1_000),
                        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert small.status_code in (200, 422), small.text  # under the cap: read and checked


def test_a_chunked_upload_to_the_real_server_is_stopped_at_the_cap(web, tmp_path):
    with live_server(f"sqlite:///{tmp_path / 'cnotrack.db'}",
                     env={import_pages.MAX_UPLOAD_ENV_VAR: "300000"}) as server:
        client = server.login("admin", PASSWORD)
        response = client.post("/import", content=multipart_chunks(client.headers["X-CSRF-Token"], "patients.csv",
                                                                   5_000_000),
                               headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert response.status_code == 413 and "larger than" in response.text
        api = client.post("/api/v1/nothing-here", content=b"x")  # the server still answers
        assert api.status_code in (404, 405)


def test_a_pending_upload_is_deleted_when_confirmed(web):
    client = web.client("admin")
    token = _token(_upload(client, _good_files("patients")).text)
    folder = web.app.state.pending_imports[token].folder
    assert folder.is_dir()
    assert client.post("/import/confirm", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                "token": token}).status_code == 200
    assert not folder.exists() and token not in web.app.state.pending_imports


def test_a_pending_upload_is_deleted_when_cancelled_and_can_no_longer_be_confirmed(web):
    client = web.client("admin")
    checked = _upload(client, _good_files("patients"))
    assert 'action="/import/cancel"' in checked.text
    token = _token(checked.text)
    folder = web.app.state.pending_imports[token].folder
    other = web.client("rome")
    assert other.post("/import/cancel", data={"csrf_token": other.headers["X-CSRF-Token"],
                                              "token": token}).status_code == 404
    assert folder.is_dir()
    cancelled = client.post("/import/cancel", data={"csrf_token": client.headers["X-CSRF-Token"], "token": token})
    assert cancelled.status_code == 200 and "nothing was imported" in cancelled.text
    assert not folder.exists()
    assert client.post("/import/confirm", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                "token": token}).status_code == 404
    assert "P01" not in client.get("/").text


def test_an_expired_upload_is_swept_by_the_next_upload(web, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(import_pages, "clock", lambda: now[0])
    client = web.client("admin")
    token = _token(_upload(client, _good_files("patients")).text)
    folder = web.app.state.pending_imports[token].folder
    now[0] += import_pages.PENDING_SECONDS - 1
    _upload(client, {"patients.csv": b"patient_id,sex\nN1,X\n"})
    assert folder.exists()
    now[0] += 2
    _upload(client, {"patients.csv": b"patient_id,sex\nN1,X\n"})
    assert not folder.exists() and token not in web.app.state.pending_imports
    assert client.post("/import/confirm", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                "token": token}).status_code == 404


def test_an_expired_upload_is_swept_by_a_confirmation(web, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(import_pages, "clock", lambda: now[0])
    client = web.client("admin")
    old = _token(_upload(client, _good_files("patients")).text)
    now[0] += import_pages.PENDING_SECONDS + 1
    assert client.post("/import/confirm", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                "token": "another"}).status_code == 404
    assert old not in web.app.state.pending_imports


def test_pending_uploads_are_deleted_when_the_application_shuts_down(web):
    with TestClient(web.app) as running:
        login = running.post("/api/v1/login", json={"username": "admin", "password": PASSWORD})
        running.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        token = _token(_upload(running, _good_files("patients")).text)
        folder = web.app.state.pending_imports[token].folder
        assert folder.is_dir()
    assert not folder.exists()


def test_the_real_server_deletes_pending_uploads_when_it_stops(web, tmp_path):
    uploads = tmp_path / "tmp"
    uploads.mkdir()
    with live_server(f"sqlite:///{tmp_path / 'cnotrack.db'}", env={"TMPDIR": str(uploads)}) as server:
        client = server.login("admin", PASSWORD)
        assert _upload(client, _good_files("patients")).status_code == 200
        assert [p.name for p in uploads.iterdir() if p.name.startswith("cnotrack-upload-")]
    assert not [p for p in uploads.iterdir() if p.name.startswith("cnotrack-upload-")]


@pytest.mark.parametrize("files", [
    {"broken.xlsx": b"PK\x03\x04 this is not a workbook"},
    {"patients.csv": b"\xff\xfe not utf-8 \x00"},
    {"patients.csv": b"patient_id,sex\nP1,F\n", "labs.csv": b"patient_id,date\n"},
], ids=["broken workbook", "not utf-8", "missing columns"])
def test_a_broken_upload_names_no_server_path_and_leaves_no_folder(web, files, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "uploads"))
    (tmp_path / "uploads").mkdir()
    temp = Path(tempfile.gettempdir())
    before = {p.name for p in temp.iterdir() if p.name.startswith("cnotrack-upload-")}
    client = web.client("admin")
    page = _upload(client, files)
    assert page.status_code in (400, 413, 422), page.text
    assert str(temp) not in page.text and "cnotrack-upload-" not in page.text and "/tmp" not in page.text
    api_style = client.post("/import", files=[("files", (n, d, "text/csv")) for n, d in files.items()],
                            headers={"Accept": "application/json"})
    assert "cnotrack-upload-" not in api_style.text and "/tmp" not in api_style.text
    assert {p.name for p in temp.iterdir() if p.name.startswith("cnotrack-upload-")} == before


def test_the_confirmation_lists_added_changed_and_unchanged_rows_with_the_columns(web):
    client = web.client("admin")
    first = _upload(client, _good_files("patients"))
    client.post("/import/confirm", data={"csrf_token": client.headers["X-CSRF-Token"], "token": _token(first.text)})
    patients = [dict(p) for p in GOOD_TABLES["patients"]]
    patients[0]["center"] = "Genoa"
    patients = [{k: v for k, v in p.items() if k not in ("birth_date", "onset_date")} for p in patients]
    patients.append({"patient_id": "P77", "sex": "M", "center": None, "diagnosis_date": None})
    checked = _upload(client, {"patients.csv": csv_text(table_as_rows(patients)).encode()})
    assert checked.status_code == 200
    row = re.search(r'<table class="grid compact" id="counts">.*?<tr><td>patients</td>(.*?)</tr>', checked.text, re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells == ["1", "1", str(len(GOOD_TABLES["patients"]) - 1), "center (1)"]
    assert "patients: not in the file, kept as stored: birth_date, onset_date" in checked.text
    done = client.post("/import/confirm", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                "token": _token(checked.text)})
    assert done.status_code == 200 and 'id="imported"' in done.text and "center (1)" in done.text
