"""End to end in a real browser: Debian's chromium driven by Playwright, against uvicorn on a
free loopback port.

An admin created with the library logs in through the page, adds a patient and the anakinra
course through the forms, two bone scintigraphies, charts two lesions on the baseline scan by
clicking the skeleton, and sees the evaluation's lesion count go from 0 to 2; on the 6-month
scan one previous lesion is marked still present and the other resolved. Screenshots go to a
temporary folder, or to docs/screenshots/web-*.png when CNOTRACK_UPDATE_SCREENSHOTS=1 (so a
test run never changes the checkout).

Skipped only where there is no /usr/bin/chromium and $CI is unset (CI installs chromium).
"""

from __future__ import annotations

from cnotrack import records, users

from .browser import page, server  # noqa: F401  (fixtures)
from .browser import shot as _shot
from .conftest import PASSWORD


def _lesion_count(page, base: str) -> str:
    page.goto(f"{base}/evaluation?protocol=pardeo2017")
    return page.locator("#endpoint-month6-lesions-baseline_total .value").inner_text().strip()


def _fill(page, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_a_lesion_charted_on_the_skeleton_appears_in_the_evaluation(server, page):
    base, store = server
    page.goto(f"{base}/")
    assert page.url.endswith("/login")
    _shot(page, "login")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # a patient through the form: first with a mistake, shown beside its field
    page.goto(f"{base}/records/patients/new")
    _fill(page, {"patient_id": "E2E-01", "sex": "F", "birth_date": "2009-13", "center": "Rome"})
    page.click("form.record-form button[type=submit]")
    assert "not a date" in page.locator("#err-birth_date").inner_text()
    _shot(page, "form-errors")
    _fill(page, {"birth_date": "2009-04", "onset_date": "2018-03-01", "diagnosis_date": "2018-09-01"})
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/patients/*")

    # the anakinra course through the form; the earlier treatments through the library
    page.click("text=treatment course")
    _fill(page, {"drug": "anakinra", "start_date": "2020-01-01", "stop_date": "2020-12-31", "dose": "2",
                 "dose_unit": "mg/kg/day", "route": "sc"})
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/patients/*")
    admin = users.authenticate(store, "chief", PASSWORD)
    for drug, start, stop in (("naproxen", "2019-01-01", "2019-06-01"), ("pamidronate", "2019-07-01", "2019-12-01")):
        records.create_record(store, admin, "treatments", {"patient_id": "E2E-01", "drug": drug,
                                                           "start_date": start, "stop_date": stop})
    for date, pga in (("2020-01-01", "moderate"), ("2020-07-01", "minimal")):
        records.create_record(store, admin, "assessments", {"patient_id": "E2E-01", "date": date, "pga": pga})
    records.create_record(store, admin, "imaging", {"patient_id": "E2E-01", "study_id": "E2E-01-M6",
                                                    "date": "2020-07-01", "modality": "bone_scintigraphy"})
    assert _lesion_count(page, base) == "0"

    # the baseline bone scan through the form; it opens on its skeleton
    page.goto(f"{base}/")
    page.click("text=E2E-01")
    page.click("text=imaging study")
    _fill(page, {"study_id": "E2E-01-BL", "date": "2020-01-05", "modality": "bone_scintigraphy"})
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/imaging/*")
    study_url = page.url
    for zone, site in (("#bone-femur-left-distal_metaphysis", "left femur distal metaphysis"),
                       ("#bone-tibia-right-proximal_metaphysis", "right tibia proximal metaphysis")):
        page.locator(zone).click()
        page.locator("#lesion-panel form.lesion-form").wait_for()
        assert site in page.locator("#lesion-panel h2").inner_text()
        page.select_option("#lesion-panel [name='activity']", "active")
        page.click("#lesion-panel button[type=submit]")
        page.wait_for_url(study_url)
        assert page.locator("#current-lesions li", has_text=site).count() == 1
    assert page.locator("#skeleton circle.marker.current").count() == 2
    _shot(page, "imaging")

    assert _lesion_count(page, base) == "2"
    assert page.locator("#cohort-n").inner_text() == "1"
    _shot(page, "evaluation")

    # the 6-month scan: one lesion still present, one resolved
    with store.engine.connect():
        m6 = records.list_records(store, admin, "imaging", filters={"study_id": "E2E-01-M6"})[0]
    page.goto(f"{base}/imaging/{m6['id']}")
    assert page.locator("#previous-lesions li").count() == 2
    page.locator("#previous-lesions li", has_text="femur").locator("text=Still present").click()
    page.locator("#previous-lesions li", has_text="femur").locator(".tag.ok").wait_for()
    page.locator("#previous-lesions li", has_text="tibia").locator("text=Resolved").click()
    page.locator("#previous-lesions li", has_text="tibia").locator(".tag.resolved").wait_for()
    assert page.locator("#current-lesions li").count() == 1
    _shot(page, "imaging-followup")
    page.goto(f"{base}/evaluation?protocol=pardeo2017")
    assert page.locator("#endpoint-month6-lesions-stable .value").inner_text().startswith("1")
    assert page.locator("#endpoint-month6-lesions-resolved .value").inner_text().startswith("1")

    page.goto(f"{base}/")
    _shot(page, "dashboard")
    page.click("text=E2E-01")
    _shot(page, "patient")
    page.goto(f"{base}/audit")
    assert page.locator("#audit tbody tr").count() >= 9
    _shot(page, "audit")
