"""Schemathesis against /openapi.json, logged in as an admin: no request, valid or not, gets a
server error, and every error keeps the one shape. A bounded number of examples per operation
keeps it fast; logging out is left out (it would end the session the other requests use)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import PASSWORD, assert_error_shape


@pytest.fixture
def api_schema(web):
    return schemathesis.openapi.from_asgi("/openapi.json", web.app)


@pytest.fixture
def admin_session(web) -> dict[str, dict[str, str]]:
    client = web.client()
    login = client.post("/api/v1/login", json={"username": "admin", "password": PASSWORD})
    return {"headers": {"X-CSRF-Token": login.json()["csrf_token"]},
            "cookies": {"cnotrack_session": client.cookies["cnotrack_session"]}}


def test_no_request_to_the_api_gets_a_server_error(api_schema, admin_session):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    statuses: list[int] = []
    for operation in operations:
        if operation.path == "/api/v1/logout":
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=admin_session["headers"], cookies=admin_session["cookies"])
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            if response.status_code >= 400:
                assert_error_shape(response)

        check()
    # the requests were made, logged in: some succeeded, some were refused
    assert len(statuses) > 150
    assert sum(200 <= s < 300 for s in statuses) > 50 and sum(400 <= s < 500 for s in statuses) > 50
