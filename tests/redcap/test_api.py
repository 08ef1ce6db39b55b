"""Reading a REDCap project from its API (``interop.redcap.api``, ``cnotrack redcap pull``).

The server is an ``httpx.MockTransport`` (and once a real HTTP server on the loopback interface)
that answers as REDCap's API does, from the real projects in ``../shared/reference/redcap``: the
metadata is the dictionary CSV's rows under the API's keys, the records the flat export as JSON
(every value a string), the events the events file (numbers as numbers, as REDCap sends them),
the form-event mapping and the repeating instruments those of the project's CDISC ODM XML, and
REDCap's refusals are its JSON ``{"error": ...}`` bodies with its HTTP statuses.

Besides reading like the files, every test of a failure checks the token is nowhere: not in the
exception, not in a log record (at DEBUG), not in a saved file, not in the command's output.
"""

from __future__ import annotations

import csv
import dataclasses
import http.server
import io
import json
import logging
import os
import pickle
import stat
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import polars as pl
import pytest
from hypothesis import given, strategies as st

from cnotrack.errors import DatasetError
from cnotrack.interop.redcap import api
from cnotrack.interop.redcap.api import (RedcapApiError, RedcapClient, RedcapToken, api_url, fetch_pull,
                                         pull_project, token_from_env)
from cnotrack.interop.redcap.dictionary import DICTIONARY_COLUMNS
from cnotrack.interop.redcap.files import read_project

from .conftest import reference_dir

TOKEN = "9C2F4A7B1E3D5F60A8B9C0D1E2F3A4B5"
OTHER_TOKEN = "00000000000000000000000000000000"
URL = "https://redcap.example.org/api/"
_ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
_RC = "{https://projectredcap.org}"


def unrowed(fields: dict) -> dict:
    """The fields without their row: the API's metadata counts JSON items, a CSV its rows."""
    return {name: dataclasses.replace(f, row=0) for name, f in fields.items()}


def leaks(text: str) -> bool:
    """Whether ``text`` shows the token, or a third of it."""
    text = text.lower()
    return any(TOKEN.lower()[i:i + 11] in text for i in range(0, len(TOKEN) - 10))


# --------------------------------------------------------------------------- a REDCap server


