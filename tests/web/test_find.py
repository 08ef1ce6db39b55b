"""Finding a patient in the cohort list (issue 14, "Find"): the dashboard's search (patient id,
center, drug), its filters (center, drug, eligibility for pardeo2017) and its sort by every
column, all paged in the database and kept in every link; checked against the dataset read in
Python. And what a hostile search or another center's investigator can learn: nothing (the text
is bound, never SQL; wildcards are plain; another center's name answers as a center that does
not exist)."""

from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from cnotrack import records
from cnotrack.store import import_dataset, open_store
from cnotrack.synth import synthesize_registry
from cnotrack.web import create_app
from cnotrack.web.patient_list import MAX_FILTER_LENGTH
from cnotrack.web.services import evaluate_for

from .conftest import PASSWORD, Clock


class Found:
    """The seeded web app with 60 synthetic patients more (30 of Rome, 30 of Genoa), read only."""

    def __init__(self, store, app, accounts):
        self.store, self.app, self.accounts = store, app, accounts
        self._clients: dict[str, TestClient] = {}

    def client(self, username: str) -> TestClient:
        if username not in self._clients:
            client = TestClient(self.app)
            response = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
            self._clients[username] = client
        return self._clients[username]

    def dataset(self, username: str):
        return records.visible_dataset(self.store, self.accounts[username])


@pytest.fixture(scope="module")
def found(tmp_path_factory, seeded_database):
    """One database for the module: every test here only reads."""
    template, accounts, _ = seeded_database
    path = tmp_path_factory.mktemp("find") / "cnotrack.db"
    shutil.copyfile(template, path)
    store = open_store(f"sqlite:///{path}")
    dataset = synthesize_registry(60, 11)
    dataset.tables["patients"] = dataset.patients.with_columns(center=pl.Series(["Rome"] * 30 + ["Genoa"] * 30))
    import_dataset(dataset, store)
    yield Found(store, create_app(store=store, clock=Clock()), accounts)
    store.close()


