"""Roles shape the interface, in a real browser (Debian's chromium, Playwright).

An admin creates a viewer of Rome through the Users page; the viewer sees the cohort, a
patient's page and a scan without one edit control, and an edit address answers with a page
that says why (in the site's layout, not a bare 403). The import, security-events and
user-deletion pages pass the axe-core scan. The admin then makes her an
investigator of Rome: the patient form shows her center fixed; a patient saved with another
center in the request is refused. Last, the admin disables her and she can no longer sign in.

Skipped only where there is no /usr/bin/chromium and $CI is unset (CI installs chromium).
"""

from __future__ import annotations

from cnotrack import records, users

from .browser import axe_violations, describe, page, server, sign_in  # noqa: F401  (fixtures)
from .conftest import PASSWORD

EDIT_CONTROLS = ("a[href*='/edit'], a[href*='/records/'][href$='/new'], a[href*='/delete'], a[href='/import'], "
                 "#skeleton [role=button], form.record-form, form[action*='/decisions']")


def _sign_out(page) -> None:
    page.click("header button:has-text('Log out')")
    page.wait_for_url("**/login")


def test_an_admin_shapes_a_users_interface_through_the_users_page(server, page):
    base, store = server
    chief = users.find_user(store, "chief")
    records.create_record(store, chief, "patients", {"patient_id": "ROLE-01", "sex": "M", "center": "Rome",
                                                     "birth_date": "2011-05"})
    study = records.create_record(store, chief, "imaging", {"patient_id": "ROLE-01", "study_id": "ROLE-01-BL",
                                                            "date": "2020-01-05", "modality": "bone_scintigraphy"})
    patient = records.list_records(store, chief, "patients", filters={"patient_id": "ROLE-01"})[0]

    # the admin adds a viewer of Rome with the form of the Users page
    sign_in(page, base)
    for path in ("/", f"/patients/{patient['id']}", f"/imaging/{study['id']}"):  # the selector finds them
        page.goto(f"{base}{path}")
        assert page.locator(EDIT_CONTROLS).count() > 0, f"{path} shows an admin no edit control"
    page.goto(f"{base}/users")
    page.fill("#u-username", "vera")
    page.fill("#u-password", PASSWORD)
    page.select_option("#u-role", "viewer")
    page.fill("#u-center", "Rome")
    page.click("form[action='/users'] button[type=submit]")
    row = page.locator("#users tbody tr", has_text="vera")
    assert row.locator("td").nth(1).inner_text() == "viewer" and row.locator("td").nth(2).inner_text() == "Rome"
    _sign_out(page)

    # the viewer reads everything of Rome and is offered no change anywhere
    sign_in(page, base, "vera")
    for path in ("/", f"/patients/{patient['id']}", f"/imaging/{study['id']}"):
        page.goto(f"{base}{path}")
        assert page.locator("main").inner_text().strip(), path
        assert page.locator(EDIT_CONTROLS).count() == 0, f"{path} shows an edit control to a viewer"
    assert "ROLE-01" in page.locator("main").inner_text()
    response = page.goto(f"{base}/records/patients/{patient['id']}/edit")
    assert response.status == 403
    said = page.locator("main").inner_text()
    assert "viewer" in said and "ask an admin" in said
    assert page.locator("header nav a[href='/']").is_visible()  # the site's layout, a way back
    found = axe_violations(page)
    assert not found, describe(found)
    _sign_out(page)

    # the admin makes her an investigator of Rome
    sign_in(page, base)
    page.goto(f"{base}/users/vera/edit")
    page.select_option("#e-role", "investigator")
    page.fill("#e-center", "Rome")
    page.click("form[action$='/role'] button[type=submit]")
    page.goto(f"{base}/users")
    assert page.locator("#users tbody tr", has_text="vera").locator("td").nth(1).inner_text() == "investigator"
    # the page types the other browser tests do not open pass the accessibility scan too
    for path in ("/import", "/users/events", "/users/vera/delete", "/audit"):
        page.goto(f"{base}{path}")
        found = axe_violations(page)
        assert not found, f"{path}: {describe(found)}"
    _sign_out(page)

    # as an investigator her center is fixed in the patient form
    sign_in(page, base, "vera")
    page.goto(f"{base}/records/patients/new")
    center = page.locator("form.record-form [name='center']")
    assert center.get_attribute("readonly") is not None and center.input_value() == "Rome"
    # a request that names another center anyway is refused by the server, whatever the form shows
    refused = page.request.post(f"{base}/records/patients/new", form={
        "patient_id": "ROLE-02", "sex": "F", "center": "Genoa", "birth_date": "2012-01",
        "csrf_token": page.locator("form.record-form [name='csrf_token']").input_value()})
    assert refused.status in (403, 422)
    assert not records.list_records(store, chief, "patients", filters={"patient_id": "ROLE-02"})
    _sign_out(page)

    # disabled, she cannot sign in
    sign_in(page, base)
    page.goto(f"{base}/users")
    page.locator("#users tbody tr", has_text="vera").locator("button:has-text('Disable')").click()
    page.wait_for_load_state()
    assert page.locator("#users tbody tr", has_text="vera").locator("td").nth(4).inner_text() == "disabled"
    _sign_out(page)
    page.fill("#username", "vera")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.locator("[role=alert], .error").first.wait_for()
    assert page.url.endswith("/login")
