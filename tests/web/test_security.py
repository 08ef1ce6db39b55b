"""Logging in and out, cookies, CSRF, throttling, security headers, users from the CLI."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnotrack import users
from cnotrack.errors import UserError
from cnotrack.web import SECURITY_HEADERS

from .conftest import PASSWORD, assert_error_shape


def _login(client, username="rome", password=PASSWORD):
    return client.post("/api/v1/login", json={"username": username, "password": password})


def form_login(client, username="rome", password=PASSWORD, **kwargs):
    """Log in through the login page: its form carries the login token that ``GET /login`` set."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password}, **kwargs)


def test_a_user_logs_in_with_the_right_password_only(web):
    client = web.client()
    assert_error_shape(_login(client, password="wrong password!"), 401)
    assert_error_shape(_login(client, username="nobody"), 401)
    ok = _login(client)
    assert ok.status_code == 200
    assert ok.json()["user"]["username"] == "rome" and len(ok.json()["csrf_token"]) > 30
    assert client.get("/api/v1/me").status_code == 200


def test_passwords_are_stored_as_argon2id_hashes_only(web):
    import sqlalchemy as sa

    from cnotrack.store.schema import users as users_table

    with web.store.engine.connect() as conn:
        hashes = conn.execute(sa.select(users_table.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_over_https(web):
    plain = _login(web.client()).headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    secure = _login(web.client(https=True)).headers["set-cookie"].lower()
    assert "httponly" in secure and "samesite=lax" in secure and "secure" in secure


def test_a_logged_out_session_cookie_no_longer_works_even_where_it_was_copied(web):
    client = web.client("rome")
    cookie = client.cookies.get("cnotrack_session")
    assert client.post("/api/v1/logout").status_code == 204
    thief = web.client()
    thief.cookies.set("cnotrack_session", cookie)
    assert_error_shape(thief.get("/api/v1/me"), 401)


def test_a_disabled_user_cannot_log_in_and_their_sessions_end(web):
    client = web.client("genoa")
    users.set_user_disabled(web.store, "genoa")
    assert_error_shape(client.get("/api/v1/me"), 401)
    assert_error_shape(_login(web.client(), "genoa"), 401)


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/patients", {"patient_id": "R9", "sex": "F"}),
    ("PUT", "/api/v1/patients/1", {"patient_id": "R1", "sex": "F", "version": 1}),
    ("DELETE", "/api/v1/patients/1", None),
    ("POST", "/api/v1/logout", None),
])
def test_a_state_changing_api_request_without_the_csrf_token_gets_403(web, method, path, body):
    client = web.client("admin")
    token = client.headers.pop("X-CSRF-Token")
    error = assert_error_shape(client.request(method, path, json=body), 403)
    assert error["code"] == "csrf_token_missing"
    client.headers["X-CSRF-Token"] = "not-the-token"
    assert_error_shape(client.request(method, path, json=body), 403)
    client.headers["X-CSRF-Token"] = token
    assert client.get("/api/v1/me").status_code == 200  # the session itself still works


def test_a_form_post_without_the_csrf_field_gets_403_and_with_it_succeeds(web):
    client = web.client("rome")
    token = client.headers.pop("X-CSRF-Token")
    form = {"patient_id": "R7", "sex": "F"}
    refused = client.post("/records/patients/new", data=form, follow_redirects=False)
    assert refused.status_code == 403 and "csrf" in refused.text.lower()
    done = client.post("/records/patients/new", data={**form, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303


def test_five_failed_logins_for_a_user_then_429_until_a_minute_has_passed(web):
    for address in range(5):  # from different addresses: the username alone is counted
        client = web.client(address=f"10.0.0.{address}")
        assert_error_shape(_login(client, password="wrong password!"), 401)
    blocked = _login(web.client(address="10.0.0.9"))  # even the right password, from elsewhere
    error = assert_error_shape(blocked, 429)
    assert int(blocked.headers["Retry-After"]) >= 1 and "try again" in error["message"]
    web.clock.advance(59)
    assert_error_shape(_login(web.client()), 429)
    web.clock.advance(2)
    assert _login(web.client()).status_code == 200


def test_five_failed_logins_from_one_address_block_it_for_every_username(web):
    client = web.client()
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert_error_shape(_login(client, username=name, password="wrong password!"), 401)
    assert_error_shape(_login(client, username="admin"), 429)
    page = form_login(client, "admin")
    assert page.status_code == 429 and "try again" in page.text and int(page.headers["Retry-After"]) >= 1


def test_four_failures_then_success_is_not_throttled(web):
    client = web.client()
    for _ in range(4):
        assert_error_shape(_login(client, password="wrong password!"), 401)
    assert _login(client).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/patients", "/login", "/", "/static/app.css",
                                  "/openapi.json", "/api/v1/nope", "/nope"])