class FakeRedcap:
    """REDCap's API for one reference project folder: answers each POST by its ``content``;
    ``refuse[content] = response`` makes one content fail; ``calls`` keeps each request's
    form fields without the token, and the URLs asked."""

    def __init__(self, folder: Path, *, records: str = "data.csv", dictionary: str = "dictionary.csv",
                 title: str | None = None, missing_codes: str = "") -> None:
        self.folder = folder
        self.metadata = _metadata(folder / dictionary)
        self.records = _records(folder / records)
        self.events = _events(folder / "event.csv") if (folder / "event.csv").is_file() else None
        xml = folder / "project.xml"
        root = ET.parse(xml).getroot() if xml.is_file() else None
        self.title = title or (root.findtext(f".//{_ODM}StudyName") if root is not None else folder.name)
        self.mapping = _form_event_mapping(root) if root is not None and self.events else None
        self.repeating = _repeating(root, self.records, longitudinal=bool(self.events))
        self.missing_codes = missing_codes
        self.refuse: dict[str, httpx.Response] = {}
        self.calls: list[dict[str, str]] = []
        self.urls: list[str] = []

    def info(self) -> dict:
        return {"project_id": 14, "project_title": self.title, "creation_time": "2024-11-03 16:57:30",
                "in_production": 0, "project_language": "English", "purpose": 0,
                "is_longitudinal": int(bool(self.events)),
                "has_repeating_instruments_or_events": int(bool(self.repeating)),
                "surveys_enabled": 0, "missing_data_codes": self.missing_codes}

    def export_names(self) -> list[dict]:
        """From the records' header, as REDCap pairs each checkbox choice with its column."""
        header = list(self.records[0]) if self.records else []
        names = []
        for item in self.metadata:
            name = item["field_name"]
            if item["field_type"] == "checkbox":
                codes = [c.split(",")[0].strip() for c in item["select_choices_or_calculations"].split("|")]
                columns = [c for c in header if c.startswith(f"{name}___")]
                names += [{"original_field_name": name, "choice_value": code, "export_field_name": column}
                          for code, column in zip(codes, columns)]
            elif item["field_type"] != "descriptive":
                names.append({"original_field_name": name, "choice_value": "", "export_field_name": name})
        return names

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        form = {k: v[0] for k, v in urllib.parse.parse_qs(request.content.decode(), keep_blank_values=True).items()}
        token = form.pop("token", None)
        self.calls.append(form)
        content = form.get("content")
        if request.method != "POST":
            return httpx.Response(405, text="<html><body>Method not allowed</body></html>")
        if token != TOKEN:
            return httpx.Response(403, json={"error": "You do not have permissions to use the API"})
        if content in self.refuse:
            return self.refuse[content]
        if content == "project":
            return httpx.Response(200, json=self.info())
        if content == "metadata":
            return httpx.Response(200, json=self.metadata)
        if content == "exportFieldNames":
            return httpx.Response(200, json=self.export_names())
        if content in ("event", "formEventMapping"):
            if not self.events:
                return httpx.Response(400, json={"error": "You cannot export events for classic projects"})
            return httpx.Response(200, json=self.events if content == "event" else self.mapping)
        if content == "repeatingFormsEvents":
            return httpx.Response(200, json=self.repeating)
        if content == "record":
            assert (form["type"], form["rawOrLabel"], form["rawOrLabelHeaders"], form["exportDataAccessGroups"]) == \
                ("flat", "raw", "raw", "true")
            if form["format"] == "csv":
                return httpx.Response(200, content=_csv(self.records), headers={"content-type": "text/csv"})
            return httpx.Response(200, json=self.records)
        return httpx.Response(400, json={"error": f"The value of the parameter \"content\" ({content}) is not valid"})


def _metadata(path: Path) -> list[dict]:
    """The dictionary's rows under the API's keys, by position (the API has no header to break)."""
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    keys = [api for api, _ in DICTIONARY_COLUMNS]
    return [dict(zip(keys, row)) for row in rows[1:] if any(row)]


def _records(path: Path) -> list[dict]:
    if path.suffix == ".json":
        return json.loads(path.read_text("utf-8"))
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _events(path: Path) -> list[dict]:
    return [{"event_name": r["event_name"], "arm_num": int(r["arm_num"]), "unique_event_name": r["unique_event_name"],
             "custom_event_label": r["custom_event_label"] or None, "event_id": int(r["event_id"]),
             "days_offset": 0, "offset_min": 0, "offset_max": 0}
            for r in csv.DictReader(io.StringIO(path.read_text("utf-8-sig")))]


def _form_event_mapping(root: ET.Element) -> list[dict]:
    return [{"arm_num": int(event.get(f"{_RC}ArmNum")), "unique_event_name": event.get(f"{_RC}UniqueEventName"),
             "form": ref.get(f"{_RC}FormName")}
            for event in root.iter(f"{_ODM}StudyEventDef") for ref in event.iter(f"{_ODM}FormRef")]


def _repeating(root: ET.Element | None, records: list[dict], *, longitudinal: bool) -> list[dict]:
    """The ODM's repeating instruments, else what the records repeat; a classic project's answer
    has no event_name."""
    if root is not None:
        items = [(r.get(f"{_RC}UniqueEventName"), r.get(f"{_RC}RepeatInstrument") or "", r.get(f"{_RC}CustomLabel"))
                 for r in root.iter(f"{_RC}RepeatingInstrument")]
    else:
        forms = dict.fromkeys(r.get("redcap_repeat_instrument") for r in records if r.get("redcap_repeat_instrument"))
        items = [("", form, "") for form in forms]
    if longitudinal:
        return [{"event_name": e, "form_name": f, "custom_form_label": label} for e, f, label in items]
    return [{"form_name": f, "custom_form_label": label} for _, f, label in items]


