"""What a review of the evaluation cache and the paged lists found (issue 11): each test failed
before its fix. A value derived from a cached evaluation never holds up another (nor the
server's event loop), and a refused request costs no evaluation."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from cnotrack.web import evaluation_pages, services
from cnotrack.web.evaluation_cache import CachedEvaluation


def test_a_derived_value_being_computed_never_holds_up_another_of_the_same_evaluation():
    entry = CachedEvaluation(evaluation=object(), token="s1")  # type: ignore[arg-type]
    started, release = threading.Event(), threading.Event()

    def slow(_):  # a Markdown download of a large cohort
        started.set()
        assert release.wait(60), "the test never released the slow value"
        return "markdown"

    with ThreadPoolExecutor(2) as pool:
        slow_done = pool.submit(entry.derived, "markdown", slow)
        assert started.wait(60)
        fast = pool.submit(entry.derived, "view", lambda _: "view")
        try:
            assert fast.result(timeout=30) == "view"  # answered while the slow value is still computed
            assert not slow_done.done()
        finally:
            release.set()
        assert slow_done.result(timeout=60) == "markdown"
    assert entry.derived("markdown", lambda _: "again") == "markdown"  # computed once, then kept


def test_concurrent_first_calls_for_one_derived_value_compute_it_once():
    entry = CachedEvaluation(evaluation=object(), token="s1")  # type: ignore[arg-type]
    calls, start = [], threading.Barrier(4, timeout=60)

    def make(_):
        calls.append(1)
        return len(calls)

    def ask(_):
        start.wait()
        return entry.derived("view", make)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(ask, range(4))) == [1] * 4
    assert calls == [1]


def test_the_evaluation_page_derives_its_view_off_the_event_loop(web, monkeypatch):
    """A view computed on the event loop would stop every other request while it is made."""
    seen: list[bool] = []
    real = evaluation_pages.evaluation_view

    def view(evaluation):
        try:
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:
            seen.append(False)
        return real(evaluation)

    monkeypatch.setattr(evaluation_pages, "evaluation_view", view)
    assert web.client("rome").get("/evaluation").status_code == 200
    assert seen == [False]


def test_a_dashboard_request_with_a_refused_sort_costs_no_evaluation(web, monkeypatch):
    calls = []
    real = services.evaluate_for

    def counted(store, user, protocol, *, statistics=True):
        calls.append(user.username)
        return real(store, user, protocol, statistics=statistics)

    monkeypatch.setattr(services, "evaluate_for", counted)
    client = web.client("viewer")
    for sort in ("password_hash", "-(select 1)", "birth_date; --"):
        assert client.get("/", params={"sort": sort}).status_code == 422
    assert calls == []
    assert client.get("/", params={"sort": "-birth_date"}).status_code == 200
    assert calls == ["viewer"]
