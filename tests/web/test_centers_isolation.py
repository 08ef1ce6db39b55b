"""Every route of the app, walked by a viewer and an investigator of Rome with Genoa's ids and
keys (live and deleted), on SQLite and PostgreSQL: no Genoa value in any answer, and an answer
for another center's record equal to the answer for a record that does not exist."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from fastapi.routing import APIRoute

from cnotrack.records import RECORD_TYPES

from .centers_fixtures import GD, GX, centers_web, leaks  # noqa: F401  (centers_web is a fixture)
from .conftest import new_values

MISSING_ID = 900_000
MISSING_KEY = "NO-SUCH-KEY"
#: Routes that only start or end the session; they read no record.
SESSION_ROUTES = {("POST", "/login"), ("POST", "/logout"), ("POST", "/api/v1/login"), ("POST", "/api/v1/logout")}


@dataclass
class Call:
    """A request with Genoa's id or key, and (unless ``None``) the same request with one that
    does not exist; ``swaps`` are the (Genoa, missing) values the two differ by."""

    method: str
    genoa_url: str
    missing_url: str | None = None
    body: dict | None = None
    missing_body: dict | None = None
    form: bool = False
    swaps: list[tuple[str, str]] = field(default_factory=list)
    sent: tuple[str, ...] = ()


def app_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the app (routers included, HEAD left out)."""
    out = []

    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif isinstance(route, APIRoute) or hasattr(route, "methods"):
                out.extend((m, route.path) for m in sorted(route.methods or ()) if m != "HEAD")
    walk(app.routes)
    return sorted(set(out))


def _genoa_ids(web, table: str) -> list[int]:
    live = [rid for (pid, t), rid in web.ids.items() if pid in ("G1", "G2", GX) and re.fullmatch(rf"{table}\d*", t)]
    return sorted(set(live) | set(web.deleted.get(table, [])))


def _create_values(table: str, genoa: bool) -> dict:
    """A new record of ``table`` for Genoa's patient or study, or for one that does not exist."""
    values = dict(new_values(table, GX, GX))
    if table == "chaq":
        values["date"] = "2011-05-03"  # a visit of GX-SECRET: the answer must not reveal it
    if table == "patients":
        values["patient_id"] = "ROME-NEW"  # a new patient of Rome (Genoa's own keys: see the conflict tests)
    if not genoa and table != "patients":
        values["study_id" if table == "lesions" else "patient_id"] = MISSING_KEY
    return values


def _as_form(values: dict) -> dict:
    return {k: ("yes" if v is True else "no" if v is False else "" if v is None else str(v)) for k, v in values.items()}


def calls_for(web, method: str, path: str, own_study: int, own_lesion: int) -> list[Call]:
    """The requests that exercise one route with Genoa's ids and keys."""
    calls: list[Call] = []
    tables = RECORD_TYPES
    api = re.fullmatch(r"/api/v1/([a-z_]+)(/\{record_id\})?", path)
    if api and api.group(1) in RECORD_TYPES:  # the API has one route per table
        tables, path = (api.group(1),), path.replace(api.group(1), "{table}", 1)
    if "{table}" in path and "{record_id}" in path:
        for table in tables:
            body = {"version": 1, **_create_values(table, genoa=False)} if method == "PUT" else None
            form = _as_form({"version": 1, **_create_values(table, genoa=False)}) if method == "POST" else None
            for rid in _genoa_ids(web, table):
                url = path.replace("{table}", table).replace("{record_id}", str(rid))
                calls.append(Call(method, url, url.replace(f"/{rid}", f"/{MISSING_ID}"),
                                  body=body if body is not None else form, form=form is not None,
                                  swaps=[(str(rid), str(MISSING_ID))]))
    elif "{table}" in path:  # lists and creates
        for table in tables:
            url = path.replace("{table}", table)
            if method == "GET":
                for column, genoa_value in (("patient_id", GX), ("patient_id", GD), ("study_id", f"{GX}-S1"),
                                            ("study_id", f"{GD}-S1"), ("center", "Genoa")):
                    calls.append(Call("GET", f"{url}?{column}={genoa_value}", f"{url}?{column}={MISSING_KEY}",
                                      swaps=[(genoa_value, MISSING_KEY)], sent=(genoa_value,)))
            else:
                genoa, missing = _create_values(table, True), _create_values(table, False)
                sent = tuple(str(v) for v in genoa.values() if v is not None)
                comparable = table != "patients"  # a new patient id is created: see the conflict tests
                form = path.startswith("/records")
                calls.append(Call(method, url, url if comparable else None,
                                  body=_as_form(genoa) if form else genoa,
                                  missing_body=_as_form(missing) if form else missing, form=form,
                                  swaps=[(GX + "-S1", MISSING_KEY), (GX, MISSING_KEY)], sent=sent))
    elif "{lesion_record_id}" in path:
        pairs = [(own_study, lesion) for lesion in _genoa_ids(web, "lesions")]
        pairs += [(study, own_lesion) for study in _genoa_ids(web, "imaging")]
        for study, lesion in pairs:
            genoa_url = path.replace("{record_id}", str(study)).replace("{lesion_record_id}", str(lesion))
            if study == own_study:
                missing_url = genoa_url.rsplit("/", 1)[0] + f"/{MISSING_ID}"
                swaps = [(str(lesion), str(MISSING_ID))]
            else:
                missing_url = path.replace("{record_id}", str(MISSING_ID)).replace("{lesion_record_id}", str(lesion))
                swaps = [(str(study), str(MISSING_ID))]
            calls.append(Call(method, genoa_url, missing_url, swaps=swaps))
    elif "{record_id}" in path:
        table = "patients" if path.startswith("/patients") else "imaging"
        for rid in _genoa_ids(web, table):
            url = path.replace("{record_id}", str(rid)).replace("{protocol}", "pedcno")
            query = "?bone=femur&side=left" if url.endswith("lesion-form") else ""
            form = {"bone": "femur", "side": "right"} if method == "POST" else None
            calls.append(Call(method, url + query, url.replace(f"/{rid}", f"/{MISSING_ID}") + query, body=form,
                              form=form is not None, swaps=[(str(rid), str(MISSING_ID))]))
    elif "{username}" in path:
        url = path.replace("{username}", "genoa")
        calls.append(Call(method, url, path.replace("{username}", "no-such-user"), body={} if method == "POST" else None,
                          form=method == "POST", swaps=[("genoa", "no-such-user")], sent=("genoa",)))
    elif path in ("/audit", "/audit/export.csv", "/api/v1/audit"):
        for table in RECORD_TYPES:
            for rid in _genoa_ids(web, table):
                calls.append(Call("GET", f"{path}?table={table}&record_id={rid}",
                                  f"{path}?table={table}&record_id={MISSING_ID}", swaps=[(str(rid), str(MISSING_ID))]))
        calls.append(Call("GET", path))
    elif path == "/evaluation/download":
        calls += [Call("GET", f"{path}?format={f}") for f in ("json", "markdown", "html")]
    elif path == "/import" and method == "POST":
        files = [("files", ("patients.csv", f"patient_id,sex,center\n{GX},F,Rome\n{GD},M,Rome\n".encode(), "text/csv")),
                 ("files", ("imaging.csv", f"patient_id,study_id,date,modality\n{GX},{GD}-S1,2021-01-01,mri\n".encode(),
                            "text/csv"))]
        calls.append(Call("POST", path, body={"files": files}, sent=(GX, GD, f"{GD}-S1")))
    elif path.startswith("/static"):
        calls.append(Call("GET", "/static/app.css"))
    else:
        calls.append(Call(method, path, body={} if method in ("POST", "PUT") else None, form=method == "POST"))
    return calls


