"""Accounts have a lifecycle in the web application (issue 9, item 8): admins disable, enable,
reset, re-role and delete users (API and pages); everyone changes their own password; sessions
end with these changes and after the idle timeout; usernames are case-insensitive; sign-ins,
user changes and downloads are security events that only admins see."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from cnotrack.web import create_app

from .conftest import PASSWORD, assert_error_shape

NEW = "seven lanterns drift over marble stairs"


def _csrf(client, path="/") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _events(web, action=None):
    """The security events since the fixture's users were made, newest first (read through the
    library: an admin's login for the API would be one more)."""
    from cnotrack.security_log import security_events

    events = security_events(web.store, web.accounts["admin"], action=action, limit=0)
    return [e for e in events if e["actor"] != "cli"]


def test_the_security_events_api_lists_them_newest_first_for_admins(web):
    web.client().post("/api/v1/login", json={"username": "rome", "password": "wrong password!"})
    admin = web.client("admin")
    events = admin.get("/api/v1/users/events").json()
    assert [(e["action"], e["actor"]) for e in events[:2]] == [("login", "admin"), ("login_failed", "rome")]
    only = admin.get("/api/v1/users/events", params={"action": "login_failed", "limit": 1}).json()
    assert len(only) == 1 and only[0]["record_id"] == web.accounts["rome"].id
    assert_error_shape(admin.get("/api/v1/users/events", params={"action": "nonsense"}), 422)


# ---- admins manage users: API ------------------------------------------------------------------

def test_an_admin_disables_and_enables_a_user_through_the_api_and_their_sessions_end(web):
    genoa = web.client("genoa")
    admin = web.client("admin")
    disabled = admin.post("/api/v1/users/GENOA/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert_error_shape(genoa.get("/api/v1/me"), 401)
    assert_error_shape(web.client().post("/api/v1/login", json={"username": "genoa", "password": PASSWORD}), 401)
    assert admin.post("/api/v1/users/genoa/enable").json()["disabled"] is False
    assert web.client("genoa").get("/api/v1/me").status_code == 200


def test_an_admin_resets_a_password_and_the_users_sessions_end(web):
    rome = web.client("rome")
    admin = web.client("admin")
    weak = assert_error_shape(admin.post("/api/v1/users/rome/password", json={"password": "password1234"}), 422)
    assert "too easy to guess" in weak["message"]
    assert admin.post("/api/v1/users/rome/password", json={"password": NEW}).status_code == 200
    assert_error_shape(rome.get("/api/v1/me"), 401)
    assert web.client().post("/api/v1/login", json={"username": "rome", "password": NEW}).status_code == 200


def test_an_admin_changes_a_role_and_deletes_a_user_whose_name_stays_reserved(web):
    admin = web.client("admin")
    viewer = web.client("viewer")
    changed = admin.patch("/api/v1/users/viewer", json={"role": "investigator", "center": "Genoa"})
    assert changed.status_code == 200 and changed.json()["center"] == "Genoa"
    assert viewer.get("/api/v1/me").json()["role"] == "investigator"  # at the next request
    assert admin.delete("/api/v1/users/Viewer").status_code == 204
    assert_error_shape(viewer.get("/api/v1/me"), 401)
    assert_error_shape(admin.delete("/api/v1/users/viewer"), 404)
    again = admin.post("/api/v1/users", json={"username": "VIEWER", "password": NEW, "role": "viewer",
                                              "center": "Rome"})
    assert "never reused" in assert_error_shape(again, 422)["message"]
    listed = {u["username"]: u for u in admin.get("/api/v1/users").json()}
    assert listed["viewer"]["deleted"] is True


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/users/genoa/disable", None), ("POST", "/api/v1/users/genoa/enable", None),
    ("POST", "/api/v1/users/genoa/password", {"password": NEW}), ("PATCH", "/api/v1/users/genoa", {"role": "viewer"}),
    ("DELETE", "/api/v1/users/genoa", None), ("GET", "/api/v1/users/events", None)])
