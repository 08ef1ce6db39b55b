"""Server time of the web application's pages on a database, measured in process.

``python bench/web_timing.py DB_URL USERNAME --repeats 5`` (the password in ``$CNOTRACK_BENCH_PASSWORD``)
builds the application over the database (``cnotrack.web.create_app``), logs the user in through
``POST /api/v1/login`` with Starlette's ``TestClient`` (no network, no server process), then asks
each page of :data:`PAGES` once (the first request, which may fill a cache of the evaluation)
and ``--repeats`` times more; each request's time is the wall time of ``client.get`` in this
process (the application's work plus the ASGI round trip in memory, a millisecond or so). It
prints JSON: per page the status, the size of the answer, the first request's seconds and the
later requests' best and median seconds, and the median CPU seconds of the later requests
(``time.process_time`` of this process, every thread: the work itself, which other processes
competing for the cores do not lengthen as they lengthen the wall time).
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
#: for it (htmx: the list alone), a search as typed (htmx), filters (drug and eligibility, sorted
#: by a count, whole page), the patient list of the JSON API, and a patient's page
#: (``{patient}``: the record id of the first patient of the API's list, the one with the
#: most records per table is not chosen on purpose; any patient of the registry)
PAGES = {"dashboard": ("/", {}),
         "patient list, page 50": ("/?page=50", {"HX-Request": "true"}),
         "search as typed": ("/?q=ana&sort=-completeness", {"HX-Request": "true"}),
         "filtered, sorted by a count": ("/?drug=pamidronate&eligibility=eligible&sort=-lesions&page=2", {}),
         "patient list (API)": ("/api/v1/patients", {}),
         "patient page": ("/patients/{patient}", {})}


def page_times(url: str, username: str, password: str, repeats: int = 5) -> dict[str, dict]:
    """Per page of :data:`PAGES`: status, bytes, first request and later requests in seconds."""
    from starlette.testclient import TestClient

    from cnotrack.web import create_app

    client = TestClient(create_app(url))
    login = client.post("/api/v1/login", json={"username": username, "password": password})
    if login.status_code != 200:
        raise SystemExit(f"login as {username} failed: {login.status_code} {login.text[:200]}")
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    listed = client.get("/api/v1/patients", params={"limit": 1})
    if listed.status_code != 200 or not listed.json()["items"]:
        raise SystemExit(f"no patient to time the patient page on: {listed.status_code} {listed.text[:200]}")
    patient = listed.json()["items"][0]["id"]
    out = {}
    for name, (path, headers) in PAGES.items():
        path = path.format(patient=patient)
        times, cpu = [], []
        for _ in range(repeats + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        out[name] = {"path": path, "status": response.status_code, "bytes": len(response.content),
                     "first": times[0], "best": min(times[1:]), "median": statistics.median(times[1:]),
                     "cpu_median": statistics.median(cpu[1:])}
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