@pytest.fixture
def longitudinal() -> FakeRedcap:
    return FakeRedcap(reference_dir() / "REDCapR-longitudinal")


@pytest.fixture
def repeating() -> FakeRedcap:
    return FakeRedcap(reference_dir() / "REDCapR-repeating-instruments", missing_codes="UNK, Unknown | NA, Not applicable")


def client(server, url: str = URL, token: str = TOKEN, **options) -> RedcapClient:
    return RedcapClient(url, RedcapToken(token), transport=httpx.MockTransport(server), **options)


def pull(server, **options):
    with client(server) as c:
        return fetch_pull(c, **options)


# --------------------------------------------------------------------------- reading like the files


def test_a_longitudinal_project_pulled_reads_like_its_exported_files(longitudinal):
    folder = longitudinal.folder
    project = pull(longitudinal).project()
    files = read_project(folder / "dictionary.csv", folder / "data.csv", events=folder / "event.csv")
    assert project.name == "REDCapR: longitudinal"
    assert unrowed(project.fields) == unrowed(files.fields)
    assert [f.row for f in project.fields.values()] == list(range(1, len(project.fields) + 1))  # the JSON items
    assert project.events == files.events and len(project.events) == 12
    assert project.records.drop("_row").equals(files.records.drop("_row"))
    assert project.records.get_column("_row").to_list() == list(range(1, project.records.height + 1))
    assert project.designations["enrollment_arm_1"][:3] == ["demographics", "contact_info", "baseline_data"]
    assert project.records_source == "REDCap API at redcap.example.org, content=record"


def test_records_asked_for_as_csv_read_exactly_like_the_exported_csv(longitudinal):
    folder = longitudinal.folder
    project = pull(longitudinal, records_format="csv").project()
    files = read_project(folder / "dictionary.csv", folder / "data.csv", events=folder / "event.csv")
    assert project.records.equals(files.records)


def test_a_classic_project_with_a_repeating_instrument_is_asked_no_events(repeating):
    project = pull(repeating).project()
    asked = [c["content"] for c in repeating.calls]
    assert asked == ["project", "metadata", "exportFieldNames", "repeatingFormsEvents", "record"]
    assert project.events == [] and project.repeating == {(None, "bp")}
    assert project.missing_codes == {"UNK": "Unknown", "NA": "Not applicable"}
    bp = project.records.filter(pl.col("redcap_repeat_instrument") == "bp")
    assert bp.get_column("redcap_repeat_instance").to_list() == ["1", "2", "3", "1"]


def test_the_records_are_asked_for_flat_raw_and_with_data_access_groups(repeating):
    pull(repeating)
    record = next(c for c in repeating.calls if c["content"] == "record")
    assert record == {"content": "record", "format": "json", "returnFormat": "json", "type": "flat",
                      "rawOrLabel": "raw", "rawOrLabelHeaders": "raw", "exportCheckboxLabel": "false",
                      "exportSurveyFields": "false", "exportDataAccessGroups": "true"}
    assert set(repeating.urls) == {URL}  # the token travels in the body, never in the URL


def test_the_rarelink_project_reads_through_the_api_whose_metadata_has_no_broken_header():
    server = FakeRedcap(reference_dir() / "rarelink-cdm", records="evaluation_cohort_redcap.json",
                        dictionary="rarelink_cdm_datadictionary_v2_0_5.csv", title="RareLink CDM evaluation cohort")
    project = pull(server).project()
    assert project.records.height == 138
    assert project.record_id == "record_id" and project.repeating


def test_every_answer_s_digest_is_kept_under_its_content(repeating):
    project = pull(repeating).project()
    assert sorted(project.sha256) == sorted(f"REDCap API at redcap.example.org, content={c}" for c in
                                            ("project", "metadata", "exportFieldNames", "repeatingFormsEvents", "record"))
    assert all(len(d) == 64 for d in project.sha256.values())