def test_only_admins_manage_users_and_only_with_the_csrf_token(web, method, path, body):
    for name in ("rome", "viewer"):
        assert_error_shape(web.client(name).request(method, path, json=body), 403)
    assert_error_shape(web.client().request(method, path, json=body), 401)
    if method != "GET":
        admin = web.client("admin")
        admin.headers.pop("X-CSRF-Token")
        assert assert_error_shape(admin.request(method, path, json=body), 403)["code"] == "csrf_token_missing"
    assert web.client("genoa").get("/api/v1/me").status_code == 200  # nothing happened to genoa


def test_the_last_admin_cannot_disable_or_delete_themselves(web):
    admin = web.client("admin")
    assert "last enabled admin" in assert_error_shape(admin.post("/api/v1/users/admin/disable"), 422)["message"]
    assert_error_shape(admin.delete("/api/v1/users/admin"), 422)
    assert admin.get("/api/v1/me").status_code == 200


# ---- admins manage users: pages ----------------------------------------------------------------

def test_an_admin_manages_a_user_on_the_pages_and_deleting_needs_confirmation(web):
    admin = web.client("admin")
    genoa = web.client("genoa")
    page = admin.get("/users")
    assert "/users/genoa/edit" in page.text and "/users/genoa/delete" in page.text
    token = _csrf(admin, "/users")
    assert admin.post("/users/genoa/disable", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert_error_shape(genoa.get("/api/v1/me"), 401)
    assert admin.post("/users/genoa/enable", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    edit = admin.get("/users/genoa/edit")
    assert edit.status_code == 200 and 'action="/users/genoa/password"' in edit.text
    weak = admin.post("/users/genoa/password", data={"csrf_token": token, "password": "password1234"})
    assert weak.status_code == 422 and "too easy to guess" in weak.text
    assert admin.post("/users/genoa/password", data={"csrf_token": token, "password": NEW},
                      follow_redirects=False).status_code == 303
    role = admin.post("/users/genoa/role", data={"csrf_token": token, "role": "viewer", "center": "Genoa"},
                      follow_redirects=False)
    assert role.status_code == 303
    confirm = admin.get("/users/genoa/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    unconfirmed = admin.post("/users/genoa/delete", data={"csrf_token": token, "confirm": "rome"})
    assert unconfirmed.status_code == 422 and "nothing was deleted" in unconfirmed.text
    no_csrf = admin.post("/users/genoa/delete", data={"confirm": "genoa"}, headers={"X-CSRF-Token": ""})
    assert no_csrf.status_code == 403
    assert web.client().post("/api/v1/login", json={"username": "genoa", "password": NEW}).status_code == 200
    done = admin.post("/users/genoa/delete", data={"csrf_token": token, "confirm": "Genoa"}, follow_redirects=False)
    assert done.status_code == 303
    assert "deleted" in admin.get("/users").text
    assert web.client("rome").get("/users/genoa/edit").status_code == 403


def test_the_security_events_page_is_for_admins(web):
    web.client().post("/api/v1/login", json={"username": "rome", "password": "wrong password!"})
    page = web.client("admin").get("/users/events")
    assert page.status_code == 200 and "login failed" in page.text and "wrong password" not in page.text
    assert web.client("rome").get("/users/events").status_code == 403


# ---- one's own password ------------------------------------------------------------------------

def test_changing_ones_own_password_ends_the_other_sessions_and_renews_this_one(web):
    here, elsewhere = web.client("rome"), web.client("rome")
    old_cookie = here.cookies.get("cnotrack_session")
    changed = here.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW})
    assert changed.status_code == 200, changed.text
    assert here.cookies.get("cnotrack_session") != old_cookie
    here.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
    assert here.get("/api/v1/me").status_code == 200
    assert here.post("/api/v1/patients", json={"patient_id": "R8", "sex": "F"}).status_code == 201
    assert_error_shape(elsewhere.get("/api/v1/me"), 401)
    thief = web.client()
    thief.cookies.set("cnotrack_session", old_cookie)
    assert_error_shape(thief.get("/api/v1/me"), 401)
    assert web.client().post("/api/v1/login", json={"username": "rome", "password": NEW}).status_code == 200


def test_a_wrong_current_password_is_throttled_like_a_login(web):
    client = web.client("rome")
    for _ in range(5):
        wrong = client.post("/api/v1/me/password", json={"current_password": "not it at all", "new_password": NEW})
        assert assert_error_shape(wrong, 403)["code"] == "wrong_password"
    blocked = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW})
    assert assert_error_shape(blocked, 429) and int(blocked.headers["Retry-After"]) >= 1
    web.clock.advance(61)
    assert client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "password1234"}
                       ).status_code == 422
    assert [e["action"] for e in _events(web)[:2]] == ["locked_out", "login_failed"]


