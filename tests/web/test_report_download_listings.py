"""The web report download of a cohort whose listing is cut (issue 11): an HTML or Word report
of more than ``LISTING_MAX_ROWS`` patients comes as one zip holding the report and every CSV
file it names, with all their rows; a small cohort's report stays a bare file; the temporary
folder is removed, also when writing fails; a center's user finds no other center's patient
in any file of the zip.

The registry is ``synthesize_registry(480, 11)`` with every fourth patient in Genoa and the
others in Rome, imported once for the module beside the web fixtures' users and patients."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

from cnotrack.exchange.dataset import Dataset
from cnotrack.store import import_dataset, open_store
from cnotrack.synth import synthesize_registry
from cnotrack.web import create_app, services

from .centers_fixtures import GENOA_WORDS
from .conftest import Clock, Web

report = pytest.importorskip("cnotrack.report")

NAME = "cnotrack-pardeo2017"
ZIP = "application/zip"
#: "... the first 100 of its 1,234 rows ...; all 1,234 rows are in the file NAME.csv ..."
CUT_NOTE = re.compile(r"first (\d+) of its ([\d,]+) rows.*?in the file (\S+?\.csv)", re.S)
PATIENT_ID = re.compile(r"\bP\d{4}\b")


def _registry() -> tuple[Dataset, set[str]]:
    dataset = synthesize_registry(480, 11)
    patients = dataset.tables["patients"].with_columns(
        center=pl.when(pl.col("patient_id").str.slice(1).cast(pl.Int32) % 4 == 0)
        .then(pl.lit("Genoa")).otherwise(pl.lit("Rome")))
    genoa = set(patients.filter(pl.col("center") == "Genoa")["patient_id"])
    return Dataset({**dataset.tables, "patients": patients}, source=dataset.source), genoa


@pytest.fixture(scope="module")
def registry_web(tmp_path_factory, seeded_database):
    """The web fixture's database plus the registry of the module's text; also Genoa's ids."""
    template, accounts, ids = seeded_database
    folder = tmp_path_factory.mktemp("registry-web")
    shutil.copyfile(template, folder / "cnotrack.db")
    store = open_store(f"sqlite:///{folder / 'cnotrack.db'}")
    dataset, genoa = _registry()
    import_dataset(dataset, store)
    yield Web(create_app(store=store, clock=Clock()), store, Clock(), accounts, dict(ids)), genoa
    store.close()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """A folder every ``tempfile`` folder of the test goes into."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def report_text(name: str, data: bytes) -> str:
    """The text of a report file (the XML of a Word file), whitespace collapsed."""
    if name.endswith(".docx"):
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            data = book.read("word/document.xml")
        text = re.sub(r"<[^>]+>", "", data.decode("utf-8"))
    else:
        text = re.sub(r"<[^>]+>", " ", data.decode("utf-8"))
    return " ".join(text.split())


def unzip(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        return {n: archive.read(n) for n in archive.namelist()}


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]


def eligible_ids(web: Web, username: str) -> list[str]:
    evaluation = services.evaluate_for(web.store, web.accounts[username], "pardeo2017")
    return sorted(evaluation.cohort.eligible["patient_id"])


@pytest.mark.parametrize("fmt", ["html", "docx"])
def test_a_report_of_more_than_100_patients_downloads_as_a_zip_of_the_report_and_every_csv_it_names(
        registry_web, private_tmp, fmt):
    web, _ = registry_web
    response = web.client("rome").get("/evaluation/download", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ZIP
    assert response.headers["content-disposition"] == f'attachment; filename="{NAME}-{fmt}.zip"'
    files = unzip(response)
    assert list(files)[0] == f"{NAME}.{fmt}"
    text = report_text(f"{NAME}.{fmt}", files[f"{NAME}.{fmt}"])
    cited = {name: int(total.replace(",", "")) for shown, total, name in CUT_NOTE.findall(text)}
    assert f"{NAME}.listing-values.csv" in cited and f"{NAME}.excluded-patients.csv" in cited
    assert set(files) == {f"{NAME}.{fmt}", *cited}  # every file the report names, nothing else
    for name, total in cited.items():
        assert len(csv_rows(files[name])) == total > report.LISTING_MAX_ROWS, name
    eligible = eligible_ids(web, "rome")
    assert len(eligible) > report.LISTING_MAX_ROWS
    assert sorted(row[0] for row in csv_rows(files[f"{NAME}.listing-values.csv"])) == eligible
    assert list(private_tmp.iterdir()) == []  # the report's temporary folder is gone


def test_a_centers_user_finds_no_other_centers_patient_in_any_file_of_the_zip(registry_web):
    web, genoa = registry_web
    files = unzip(web.client("rome").get("/evaluation/download", params={"format": "html"}))
    assert len(files) > 2
    for name, data in files.items():
        found = set(PATIENT_ID.findall(data.decode("utf-8")))
        assert found and not found & genoa, name
        assert "Genoa" not in data.decode("utf-8") and not GENOA_WORDS.search(data.decode("utf-8")), name
    everyone = unzip(web.client("admin").get("/evaluation/download", params={"format": "html"}))
    admin_ids = {row[0] for row in csv_rows(everyone[f"{NAME}.listing-values.csv"])}
    assert admin_ids & genoa  # the admin's report has Genoa's patients: the filter is the scope


def test_a_pdf_of_more_than_100_patients_stays_one_pdf_with_the_csv_files_inside(registry_web, monkeypatch):
    web, _ = registry_web
    monkeypatch.setattr(report, "write_report", _pdf_standin(report.write_report))
    response = web.client("rome").get("/evaluation/download", params={"format": "pdf"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{NAME}.pdf"'
    assert response.content == b"%PDF-standin"


def _pdf_standin(write_report):
    """``write_report`` that writes a PDF as a few bytes (no WeasyPrint): what matters here is
    that a PDF has no files beside it, which ``listing_files`` decides."""
    def written(built, path):
        if Path(path).suffix == ".pdf":
            Path(path).write_bytes(b"%PDF-standin")
            return Path(path)
        return write_report(built, path)
    return written


@pytest.mark.parametrize("fmt, media", [("html", "text/html; charset=utf-8"),
                                        ("docx", "application/vnd.openxmlformats-officedocument."
                                                 "wordprocessingml.document")])
def test_a_report_of_a_small_cohort_stays_a_bare_file(web, private_tmp, fmt, media):
    response = web.client("rome").get("/evaluation/download", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media
    assert response.headers["content-disposition"] == f'attachment; filename="{NAME}.{fmt}"'
    if fmt == "html":
        assert "<html" in response.text.lower() and ".csv" not in response.text
    else:
        assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert list(private_tmp.iterdir()) == []


def test_the_temporary_folder_is_removed_when_writing_a_listing_fails(registry_web, private_tmp, monkeypatch):
    web, _ = registry_web

    def broken(table):
        raise OSError("the disk is full")

    monkeypatch.setattr(report.write, "listing_csv", broken)
    response = web.client("viewer", raise_server_exceptions=False).get(
        "/evaluation/download", params={"format": "html"})
    assert response.status_code == 500
    assert list(private_tmp.iterdir()) == []
    monkeypatch.undo()
    assert web.client("viewer").get("/evaluation/download", params={"format": "json"}).status_code == 200


def test_a_zipped_download_is_audited_as_a_download(registry_web):
    web, _ = registry_web
    assert web.client("rome").get("/evaluation/download", params={"format": "html"}).headers["content-type"] == ZIP
    events = web.client("admin").get("/api/v1/users/events", params={"action": "download"}).json()
    assert events[0]["actor"] == "rome" and "html" in str(events[0]), events[0]
