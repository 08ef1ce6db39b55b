"""The evaluation is kept per state of the data (``cnotrack.web.evaluation_cache``): the second
request costs no evaluation, a write by anyone is seen by the next request of anyone, concurrent
requests of one key evaluate once, and no result passes between centers or roles."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from cnotrack.web import services
from cnotrack.web.evaluation_cache import EvaluationCache, scope_of

from .conftest import new_values


@pytest.fixture
def evaluations(monkeypatch):
    """Every evaluation the web computes, as (username, protocol, statistics)."""
    calls: list[tuple[str, str, bool]] = []
    real = services.evaluate_for

    def counted(store, user, protocol, *, statistics=True):
        calls.append((user.username, protocol, statistics))
        return real(store, user, protocol, statistics=statistics)

    monkeypatch.setattr(services, "evaluate_for", counted)
    return calls


def _excluded(client) -> set[str]:
    body = client.get("/api/v1/evaluation", params={"detail": "false"}).json()
    return {row["patient_id"] for row in body["cohort"]["excluded"]}


def test_the_second_request_of_a_page_does_not_evaluate(web, evaluations):
    client = web.client("rome")
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert evaluations == [("rome", "pardeo2017", False)]
    for _ in range(3):
        assert client.get("/evaluation").status_code == 200
        assert client.get("/api/v1/evaluation").status_code == 200
        assert client.get("/evaluation/download", params={"format": "markdown"}).status_code == 200
    assert evaluations == [("rome", "pardeo2017", False), ("rome", "pardeo2017", True)]


def test_users_of_one_scope_share_an_evaluation_and_other_scopes_do_not(web, evaluations):
    for name in ("rome", "genoa", "viewer", "admin"):
        web.client(name).get("/api/v1/evaluation")
    again = web.client("rome")  # another session of an already served scope
    again.get("/api/v1/evaluation")
    assert [c[0] for c in evaluations] == ["rome", "genoa", "viewer", "admin"]


def test_a_write_by_one_user_is_seen_by_the_next_request_of_another(web, evaluations):
    rome, viewer = web.client("rome"), web.client("viewer")
    before = _excluded(viewer)
    assert before == {"R1", "R2"}
    created = rome.post("/api/v1/patients", json={**new_values("patients", "R1", "R2"), "center": "Rome"})
    assert created.status_code == 201, created.text
    assert _excluded(viewer) == {"R1", "R2", "R2-new"}
    dashboard = viewer.get("/").text
    assert "R2-new" in dashboard
    rome.delete(f"/api/v1/patients/{created.json()['id']}")
    assert _excluded(viewer) == {"R1", "R2"}
    assert len([c for c in evaluations if c[0] == "viewer" and c[2]]) == 3  # one per state of the data


def test_an_import_that_changes_nothing_keeps_the_cached_evaluation(web, evaluations):
    from cnotrack.store import import_dataset
    from cnotrack.store.exporter import read_store

    client = web.client("admin")
    client.get("/api/v1/evaluation")
    import_dataset(read_store(web.store), web.store)  # the same data again: nothing written
    client.get("/api/v1/evaluation")
    assert len(evaluations) == 1


def test_concurrent_requests_of_one_scope_evaluate_once(web, monkeypatch):
    release, calls = threading.Event(), []
    real = services.evaluate_for

    def held(store, user, protocol, *, statistics=True):
        calls.append(user.username)
        assert release.wait(60), "the test never released the evaluation"
        return real(store, user, protocol, statistics=statistics)

    monkeypatch.setattr(services, "evaluate_for", held)
    clients = [web.client("rome") for _ in range(5)]
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(c.get, "/") for c in clients]
        while not calls:  # the first request is evaluating; the others wait for it
            threading.Event().wait(0.01)
        release.set()
        pages = [f.result(timeout=60) for f in futures]
    assert [p.status_code for p in pages] == [200] * 5
    assert calls == ["rome"]
    assert len({p.text.split('id="patients"')[1].split("</table>")[0] for p in pages}) == 1


def test_genoa_and_rome_asking_at_the_same_time_never_see_each_others_patients(web):
    """Each user asks the API (one evaluation at a time per user) and, from a second session,
    the dashboard, all released together; after each round a write starts a new data state."""
    expected = {"rome": {"R1", "R2"}, "genoa": {"G1", "G2"}, "viewer": {"R1", "R2"}}
    api = {name: web.client(name) for name in expected}
    pages = {name: web.client(name) for name in expected}
    start = threading.Barrier(len(expected) * 2, timeout=60)

    def ask(task: tuple[str, str]) -> tuple[str, str, object]:
        name, what = task
        start.wait()
        return name, what, _excluded(api[name]) if what == "api" else pages[name].get("/").text

    for round_ in range(3):
        if round_:  # a new state of the data: everybody misses at once again
            web.client("admin").post("/api/v1/patients", json={"patient_id": f"X{round_}", "sex": "F"})
        with ThreadPoolExecutor(len(expected) * 2) as pool:
            answers = list(pool.map(ask, [(n, w) for n in expected for w in ("api", "page")]))
        for name, what, answer in answers:
            others = {"R1", "R2", "G1", "G2", "X1", "X2"} - expected[name]
            if what == "api":
                assert answer == expected[name], (round_, name)
            else:
                assert all(f">{pid}</a>" in answer for pid in expected[name]), (round_, name)
                assert not any(f">{pid}</a>" in answer for pid in others), (round_, name)


class _Fake:
    """A compute that returns a marker per (scope, protocol) and counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, store, user, protocol, statistics):
        self.calls.append((scope_of(user), protocol, statistics))
        return {"scope": scope_of(user), "protocol": protocol}