def test_a_checkbox_column_the_server_names_otherwise_is_a_problem_not_a_guess(longitudinal):
    names = longitudinal.export_names()
    for item in names:
        if item["export_field_name"] == "gym___0":
            item["export_field_name"] = "gym___zero"
    longitudinal.refuse["exportFieldNames"] = httpx.Response(200, json=names)
    with pytest.raises(DatasetError) as info:
        pull(longitudinal).project()
    (problem,) = info.value.problems
    assert problem.column == "gym" and problem.value == "gym___zero" and "'gym___0'" in problem.message


# --------------------------------------------------------------------------- REDCap refusing


@pytest.mark.parametrize("content, status, body, expected", [
    ("project", 403, {"error": "You do not have permissions to use the API"}, "API Export"),
    ("project", 401, {"error": "The token you provided is not valid"}, "copy it again"),
    ("record", 403, {"error": "You do not have Data Export privileges in this project"}, "Full Data Set"),
    ("metadata", 400, {"error": "The REDCap API is disabled on this server"}, "disabled"),
])
def test_a_refusal_names_the_content_the_status_and_redcap_s_message(repeating, caplog, content, status, body, expected):
    repeating.refuse[content] = httpx.Response(status, json=body)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RedcapApiError) as info:
        pull(repeating)
    message = str(info.value)
    assert f"content={content}" in message and f"HTTP {status}" in message and body["error"] in message
    assert expected in message
    assert ("not this project's" in message) == (content == "project" and status == 403)  # the token worked before
    assert (info.value.content, info.value.status) == (content, status)
    assert not leaks(message) and not leaks(caplog.text) and not leaks(repr(info.value.args))


def test_a_wrong_token_is_refused_by_the_server_and_not_shown(repeating):
    with pytest.raises(RedcapApiError) as info, client(repeating, token=OTHER_TOKEN) as c:
        fetch_pull(c)
    assert "HTTP 403" in str(info.value) and OTHER_TOKEN not in str(info.value)


def test_a_server_error_page_is_described_not_dumped(repeating):
    page = f"<!DOCTYPE html><html><body>Fatal error in /var/www/redcap token={TOKEN}</body></html>"
    repeating.refuse["record"] = httpx.Response(500, text=page)
    with pytest.raises(RedcapApiError) as info:
        pull(repeating)
    assert "content=record: HTTP 500: the server failed (an HTML page); try again later" in str(info.value)
    assert not leaks(str(info.value))


def test_a_login_page_instead_of_json_says_to_check_the_url(repeating):
    repeating.refuse["project"] = httpx.Response(200, text="<html><form>Log in to REDCap</form></html>")
    with pytest.raises(RedcapApiError, match=r"content=project: the answer is not JSON \(an HTML page\).*/api/"):
        pull(repeating)


@pytest.mark.parametrize("records_format, body", [("json", b"[]"), ("csv", b"\n")])
def test_a_project_without_records_says_so(repeating, records_format, body):
    repeating.refuse["record"] = httpx.Response(200, content=body)
    with pytest.raises(RedcapApiError, match="content=record: the project has no records that this token's user"):
        pull(repeating, records_format=records_format)


def test_an_error_text_that_echoes_the_token_is_scrubbed(repeating):
    repeating.refuse["metadata"] = httpx.Response(400, json={"error": f"token {TOKEN.lower()} is malformed"})
    with pytest.raises(RedcapApiError) as info:
        pull(repeating)
    assert "[REDCap API token]" in str(info.value) and not leaks(str(info.value))


def test_a_redirect_is_not_followed_and_names_where_it_points(repeating):
    repeating.refuse["project"] = httpx.Response(302, headers={"location": "https://other.example.org/api/"})
    with pytest.raises(RedcapApiError, match="redirects to 'https://other.example.org/api/'"):
        pull(repeating)
    assert len(repeating.calls) == 1


