"""Any screen, any user, in a real browser (Debian's chromium, Playwright): at a phone's, a
tablet's and a laptop's width the pages do not scroll sideways, the navigation is visible and
reached by Tab after the skip link, the skip link moves the focus to the main content; the
patient picker fills its list from the server as one types; and axe-core finds no serious or
critical WCAG 2.1 A/AA violation on the login page, a record form showing its errors, the users
page, a user's page, the password page and an error page. Screenshots of the dashboard at the
three widths: web-dashboard-390.png, -768, -1366 (docs/web.md).

Skipped only where there is no /usr/bin/chromium and $CI is unset (CI installs chromium).
"""

from __future__ import annotations

from cnotrack import records, users

from .browser import (
    axe_violations,
    WIDTHS,
    at_width,
    describe,
    page,
    server,
    shot,
    sign_in,
)
from .conftest import PASSWORD


def _no_sideways_scroll(page, where: str) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{where}: the page is {sizes[0]} px wide in a {sizes[1]} px window"


def _focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, id: e.id, cls: e.className, href: e.getAttribute('href'), text: e.textContent.trim()}; }""")




def _assert_no_violations(page, where: str) -> None:
    found = axe_violations(page)
    assert not found, f"{where}: {describe(found)}"


def test_every_page_fits_every_width_and_passes_the_accessibility_scan(server, page):
    base, store = server
    chief = users.find_user(store, "chief")
    users.add_user(store, "rome", PASSWORD, "investigator", "Rome")
    for n in range(3):
        records.create_record(store, chief, "patients", {"patient_id": f"WIDE-{n:02d}", "sex": "F", "center": "Rome",
                                                         "birth_date": "2010-02", "synthetic": True})
    page.goto(f"{base}/login")
    _assert_no_violations(page, "login")
    sign_in(page, base)

    for width in WIDTHS.values():
        at_width(page, width)
        page.goto(f"{base}/")
        _no_sideways_scroll(page, f"dashboard at {width}")
        shot(page, f"dashboard-{width}", full_page=False)
        nav = page.locator("header.top nav a")
        names = nav.all_inner_texts()
        assert "Users" in names and "Cohort" in names
        for i in range(nav.count()):
            box = nav.nth(i).bounding_box()
            assert nav.nth(i).is_visible() and box and box["x"] >= 0 and box["x"] + box["width"] <= width, names[i]
        # the keyboard: the skip link first, then every link of the navigation
        page.keyboard.press("Tab")
        assert _focused(page)["cls"] == "skip-link" and page.locator(".skip-link").is_visible()
        reached = []
        for _ in range(12):
            page.keyboard.press("Tab")
            focused = _focused(page)
            if focused["text"] in names:
                reached.append(focused["text"])
        assert set(reached) >= set(names), (width, reached)
        page.goto(f"{base}/")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.url.endswith("#main") and _focused(page)["id"] == "main"
        for path in ("/records/patients/new", "/users", "/users/rome/edit"):
            page.goto(f"{base}{path}")
            _no_sideways_scroll(page, f"{path} at {width}")

    # the patient picker: typing asks the server for the matching identifiers
    at_width(page, WIDTHS["laptop"])
    page.goto(f"{base}/records/labs/new")
    page.locator("#f-patient_id").press_sequentially("wide-0")
    page.locator("#list-patient_id option[value='WIDE-01']").wait_for(state="attached")
    assert page.locator("#list-patient_id option").count() == 3
    assert page.locator("#count-patient_id").inner_text() == "3 matches"

    # a form with its errors: the summary links to the fields, the fields point at their errors
    page.goto(f"{base}/records/patients/new")
    page.fill("#f-patient_id", "WIDE-09")
    page.fill("#f-birth_date", "2009-13")
    page.click("form.record-form button[type=submit]")
    page.locator("#error-summary").wait_for()
    assert page.get_attribute("#f-birth_date", "aria-invalid") == "true"
    assert "err-birth_date" in page.get_attribute("#f-birth_date", "aria-describedby")
    page.click("#error-summary a[href='#f-sex']")
    assert page.url.endswith("#f-sex")
    at_width(page, WIDTHS["phone"])
    _no_sideways_scroll(page, "record form with errors at 390")
    shot(page, "form-errors-390")
    _assert_no_violations(page, "record form with errors at 390")
    at_width(page, WIDTHS["laptop"])

    for path, where in (("/users", "users"), ("/users/rome/edit", "user edit"),
                        ("/account/password", "account password"), ("/patients/999999", "error page")):
        page.goto(f"{base}{path}")
        _assert_no_violations(page, where)
    assert page.locator("h1").inner_text().startswith("Not found")
    at_width(page, WIDTHS["phone"])
    page.goto(f"{base}/users")  # its table scrolls in its own box: a region one can reach by Tab
    _assert_no_violations(page, "users at 390")
    at_width(page, WIDTHS["laptop"])

    # a viewer's edit URL: the explaining page in the site's layout, itself accessible
    users.add_user(store, "reader", PASSWORD, "viewer", "Rome")
    page.goto(f"{base}/login")
    page.evaluate("() => document.cookie.split(';').forEach(c => document.cookie = c.split('=')[0] + '=; max-age=0')")
    page.context.clear_cookies()
    sign_in(page, base, "reader")
    page.goto(f"{base}/records/patients/new")
    assert "can read but not change records" in page.locator("main").inner_text()
    assert page.locator("header.top nav a", has_text="Add patient").count() == 0
    _assert_no_violations(page, "viewer's error page")