def _rows(page: str) -> list[list[str]]:
    """The cells of the patient table of a dashboard page, as text."""
    if 'id="patients"' not in page:
        return []
    body = page.split('id="patients"')[1].split("<tbody>")[1].split("</tbody>")[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def _ids(client: TestClient, **params) -> list[str]:
    """The patient ids of every page of the list for ``params`` (200 a page)."""
    out, number = [], 1
    while True:
        page = client.get("/", params={**params, "page": number, "size": 200})
        assert page.status_code == 200, page.text
        out += [r[0] for r in _rows(page.text)]
        if f"page={number + 1}&amp;" not in page.text:
            return out
        number += 1


def _total(page: str) -> int:
    return int(re.search(r'data-total="(\d+)"', page).group(1)) if 'data-total="' in page else 0


def _received(dataset, drug: str) -> set[str]:
    return set(dataset["treatments"].filter(pl.col("drug") == drug)["patient_id"]) | \
        set(dataset["administrations"].filter(pl.col("drug") == drug)["patient_id"])


def _list_section(page: str) -> str:
    return page.split('id="patient-list"')[1].split("</section>")[0]


def test_a_search_finds_the_patients_whose_id_center_or_drug_contains_the_text(found):
    client, dataset = found.client("admin"), found.dataset("admin")
    patients = dataset.patients
    for text in ("P00", "p001", "1"):
        expected = patients.filter(pl.col("patient_id").str.to_lowercase().str.contains(text.lower(), literal=True))
        expected_ids = set(expected["patient_id"])
        got = _ids(client, q=text)
        by_center = set(patients.filter(pl.col("center").fill_null("").str.to_lowercase()
                                        .str.contains(text.lower(), literal=True))["patient_id"])
        by_drug = set(dataset["treatments"].filter(pl.col("drug").str.contains(text.lower(), literal=True))
                      ["patient_id"])
        assert got and set(got) == expected_ids | by_center | by_drug and len(got) == len(set(got)), text
    genoa = _ids(client, q="genO")
    assert set(genoa) == set(patients.filter(pl.col("center") == "Genoa")["patient_id"]) and len(genoa) == 32
    naproxen = _received(dataset, "naproxen")
    assert 0 < len(naproxen) < patients.height
    assert set(_ids(client, q="naprox")) == naproxen
    assert set(_ids(client, q="Naprosyn")) == naproxen  # a brand name finds the generic
    assert set(_ids(client, q="pamidronate")) == _received(dataset, "pamidronate")  # also the administrations


def test_the_filters_keep_exactly_the_patients_they_name_and_combine(found):
    client, dataset = found.client("admin"), found.dataset("admin")
    everyone = set(dataset.patients["patient_id"])
    eligible = set(evaluate_for(found.store, found.accounts["admin"], "pardeo2017", statistics=False)
                   .cohort.eligible["patient_id"])
    assert 0 < len(eligible) < len(everyone)
    assert set(_ids(client, eligibility="eligible")) == eligible
    assert set(_ids(client, eligibility="not_eligible")) == everyone - eligible
    anakinra = _received(dataset, "anakinra")
    assert 0 < len(anakinra) < len(everyone)
    assert set(_ids(client, drug="anakinra")) == anakinra == set(_ids(client, drug="Kineret"))
    assert set(_ids(client, center="Rome")) == set(dataset.patients.filter(pl.col("center") == "Rome")["patient_id"])
    both = _ids(client, center="genoa", drug="anakinra", eligibility="eligible")
    genoa = set(dataset.patients.filter(pl.col("center") == "Genoa")["patient_id"])
    assert set(both) == genoa & anakinra & eligible
    page = client.get("/", params={"eligibility": "eligible"}).text
    assert all(r[10] == "yes" for r in _rows(page)) and _total(page) == len(eligible)
    assert client.get("/", params={"eligibility": "maybe"}).status_code == 422


@pytest.mark.parametrize("username", ["rome", "viewer"])
def test_another_centers_patients_never_reach_an_investigator_or_a_viewer(found, username):
    client, dataset = found.client(username), found.dataset(username)
    rome = set(dataset.patients["patient_id"])
    assert set(dataset.patients["center"]) == {"Rome"} and len(rome) == 32
    assert set(_ids(client)) == rome
    assert _ids(client, q="G") == [p for p in sorted(rome) if "g" in p.lower()] == []  # G1, G2 are Genoa's
    assert set(_ids(client, q="naprox")) == _received(dataset, "naproxen")  # only Rome's, not Genoa's too
    page = client.get("/", params={"drug": "anakinra"}).text
    assert _total(page) == len(_received(dataset, "anakinra")) == len(_rows(page))
    assert _total(client.get("/", params={"q": "1", "sort": "-lesions"}).text) == len({p for p in rome if "1" in p})
    # another center's name answers exactly as a center that does not exist: an empty list
    pages = {name: client.get("/", params={"center": name}) for name in ("Genoa", "Atlantis")}
    assert {r.status_code for r in pages.values()} == {200}
    assert _rows(pages["Genoa"].text) == [] and "No patient matches" in pages["Genoa"].text
    assert pages["Genoa"].text.replace("Genoa", "X") == pages["Atlantis"].text.replace("Atlantis", "X")
    assert "Genoa" not in _list_section(pages["Genoa"].text)
    assert _rows(client.get("/", params={"center": "Rome"}).text)
    assert 'id="find-center"' not in pages["Genoa"].text  # no center to choose: theirs only


def test_a_search_is_bound_as_a_parameter_with_its_wildcards_plain_and_its_length_bounded(found):
    client = found.client("admin")
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    hostile = "zz' OR '1'='1' --"
    sa.event.listen(found.store.engine, "before_cursor_execute", record)
    try:
        page = client.get("/", params={"q": hostile})
    finally:
        sa.event.remove(found.store.engine, "before_cursor_execute", record)
    assert page.status_code == 200 and _rows(page.text) == [] and "No patient matches" in page.text
    searched = [(s, p) for s, p in statements if "LIKE" in s.upper()]
    assert searched and all(hostile not in s for s, _ in statements)
    assert all(any(isinstance(v, str) and "zz" in v for v in p) for _, p in searched)
    # % and _ match themselves only: no id, center or drug has them
    for wildcard in ("%", "_", "P%1", "P_001", "\\"):
        assert _ids(client, q=wildcard) == [], wildcard
    assert _ids(client, q="P0001") == ["P0001"]
    assert client.get("/", params={"q": "x" * MAX_FILTER_LENGTH}).status_code == 200
    for name in ("q", "center", "drug", "eligibility"):
        assert client.get("/", params={name: "x" * (MAX_FILTER_LENGTH + 1)}).status_code == 422, name


def _key_of(row: list[str], column: int):
    cell = row[column]
    if column in range(3, 9):
        return int(cell)
    if column == 9:
        return int(cell.split("%")[0])
    return cell


@pytest.mark.parametrize(("sort", "column"), [("patient_id", 0), ("sex", 1), ("center", 2), ("treatments", 3),
                                              ("assessments", 4), ("labs", 5), ("imaging", 6), ("lesions", 7),
                                              ("adverse_events", 8), ("completeness", 9), ("cohort", 10)])
def test_the_list_sorts_by_every_column_in_both_orders(found, sort, column):
    client = found.client("admin")
    for order, descending in ((sort, False), (f"-{sort}", True)):
        rows, number = [], 1
        while True:
            page = client.get("/", params={"sort": order, "size": 40, "page": number}).text
            rows += _rows(page)
            if f"page={number + 1}&amp;" not in page:
                break
            number += 1
        keys = [_key_of(r, column) for r in rows if r[column] != ""]
        assert len(keys) > 1 and len(set(keys)) > 1, (order, keys)
        assert keys == sorted(keys, reverse=descending), order
        assert len(rows) == len({r[0] for r in rows}) == 64
        assert f'aria-sort="{"descending" if descending else "ascending"}"' in page


def test_every_filter_and_the_sort_are_in_the_address_and_kept_by_the_page_and_sort_links(found):
    client = found.client("admin")
    params = {"q": "P0", "drug": "naproxen", "eligibility": "not_eligible", "sort": "-labs", "size": 3}
    page = client.get("/", params=params).text
    assert _total(page) > 6
    links = {a.replace("&amp;", "&") for a in re.findall(r'href="(/\?[^"]+)"', page)}
    pager = [link for link in links if "page=2" in link]
    assert pager, links
    for link in links - {"/"}:
        query = parse_qs(urlsplit(link).query)
        assert query["q"] == ["P0"] and query["drug"] == ["naproxen"] and query["eligibility"] == ["not_eligible"]
        assert query["size"] == ["3"]
    assert parse_qs(urlsplit(pager[0]).query)["sort"] == ["-labs"]
    second = client.get(pager[0]).text
    assert not {r[0] for r in _rows(second)} & {r[0] for r in _rows(page)} and 'data-page="2"' in second
    # the form: a plain GET form (works without JavaScript) that keeps the sort, filled in
    form = page.split('<form id="find"')[1].split("</form>")[0]
    assert 'method="get" action="/"' in form and '<button type="submit">' in form
    assert 'value="P0"' in form and 'name="sort" value="-labs"' in form
    assert '<option value="naproxen" selected>' in form and '<option value="not_eligible" selected>' in form
    assert 'hx-trigger="input changed delay:300ms, search"' in form and 'maxlength="100"' in form


def test_an_htmx_search_gets_the_list_and_its_status_and_the_summary_sits_above_the_list(found):
    client = found.client("admin")
    part = client.get("/", params={"q": "P00", "sort": "-lesions"}, headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text and "endpoint-" not in part.text
    assert part.headers["vary"] == "HX-Request"
    assert '<input type="hidden" id="find-sort" name="sort" value="-lesions" hx-swap-oob="true">' in part.text
    total = _total(part.text)
    assert re.search(rf'<p id="find-status" hx-swap-oob="innerHTML">\s*{total} patients match', part.text)
    # a history restore (htmx asks for the whole page) gets the whole page
    restored = client.get("/", params={"q": "P00"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text
    whole = client.get("/").text
    assert whole.index('id="endpoint-') < whole.index('id="find"') < whole.index('id="patient-list"')
    assert "pardeo2017" in whole.split('id="find-summary-title"')[1].split("</h2>")[0]


def _statements_during(store, request):
    """(the response of ``request()``, the parameters of every statement it sent to the database)."""
    sent: list[object] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(parameters)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        return request(), sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)


def _holds_nul(parameters) -> bool:
    values = parameters.values() if isinstance(parameters, dict) else parameters or ()
    return any(isinstance(v, str) and "\x00" in v for v in values)


@pytest.mark.parametrize("name", ["q", "center", "drug"])
def test_a_control_character_in_a_search_or_filter_is_a_422_naming_it_and_never_reaches_the_database(found, name):
    # PostgreSQL refuses a NUL in a text parameter: sent to it, the search would be a 500
    client = found.client("rome")
    answer, sent = _statements_during(found.store, lambda: client.get("/", params={name: "P0\x00"}))
    assert answer.status_code == 422 and f"the {name} parameter" in answer.text and "control character" in answer.text
    assert not [p for p in sent if _holds_nul(p)]
    assert client.get("/", params={name: "P0\x01"}).status_code == 422
    assert client.get("/", params={name: "\tP0 "}).status_code == 200  # blanks around the text are trimmed


def test_the_center_filter_finds_a_center_whose_name_is_not_plain_ascii(web):
    # the admin's center list offers the name as stored: choosing it must list its patients on
    # SQLite too, whose lower() leaves a letter such as Ö as it is
    admin = web.accounts["admin"]
    for pid in ("OR1", "OR2"):
        records.create_record(web.store, admin, "patients", {"patient_id": pid, "sex": "F", "center": "Örebro"})
    client = web.client("admin")
    page = client.get("/").text
    assert '<option value="Örebro">Örebro</option>' in page
    assert sorted(r[0] for r in _rows(client.get("/", params={"center": "Örebro"}).text)) == ["OR1", "OR2"]
    assert sorted(r[0] for r in _rows(client.get("/", params={"q": "Örebro"}).text)) == ["OR1", "OR2"]
    assert sorted(r[0] for r in _rows(client.get("/", params={"center": "ROME"}).text)) == ["R1", "R2"]


def test_a_cohort_of_more_ids_than_a_statement_takes_parameters_still_filters_and_sorts(found):
    # a registry's cohort can hold more ids than SQLite's 32,766 parameters: they go as one
    from cnotrack.web.patient_list import PatientFilters, patient_list_page

    admin = found.accounts["admin"]
    everyone = sorted(found.dataset("admin").patients["patient_id"])
    cohort = frozenset(everyone[::2]) | {f"ELSEWHERE-{n:05d}" for n in range(40_000)}
    listed = patient_list_page(found.store, admin, size=200, sort="-cohort", cohort=cohort,
                               filters=PatientFilters(eligibility="eligible"))
    assert listed.total == len(everyone[::2])
    assert {r["patient_id"] for r in listed.items} == set(everyone[::2])
    others = patient_list_page(found.store, admin, size=200, cohort=cohort,
                               filters=PatientFilters(eligibility="not_eligible"))
    assert {r["patient_id"] for r in others.items} == set(everyone[1::2])
    assert all(r["in_cohort"] for r in listed.items) and not any(r["in_cohort"] for r in others.items)
