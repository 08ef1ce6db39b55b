"""The forms for every user: fields labelled in words and tied to their errors and hints, required
fields marked for assistive technology, an error summary linking to the fields; the type-ahead
pickers of patient and study identifiers (searched on the server, within the user's centre);
what each role sees (a viewer gets a page that explains, an investigator's center is fixed, an
admin manages users and their centers)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from cnotrack.errors import CnotrackError
from cnotrack.exchange.schema import exchange_format
from cnotrack.record_search import (
    MAX_SEARCH_TEXT,
    SEARCH_LIMIT,
    search_patients,
)
from cnotrack.records import RECORD_TYPES, create_record
from cnotrack.security_log import security_events
from cnotrack.users import find_user
from cnotrack.web.forms import field_label


class Page(HTMLParser):
    """The elements of a page: each tag with its attributes, and the text of each id'd element
    and of each label."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self.labels: dict[str, str] = {}   # for= -> text
        self._open: list[tuple[str, str | None, str | None]] = []  # (tag, id, label-for)
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag not in ("input", "br", "meta", "link", "img", "hr", "option"):
            self._open.append((tag, a.get("id"), a.get("for") if tag == "label" else None))
            if a.get("id"):
                self.text.setdefault(a["id"], "")
            if tag == "label" and a.get("for"):
                self.labels.setdefault(a["for"], "")

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, ident, label_for in self._open:
            if ident:
                self.text[ident] += data
            if label_for:
                self.labels[label_for] += data

    def controls(self) -> list[dict[str, str]]:
        return [dict(a, tag=t) for t, a in self.elements if t in ("input", "select", "textarea")
                and a.get("type") not in ("hidden", "submit", "button")]

    def by_id(self, ident: str) -> dict[str, str]:
        return next(a for _, a in self.elements if a.get("id") == ident)


def _csrf(client) -> str:
    return client.headers["X-CSRF-Token"]


def _assert_every_control_is_labelled(page: Page, where: str) -> None:
    for control in page.controls():
        ident = control.get("id")
        assert ident and page.labels.get(ident, "").strip(), f"{where}: {control} has no label"


def test_every_column_of_every_table_has_a_label_in_words():
    for table in exchange_format().tables:
        for column in table.columns:
            label = field_label(table.name, column.name)
            assert label[0].isupper() and "_" not in label, (table.name, column.name, label)
            if "_" in column.name:  # words, not the column's name with spaces: "Date of the visit"
                assert label.lower() != column.name.replace("_", " "), (table.name, column.name, label)


def test_every_form_control_has_a_label_and_required_fields_are_marked(web):
    client = web.client("rome")
    for table in RECORD_TYPES:
        page = Page(client.get(f"/records/{table}/new").text)
        _assert_every_control_is_labelled(page, table)
        spec = exchange_format().table(table)
        for column in spec.columns:
            control = page.by_id(f"f-{column.name}")
            assert page.labels[f"f-{column.name}"].strip().startswith(field_label(table, column.name))
            assert (control.get("aria-required") == "true") == column.required, (table, column.name)
        assert "are required" in page.text["required-note"]


def test_errors_are_tied_to_their_fields_and_summarised_with_links(web):
    client = web.client("rome")
    response = client.post("/records/treatments/new", data={
        "csrf_token": _csrf(client), "patient_id": "R2", "drug": "aspirinx", "start_date": "2021-01-01",
        "dose": "two"})
    assert response.status_code == 422
    page = Page(response.text)
    for name, message in (("drug", "not a drug of the vocabulary"), ("dose", "not a number")):
        control = page.by_id(f"f-{name}")
        assert control.get("aria-invalid") == "true"
        described = control["aria-describedby"].split()
        assert f"err-{name}" in described and message in page.text[f"err-{name}"]
        assert all(i in page.text for i in described)  # every id it names is on the page
    assert "aria-invalid" not in page.by_id("f-start_date")
    summary = page.by_id("error-summary")
    assert summary["role"] == "alert" and "Nothing was saved" in page.text["error-summary"]
    links = [a["href"] for t, a in page.elements if t == "a" and a.get("href", "").startswith("#f-")]
    assert links == ["#f-drug", "#f-dose"]
    assert "Drug: not a drug of the vocabulary" in page.text["error-summary"]


def test_a_picker_is_a_text_input_not_a_list_of_every_patient(web):
    page = Page(web.client("admin").get("/records/labs/new").text)
    picker = page.by_id("f-patient_id")
    assert ("input", picker) in page.elements and picker["list"] == "list-patient_id"
    assert picker["hx-get"] == "/pick/patients?field=patient_id"
    assert not [a for t, a in page.elements if t == "option" and a.get("value") in ("R1", "G1", "R2", "G2")]
    assert Page(web.client("admin").get("/records/lesions/new").text).by_id("f-study_id")["hx-get"] == \
        "/pick/studies?field=study_id"


