"""Clean logs: no health data in any log line (a 500's traceback names code, never the
exception's message or SQL parameters), request paths logged with control characters escaped
(a ``%0a`` cannot forge a line), access lines with the user name and no query string, and an
out-of-range id in a page's address is a 404, not a 500. In-process (caplog) and against the
real server's log."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from cnotrack import records, users
from cnotrack.store import open_store
from conftest import migrated_sqlite_url

from .conftest import PASSWORD, assert_error_shape, seed
from .live import live_server

SECRETS = ("P-LOG-SECRET", "2007-03-09", "Secretville")


def _fail_with_health_data(*args, **kwargs):
    try:
        raise ValueError(f"patient {SECRETS[0]} born {SECRETS[1]} of {SECRETS[2]}")
    except ValueError as inner:
        raise sa.exc.IntegrityError(f"INSERT INTO patients VALUES ('{SECRETS[0]}')",
                                    {"patient_id": SECRETS[0], "birth_date": SECRETS[1]}, inner) from inner


def test_a_500_logs_the_exception_type_and_code_but_none_of_the_values(web, caplog, monkeypatch):
    monkeypatch.setattr(records, "list_records", _fail_with_health_data)
    client = web.client("rome", raise_server_exceptions=False)
    with caplog.at_level(logging.INFO):
        api = client.get("/api/v1/labs")
        page = client.get(f"/patients/{web.ids[('R1', 'patients')]}")
    assert_error_shape(api, 500)
    assert page.status_code == 500
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "IntegrityError" in logged and "_fail_with_health_data" in logged  # what and where
    for secret in SECRETS:
        assert secret not in logged and secret not in api.text and secret not in page.text
    assert all(r.exc_info is None for r in caplog.records)  # no formatter can add the message back


def test_the_safe_traceback_names_frames_and_types_only():
    from cnotrack.web.errors import safe_traceback

    try:
        _fail_with_health_data()
    except sa.exc.IntegrityError as exc:
        text = safe_traceback(exc)
    assert "ValueError" in text and "sqlalchemy.exc.IntegrityError" in text and "line " in text
    assert not any(secret in text for secret in SECRETS)


@pytest.mark.parametrize(("raw", "logged"), [("/a\nINFO fake", "/a\\nINFO fake"), ("/\x1b[31mred", "/\\x1b[31mred"),
                                             ("/tab\there", "/tab\\there"), ("/back\\slash", "/back\\\\slash"),
                                             ("/line\u2028sep", "/line\\u2028sep"), ("/zürich", "/zürich")])
def test_log_text_escapes_every_control_and_non_printable_character(raw, logged):
    from cnotrack.web.errors import log_text

    assert log_text(raw) == logged
    assert "\n" not in log_text(raw) and "\x1b" not in log_text(raw)


def test_an_access_line_escapes_the_path_and_names_the_user_but_not_the_query(web, caplog):
    client = web.client("rome")
    with caplog.at_level(logging.INFO, logger="cnotrack.web"):
        client.get("/api/v1/patients%0aINFO fake line%1b[2J", params={"patient_id": "R1"})
        client.get("/api/v1/patients", params={"patient_id": "R1-QUERY"})
        web.client().get("/login")
    lines = [r.getMessage() for r in caplog.records if r.name == "cnotrack.web.access"]
    assert any(line.startswith("GET /api/v1/patients\\nINFO fake line\\x1b[2J 404") for line in lines), lines
    assert any(line.startswith("GET /api/v1/patients 200") and line.endswith("user=rome") for line in lines), lines
    assert any(line.startswith("GET /login 200") and line.endswith("user=-") for line in lines), lines
    assert all("\n" not in line and "\x1b" not in line and "R1-QUERY" not in line for line in lines)


@pytest.mark.parametrize("path", ["/patients/99999999999999999999", "/records/labs/-1/edit", "/imaging/1e9",
                                  "/imaging/0/lesion-form", "/records/patients/2147483648/edit",
                                  "/imaging/1/resolved/99999999999999999999"])
def test_an_out_of_range_id_in_a_page_address_is_a_404(web, path):
    client = web.client("rome", raise_server_exceptions=False)
    method = "POST" if "resolved" in path else "GET"
    response = client.request(method, path)
    assert response.status_code == 404, response.text[:300]


def test_posting_to_an_out_of_range_id_is_a_404(web):
    client = web.client("rome", raise_server_exceptions=False)
    for path in ("/records/labs/99999999999999999999/edit", "/records/labs/99999999999999999999/delete",
                 "/imaging/99999999999999999999/lesions"):
        assert client.post(path, data={"version": "1"}).status_code == 404, path


def _log_when(server, text: str) -> str:
    """The server's log once ``text`` is in it (the log is read by a thread)."""
    return server.wait_for_log(text)


def test_the_real_servers_log_has_no_health_data_no_forged_line_and_names_the_user(tmp_path):
    url = migrated_sqlite_url(tmp_path)
    with open_store(url) as store:
        admin = users.add_user(store, "admin", PASSWORD, "admin")
        users.add_user(store, "rome", PASSWORD, "investigator", "Rome")
        seed(store, admin)
        with store.engine.begin() as conn:  # a database that fails every new lab: a real 500
            conn.execute(sa.text("CREATE TRIGGER no_labs BEFORE INSERT ON labs BEGIN "
                                 "SELECT RAISE(ABORT, 'labs are closed'); END"))
    with live_server(url) as server:
        client = server.login("rome", PASSWORD)
        failed = client.post("/api/v1/labs", json={"patient_id": "R2", "date": "2007-03-09", "test": "CRP",
                                                   "value": 31.5, "unit": "mg/L"})
        forged = client.get("/api/v1/patients%0aINFO fake: admin logged in")
        client.get("/api/v1/patients", params={"center": "Secretville"})
        client.get("/patients/99999999999999999999")
        assert failed.status_code == 500 and forged.status_code == 404
        client.get("/api/v1/me", params={"last": "1"})
        log = _log_when(server, "GET /api/v1/me 200")
    assert "IntegrityError" in log
    for value in ("2007-03-09", "31.5", "R2", "Secretville", "mg/L"):
        assert value not in log, value
    assert not any(line.startswith("INFO fake") for line in log.splitlines())
    assert "/api/v1/patients\\nINFO fake: admin logged in 404" in log
    assert "GET /patients/99999999999999999999 404" in log
    assert "POST /api/v1/labs 500" in log and "user=rome" in log
    assert "Exception in ASGI application" not in log
