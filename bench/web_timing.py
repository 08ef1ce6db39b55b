"""Server time of the web application's pages on a database, measured in process.

``python bench/web_timing.py DB_URL USERNAME --repeats 5`` (the password in ``$CNOTRACK_BENCH_PASSWORD``)
builds the application over the database (``cnotrack.web.create_app``), logs the user in through
``POST /api/v1/login`` with Starlette's ``TestClient`` (no network, no server process), then asks
each page of :data:`PAGES` once (the first request, which may fill a cache of the evaluation)
and ``--repeats`` times more; each request's time is the wall time of ``client.get`` in this
process (the application's work plus the ASGI round trip in memory, a millisecond or so). It
prints JSON: per page the status, the size of the answer, the first request's seconds and the
later requests' best and median seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

__all__ = ["PAGES", "page_times"]

#: the pages the issue's target names, as (path, headers): the dashboard (the cohort's results and
#: the first page of its list of patients), a later page of the patient list as the dashboard asks
#: for it (htmx: the list alone), and the patient list of the JSON API
PAGES = {"dashboard": ("/", {}),
         "patient list, page 50": ("/?page=50", {"HX-Request": "true"}),
         "patient list (API)": ("/api/v1/patients", {})}


def page_times(url: str, username: str, password: str, repeats: int = 5) -> dict[str, dict]:
    """Per page of :data:`PAGES`: status, bytes, first request and later requests in seconds."""
    from starlette.testclient import TestClient

    from cnotrack.web import create_app

    client = TestClient(create_app(url))
    login = client.post("/api/v1/login", json={"username": username, "password": password})
    if login.status_code != 200:
        raise SystemExit(f"login as {username} failed: {login.status_code} {login.text[:200]}")
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    out = {}
    for name, (path, headers) in PAGES.items():
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - start)
        out[name] = {"path": path, "status": response.status_code, "bytes": len(response.content),
                     "first": times[0], "best": min(times[1:]), "median": statistics.median(times[1:])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("username")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    password = os.environ["CNOTRACK_BENCH_PASSWORD"]
    print(json.dumps(page_times(args.url, args.username, password, args.repeats)))


if __name__ == "__main__":
    main()
