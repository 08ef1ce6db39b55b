"""How long the web application takes to answer its pages: for the benchmark, not the tests.

:func:`page_latency` signs in to a fresh application over a database and asks each page
several times in one process (Starlette's ``TestClient``: no network). Per page it reports the
**server time** of the first request and the best of the others, as the application's access
log measures it (from the request's arrival at the middleware to its last byte), and the CPU
seconds of the process meanwhile. The first request of the first page evaluates the cohort;
the others find the evaluation in the cache (``evaluation_cache``), so "cached" is what a
user of a registry waits for every page after the first.

    from cnotrack.web.latency import page_latency
    page_latency("sqlite:////tmp/web/w.db", "chief", "a passphrase of twelve or more characters")
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..store.database import open_store

__all__ = ["DEFAULT_PAGES", "PageLatency", "page_latency"]

#: The pages timed by default: the dashboard (its first page, a later one, sorted), the
#: evaluation page, and an API list.
DEFAULT_PAGES = ("/", "/?page=40&sort=-birth_date", "/evaluation", "/api/v1/patients?limit=100&offset=2000",
                 "/audit")

_MS = re.compile(r" (\d+)ms user=")


@dataclass(frozen=True)
class PageLatency:
    """One page's times, in milliseconds: ``first`` (the first request, which may evaluate),
    ``cached`` (the best of the others), and the process CPU time of each."""

    path: str
    status: int
    first_ms: float
    cached_ms: float
    first_cpu_ms: float
    cached_cpu_ms: float
    bytes: int


class _ServerTimes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = _MS.search(record.getMessage())
        if found:
            self.times.append(float(found.group(1)))


def page_latency(url: str, username: str, password: str, *, pages: Sequence[str] = DEFAULT_PAGES,
                 repeats: int = 3) -> list[PageLatency]:
    """Time ``pages`` (asked in order, ``repeats`` times each) on the database at ``url``,
    signed in as ``username``; see the module."""
    from fastapi.testclient import TestClient

    from .app import create_app

    log = logging.getLogger("cnotrack.web.access")
    handler, level = _ServerTimes(), log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with open_store(url) as store:
            client = TestClient(create_app(store=store))
            login = client.post("/api/v1/login", json={"username": username, "password": password})
            if login.status_code != 200:
                raise ValueError(f"cannot sign in as {username!r}: {login.status_code} {login.text[:200]}")
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            out = []
            for path in pages:
                times, cpu, status, size = [], [], 0, 0
                for _ in range(max(2, repeats)):
                    before = time.process_time()
                    response = client.get(path)
                    cpu.append((time.process_time() - before) * 1000)
                    times.append(handler.times[-1])
                    status, size = response.status_code, len(response.content)
                out.append(PageLatency(path, status, times[0], min(times[1:]), cpu[0], min(cpu[1:]), size))
            return out
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