@pytest.mark.parametrize("failure, expected", [
    (httpx.ReadTimeout, "no answer within the time allowed"),
    (httpx.ConnectError, "could not be reached (ConnectError"),
])
def test_timeouts_and_connection_errors_name_the_content_and_hide_the_token(failure, expected):
    def handler(request):
        raise failure(f"failed sending {request.content.decode()}", request=request)

    with pytest.raises(RedcapApiError) as info, client(handler) as c:
        fetch_pull(c)
    assert expected in str(info.value) and "content=project" in str(info.value)
    assert not leaks(str(info.value)) and info.value.__context__ is None and info.value.__cause__ is None


# --------------------------------------------------------------------------- the token


def test_the_token_never_shows_in_its_repr_or_str_and_is_not_pickled():
    token = RedcapToken(TOKEN)
    assert not leaks(repr(token)) and not leaks(str(token)) and not leaks(f"{token}")
    assert not leaks(repr(client(lambda r: None)))
    with pytest.raises(TypeError):
        pickle.dumps(token)


@given(st.text(max_size=80).filter(lambda t: not api._TOKEN_SHAPE.fullmatch(t.strip())))
def test_a_value_that_is_not_a_token_is_refused_without_being_echoed(value):
    with pytest.raises(RedcapApiError) as info:
        RedcapToken(value, origin="the value of REDCAP_TOKEN")
    message = str(info.value)
    assert "32 hexadecimal characters" in message and (len(value.strip()) < 4 or value.strip() not in message)


def test_a_super_token_of_64_characters_and_a_pasted_newline_are_accepted():
    assert RedcapToken(TOKEN * 2).reveal() == TOKEN * 2
    assert RedcapToken(f"{TOKEN}\n").reveal() == TOKEN


def test_the_token_is_read_from_the_variable_named_and_errors_name_only_the_variable():
    assert token_from_env("REDCAP_TOKEN", {"REDCAP_TOKEN": TOKEN}).reveal() == TOKEN
    with pytest.raises(RedcapApiError, match="REDCAP_TOKEN is not set"):
        token_from_env("REDCAP_TOKEN", {})
    with pytest.raises(RedcapApiError) as info:
        token_from_env("REDCAP_TOKEN", {"REDCAP_TOKEN": TOKEN[:-1]})
    assert "REDCAP_TOKEN" in str(info.value) and "31" in str(info.value) and not leaks(str(info.value))


def test_a_token_given_where_the_variable_name_goes_is_refused_without_echoing_it():
    with pytest.raises(RedcapApiError) as info:
        token_from_env(TOKEN, {})
    assert "looks like the token itself" in str(info.value) and "regenerate" in str(info.value)
    assert not leaks(str(info.value))


def test_no_log_record_at_debug_holds_the_token(repeating, caplog):
    caplog.set_level(logging.DEBUG)
    pull(repeating).project()
    assert caplog.records and not leaks(caplog.text)
    assert not any(leaks(str(r.args)) or leaks(r.getMessage()) for r in caplog.records)