def test_a_viewer_never_gets_what_an_investigator_of_the_same_center_was_given(web):
    compute = _Fake()
    cache = EvaluationCache(compute, state=lambda store: "s1")
    rome, viewer = web.accounts["rome"], web.accounts["viewer"]
    assert rome.center == viewer.center
    assert cache.get(web.store, rome, "p").evaluation["scope"] == ("investigator", "Rome")
    assert cache.get(web.store, viewer, "p").evaluation["scope"] == ("viewer", "Rome")
    assert len(compute.calls) == 2


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(web):
    compute = _Fake()
    cache = EvaluationCache(compute, maxsize=2, state=lambda store: "s1")
    admin = web.accounts["admin"]
    for protocol in ("a", "b", "a", "c", "a", "b"):
        cache.get(web.store, admin, protocol)
    assert [c[1] for c in compute.calls] == ["a", "b", "c", "b"]  # b was the least recently used
    assert len(cache) == 2 and cache.hits == 2 and cache.misses == 4


def test_a_new_data_state_drops_every_older_evaluation(web):
    compute, token = _Fake(), ["s1"]
    cache = EvaluationCache(compute, state=lambda store: token[0])
    admin, rome = web.accounts["admin"], web.accounts["rome"]
    cache.get(web.store, admin, "p")
    cache.get(web.store, rome, "p")
    token[0] = "s2"
    cache.get(web.store, admin, "p")
    assert len(cache) == 1 and len(compute.calls) == 3


def test_a_database_whose_state_is_unknown_is_evaluated_every_time(web):
    compute = _Fake()
    cache = EvaluationCache(compute, state=lambda store: "unknown")
    for _ in range(3):
        cache.get(web.store, web.accounts["admin"], "p")
    assert len(compute.calls) == 3 and len(cache) == 0


def test_a_failed_evaluation_is_not_kept_and_its_waiters_get_its_error(web):
    release, calls = threading.Event(), []

    def broken(store, user, protocol, statistics):
        calls.append(protocol)
        release.wait(60)
        raise RuntimeError("broke")

    cache = EvaluationCache(broken, state=lambda store: "s1")
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(cache.get, web.store, web.accounts["admin"], "p") for _ in range(3)]
        while not calls:
            threading.Event().wait(0.01)
        release.set()
        errors = [f.exception(timeout=60) for f in futures]
    assert all(isinstance(e, RuntimeError) for e in errors)
    assert len(cache) == 0
    asked = len(calls)
    with pytest.raises(RuntimeError):
        cache.get(web.store, web.accounts["admin"], "p")
    assert len(calls) == asked + 1  # asked again: computed again
