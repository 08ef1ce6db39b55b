"""Reports made in the background (issue 14, item 7): the evaluation page starts a report with a
POST, polls its status (a <progress> naming the stage) and downloads it once when it is ready;
a second click for the same report returns the same job; nobody but its owner can see, poll or
download a job (404, as for an id that never existed); a finished report is kept in a private
file, removed at its download, at its expiry and at shutdown; a failure is shown in words.

The registry runs the jobs where each test says (``submit``): queued until the test runs them
in its own thread, or in a thread held by an event; expiry moves the registry's clock. No sleeps.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import stat
import threading

import pytest
from fastapi.testclient import TestClient

from cnotrack import records
from cnotrack.errors import CnotrackError
from cnotrack.security_log import security_events
from cnotrack.web import evaluation_pages
from cnotrack.web.report_jobs import KEEP_SECONDS, KEPT_PER_USER, STAGES, JobNotFound, ReportFile, ReportJobs

from .conftest import PASSWORD, Clock

report = pytest.importorskip("cnotrack.report")

HX = {"HX-Request": "true"}
START = {"protocol": "pardeo2017", "format": "html"}


class Queued:
    """``submit`` that keeps each job until the test runs it."""

    def __init__(self) -> None:
        self.waiting: list = []

    def __call__(self, fn) -> None:
        self.waiting.append(fn)

    def run_all(self) -> None:
        while self.waiting:
            self.waiting.pop(0)()


@pytest.fixture
def queued(web):
    submit, clock = Queued(), Clock()
    web.app.state.report_jobs = jobs = ReportJobs(submit=submit, clock=clock)
    yield jobs, submit, clock
    jobs.close()


def _start(client, **values):
    response = client.post("/evaluation/reports", data={**START, **values}, headers=HX)
    assert response.status_code == 200, response.text
    return re.search(r'data-job="([^"]+)"', response.text).group(1), response.text


def _status(client, job_id: str, seen: int = -1):
    return client.get(f"/evaluation/reports/{job_id}", params={"seen": seen}, headers=HX)


def test_a_report_is_queued_then_polled_then_downloaded_once_and_audited(web, queued):
    jobs, submit, _ = queued
    client = web.client("rome")
    job_id, fragment = _start(client)
    assert 'data-status="queued"' in fragment and 'hx-trigger="every 1s"' in fragment
    assert "<progress" in fragment and 'aria-valuetext="Waiting to start' in fragment
    version = int(re.search(r"seen=(\d+)", fragment).group(1))
    assert _status(client, job_id, version).status_code == 204  # nothing changed: no swap
    early = client.get(f"/evaluation/reports/{job_id}/download")
    assert early.status_code == 409 and "report is not ready (waiting to start" in early.text

    submit.run_all()
    done = _status(client, job_id, version)
    assert done.status_code == 200
    assert 'data-status="done"' in done.text and "hx-trigger" not in done.text  # the polling stops
    assert f'href="/evaluation/reports/{job_id}/download"' in done.text
    (path,) = list(jobs.folder.iterdir())
    assert stat.S_IMODE(jobs.folder.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600

    page = client.get("/evaluation", params={"protocol": "pardeo2017"})
    assert f'data-job="{job_id}"' in page.text  # a reload shows the ready report

    download = client.get(f"/evaluation/reports/{job_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/html; charset=utf-8"
    assert download.headers["content-disposition"] == 'attachment; filename="cnotrack-pardeo2017.html"'
    assert "R1" in download.text and "G1" not in download.text  # Rome's report: Rome's patients only
    assert list(jobs.folder.iterdir()) == []  # removed at its download
    assert client.get(f"/evaluation/reports/{job_id}/download").status_code == 404  # once
    events = security_events(web.store, web.accounts["admin"], action="download", limit=0)
    assert [e["key"] for e in events] == [{"username": "rome", "protocol": "pardeo2017", "format": "html"}]


def test_a_second_click_returns_the_running_job_and_a_change_of_the_data_a_new_one(web, queued):
    jobs, submit, _ = queued
    client, other_session = web.client("rome"), web.client("rome")
    first, _ = _start(client)
    assert _start(client)[0] == first
    assert _start(other_session)[0] == first  # the same user in another tab or browser
    assert len(jobs) == 1 and len(submit.waiting) == 1
    submit.run_all()
    assert _start(client)[0] == first  # ready and not downloaded yet: still the same
    records.create_record(web.store, web.accounts["rome"], "patients", {"patient_id": "R3", "sex": "F", "center": "Rome"})
    second, _ = _start(client)
    assert second != first and len(submit.waiting) == 1  # made from the new state of the data
    assert _start(client, format="pdf")[0] not in (first, second)


def test_nobody_but_the_owner_sees_polls_or_downloads_a_job(web, queued):
    jobs, submit, _ = queued
    job_id, _ = _start(web.client("rome"))
    submit.run_all()
    never = "x" * len(job_id)
    for name in ("genoa", "viewer", "admin"):  # another center, the same center, every center
        client = web.client(name)
        for path in (f"/evaluation/reports/{job_id}", f"/evaluation/reports/{job_id}/download"):
            theirs, nothing = client.get(path), client.get(path.replace(job_id, never))
            assert theirs.status_code == nothing.status_code == 404
            assert theirs.text.replace(job_id, never) == nothing.text and "no report of yours" in theirs.text
        polled, polled_nothing = _status(client, job_id), _status(client, never)  # the page's polling
        assert polled.status_code == 200 and polled.text == polled_nothing.text
        assert 'data-status="gone"' in polled.text and "hx-trigger" not in polled.text and job_id not in polled.text
        assert f'data-job="{job_id}"' not in client.get("/evaluation").text
    assert len(list(jobs.folder.iterdir())) == 1  # still there for its owner
    assert web.client().get(f"/evaluation/reports/{job_id}", follow_redirects=False).status_code == 303  # signed out: log in


def test_a_viewer_makes_and_downloads_reports_as_viewers_download_today(web, queued):
    _, submit, _ = queued
    client = web.client("viewer")
    response = client.post("/evaluation/reports", data=START, follow_redirects=False)  # no script: a redirect to the status page
    assert response.status_code == 303
    status_url = response.headers["location"]
    submit.run_all()
    page = client.get(status_url)
    assert page.status_code == 200 and "<h1>HTML report of pardeo2017</h1>" in page.text
    job_id = status_url.rsplit("/", 1)[1]
    assert client.get(f"/evaluation/reports/{job_id}/download").status_code == 200


def test_a_user_has_at_most_two_reports_in_the_making(web, queued):
    client = web.client("rome")
    _start(client, format="html")
    _start(client, format="pdf")
    third = client.post("/evaluation/reports", data={**START, "format": "docx"}, headers=HX)
    assert third.status_code == 200 and 'data-status="refused"' in third.text and 'role="alert"' in third.text
    assert "2 reports of yours are being made" in third.text
    assert client.post("/evaluation/reports", data={**START, "format": "docx"}).status_code == 429  # no script
    assert _start(web.client("genoa"), format="docx")  # other users are not held up


def test_a_bad_protocol_or_format_starts_nothing(web, queued):
    jobs, _, _ = queued
    client = web.client("rome")
    assert client.post("/evaluation/reports", data={**START, "protocol": "../etc/passwd"}).status_code == 422
    assert client.post("/evaluation/reports", data={**START, "format": "exe"}).status_code == 422
    assert len(jobs) == 0


def test_a_finished_report_expires_and_its_file_is_removed(web, queued):
    jobs, submit, clock = queued
    client = web.client("rome")
    job_id, _ = _start(client)
    submit.run_all()
    assert len(list(jobs.folder.iterdir())) == 1
    clock.advance(KEEP_SECONDS - 1)
    assert _status(client, job_id).status_code == 200
    clock.advance(2)
    assert 'data-status="gone"' in _status(client, job_id).text
    assert client.get(f"/evaluation/reports/{job_id}").status_code == 404
    assert list(jobs.folder.iterdir()) == [] and len(jobs) == 0


def test_a_failed_report_says_why_and_logs_no_health_data(web, queued, monkeypatch, caplog):
    _, submit, _ = queued
    client = web.client("rome")

    def full_disk(*args, **kwargs):
        raise CnotrackError("the report folder is full; free some space")

    monkeypatch.setattr(evaluation_pages, "_report_bytes", full_disk)
    job_id, _ = _start(client)
    submit.run_all()
    failed = _status(client, job_id)
    assert 'data-status="failed"' in failed.text and 'role="alert"' in failed.text
    assert "could not be made: the report folder is full; free some space" in failed.text
    assert _start(client)[0] != job_id  # a failed job is not reused: a click tries again

    def broken(*args, **kwargs):
        raise RuntimeError("patient R1 has CRP 12 mg/L")

    monkeypatch.setattr(evaluation_pages, "_report_bytes", broken)
    with caplog.at_level(logging.DEBUG):
        submit.run_all()
    assert "RuntimeError" in caplog.text and "CRP" not in caplog.text and "R1" not in caplog.text
    page = client.get("/evaluation").text
    assert "an internal error stopped the report" in page and "R1 has CRP" not in page


def test_the_status_names_each_stage_of_the_report_as_it_is_built(web, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    original = evaluation_pages._report_bytes

    def held(*args, progress=None, **kwargs):
        progress("figures")
        entered.set()
        assert release.wait(60), "the test never released the report"
        return original(*args, progress=progress, **kwargs)

    monkeypatch.setattr(evaluation_pages, "_report_bytes", held)
    web.app.state.report_jobs = jobs = ReportJobs(submit=lambda fn: threading.Thread(target=fn, daemon=True).start())
    client = web.client("rome")
    job_id, _ = _start(client)
    assert entered.wait(60)
    running = _status(client, job_id)
    step = list(STAGES).index("figures") + 1
    assert f'aria-valuetext="Step {step} of {len(STAGES)}: drawing the figures"' in running.text
    assert f'value="{step}"' in running.text and 'hx-trigger="every 1s"' in running.text
    release.set()
    assert jobs.get(job_id, web.accounts["rome"]).finished.wait(60)
    assert 'data-status="done"' in _status(client, job_id).text
    jobs.close()


def test_the_report_builder_tells_its_stages_and_writes_the_same_report(web, tmp_path):
    from cnotrack.web.services import evaluate_for

    rome = web.accounts["rome"]
    evaluation = evaluate_for(web.store, rome, "pardeo2017")
    dataset = records.visible_dataset(web.store, rome)
    when = dt.datetime(2026, 1, 2, 3, 4)
    stages: list[str] = []
    told = report.build_report(evaluation, dataset, generated_at=when, progress=stages.append)
    plain = report.build_report(evaluation, dataset, generated_at=when)
    report.write_report(told, tmp_path / "told.html", progress=stages.append)
    report.write_report(plain, tmp_path / "plain.html")
    assert stages == ["statistics", "tables", "figures", "render", "files"]
    assert set(stages) < set(STAGES)
    told_html = (tmp_path / "told.html").read_text().replace("told.html", "X")
    assert told_html == (tmp_path / "plain.html").read_text().replace("plain.html", "X")


def test_shutdown_removes_every_report_and_refuses_new_ones(web):
    web.app.state.report_jobs = jobs = ReportJobs(submit=lambda fn: fn())
    with TestClient(web.app) as client:  # runs the lifespan: its end is the shutdown
        login = client.post("/api/v1/login", json={"username": "rome", "password": PASSWORD})
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        _start(client)
        folder = jobs.folder
        assert len(list(folder.iterdir())) == 1
    assert not folder.exists() and jobs.closed and len(jobs) == 0
    with pytest.raises(Exception) as refused:
        jobs.start(web.accounts["rome"], "pardeo2017", "html", "t", lambda progress: None)
    assert getattr(refused.value, "status", None) == 503


def test_a_user_keeps_at_most_six_finished_reports_the_oldest_dropped_with_its_file(web):
    jobs = ReportJobs(submit=lambda fn: fn())
    rome = web.accounts["rome"]
    made = [jobs.start(rome, "pardeo2017", "html", f"state-{i}",
                       lambda progress, i=i: ReportFile(b"<html>%d</html>" % i, "r.html", "text/html", f"state-{i}"))[0]
            for i in range(KEPT_PER_USER + 2)]
    assert len(jobs) == KEPT_PER_USER and len(list(jobs.folder.iterdir())) == KEPT_PER_USER
    with pytest.raises(JobNotFound):
        jobs.get(made[0].id, rome)
    job, data = jobs.take(made[-1].id, rome)
    assert data == b"<html>%d</html>" % (KEPT_PER_USER + 1) and job.status == "done"
    jobs.close()
