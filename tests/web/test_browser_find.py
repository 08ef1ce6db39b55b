"""Finding a patient in a real browser (issue 14, "Find"): Debian's chromium driven by Playwright
against uvicorn, on 130 synthetic patients. Sorting by a column and going to the next page keep
each other and the address; typing in the search narrows the list as one types (htmx, 300 ms
after the last key) and goes back to page 1 in the same order; a filter narrows it further; the
page scans clean with axe-core and, 390 px wide, the page never scrolls sideways (the table
scrolls inside its own box)."""

from __future__ import annotations

from cnotrack.store import import_dataset
from cnotrack.synth import synthesize_registry

from .browser import axe_violations, WIDTHS, at_width, describe, shot, sign_in
from .browser import page, server  # noqa: F401  (fixtures)


def _cells(page, column: int) -> list[str]:
    return page.locator(f"#patients tbody tr td:nth-child({column})").all_inner_texts()




def _settled(page) -> None:
    """Wait until htmx has no request in flight and has settled its last swap."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')")


def test_a_patient_is_found_by_typing_sorting_paging_and_filtering(server, page):
    from playwright.sync_api import expect

    base, store = server
    import_dataset(synthesize_registry(130, 5), store)
    sign_in(page, base)
    patients = page.locator("#patients")
    expect(patients).to_have_attribute("data-total", "130")

    # sort by the count of labs, most first; then the next page, in the same order
    page.click("#patients th >> text=labs")
    expect(page.locator("#patients th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    _settled(page)
    page.click("#patients th >> text=labs")
    expect(patients).to_have_attribute("data-sort", "-labs")
    _settled(page)
    first_page = [int(n) for n in _cells(page, 6)]
    assert first_page == sorted(first_page, reverse=True) and len(first_page) == 50
    page.click(".pager >> text=next »")
    expect(patients).to_have_attribute("data-page", "2")
    _settled(page)
    assert "sort=-labs" in page.url and "page=2" in page.url
    second_page = [int(n) for n in _cells(page, 6)]
    assert second_page == sorted(second_page, reverse=True) and second_page[0] <= first_page[-1]

    # typing narrows the list as one types, back to page 1, still by labs
    page.locator("#find-q").press_sequentially("P01", delay=40)
    expect(patients).to_have_attribute("data-total", "31")  # P0100 to P0130
    expect(patients).to_have_attribute("data-page", "1")
    ids = _cells(page, 1)
    assert ids and all("P01" in i for i in ids) and "q=P01" in page.url and "sort=-labs" in page.url
    labs = [int(n) for n in _cells(page, 6)]
    assert labs == sorted(labs, reverse=True)
    expect(page.locator("#find-status")).to_contain_text("31 patients match")
    _settled(page)

    # a filter narrows it further, keeping the search
    page.select_option("#find-eligibility", "eligible")
    expect(patients.or_(page.locator("#find-empty"))).to_be_visible()
    page.wait_for_url("**eligibility=eligible**")
    assert "q=P01" in page.url
    if patients.count():
        assert set(_cells(page, 11)) == {"yes"} and all("P01" in i for i in _cells(page, 1))
    shot(page, "find")

    # the address alone gives the same page (a reload, a shared link), and the form is filled in
    page.reload()
    expect(page.locator("#find-q")).to_have_value("P01")
    expect(page.locator("#find-eligibility")).to_have_value("eligible")

    # nothing serious for assistive technology, and no sideways scroll at any width
    violations = axe_violations(page)
    assert not violations, describe(violations)
    for name, width in WIDTHS.items():
        at_width(page, width)
        page.goto(f"{base}/?sort=-labs")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, overflow)
        if name == "phone":
            assert page.evaluate("(() => { const b = document.querySelector('.find-scroll');"
                                 " return b.scrollWidth > b.clientWidth; })()")  # the table scrolls in its box
            page.locator("#find-q").fill("P002")
            page.locator("#find-q").press("Enter")
            expect(patients).to_have_attribute("data-total", "10")
            shot(page, "find-phone")