def test_changing_ones_own_password_on_the_page(web):
    client = web.client("viewer")
    assert 'href="/account/password"' in client.get("/").text
    token = _csrf(client, "/account/password")
    differ = client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                    "new_password": NEW, "repeat_password": NEW + "x"})
    assert differ.status_code == 422 and "differ" in differ.text
    wrong = client.post("/account/password", data={"csrf_token": token, "current_password": "nope nope nope",
                                                   "new_password": NEW, "repeat_password": NEW})
    assert wrong.status_code == 403 and "not right" in wrong.text
    done = client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                  "new_password": NEW, "repeat_password": NEW})
    assert done.status_code == 200 and "Your password was changed" in done.text  # still signed in
    assert web.client().post("/api/v1/login", json={"username": "viewer", "password": NEW}).status_code == 200


# ---- sessions: idle and absolute timeouts ------------------------------------------------------

def test_a_session_unused_for_thirty_minutes_ends_and_an_active_one_goes_on(web):
    client = web.client("rome")
    for _ in range(4):  # two hours of requests 29 minutes apart
        web.clock.advance(29 * 60)
        assert client.get("/api/v1/me").status_code == 200
    web.clock.advance(30 * 60 + 1)
    assert_error_shape(client.get("/api/v1/me"), 401)
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_a_session_ends_after_twelve_hours_however_active(web):
    client = web.client("rome")
    for _ in range(35):
        web.clock.advance(20 * 60)
        assert client.get("/api/v1/me").status_code == 200
    web.clock.advance(20 * 60 + 1)  # 12 h and a second
    assert_error_shape(client.get("/api/v1/me"), 401)


def test_the_idle_timeout_is_configurable(web):
    app = create_app(store=web.store, clock=web.clock, idle_timeout=dt.timedelta(minutes=5))
    from fastapi.testclient import TestClient

    client = TestClient(app)
    login = client.post("/api/v1/login", json={"username": "rome", "password": PASSWORD})
    assert login.status_code == 200
    web.clock.advance(4 * 60)
    assert client.get("/api/v1/me").status_code == 200
    web.clock.advance(5 * 60 + 1)
    assert client.get("/api/v1/me").status_code == 401
    with pytest.raises(ValueError, match="idle_timeout"):
        create_app(store=web.store, idle_timeout=dt.timedelta(hours=13))


def test_reading_pages_writes_the_session_at_most_once_a_minute(web):
    client = web.client("rome")
    writes = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE SESSIONS"):
            writes.append(statement)

    sa.event.listen(web.store.engine, "before_cursor_execute", count)
    try:
        for _ in range(10):
            assert client.get("/api/v1/me").status_code == 200
            web.clock.advance(5)
        assert writes == []
        web.clock.advance(15)
        client.get("/api/v1/me")
        client.get("/api/v1/me")
        assert len(writes) == 1
    finally:
        sa.event.remove(web.store.engine, "before_cursor_execute", count)


# ---- case-insensitive names --------------------------------------------------------------------

