"""Every filter of every list of the API filters: ``?patient_id=``, ``?study_id=`` and
``?center=`` each keep exactly the records with that value, and a value of another center gives
an empty list (not an error that would tell anything)."""

from __future__ import annotations

import pytest

from cnotrack.exchange.schema import exchange_format
from cnotrack.records import RECORD_TYPES

FILTERS = ("patient_id", "study_id", "center")
CASES = [(t, f) for t in RECORD_TYPES for f in FILTERS if f in exchange_format().table(t).column_names]


def test_every_list_has_a_filter_case():
    assert {t for t, _ in CASES} == set(RECORD_TYPES)


@pytest.mark.parametrize(("table", "column"), CASES)
def test_a_list_filter_keeps_exactly_the_records_with_that_value(web, table, column):
    client = web.client("admin")
    everything = client.get(f"/api/v1/{table}", params={"limit": 1000}).json()["items"]
    values = sorted({r[column] for r in everything if r[column] is not None})
    assert len(values) >= 2, values  # the seed has records of both centers
    for value in values:
        filtered = client.get(f"/api/v1/{table}", params={column: value, "limit": 1000})
        assert filtered.status_code == 200, filtered.text
        assert filtered.json()["items"] == [r for r in everything if r[column] == value], (column, value)


@pytest.mark.parametrize(("table", "column"), CASES)
def test_a_list_filter_on_another_centers_value_is_an_empty_list(web, table, column):
    genoa = {"patient_id": "G1", "study_id": "G1-S1", "center": "Genoa"}[column]
    for username in ("rome", "viewer"):
        response = web.client(username).get(f"/api/v1/{table}", params={column: genoa})
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


@pytest.mark.parametrize(("table", "column"), CASES)
def test_a_list_filter_on_a_value_nobody_has_is_an_empty_list(web, table, column):
    response = web.client("admin").get(f"/api/v1/{table}", params={column: "NO-SUCH-VALUE"})
    assert response.status_code == 200 and response.json()["items"] == []


def test_two_filters_together_keep_the_records_with_both_values(web):
    client = web.client("admin")
    both = client.get("/api/v1/imaging", params={"patient_id": "R1", "study_id": "G1-S1"}).json()["items"]
    assert both == []
    one = client.get("/api/v1/imaging", params={"patient_id": "R1", "study_id": "R1-S1"}).json()["items"]
    assert [r["study_id"] for r in one] == ["R1-S1"]


def test_each_filter_is_its_own_query_parameter_in_the_openapi_document(web):
    for table, _ in CASES:
        operation = web.app.openapi()["paths"][f"/api/v1/{table}"]["get"]
        names = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
        assert set(FILTERS) <= set(names), names