def test_the_patient_picker_narrows_and_keeps_to_the_users_center(web):
    rome, admin = web.client("rome"), web.client("admin")
    every = re.findall(r'<option value="([^"]+)"', admin.get("/pick/patients", params={"q": ""}).text)
    assert every == ["G1", "G2", "R1", "R2"]
    assert re.findall(r'<option value="([^"]+)"', rome.get("/pick/patients", params={"q": ""}).text) == ["R1", "R2"]
    narrowed = rome.get("/pick/patients", params={"field": "patient_id", "patient_id": "2"})  # as htmx sends it
    assert re.findall(r'<option value="([^"]+)"', narrowed.text) == ["R2"]
    assert 'id="count-patient_id"' in narrowed.text and "1 match" in narrowed.text
    foreign = rome.get("/pick/patients", params={"q": "G"})
    assert "G1" not in foreign.text and "G2" not in foreign.text and "Genoa" not in foreign.text
    studies = rome.get("/pick/studies", params={"q": "S1"}).text
    assert "R1-S1" in studies and "G1-S1" not in studies
    assert "G1-S1" not in rome.get("/pick/studies", params={"q": "S1", "patient_id": "G1"}).text
    assert "G1-S1" in admin.get("/pick/studies", params={"q": "s1", "patient_id": "G1"}).text  # any case


def test_like_wildcards_in_the_search_are_literal_and_the_text_is_bounded(web):
    admin = web.accounts["admin"]
    for pid in ("A_1", "AB1", "A%2", "AXX2", "A\\3", "A/3"):
        create_record(web.store, admin, "patients", {"patient_id": pid, "sex": "F", "center": "Rome"})
    found = lambda q: [p["patient_id"] for p in search_patients(web.store, admin, q)]
    assert found("A_") == ["A_1"] and found("A%") == ["A%2"] and found("%") == ["A%2"]
    assert found("\\") == ["A\\3"] and found("A\\") == ["A\\3"] and found("/") == ["A/3"]
    client = web.client("rome")
    assert re.findall(r'<option value="([^"]+)"', client.get("/pick/patients", params={"q": "_"}).text) == ["A_1"]
    assert client.get("/pick/patients", params={"q": "x" * (MAX_SEARCH_TEXT + 1)}).status_code == 422
    too_long = client.get("/pick/patients", params={"field": "patient_id", "patient_id": "x" * (MAX_SEARCH_TEXT + 1)})
    assert too_long.status_code == 422 and "<option" not in too_long.text
    assert client.get("/pick/patients", params={"field": "password_hash"}).status_code == 422
    for n in range(SEARCH_LIMIT + 5):
        create_record(web.store, admin, "patients", {"patient_id": f"MANY{n:02d}", "sex": "F", "center": "Rome"})
    many = client.get("/pick/patients", params={"q": "many"}).text
    assert len(re.findall("<option", many)) == SEARCH_LIMIT and "type more to narrow" in many
    assert web.client().get("/pick/patients", follow_redirects=False).status_code == 303  # not signed in


def test_a_viewer_opening_a_form_gets_a_page_that_explains_with_the_sites_layout(web):
    viewer = web.client("viewer")
    for path in ("/records/patients/new", f"/records/labs/{web.ids[('R1', 'labs')]}/edit",
                 f"/records/labs/{web.ids[('G1', 'labs')]}/edit", "/records/labs/999999/edit"):
        response = viewer.get(path)
        assert response.status_code == 403, path
        assert "Your role (viewer) can read but not change records; ask an admin" in response.text
        assert '<nav aria-label="Main">' in response.text and 'href="/records/patients/new"' not in response.text
        assert "<form method=\"post\" class=\"card record-form\"" not in response.text and "G1" not in response.text
    refused = viewer.post("/records/patients/new", data={"csrf_token": _csrf(viewer), "patient_id": "V1", "sex": "F"})
    assert refused.status_code == 403 and "can read but not change records" in refused.text


def test_an_investigators_center_is_fixed_in_the_form_and_enforced_by_the_server(web):
    rome = web.client("rome")
    page = Page(rome.get("/records/patients/new").text)
    center = page.by_id("f-center")
    assert center["value"] == "Rome" and "readonly" in center and page.labels["f-center"].strip() == "Center"
    assert "hint-center" in center["aria-describedby"]
    edit = Page(rome.get(f"/records/patients/{web.ids[('R1', 'patients')]}/edit").text)
    assert "readonly" in edit.by_id("f-center")
    foreign = rome.post("/records/patients/new", data={"csrf_token": _csrf(rome), "patient_id": "R9", "sex": "F",
                                                       "center": "Genoa"})
    assert foreign.status_code == 403
    assert "R9" not in web.client("admin").get("/pick/patients", params={"q": "R9"}).text
    assert "readonly" not in Page(web.client("admin").get("/records/patients/new").text).by_id("f-center")


