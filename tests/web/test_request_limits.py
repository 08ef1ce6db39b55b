"""Every request is bounded, signed in or not (issue 9, item 6): a body is counted as it arrives
and stopped with 413 past 1 MB (50 MB for a dataset upload), a form takes files only on the
upload and never more than its limit of fields whoever parses it first, one evaluation at a time
per user on every route that evaluates, and a username is exactly its letters (no final newline)."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from cnotrack.web import limits

from .conftest import PASSWORD, assert_error_shape
from .live import live_server

MB = 1024 * 1024


def _drive(app, method: str, path: str, headers: dict[str, str], chunks) -> tuple[int, int]:
    """Send a chunked body (no Content-Length) straight to the ASGI app; the status answered and
    how many body bytes the app pulled before answering."""
    pulled = 0
    status = 0
    body = iter(chunks)

    async def receive():
        nonlocal pulled
        chunk = next(body, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    return status, pulled


def _endless(first: bytes, size: int, chunk: int = 64 * 1024):
    yield first
    for _ in range(size // chunk):
        yield b"a" * chunk


def test_an_anonymous_json_login_of_60_mb_is_stopped_after_about_1_mb(web):
    status, pulled = _drive(web.app, "POST", "/api/v1/login", {"content-type": "application/json"},
                            _endless(b'{"username": "x", "password": "', 60 * MB))
    assert status == 413 and pulled <= limits.MAX_BODY_BYTES + 128 * 1024


def test_an_anonymous_multipart_login_with_a_big_file_is_stopped_before_1_mb(web):
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    status, pulled = _drive(web.app, "POST", "/login", {"content-type": f"multipart/form-data; boundary={boundary}"},
                            _endless(head, 60 * MB))
    # refused as a file where no file is taken (400), or at the byte limit (413): never read whole
    assert status in (400, 413) and pulled <= limits.MAX_BODY_BYTES + 128 * 1024


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(web):
    client = web.client("viewer")
    response = client.post("/api/v1/patients", content=b"{}", headers={"Content-Type": "application/json",
                                                                        "Content-Length": str(5 * MB)})
    assert_error_shape(response, 413)


def test_a_form_that_is_not_an_upload_takes_no_file(web):
    client = web.client("viewer")
    token = client.headers.pop("X-CSRF-Token")
    response = client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD},
                           files=[("f", ("x.txt", b"hello", "text/plain"))])
    assert response.status_code == 400


def test_an_upload_with_more_files_than_its_limit_is_refused_with_the_token_in_the_form(web):
    client = web.client("admin")
    token = client.headers.pop("X-CSRF-Token")  # a browser sends the token as a form field only
    files = [("files", (f"t{i}.csv", b"patient_id,sex\n", "text/csv")) for i in range(limits.MAX_UPLOAD_FILES + 5)]
    response = client.post("/import", data={"csrf_token": token}, files=files)
    assert response.status_code == 400


def test_the_evaluation_routes_take_one_evaluation_at_a_time_per_user(web):
    rome, genoa = web.accounts["rome"], web.client("genoa")
    client = web.client("rome")
    with web.app.state.report_slots.hold(rome):
        for path in ("/api/v1/evaluation", "/evaluation", "/evaluation/download"):
            refused = client.get(path)
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1, path
        assert genoa.get("/api/v1/evaluation").status_code == 200  # another user is not held up
    assert client.get("/api/v1/evaluation").status_code == 200


@pytest.mark.parametrize("name", ["rome\n", "rome\r", " rome", "ro me", "rome\x00"])
def test_a_username_with_a_line_break_or_space_is_refused(web, name):
    response = web.client("admin").post("/api/v1/users", json={"username": name, "password": PASSWORD,
                                                               "role": "investigator", "center": "Genoa"})
    assert_error_shape(response, 422)


def test_the_real_server_stops_a_chunked_body_past_the_limit(web, tmp_path, seeded_database):
    import shutil

    template, _, _ = seeded_database
    shutil.copyfile(template, tmp_path / "live.db")
    stop = threading.Event()

    def body():
        yield b'{"username": "x", "password": "'
        for _ in range(4 * MB // (64 * 1024)):
            if stop.is_set():
                return
            yield b"a" * (64 * 1024)

    with live_server(f"sqlite:///{tmp_path / 'live.db'}") as server:
        try:
            response = httpx.post(f"{server.base_url}/api/v1/login", content=body(), timeout=30,
                                  headers={"Content-Type": "application/json"})
            assert response.status_code == 413
        except httpx.HTTPError:  # the server may close the connection as it answers 413 mid-body
            pass
        finally:
            stop.set()
        server.wait_for_log("POST /api/v1/login 413")
