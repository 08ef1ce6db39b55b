"""Charting a baseline and a follow-up bone scan with the keyboard alone, in Debian's chromium.

After signing in, nothing is clicked: Tab enters the skeleton (one tab stop), the arrow keys move
between neighbouring bones, Enter opens the lesion form with focus in it, Escape returns to the
bone, Enter in the form charts the lesion and the live region says so. On the 6-month scan one
previous lesion is marked resolved and one still present with a lower grade, a new lesion is
added from the bone list, a reload shows the decisions kept, and the evaluation's lesion fates
change. The imaging page passes the axe-core scan.
"""

from __future__ import annotations

from playwright.sync_api import expect

from cnotrack import records, users

from .browser import axe_violations, page, server  # noqa: F401  (fixtures)
from .browser import WIDTHS, at_width, describe, shot, sign_in
from .conftest import PASSWORD

ACTIVE = "() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || e.id || e.name || e.textContent.trim()) : ''; }"




def _active(page) -> str:
    return page.evaluate(ACTIVE)


def _tab_to(page, name: str, limit: int = 120) -> int:
    """Press Tab until the focused element is named ``name`` (aria-label, id or name); the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _active(page) == name:
            return presses
    raise AssertionError(f"{name!r} not reached with {limit} presses of Tab (at {_active(page)!r})")


def _arrow_to(page, zone_id: str, limit: int = 120) -> int:
    """From the focused zone, press the arrow key towards ``zone_id`` until it has focus."""
    target = page.locator(f"#{zone_id}")
    tx, ty = float(target.get_attribute("data-x")), float(target.get_attribute("data-y"))
    for presses in range(limit):
        x, y = page.evaluate("() => [+document.activeElement.dataset.x, +document.activeElement.dataset.y]")
        if page.evaluate("() => document.activeElement.id") == zone_id:
            return presses
        if abs(tx - x) > abs(ty - y):
            page.keyboard.press("ArrowRight" if tx > x else "ArrowLeft")
        else:
            page.keyboard.press("ArrowDown" if ty > y else "ArrowUp")
    raise AssertionError(f"{zone_id} not reached with {limit} arrow presses (at {_active(page)!r})")


def _said(page, text: str) -> None:
    page.wait_for_function("t => document.getElementById('charting-status').textContent.includes(t)", arg=text)


def _chart(page, zone_id: str, site: str, grade: str) -> None:
    """On the focused skeleton: arrows to the zone, Enter, then the form by keyboard."""
    _arrow_to(page, zone_id)
    page.keyboard.press("Enter")
    page.locator("#lesion-panel form.lesion-form").wait_for()
    assert site in page.locator("#lesion-panel h2").inner_text()
    page.wait_for_function("() => document.activeElement.name === 'activity'")
    page.keyboard.press("Escape")  # back to the bone, and forth again
    assert page.evaluate("() => document.activeElement.id") == zone_id
    page.keyboard.press(" ")
    page.wait_for_function("() => document.activeElement.name === 'activity'")
    page.keyboard.type("active")
    page.keyboard.press("Tab")
    page.keyboard.type(grade)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _said(page, f"lesion charted at {site}")
    assert page.evaluate("() => document.activeElement.id") == zone_id
    assert page.locator(f"#{zone_id}").get_attribute("aria-label") == f"{site}, lesion charted"


def _counts(page, base: str) -> dict[str, str]:
    page.goto(f"{base}/evaluation?protocol=pardeo2017")
    return {fate: page.locator(f"#endpoint-month6-lesions-{fate} .value").inner_text().split()[0]
            for fate in ("baseline_total", "resolved", "stable", "improved")}


def test_a_keyboard_alone_charts_a_baseline_and_a_follow_up_scan_and_changes_the_evaluation(server, page):
    base, store = server
    admin = users.authenticate(store, "chief", PASSWORD)
    for table, row in (
            ("patients", {"patient_id": "KB-01", "sex": "F", "birth_date": "2009-04", "center": "Rome",
                          "onset_date": "2018-03-01", "diagnosis_date": "2018-09-01"}),
            ("treatments", {"patient_id": "KB-01", "drug": "naproxen", "start_date": "2019-01-01",
                            "stop_date": "2019-06-01"}),
            ("treatments", {"patient_id": "KB-01", "drug": "pamidronate", "start_date": "2019-07-01",
                            "stop_date": "2019-12-01"}),
            ("treatments", {"patient_id": "KB-01", "drug": "anakinra", "start_date": "2020-01-01",
                            "stop_date": "2020-12-31", "dose": 2, "dose_unit": "mg/kg/day", "route": "sc"}),
            ("assessments", {"patient_id": "KB-01", "date": "2020-01-01", "pga": "moderate"}),
            ("assessments", {"patient_id": "KB-01", "date": "2020-07-01", "pga": "minimal"})):
        records.create_record(store, admin, table, row)
    study = {sid: records.create_record(store, admin, "imaging", {"patient_id": "KB-01", "study_id": sid, "date": date,
                                                                   "modality": "bone_scintigraphy"})["id"]
             for sid, date in (("KB-01-BL", "2020-01-05"), ("KB-01-M6", "2020-07-01"))}
    sign_in(page, base)
    assert _counts(page, base)["baseline_total"] == "0"

    # the baseline: one tab stop into the skeleton, then arrows, Enter and the form
    page.goto(f"{base}/imaging/{study['KB-01-BL']}")
    _tab_to(page, "skull")
    page.keyboard.press("Tab")
    assert "zone" not in (page.evaluate("() => document.activeElement.getAttribute('class')") or "")
    page.keyboard.press("Shift+Tab")
    assert _active(page) == "skull"
    _chart(page, "bone-femur-left-distal_metaphysis", "left femur distal metaphysis", "2")
    _chart(page, "bone-tibia-right-proximal_metaphysis", "right tibia proximal metaphysis", "2")
    shot(page, "imaging-keyboard-focus", full_page=False)
    assert page.locator("#current-lesions li").count() == 2
    assert _counts(page, base)["baseline_total"] == "2"

    # the 6-month scan: the tibia resolved, the femur still present with grade 1
    followup = f"{base}/imaging/{study['KB-01-M6']}"
    page.goto(followup)
    assert page.locator("#previous-lesions li").count() == 2
    _tab_to(page, "Resolved: right tibia proximal metaphysis")
    page.keyboard.press("Enter")
    tibia = page.locator("#previous-lesions li", has_text="tibia")
    tibia.locator(".tag.resolved").wait_for()
    _said(page, "right tibia proximal metaphysis marked resolved")
    assert _active(page) == "Resolved: right tibia proximal metaphysis"  # focus stays on the row
    femur_grade = page.locator("#previous-lesions li", has_text="femur").locator("select").get_attribute("id")
    _tab_to(page, femur_grade)
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    assert _active(page) == "Still present: left femur distal metaphysis"
    page.keyboard.press("Enter")
    page.locator("#previous-lesions li", has_text="femur").locator(".tag.ok").wait_for()
    _said(page, "left femur distal metaphysis marked still present")
    # the swap's other parts (the list of this study's lesions, the skeleton's names) follow it
    expect(page.locator("#current-lesions li")).to_have_count(1)
    expect(page.locator("#bone-femur-left-distal_metaphysis")).to_have_attribute(
        "aria-label", "left femur distal metaphysis, lesion charted")

    # a new lesion from the bone list: type, Down to the matches, Enter, the form
    _tab_to(page, "bone-query")
    page.keyboard.type("stern")
    page.locator("#bone-results .bone-match", has_text="sternum").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert _active(page) == "sternum"
    page.keyboard.press("Enter")
    page.locator("#lesion-panel h2", has_text="sternum").wait_for()
    page.wait_for_function("() => document.activeElement.name === 'activity'")
    page.keyboard.type("active")
    page.keyboard.press("Tab")  # the grade, left empty; Enter in a text field sends the form
    assert _active(page) == "f-grade"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _said(page, "lesion charted at sternum")

    # kept on reload
    page.reload()
    assert tibia.locator(".tag.resolved").count() == 1
    assert "grade 1" in page.locator("#previous-lesions li", has_text="femur").locator(".tag.ok").text_content()
    assert min(page.locator("#current-lesions li").all_inner_texts()).startswith("left femur distal metaphysis")
    assert page.locator("#current-lesions li", has_text="sternum").count() == 1
    found = axe_violations(page)
    assert found == [], describe(found)
    shot(page, "imaging-keyboard")
    for width in (WIDTHS["phone"], WIDTHS["tablet"]):
        at_width(page, width)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), width
    shot(page, "imaging-keyboard-tablet")
    at_width(page, WIDTHS["laptop"])

    # the evaluation: of the two baseline lesions one resolved, one improved
    assert _counts(page, base) == {"baseline_total": "2", "resolved": "1", "stable": "0", "improved": "1"}
    assert page.locator("#endpoint-month6-lesions-new .value").inner_text().startswith("1")
