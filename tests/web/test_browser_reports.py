"""In a real browser (issue 14, item 7): "PDF report" on the evaluation page starts the report in
the background; the page shows its progress (a <progress> in a live region), polls it, then
offers the download, which is a PDF; a second click while it is made starts no second job; the
page passes the axe-core scan while the report is in progress and once it is ready.

The report's job is held by an event until the test has seen its progress and clicked again, so
that "in progress" is a state the test waits for, not a race. A tiny synthetic cohort (12
patients) keeps WeasyPrint fast.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cnotrack.store import import_dataset
from cnotrack.synth import synthesize_registry
from cnotrack.web import evaluation_pages
from cnotrack.web.report_jobs import ReportJobs

from .browser import page, server  # noqa: F401  (fixtures)
from .browser import axe_violations, describe, shot, sign_in


def test_a_pdf_report_shows_its_progress_then_downloads_and_a_second_click_starts_nothing(server, page,
                                                                                         monkeypatch):
    base, store = server
    import_dataset(synthesize_registry(12, 7), store)
    gate = threading.Event()

    def held(run):
        threading.Thread(target=lambda: gate.wait(60) and run(), daemon=True).start()

    jobs = ReportJobs(submit=held)
    monkeypatch.setattr(evaluation_pages, "report_jobs", lambda app: jobs)
    try:
        sign_in(page, base)
        page.goto(f"{base}/evaluation?protocol=pardeo2017")
        page.get_by_role("link", name="PDF report", exact=True).click()
        progress = page.locator("#report-job-pdf progress")
        progress.wait_for()
        assert progress.get_attribute("aria-valuetext").startswith("Waiting to start")
        assert page.locator("#report-job-pdf").get_attribute("aria-live") == "polite"
        page.get_by_role("link", name="PDF report", exact=True).click()  # a second click: the same job
        page.wait_for_load_state("networkidle")
        assert len(jobs) == 1 and page.locator(".report-job").count() == 1
        violations = axe_violations(page)
        assert violations == [], describe(violations)
        shot(page, "report-progress")

        gate.set()
        link = page.get_by_role("link", name="Download the PDF report")
        link.wait_for(timeout=60_000)  # the page's polling (every second) brings it
        assert page.locator("#report-job-pdf progress").count() == 0
        with page.expect_download() as caught:
            link.click()
        download = caught.value
        assert download.suggested_filename == "cnotrack-pardeo2017.pdf"
        assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
        assert len(jobs) == 0 and list(jobs.folder.iterdir()) == []  # downloaded once, then removed
        violations = axe_violations(page)
        assert violations == [], describe(violations)
    finally:
        gate.set()
        jobs.close()