def test_over_a_real_connection_on_loopback_no_log_record_holds_the_token(repeating, caplog):
    """httpx and httpcore log each request at DEBUG when a real transport sends it: URLs and
    headers' events, never the body that carries the token."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = httpx.Request("POST", URL, content=body)
            answer = repeating(request)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.DEBUG)
    try:
        project = pull_project(f"http://127.0.0.1:{server.server_port}/api/", RedcapToken(TOKEN), timeout=30)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert project.records.height == 6
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert not leaks(caplog.text) and not any(leaks(str(r.args)) for r in caplog.records)


# --------------------------------------------------------------------------- the URL


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/api/", "http://localhost/api/", "http://[::1]/api/",
                                 "https://redcap.example.org/api/"])
def test_https_is_required_except_on_loopback(url):
    assert api_url(url).host


@pytest.mark.parametrize("url, expected", [
    ("http://redcap.example.org/api/", "must be reached over https://"),
    ("https://redcap.example.org/api/?token=abc", "without a user name, password, ?query"),
    ("https://user:secret@redcap.example.org/api/", "without a user name, password"),
    ("ftp://redcap.example.org/api/", "not an http(s) address"),
    ("redcap.example.org/api", "not an http(s) address"),
])
def test_an_unsafe_or_malformed_url_is_refused_with_the_fix(url, expected):
    with pytest.raises(RedcapApiError) as info:
        api_url(url)
    assert expected in str(info.value) and "secret" not in str(info.value)


# --------------------------------------------------------------------------- saving a pull


def test_a_saved_pull_replays_as_the_same_project_from_files_readable_by_the_owner_only(longitudinal, tmp_path):
    pulled = pull(longitudinal)
    written = pulled.save(tmp_path / "pull")
    assert sorted(p.name for p in written.values()) == ["designations.csv", "dictionary.csv", "events.csv",
                                                         "project.json", "records.json"]
    for path in (tmp_path / "pull").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert not leaks(path.read_text("utf-8"))
    assert stat.S_IMODE((tmp_path / "pull").stat().st_mode) == 0o700
    header = (tmp_path / "pull" / "dictionary.csv").read_text("utf-8").splitlines()[0]
    assert header.split(",")[:2] == ["field_name", "form_name"]
    folder = tmp_path / "pull"
    replayed = read_project(folder / "dictionary.csv", folder / "records.json", events=folder / "events.csv",
                            designations=folder / "designations.csv")
    project = pulled.project()
    assert unrowed(replayed.fields) == unrowed(project.fields) and replayed.events == project.events
    assert replayed.designations == project.designations and replayed.records.equals(project.records)
    assert pulled.replay_command(folder).startswith(f"cnotrack redcap import {folder}/dictionary.csv")


def test_saving_tightens_the_mode_of_a_file_already_there(repeating, tmp_path):
    (tmp_path / "records.json").write_text("old")
    os.chmod(tmp_path / "records.json", 0o644)
    pull(repeating).save(tmp_path)
    assert stat.S_IMODE((tmp_path / "records.json").stat().st_mode) == 0o600
    replayed = read_project(tmp_path / "dictionary.csv", tmp_path / "records.json", repeating=tmp_path / "repeating.csv")
    assert replayed.repeating == {(None, "bp")}


# --------------------------------------------------------------------------- the command


MAPPING = """\
cnotrack_mapping: 1
project: REDCapR repeating instruments
blocks:
  - table: patients
    form: demographics
    columns:
      patient_id: {field: record_id}
      sex: {field: sex, codes: {"0": F, "1": M}}
      birth_date: {field: dob}