def test_every_response_carries_the_security_headers(web, path):
    response = web.client().get(path, follow_redirects=False)
    for name, value in SECURITY_HEADERS.items():
        if name == "Cache-Control" and path.startswith("/static/"):
            continue
        assert response.headers.get(name) == value, (path, name)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_https_responses_ask_for_https_from_then_on(web):
    assert "max-age" in web.client(https=True).get("/login").headers["Strict-Transport-Security"]


def test_the_log_has_method_path_and_status_but_no_body_or_query(web, caplog):
    client = web.client("admin")
    with caplog.at_level(logging.INFO, logger="cnotrack.web"):
        client.post("/api/v1/patients", json={"patient_id": "SECRET-ID-42", "sex": "F", "center": "Secretville"})
        client.get("/api/v1/patients", params={"patient_id": "SECRET-ID-42"})
        client.post("/api/v1/login", json={"username": "admin", "password": "wrong password!"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /api/v1/patients 201" in text and "GET /api/v1/patients 200" in text
    assert "SECRET" not in text and "Secretville" not in text and "wrong password" not in text


def test_pages_redirect_to_login_when_not_logged_in(web):
    for path in ("/", "/patients/1", "/evaluation", "/audit", "/import", "/records/patients/new", "/imaging/1"):
        response = web.client().get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_add_user_refuses_short_passwords_taken_names_and_centerless_investigators(web):
    with pytest.raises(UserError, match="at least 12"):
        users.add_user(web.store, "newbie", "short", "viewer", "Rome")
    with pytest.raises(UserError, match="empty"):
        users.add_user(web.store, "newbie", "   ", "viewer", "Rome")
    with pytest.raises(UserError, match="taken"):
        users.add_user(web.store, "rome", PASSWORD, "viewer", "Rome")
    with pytest.raises(UserError, match="--center"):
        users.add_user(web.store, "newbie", PASSWORD, "investigator")
    with pytest.raises(UserError, match="unknown role"):
        users.add_user(web.store, "newbie", PASSWORD, "superuser")
    assert users.authenticate(web.store, "rome", PASSWORD).center == "Rome"
    assert users.authenticate(web.store, "rome", PASSWORD + "x") is None


def test_cnotrack_users_add_reads_the_password_from_stdin(tmp_path):
    db = f"sqlite:///{tmp_path / 'users.db'}"
    cli = [str(Path(sys.executable).parent / "cnotrack")]

    def run(*args, stdin=""):
        return subprocess.run([*cli, *args, "--db", db], input=stdin, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})

    short = run("users", "add", "chief", "--role", "admin", "--password-stdin", stdin="too short\n")
    assert short.returncode == 1 and "at least 12" in short.stderr
    empty = run("users", "add", "chief", "--role", "admin", "--password-stdin", stdin="")
    assert empty.returncode == 1 and "empty" in empty.stderr
    ok = run("users", "add", "chief", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    listed = run("users", "list")
    assert "chief" in listed.stdout and "admin" in listed.stdout
    from cnotrack.store import open_store

    with open_store(db) as store:
        assert users.authenticate(store, "chief", PASSWORD).is_admin
