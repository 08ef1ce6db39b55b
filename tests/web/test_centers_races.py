"""Sixteen truly simultaneous identical requests against a real server (uvicorn, its thread
pool), on SQLite and PostgreSQL: one create wins (201), the others get 409, never a 500, and the
database holds one row; sixteen edits racing to one key: one wins, the others get 409."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from cnotrack import users
from cnotrack.exchange.records import validate_record
from cnotrack.exchange.schema import exchange_format
from cnotrack.records import RECORD_TYPES, create_record
from cnotrack.store import open_store
from cnotrack.store.schema import record_table
from conftest import fresh_postgres_url, migrated_sqlite_url, postgres_base_url

from .conftest import PASSWORD, new_values, seed
from .live import live_server

N = 16


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request, tmp_path_factory) -> Iterator[tuple]:
    """A real server over a database with the conftest's users and patients (one per module)."""
    with pytest.MonkeyPatch.context() as patch:
        from argon2 import PasswordHasher

        patch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with (fresh_postgres_url(postgres_base_url()) if request.param == "postgres"
              else _nullcontext(migrated_sqlite_url(tmp_path_factory.mktemp("races")))) as url:
            store = open_store(url)
            admin = users.add_user(store, "admin", PASSWORD, "admin")
            rome = users.add_user(store, "rome", PASSWORD, "investigator", "Rome")
            seed(store, admin)
            with live_server(url) as server:
                yield server, store, admin, rome
            store.close()


class _nullcontext:
    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


def _all_at_once(server, requests) -> list:
    """Send ``requests`` (method, path, json) at the same moment, one logged-in client each."""
    clients = [server.login("rome", PASSWORD) for _ in requests]
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def send(i: int) -> None:
        method, path, body = requests[i]
        barrier.wait(timeout=60)
        answers[i] = clients[i].request(method, path, json=body)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for c in clients:
        c.close()
    return answers


def _rows_with_key(store, table: str, values: dict) -> int:
    """How many rows (live or deleted) hold the natural key of ``values``."""
    typed, problems = validate_record(table, {k: v for k, v in values.items()},
                                      related={"assessments": _visits(store)} if table == "chaq" else None)
    assert not problems and typed is not None, problems
    t = record_table(table)
    query = sa.select(sa.func.count()).select_from(t)
    for k in exchange_format().table(table).key:
        query = query.where(t.c[k].is_(None) if typed[k] is None else t.c[k] == typed[k])
    with store.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def _visits(store):
    import polars as pl

    visits = record_table("assessments")
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(visits.c.patient_id, visits.c.date))]
    return pl.DataFrame(rows, orient="row", schema={"patient_id": pl.String, "date": pl.Date})


@pytest.mark.parametrize("table", RECORD_TYPES)
def test_sixteen_simultaneous_identical_creates_store_one_record_and_answer_one_201_and_fifteen_409(served, table):
    server, store, _, _ = served
    body = new_values(table, "R1", "R2")
    if table == "patients":
        body = {**body, "patient_id": "RACE-NEW"}
    answers = _all_at_once(server, [("POST", f"/api/v1/{table}", body)] * N)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: N - 1}, ({s: n for s, n in statuses.items()},
                                                [a.text[:300] for a in answers if a.status_code not in (201, 409)])
    for loser in (a for a in answers if a.status_code == 409):
        assert loser.json()["error"]["code"] == "conflict"
    assert _rows_with_key(store, table, body) == 1
    assert "Traceback" not in server.log


def test_sixteen_edits_racing_to_one_key_let_one_win_and_answer_409_to_the_others(served):
    server, store, admin, _ = served
    ids = [create_record(store, admin, "labs", {"patient_id": "R2", "date": f"2001-01-{i + 1:02d}", "test": "CRP",
                                                "value": 1, "unit": "mg/L"})["id"] for i in range(N)]
    body = {"patient_id": "R2", "date": "2030-01-01", "test": "CRP", "value": 1, "unit": "mg/L", "version": 1}
    answers = _all_at_once(server, [("PUT", f"/api/v1/labs/{rid}", body) for rid in ids])
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 409: N - 1}, [a.text[:300] for a in answers if a.status_code not in (200, 409)]
    labs = record_table("labs")
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(labs).where(
            labs.c.patient_id == "R2", labs.c.date == dt.date(2030, 1, 1))).scalar_one()
    assert n == 1