"""


@pytest.fixture
def cli(monkeypatch, repeating):
    """Run ``cnotrack ...`` (the console script's ``main``) against the fake server: (exit code,
    stdout, stderr)."""
    import cnotrack.cli_redcap_api  # noqa: F401  (registers `redcap pull`)
    from cnotrack.cli import main

    monkeypatch.setattr(api, "_transport", lambda: httpx.MockTransport(repeating))
    monkeypatch.setenv("COLUMNS", "200")

    def run(capsys, *args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
        with pytest.raises(SystemExit) as info:
            main()
        captured = capsys.readouterr()
        return int(info.value.code or 0), captured.out, captured.err

    return run


def test_pull_imports_through_the_mapping_and_a_second_pull_changes_nothing(cli, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REDCAP_TOKEN", TOKEN)
    (tmp_path / "map.yaml").write_text(MAPPING)
    db = f"sqlite:///{tmp_path / 'cno.db'}"
    args = ("redcap", "pull", "--url", URL, "--token-env", "REDCAP_TOKEN", "--mapping", tmp_path / "map.yaml",
            "--db", db)
    assert cli(capsys, "init-db", "--db", db)[0] == 0
    code, out, err = cli(capsys, *args, "--dry-run")
    assert code == 0, err
    assert "Would import" in out and "patients" in out
    code, out, err = cli(capsys, *args, "--save-dir", tmp_path / "pull")
    assert code == 0, err
    assert "Pulled REDCap project 'REDCapR: repeating-instruments' from redcap.example.org" in out
    assert "Imported" in out and "redcap.example.org" in out
    code, out, _ = cli(capsys, *args, "--dry-run")
    assert code == 0 and "Nothing would change" in out
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "Nothing changed" in out
    from cnotrack.store import open_store, read_store

    with open_store(db, create=False) as store:
        patients = read_store(store).tables["patients"]
        with store.engine.connect() as conn:
            sources = [r[0] for r in conn.exec_driver_sql("SELECT source FROM imports")]
            audit = " ".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM audit_log"))
    assert sorted(patients.get_column("patient_id").to_list()) == ["1", "2"]
    assert sources == ['REDCap project "REDCapR repeating instruments" '
                       '(REDCap API at redcap.example.org, content=record)']
    assert not leaks(audit) and not leaks(" ".join(sources))
    assert not any(leaks(p.read_text("utf-8")) for p in (tmp_path / "pull").iterdir())


def test_pull_without_a_mapping_summarises_and_saves(cli, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REDCAP_TOKEN", TOKEN)
    code, out, err = cli(capsys, "redcap", "pull", "--url", URL, "--token-env", "REDCAP_TOKEN",
                         "--save-dir", tmp_path / "pull")
    assert code == 0, err
    assert "11 fields in 2 forms, 6 record rows" in out and "Nothing imported" in out
    assert "cnotrack redcap import" in out and "--repeating" in out
    assert not leaks(out + err)


def test_there_is_no_option_that_takes_the_token(cli, capsys):
    for args in (("--token", TOKEN), (f"--token={TOKEN}",)):
        code, out, err = cli(capsys, "redcap", "pull", "--url", URL, *args)
        assert code == 2 and "No such option" in err
        assert not leaks(out + err)


def test_without_token_env_and_no_terminal_the_command_says_how_to_give_the_token(cli, capsys):
    code, _, err = cli(capsys, "redcap", "pull", "--url", URL)
    assert code == 1 and "give --token-env NAME" in err


def test_a_missing_variable_or_a_refusal_is_an_error_line_without_the_token(cli, capsys, monkeypatch, repeating):
    code, _, err = cli(capsys, "redcap", "pull", "--url", URL, "--token-env", "REDCAP_TOKEN")
    assert code == 1 and "Error: the environment variable REDCAP_TOKEN is not set" in err
    code, out, err = cli(capsys, "redcap", "pull", "--url", URL, "--token-env", TOKEN)
    assert code == 1 and "looks like the token itself" in err and not leaks(out + err)
    monkeypatch.setenv("REDCAP_TOKEN", TOKEN)
    repeating.refuse["record"] = httpx.Response(403, json={"error": "You do not have Data Export privileges"})
    code, out, err = cli(capsys, "redcap", "pull", "--url", URL, "--token-env", "REDCAP_TOKEN")
    assert code == 1 and "content=record: HTTP 403" in err and not leaks(out + err)


def test_a_plain_http_url_is_refused_before_the_token_is_asked_for(cli, capsys, monkeypatch):
    import cnotrack.cli_redcap_api as command

    monkeypatch.setattr(command, "_interactive", lambda: pytest.fail("the token was asked for"))
    code, _, err = cli(capsys, "redcap", "pull", "--url", "http://redcap.example.org/api/")
    assert code == 1 and "must be reached over https://" in err


def test_at_a_terminal_the_token_is_asked_for_hidden(monkeypatch, repeating):
    from typer.testing import CliRunner

    import cnotrack.cli_redcap_api as command
    from cnotrack.cli import app

    monkeypatch.setattr(api, "_transport", lambda: httpx.MockTransport(repeating))
    monkeypatch.setattr(command, "_interactive", lambda: True)
    result = CliRunner().invoke(app, ["redcap", "pull", "--url", URL], input=f"{TOKEN}\n")
    assert result.exit_code == 0, result.output
    assert "REDCap API token (hidden):" in result.output and "6 record rows" in result.output
    assert not leaks(result.output)
