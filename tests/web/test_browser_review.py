"""Reviewing before a change, in a real browser: an upload's review (old -> new) confirmed, a
delete through its confirmation page, the admin's restore from the record's history, and the
audit trail filtered by user, patient and table; each of these pages passes the axe-core scan
and fits a phone's width."""

from __future__ import annotations

from cnotrack import records, users

from .browser import axe_violations, WIDTHS, at_width, describe, shot, sign_in
from .browser import page, server  # noqa: F401  (fixtures)
from .conftest import PASSWORD




def _check(page, name: str) -> None:
    """No serious or critical axe violation, no horizontal overflow at a phone's width; a screenshot."""
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    at_width(page, WIDTHS["phone"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    shot(page, f"review-{name}")
    at_width(page, WIDTHS["laptop"])


def test_an_upload_reviewed_a_delete_confirmed_and_restored_and_the_audit_filtered(server, page, tmp_path):
    base, store = server
    admin = users.authenticate(store, "chief", PASSWORD)
    records.create_record(store, admin, "patients", {"patient_id": "RV-01", "sex": "F", "center": "Rome"})
    course = records.create_record(store, admin, "treatments", {"patient_id": "RV-01", "drug": "naproxen",
                                                                "start_date": "2019-01-01"})
    (tmp_path / "patients.csv").write_text("patient_id,sex,center\nRV-01,M,Rome\nRV-02,F,Rome\n")
    sign_in(page, base)

    page.goto(f"{base}/import")
    page.set_input_files("#files", [str(tmp_path / "patients.csv")])
    page.click("text=Check the dataset")
    changed = page.locator("#changed-patients tbody tr")
    assert changed.count() == 1 and "RV-01" in changed.inner_text()
    assert changed.locator(".review-old").inner_text() == "F" and changed.locator(".review-new").inner_text() == "M"
    assert "RV-02" in page.locator("#added-patients").inner_text()
    _check(page, "import")
    page.click("#confirm-import")
    page.get_by_role("heading", name="Imported").wait_for()

    page.goto(f"{base}/records/treatments/{course['id']}/delete")
    assert "naproxen" in page.locator("#delete-values").inner_text()
    _check(page, "delete")
    page.click("#confirm-delete")
    page.wait_for_url("**/patients/*")

    page.goto(f"{base}/records/treatments/{course['id']}/history")
    assert page.locator("#state-heading").inner_text().startswith("Deleted")
    _check(page, "history")
    page.click("#restore")
    page.locator("#restored").wait_for()
    assert page.locator("#history tbody tr").first.locator("td").nth(2).inner_text() == "restore"
    assert records.get_record(store, admin, "treatments", course["id"])["drug"] == "naproxen"

    page.goto(f"{base}/audit")
    page.fill("#actor", "chief")
    page.fill("#patient_id", "RV-01")
    page.select_option("#table", "treatments")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**/audit?*patient_id=RV-01*")
    actions = page.locator("#audit tbody tr td:nth-child(3)").all_inner_texts()
    assert actions == ["restore", "delete", "insert"]
    assert "patient_id=RV-01" in page.locator("#audit-export").get_attribute("href")
    _check(page, "audit")
