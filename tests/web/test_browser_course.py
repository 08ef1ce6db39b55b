"""A patient's course page in a real browser (issue 14, item 2): the chart and the body maps
render, the protocol status loads by HTMX, nothing overflows the page at 1366 or 390 px (the
chart scrolls inside its own region), and axe-core finds no serious or critical violation."""

from __future__ import annotations

from playwright.sync_api import expect

from cnotrack import records, users

from .browser import (
    axe_violations,  # noqa: F401  (fixtures)
    WIDTHS,
    at_width,
    describe,
    page,
    server,
    shot,
    sign_in,
)
from .test_course import R3




def test_the_course_page_renders_at_every_width_with_no_accessibility_violation(server, page):
    base, store = server
    chief = users.find_user(store, "chief")
    made = {}
    for table, rows in R3.items():
        for row in rows:
            made.setdefault(table, records.create_record(store, chief, table, row)["id"])
    sign_in(page, base)
    page.goto(f"{base}/patients/{made['patients']}")
    chart = page.locator("svg.course-chart")
    assert chart.get_attribute("role") == "img" and "2 treatment courses" in chart.get_attribute("aria-label")
    assert page.locator("svg.course-body-map").count() == 2
    expect(page.locator(".course-protocol[aria-busy]")).to_have_count(0)  # every status loaded by HTMX
    assert page.locator(".course-protocol h3").count() == 5
    assert "index treatment naproxen" in page.locator("#protocol-pedcno").inner_text()
    for name in ("laptop", "phone"):
        at_width(page, WIDTHS[name])
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200, box
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of horizontal overflow at {name}"
        shot(page, f"course-{name}")
        violations = axe_violations(page)
        assert violations == [], describe(violations)
    at_width(page, WIDTHS["tablet"])
    shot(page, "course-tablet")
