"""Report generation in the web application runs at most one at a time per user (issue 9,
item 6): a second concurrent download by the same user gets 429 with Retry-After, never a
queue; other users go on. The report is held back by an event (in-process) or a loopback
socket (the real server), never by sleeping."""

from __future__ import annotations

import socket
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from cnotrack.web import evaluation_pages, services

from .conftest import PASSWORD, assert_error_shape
from .live import live_server

HTML = {"protocol": "pardeo2017", "format": "html"}


@pytest.fixture
def held_reports(monkeypatch):
    """``_report_bytes`` waits until ``release`` is set; ``started`` counts the reports waiting."""
    pytest.importorskip("cnotrack.report")
    started = threading.Semaphore(0)
    release = threading.Event()

    def held(*args, **kwargs):
        started.release()
        assert release.wait(60), "the test never released the report"
        return b"<html>report</html>"

    monkeypatch.setattr(evaluation_pages, "_report_bytes", held)
    yield started, release
    release.set()


def test_a_second_report_of_the_same_user_is_refused_while_the_first_runs(web, held_reports):
    started, release = held_reports
    first, second, other = web.client("rome"), web.client("rome"), web.client("genoa")
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(first.get, "/evaluation/download", params=HTML)
        assert started.acquire(timeout=60)
        refused = second.get("/evaluation/download", params=HTML)  # another session of the same user
        assert refused.status_code == 429 and "one at a time per user" in refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        as_json = second.get("/evaluation/download", params={"format": "json"})
        assert as_json.status_code == 429  # the costly evaluation too, in every format
        elsewhere = pool.submit(other.get, "/evaluation/download", params=HTML)  # another user is not held up
        assert started.acquire(timeout=60)
        release.set()
        assert running.result(timeout=60).status_code == 200
        assert elsewhere.result(timeout=60).status_code == 200
    assert second.get("/evaluation/download", params=HTML).status_code == 200  # the slot is free again


def test_a_report_that_fails_frees_the_users_slot(web, monkeypatch):
    pytest.importorskip("cnotrack.report")

    def broken(*args, **kwargs):
        raise RuntimeError("the report writer broke")

    monkeypatch.setattr(evaluation_pages, "_report_bytes", broken)
    client = web.client("viewer", raise_server_exceptions=False)
    assert client.get("/evaluation/download", params=HTML).status_code == 500
    monkeypatch.undo()
    assert client.get("/evaluation/download", params={"format": "json"}).status_code == 200


def test_simultaneous_downloads_of_one_user_are_served_once_and_refused_at_once(web, monkeypatch):
    """Six requests of one user released together by a barrier: one holds the slot (its
    evaluation waits for the test), the five others are answered 429 without waiting for it."""
    clients = [web.client("rome") for _ in range(6)]
    together = threading.Barrier(6, timeout=60)
    release = threading.Event()
    original = services.evaluate_for  # what the evaluation cache runs on a miss

    def held(*args, **kwargs):
        assert release.wait(60), "the test never released the evaluation"
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "evaluate_for", held)

    def ask(client):
        together.wait()
        return client.get("/evaluation/download", params={"format": "json"})

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(ask, c) for c in clients]
        answered = []
        for future in as_completed(futures, timeout=60):  # the holder cannot finish before the release
            answered.append(future.result().status_code)
            if len(answered) == 5:
                assert answered == [429] * 5
                release.set()
    assert answered == [429] * 5 + [200]


_GATE = textwrap.dedent("""
    import os
    import socket

    _port = os.environ.get("CNOTRACK_TEST_REPORT_GATE")
    if _port:
        import cnotrack.web.evaluation_pages as _pages

        _original = _pages._report_bytes

        def _gated(*args, **kwargs):
            with socket.create_connection(("127.0.0.1", int(_port)), timeout=120) as gate:
                gate.recv(1)
            return _original(*args, **kwargs)

        _pages._report_bytes = _gated
""")


def test_the_real_server_serves_one_report_at_a_time_per_user(web, tmp_path):
    pytest.importorskip("cnotrack.report")
    (tmp_path / "sitecustomize.py").write_text(_GATE)
    gate = socket.create_server(("127.0.0.1", 0))
    gate.settimeout(120)
    env = {"PYTHONPATH": str(tmp_path), "CNOTRACK_TEST_REPORT_GATE": str(gate.getsockname()[1])}
    with gate, live_server(web.store.url, env=env) as server, ThreadPoolExecutor(2) as pool:
        first, second, other = (server.login(name, PASSWORD) for name in ("rome", "rome", "genoa"))
        running = pool.submit(first.get, "/evaluation/download", params=HTML)
        held_first, _ = gate.accept()  # rome's report has started and waits
        refused = second.get("/evaluation/download", params=HTML)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        elsewhere = pool.submit(other.get, "/evaluation/download", params=HTML)
        held_other, _ = gate.accept()  # genoa's report runs beside it
        for held in (held_first, held_other):
            held.sendall(b"x")
            held.close()
        done, done_other = running.result(timeout=120), elsewhere.result(timeout=120)
        assert done.status_code == 200 and "<html" in done.text.lower()
        assert done_other.status_code == 200
        assert "G1" not in done.text and "R1" not in done_other.text
        again = pool.submit(second.get, "/evaluation/download", params=HTML)
        held_again, _ = gate.accept()
        held_again.sendall(b"x")
        held_again.close()
        assert again.result(timeout=120).status_code == 200
        assert_error_shape(second.get("/api/v1/nope"), 404)
