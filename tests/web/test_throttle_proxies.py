"""Throttling that proxies cannot fool, and logging in protected from cross-site requests
(issue 9, item 9): ``X-Forwarded-For`` is believed only from the proxies the operator names,
on the real server (uvicorn) as in-process; the form login needs its login token; the JSON
login takes JSON only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cnotrack.errors import UserError
from cnotrack.web import create_app
from cnotrack.web.server import parse_forwarded_allow_ips

from .conftest import PASSWORD, assert_error_shape
from .live import live_server


def _fail(client, i: int, **headers):
    return client.post("/api/v1/login", json={"username": f"guess{i}", "password": "wrong password!"},
                       headers=headers)


def _six_failures_from_forged_addresses(client) -> list[int]:
    return [_fail(client, i, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(6)]


# ---- forwarded headers -------------------------------------------------------------------------

def test_by_default_x_forwarded_for_is_ignored_and_the_peer_address_is_throttled(web):
    client = web.client(address="127.0.0.1")
    assert _six_failures_from_forged_addresses(client) == [401] * 5 + [429]


def test_x_forwarded_for_is_believed_from_a_listed_proxy_only(web):
    app = create_app(store=web.store, clock=web.clock, forwarded_allow_ips=["127.0.0.1", "10.9.0.0/16"])
    proxy = TestClient(app, client=("127.0.0.1", 50000))
    assert _six_failures_from_forged_addresses(proxy) == [401] * 6  # six different clients behind the proxy
    network_proxy = TestClient(app, client=("10.9.3.4", 50000))
    assert _fail(network_proxy, 9, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 401
    stranger = TestClient(app, client=("192.0.2.50", 50000))
    assert _six_failures_from_forged_addresses(stranger) == [401] * 5 + [429]


def test_the_secure_cookie_follows_x_forwarded_proto_only_from_a_listed_proxy(web):
    body = {"username": "rome", "password": PASSWORD}
    plain = TestClient(web.app, client=("127.0.0.1", 50000))
    cookie = plain.post("/api/v1/login", json=body, headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "secure" not in cookie.lower()
    app = create_app(store=web.store, clock=web.clock, forwarded_allow_ips=["127.0.0.1"])
    proxied = TestClient(app, client=("127.0.0.1", 50000))
    cookie = proxied.post("/api/v1/login", json=body, headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "secure" in cookie.lower()


@pytest.mark.parametrize("value", ["*", "localhost", "10.0.0.1,,nonsense", "300.1.1.1"])
def test_forwarded_allow_ips_takes_ip_addresses_and_networks_only(value):
    with pytest.raises(UserError, match="--forwarded-allow-ips"):
        parse_forwarded_allow_ips(value)


def test_forwarded_allow_ips_lists_addresses_and_networks():
    assert parse_forwarded_allow_ips(" 127.0.0.1, ::1,10.0.0.0/8 ") == ["127.0.0.1", "::1", "10.0.0.0/8"]
    assert parse_forwarded_allow_ips(None) == [] and parse_forwarded_allow_ips("") == []


def test_cnotrack_serve_takes_the_proxies_from_the_option_or_the_environment(web, monkeypatch):
    from cnotrack.cli import app

    calls = []
    monkeypatch.setattr("cnotrack.web.serve", lambda *a, **k: calls.append(k))
    runner = CliRunner()
    db = ["--db", web.store.url]
    assert runner.invoke(app, ["serve", *db, "--idle-timeout", "10"],
                         env={"CNOTRACK_FORWARDED_ALLOW_IPS": ""}).exit_code == 0
    assert calls[-1]["forwarded_allow_ips"] == [] and calls[-1]["idle_timeout"].total_seconds() == 600
    assert runner.invoke(app, ["serve", *db], env={"CNOTRACK_FORWARDED_ALLOW_IPS": "10.0.0.2"}).exit_code == 0
    assert calls[-1]["forwarded_allow_ips"] == ["10.0.0.2"] and calls[-1]["idle_timeout"].total_seconds() == 1800
    assert runner.invoke(app, ["serve", *db, "--forwarded-allow-ips", "127.0.0.1,::1"]).exit_code == 0
    assert calls[-1]["forwarded_allow_ips"] == ["127.0.0.1", "::1"]
    refused = runner.invoke(app, ["serve", *db, "--forwarded-allow-ips", "*"])
    assert refused.exit_code != 0 and len(calls) == 3


def test_the_real_server_ignores_x_forwarded_for_unless_told_whom_to_trust(web):
    with live_server(web.store.url) as server, server.client() as client:
        assert _six_failures_from_forged_addresses(client) == [401] * 5 + [429]
        assert "trusting X-Forwarded-For from nobody" in server.log
    with live_server(web.store.url, "--forwarded-allow-ips", "127.0.0.1") as server, server.client() as client:
        assert _six_failures_from_forged_addresses(client) == [401] * 6
        assert "trusting X-Forwarded-For from 127.0.0.1" in server.log
        assert client.post("/api/v1/login", json={"username": "rome", "password": PASSWORD}).status_code == 200


# ---- login CSRF --------------------------------------------------------------------------------

def _login_token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_a_form_login_without_its_login_token_is_refused_and_counts_for_nothing(web):
    client = web.client()
    for _ in range(6):
        refused = client.post("/login", data={"username": "rome", "password": PASSWORD}, follow_redirects=False)
        assert refused.status_code == 403 and "login form" in refused.text
        assert "cnotrack_session" not in refused.headers.get("set-cookie", "")
    token = _login_token(client)
    ok = client.post("/login", data={"csrf_token": token, "username": "rome", "password": PASSWORD},
                     follow_redirects=False)
    assert ok.status_code == 303 and "cnotrack_session" in ok.headers["set-cookie"]


def test_a_cross_site_page_cannot_log_a_browser_in_with_a_token_of_its_own(web):
    attacker = web.client()
    token = _login_token(attacker)  # the attacker's own login page: its token and its cookie
    victim = web.client()
    forged = {"csrf_token": token, "username": "rome", "password": PASSWORD}
    assert victim.post("/login", data=forged, follow_redirects=False).status_code == 403
    victim.get("/login")  # the victim's own cookie does not match the attacker's token
    assert victim.post("/login", data=forged, follow_redirects=False).status_code == 403
    planted_cookie = web.client()
    planted_cookie.cookies.set("cnotrack_login", "x" * 43, path="/login")  # a cookie planted with a guessed field
    assert planted_cookie.post("/login", data={**forged, "csrf_token": "x" * 43},
                               follow_redirects=False).status_code == 403
    cookie = attacker.get("/login").headers["set-cookie"].lower()  # not readable by scripts, not sent cross-site
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/login" in cookie


def test_a_failed_form_login_shows_the_form_again_with_a_working_token(web):
    client = web.client()
    token = _login_token(client)
    wrong = client.post("/login", data={"csrf_token": token, "username": "rome", "password": "nope nope nope"})
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    again = re.search(r'name="csrf_token" value="([^"]+)"', wrong.text).group(1)
    assert client.post("/login", data={"csrf_token": again, "username": "rome", "password": PASSWORD},
                       follow_redirects=False).status_code == 303


@pytest.mark.parametrize("headers,content", [
    ({"Content-Type": "text/plain"}, b'{"username": "rome", "password": "%s"}'),
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"username=rome&password=%s"),
    ({"Content-Type": "multipart/form-data; boundary=x"}, b'{"username": "rome", "password": "%s"}'),
    ({}, b'{"username": "rome", "password": "%s"}'),  # a fetch() of a Blob sends no Content-Type
])
def test_the_json_login_refuses_what_a_cross_site_form_or_simple_request_can_send(web, headers, content):
    client = web.client()
    body = content.replace(b"%s", PASSWORD.encode())
    response = client.post("/api/v1/login", content=body, headers=headers)
    assert assert_error_shape(response, 415)["code"] == "unsupported_media_type"
    assert "cnotrack_session" not in response.headers.get("set-cookie", "")


def test_the_json_login_takes_application_json_with_a_charset(web):
    response = web.client().post("/api/v1/login", content=f'{{"username": "rome", "password": "{PASSWORD}"}}',
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200