def test_an_admin_changes_a_users_center_and_it_is_audited(web):
    admin = web.client("admin")
    edit = Page(admin.get("/users/genoa/edit").text)
    _assert_every_control_is_labelled(edit, "user edit")
    changed = admin.post("/users/genoa/role", data={"csrf_token": _csrf(admin), "role": "investigator",
                                                    "center": "Rome"}, follow_redirects=False)
    assert changed.status_code == 303
    assert find_user(web.store, "genoa").center == "Rome"
    event = security_events(web.store, web.accounts["admin"], action="role_change", limit=5)[0]
    assert event["actor"] == "admin" and event["after"]["center"] == "Rome"
    picked = web.client("genoa").get("/pick/patients", params={"q": ""}).text  # at the next request
    assert "R1" in picked and "G1" not in picked
    users_page = admin.get("/users").text
    _assert_every_control_is_labelled(Page(users_page), "users")
    assert 'class="table-scroll"' in users_page


def test_a_non_admin_cannot_reach_the_users_pages(web):
    for name in ("rome", "viewer"):
        client = web.client(name)
        for path in ("/users", "/users/genoa/edit", "/users/events"):
            response = client.get(path)
            assert response.status_code == 403 and "genoa" not in response.text, path
        assert client.post("/users/genoa/role", data={"csrf_token": _csrf(client), "role": "admin"}).status_code == 403
    assert find_user(web.store, "genoa").role.value == "investigator"


def test_the_login_and_password_pages_label_every_control(web):
    _assert_every_control_is_labelled(Page(web.client().get("/login").text), "login")
    page = web.client("rome").get("/account/password").text
    _assert_every_control_is_labelled(Page(page), "password")
    assert 'class="skip-link" href="#main"' in page and '<main id="main"' in page


def test_the_search_refuses_a_text_longer_than_an_identifier_by_naming_the_limit(web):
    with pytest.raises(CnotrackError, match=f"at most {MAX_SEARCH_TEXT}"):
        search_patients(web.store, web.accounts["admin"], "x" * (MAX_SEARCH_TEXT + 1))


def _nul_statements(web, request):
    """(the response of ``request()``, the statements it sent with a NUL in a text parameter:
    PostgreSQL refuses those, so each would be a 500 there)."""
    import sqlalchemy as sa
    sent: list[object] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        if any(isinstance(v, str) and "\x00" in v for v in values):
            sent.append(statement)

    sa.event.listen(web.store.engine, "before_cursor_execute", record)
    try:
        return request(), sent
    finally:
        sa.event.remove(web.store.engine, "before_cursor_execute", record)


def test_a_control_character_in_a_picker_or_a_form_identifier_never_reaches_the_database(web):
    client = web.client("rome")
    for url, params in (("/pick/patients", {"q": "R\x00"}),
                        ("/pick/patients", {"field": "patient_id", "patient_id": "R\x00"}),
                        ("/pick/studies", {"q": "S\x00"}), ("/pick/studies", {"q": "S", "patient_id": "R1\x00"})):
        answer, sent = _nul_statements(web, lambda: client.get(url, params=params))
        assert answer.status_code == 422 and "control character" in answer.text and "<option" not in answer.text, url
        assert sent == [], url
    with pytest.raises(CnotrackError, match="control character"):
        search_patients(web.store, web.accounts["rome"], "R\x00")
    # a refused form (the identifier holds a NUL) shows its problems; its Cancel link looks nothing up
    for table, values in (("treatments", {"patient_id": "R1\x00", "drug": "naproxen", "start_date": "2021-01-01"}),
                          ("chaq", {"patient_id": "R1\x00", "date": "2020-01-01", "dressing_1": "1"}),
                          ("lesions", {"study_id": "R1-S1\x00", "bone": "femur", "side": "left"})):
        answer, sent = _nul_statements(web, lambda: client.post(f"/records/{table}/new",
                                                                data={**values, "csrf_token": _csrf(client)}))
        assert answer.status_code == 422 and "control character" in answer.text, table
        assert sent == [], (table, sent)
    opened, sent = _nul_statements(web, lambda: client.get("/records/labs/new", params={"patient_id": "R1\x00"}))
    assert opened.status_code == 200 and sent == [] and 'href="/">Cancel' in opened.text