def _send(client, method: str, url: str, body, form: bool):
    if body is not None and "files" in body:
        return client.request(method, url, files=body["files"])
    if form:
        return client.request(method, url, data=body or {}, follow_redirects=False)
    return client.request(method, url, json=body, follow_redirects=False)


def _normal(text: str, swaps: list[tuple[str, str]]) -> str:
    for genoa, missing in swaps:
        for value in (genoa, missing):
            pattern = rf"(?<!\d){re.escape(value)}(?!\d)" if value.isdigit() else re.escape(value)
            text = re.sub(pattern, "<swapped>", text)
    return text


def _answer(response, swaps) -> tuple:
    headers = {k: _normal(v, swaps) for k, v in response.headers.items() if k in ("location", "content-type")}
    return response.status_code, headers, _normal(response.text, swaps)


@pytest.mark.parametrize("username", ["viewer", "rome"])
def test_every_route_answers_another_centers_ids_as_ids_that_do_not_exist_and_shows_none_of_its_data(
        centers_web, username):
    web = centers_web
    client = web.client(username, raise_server_exceptions=False)
    token = client.headers["X-CSRF-Token"]
    routes = app_routes(web.app)
    visited = set()
    for method, path in routes:
        if (method, path) in SESSION_ROUTES:
            visited.add((method, path))
            continue
        for call in calls_for(web, method, path, web.ids[("R1", "imaging")], web.ids[("R1", "lesions")]):
            visited.add((method, path))
            genoa = _send(client, call.method, call.genoa_url, call.body, call.form)
            where = f"{username} {call.method} {call.genoa_url}"
            assert genoa.status_code < 500, (where, genoa.text[:500])
            shown = "\n".join([genoa.text] + [f"{k}: {v}" for k, v in genoa.headers.items()])
            if genoa.headers.get("content-type", "").startswith(("application/pdf", "application/vnd")):
                shown = "\n".join(f"{k}: {v}" for k, v in genoa.headers.items())
            assert not leaks(shown, allowed=call.sent, token=token), (where, leaks(shown, allowed=call.sent),
                                                                     genoa.text[:800])
            if call.missing_url is not None:
                missing = _send(client, call.method, call.missing_url,
                                call.missing_body if call.missing_body is not None else call.body, call.form)
                assert _answer(genoa, call.swaps) == _answer(missing, call.swaps), where
    assert visited == set(routes)
    assert client.get("/api/v1/me").status_code == 200  # the walk kept its session


def test_the_walk_covers_the_routes_that_take_a_record_id(centers_web):
    paths = {path for _, path in app_routes(centers_web.app)}
    assert {"/api/v1/patients/{record_id}", "/patients/{record_id}", "/records/{table}/{record_id}/edit",
            "/imaging/{record_id}/still-present/{lesion_record_id}", "/imaging/{record_id}/resolved/{lesion_record_id}",
            "/imaging/{record_id}/lesion-form"} <= paths
