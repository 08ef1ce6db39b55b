"""A busy or unreachable database is a 503 with a generic message, never a 400 that echoes the
store's own message (which may name the database's layout)."""

from __future__ import annotations

from cnotrack import records
from cnotrack.errors import StoreError

from .conftest import assert_error_shape


def test_a_busy_database_answers_503_without_the_stores_message(web, monkeypatch):
    def busy(*args, **kwargs):
        raise StoreError("the database is busy: /srv/secret/cnotrack.db holds a write lock")

    monkeypatch.setattr(records, "list_records", busy)
    response = web.client("rome").get("/api/v1/labs")
    error = assert_error_shape(response, 503)
    assert error["code"] == "unavailable" and response.headers["Retry-After"] == "5"
    assert "/srv/secret" not in response.text and "try again" in error["message"]
