"""Lists that grow with the registry are paged and sorted in the database: the cohort list of the
dashboard, the API's record lists, the audit trail and the users. Pages tile the list (no row
twice, none missed), sort keys come from a whitelist (anything else is refused with a message,
never put into SQL), and page sizes are bounded whatever the request asks."""

from __future__ import annotations

import re

import polars as pl
import pytest

from cnotrack import records
from cnotrack.store import import_dataset
from cnotrack.synth import synthesize_registry
from cnotrack.web.listing import MAX_API_LIMIT, MAX_PAGE_SIZE
from cnotrack.web.timeline import completeness_rows

from .conftest import assert_error_shape

HOSTILE_SORTS = ["patient_id; DROP TABLE patients", "(select 1)", "-", "password_hash", "sex desc", "-id'--"]


@pytest.fixture
def registry(web):
    """The seeded patients and 60 synthetic ones, the first 30 of Rome and the others of Genoa."""
    dataset = synthesize_registry(60, 7)
    centers = pl.Series(["Rome"] * 30 + ["Genoa"] * 30)
    dataset.tables["patients"] = dataset.patients.with_columns(center=centers)
    import_dataset(dataset, web.store)
    return web


def _rows(page: str) -> list[list[str]]:
    """The cells of the patient table of a dashboard page, as text."""
    body = page.split('id="patients"')[1].split("<tbody>")[1].split("</tbody>")[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _all_pages(client, size: int, sort: str) -> list[list[str]]:
    out, number = [], 1
    while True:
        page = client.get("/", params={"page": number, "size": size, "sort": sort})
        assert page.status_code == 200, page.text
        rows = _rows(page.text)
        assert len(rows) <= size
        out += rows
        if f'page={number + 1}&amp;' not in page.text:
            return out
        number += 1


@pytest.mark.parametrize("username", ["admin", "rome", "viewer"])
def test_the_dashboards_pages_tile_the_cohort_list_that_the_dataset_gives(registry, username):
    user = registry.accounts[username]
    expected = completeness_rows(records.visible_dataset(registry.store, user))  # independent: in Python
    rows = _all_pages(registry.client(username), 7, "patient_id")
    assert [r[0] for r in rows] == [e["patient_id"] for e in expected]
    for row, e in zip(rows, expected):
        counts = [str(e["counts"].get(t, 0)) for t in ("treatments", "assessments", "labs", "imaging", "lesions",
                                                         "adverse_events")]
        assert row[3:9] == counts, e["patient_id"]
        assert row[9].startswith(f"{e['complete_percent']}%"), e["patient_id"]


def test_the_dashboard_sorts_by_a_column_in_both_orders_with_empty_values_last(registry):
    client = registry.client("admin")
    patients = records.visible_dataset(registry.store, registry.accounts["admin"]).patients
    for sort, descending in (("center", False), ("-center", True)):
        rows = _all_pages(client, 11, sort)
        centers = [r[2] or None for r in rows]
        present = [c for c in centers if c is not None]
        assert present == sorted(present, reverse=descending)
        assert centers[len(present):] == [None] * patients["center"].null_count()
        assert len(rows) == patients.height and len({r[0] for r in rows}) == patients.height


def test_the_dashboard_shows_one_bounded_page_and_its_total(registry):
    client = registry.client("rome")
    page = client.get("/", params={"size": 10, "page": 2}).text
    assert len(_rows(page)) == 10
    assert 'data-total="32"' in page and 'data-page="2"' in page  # 30 synthetic + R1, R2
    assert "11–20 shown, page 2 of 4" in page
    past = client.get("/", params={"size": 10, "page": 99}).text  # past the last: the last
    assert len(_rows(past)) == 2 and 'data-page="4"' in past
    assert_error_shape(client.get("/api/v1/patients", params={"limit": MAX_API_LIMIT + 1}), 422)
    assert client.get("/", params={"size": MAX_PAGE_SIZE + 1}).status_code == 422


def test_an_htmx_request_for_another_page_gets_the_list_alone(registry):
    client = registry.client("admin")
    part = client.get("/", params={"page": 2, "size": 5}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<section class="card wide" id="patient-list">')
    assert "<html" not in part.text and "endpoint-" not in part.text
    assert 'hx-get="/?page=3&amp;size=5&amp;sort=patient_id"' in part.text


@pytest.mark.parametrize("sort", HOSTILE_SORTS)
def test_a_hostile_sort_is_refused_with_a_message_and_never_reaches_the_database(web, sort):
    client = web.client("admin")
    page = client.get("/", params={"sort": sort})
    assert page.status_code == 422 and "cannot sort by" in page.text and "patient_id, sex, center" in page.text
    error = assert_error_shape(client.get("/api/v1/patients", params={"sort": sort}), 422)
    assert "cannot sort by" in error["message"] and error["details"][0]["column"] == "sort"
    assert_error_shape(client.get("/api/v1/users", params={"sort": sort}), 422)
    assert len(client.get("/api/v1/patients", params={"limit": 1000}).json()["items"]) == 4  # all still there


def test_an_api_list_pages_and_sorts_in_the_database_with_its_total(registry):
    client = registry.client("rome")
    everything = client.get("/api/v1/labs", params={"limit": 1000, "sort": "-value"}).json()
    assert everything["total"] == len(everything["items"]) and everything["sort"] == "-value"
    values = [r["value"] for r in everything["items"] if r["value"] is not None]
    assert values == sorted(values, reverse=True)
    pages = [client.get("/api/v1/labs", params={"limit": 25, "offset": o, "sort": "-value"}).json()
             for o in range(0, everything["total"], 25)]
    assert [r["id"] for p in pages for r in p["items"]] == [r["id"] for r in everything["items"]]
    assert {p["total"] for p in pages} == {everything["total"]}
    centers = {r["patient_id"] for r in everything["items"]}
    assert all(pid.startswith("R") or pid in _rome_ids(registry) for pid in centers)


def _rome_ids(web) -> set[str]:
    return set(records.visible_patient_ids(web.store, web.accounts["rome"]))


def test_the_audit_trail_is_read_a_page_at_a_time(registry):
    client = registry.client("admin")
    first, second = (client.get("/audit", params={"table": "patients", "size": 3, "page": n}).text for n in (1, 2))
    ids = [re.findall(r'record_id=(\d+)">patients', page) for page in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 3 and not set(ids[0]) & set(ids[1])
    assert "page=2" in first and "older" in first and "newer" in second
    assert client.get("/audit", params={"size": MAX_PAGE_SIZE + 1}).status_code == 422


def test_the_users_are_listed_a_page_at_a_time_in_a_whitelisted_order(registry):
    client = registry.client("admin")
    by_role = client.get("/api/v1/users", params={"sort": "role"}).json()
    assert [u["role"] for u in by_role] == sorted(u["role"] for u in by_role)
    two = client.get("/api/v1/users", params={"sort": "-username", "limit": 2, "offset": 1}).json()
    names = [u["username"] for u in client.get("/api/v1/users", params={"sort": "-username"}).json()]
    assert [u["username"] for u in two] == names[1:3]