def test_usernames_are_case_insensitive_in_the_web_application(web):
    client = web.client()
    assert client.post("/api/v1/login", json={"username": "ROME", "password": PASSWORD}).json()["user"]["username"] \
        == "rome"
    taken = web.client("admin").post("/api/v1/users", json={"username": "Genoa", "password": NEW,
                                                            "role": "viewer", "center": "Genoa"})
    assert "taken" in assert_error_shape(taken, 422)["message"]


def test_the_throttle_counts_a_username_in_any_case_as_one(web):
    for i, name in enumerate(("rome", "ROME", "Rome", "rOme", "roMe")):
        web.client(address=f"10.1.0.{i}").post("/api/v1/login", json={"username": name, "password": "wrong password!"})
    assert_error_shape(web.client(address="10.1.0.9").post("/api/v1/login", json={"username": "rome",
                                                                                   "password": PASSWORD}), 429)


# ---- the security events -----------------------------------------------------------------------

def test_logins_failures_lockouts_and_downloads_are_security_events_without_passwords(web):
    anonymous = web.client(address="10.2.0.1")
    anonymous.post("/api/v1/login", json={"username": "rome", "password": "hunter2-wrong-pass"})
    anonymous.post("/api/v1/login", json={"username": "my secret password", "password": "x"})  # typed in the name
    rome = web.client("rome")
    assert rome.get("/evaluation/download", params={"format": "json"}).status_code == 200
    rome.post("/api/v1/logout")
    for _ in range(5):
        web.client(address="10.2.0.2").post("/api/v1/login", json={"username": "genoa", "password": "wrong!"})
    events = _events(web)
    text = str(events)
    assert "hunter2" not in text and "my secret password" not in text and PASSWORD not in text
    seen = [(e["action"], e["actor"]) for e in reversed(events)]
    assert seen[:5] == [("login_failed", "rome"), ("login_failed", "unknown user"), ("login", "rome"),
                        ("download", "rome"), ("logout", "rome")]
    assert seen[-2:] == [("login_failed", "genoa"), ("locked_out", "genoa")]
    failed = next(e for e in events if e["action"] == "login_failed" and e["actor"] == "unknown user")
    assert failed["record_id"] is None and failed["key"] == {} and failed["after"] == {"address": "10.2.0.1"}
    download = next(e for e in events if e["action"] == "download")
    assert download["key"] == {"username": "rome", "protocol": "pardeo2017", "format": "json"}
    assert download["table"] == "reports"


def test_user_changes_made_on_the_web_name_the_admin_who_made_them(web):
    admin = web.client("admin")
    admin.post("/api/v1/users", json={"username": "milan", "password": NEW, "role": "viewer", "center": "Milan"})
    admin.post("/api/v1/users/milan/disable")
    events = _events(web)
    assert [(e["action"], e["actor"], e["key"]) for e in events if e["table"] == "users"] == [
        ("disable", "admin", {"username": "milan"}), ("add", "admin", {"username": "milan"})]


def test_non_admins_never_see_security_events_in_the_audit_trail(web):
    web.client().post("/api/v1/login", json={"username": "rome", "password": "wrong password!"})
    web.client("admin").post("/api/v1/users/genoa/disable")
    for name in ("rome", "viewer"):
        client = web.client(name)
        trail = client.get("/api/v1/audit").json()["items"]
        assert trail and all(e["table"] not in ("users", "sessions", "reports") for e in trail)
        page = client.get("/audit")
        assert "login_failed" not in page.text and "unknown user" not in page.text


def test_the_records_audit_trail_of_an_admin_still_answers_alongside_security_events(web):
    web.client().post("/api/v1/login", json={"username": "nobody", "password": "wrong password!"})  # no user id
    admin = web.client("admin")
    admin.get("/evaluation/download", params={"format": "json"})
    trail = admin.get("/api/v1/audit")
    assert trail.status_code == 200, trail.text
    assert all(e["table"] not in ("users", "sessions", "reports") for e in trail.json()["items"])
    assert admin.get("/audit").status_code == 200 and admin.get("/audit/export.csv").status_code == 200
