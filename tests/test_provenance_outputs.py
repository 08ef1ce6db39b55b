"""Issue 9, item 1: no secret or server path leaves the server.

A database URL carries a user and a password; a server's paths tell an attacker its layout.
Every output that names its data (the evaluation's JSON, Markdown and text, every report format,
``cnotrack evaluate``, ``report`` and ``demo``, ``/api/v1/evaluation`` and the web downloads)
names it by a safe label instead: ``postgresql database NAME on HOST:PORT``, ``sqlite database
FILE.db``, a dataset folder by its name. Checked on SQLite and on PostgreSQL with a URL that has
a user name and a password of its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from rich.console import Console
from typer.testing import CliRunner

from cnotrack.cli import app as cli_app
from cnotrack.engine import evaluate
from cnotrack.exchange import load_dataset
from cnotrack.protocols import load_protocol
from cnotrack.render import evaluation_markdown, print_evaluation
from cnotrack.report import build_report, report_bytes
from cnotrack.store import import_dataset, open_store, read_store

from conftest import make_dataset, postgres_base_url

PASSWORD = "s3cr3t-PASS"
DB_USER = "prov_clerk_ward7"
runner = CliRunner()


# --------------------------------------------------------------------------- what may not leak

@contextlib.contextmanager
def postgres_url_with_secrets() -> Iterator[tuple[str, list[str]]]:
    """A PostgreSQL URL with its own user and a password (the test server trusts any password),
    working in a new schema; and the strings that must never be shown."""
    base = sa.engine.make_url(postgres_base_url())
    admin = sa.create_engine(base.set(drivername="postgresql+psycopg"))
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with admin.begin() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": DB_USER}).first()
            if not exists:
                with contextlib.suppress(sa.exc.ProgrammingError, sa.exc.IntegrityError):
                    with conn.begin_nested():
                        conn.execute(sa.text(f'CREATE ROLE "{DB_USER}" LOGIN'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{DB_USER}"'))
        url = base.set(username=DB_USER, password=PASSWORD).render_as_string(hide_password=False)
        url += ("&" if "?" in url else "?") + f"options={quote(f'-csearch_path={schema}')}"
        yield url, [PASSWORD, DB_USER, schema, "search_path", "options=", f"{DB_USER}:", "psycopg://"]
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def secret_database(request, tmp_path: Path) -> Iterator[tuple[str, list[str], str]]:
    """(URL, strings that must not appear in any output, the safe label that names it)."""
    if request.param == "sqlite":
        folder = tmp_path / "srv" / "hospital-private-dir"
        folder.mkdir(parents=True)
        yield (f"sqlite:///{folder / 'registry.db'}", [str(tmp_path), "hospital-private-dir", "sqlite:///"],
               "sqlite database registry.db")
        return
    with postgres_url_with_secrets() as (url, forbidden):
        parsed = sa.engine.make_url(url)
        yield url, forbidden, f"postgresql database {parsed.database} on {parsed.host}:{parsed.port}"


def assert_nothing_leaks(text: str, forbidden: list[str], where: str) -> None:
    for secret in forbidden:
        assert secret not in text, f"{where} shows {secret!r}"
    assert not re.search(r"://[^\s/]*@", text), f"{where} shows a URL with credentials"


def pdf_text(data: bytes, folder: Path) -> str:
    path = folder / "report.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def docx_text(data: bytes) -> str:
    """Every part of the Word file (body, headers, footers, properties) as one text."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist()
                         if name.endswith((".xml", ".rels")))


def every_output(evaluation, dataset, folder: Path, *, pdf: bool = True) -> dict[str, str]:
    """The evaluation in every format cnotrack writes, as text: JSON, Markdown, the terminal,
    and its report as Markdown, HTML, PDF (text of the pages) and Word (every XML part)."""
    console = Console(record=True, width=160, file=io.StringIO())
    print_evaluation(evaluation, console)
    built = build_report(evaluation, dataset, generated_at="2024-05-01 12:00 UTC")
    out = {
        "json": json.dumps(evaluation.as_json(), default=str, ensure_ascii=False),
        "markdown": evaluation_markdown(evaluation),
        "terminal": console.export_text(),
        "report.md": report_bytes(built, ".md").decode("utf-8"),
        "report.html": report_bytes(built, ".html").decode("utf-8"),
        "report.docx": docx_text(report_bytes(built, ".docx")),
    }
    if pdf:
        out["report.pdf"] = pdf_text(report_bytes(built, ".pdf"), folder)
    return out


@pytest.fixture
def good_dataset(tmp_path: Path, good_tables) -> Path:
    """The good dataset, whose generated diagnosis rows are made consistent so that the Bristol
    criteria can be scored (``clavicle_only`` with several bones is refused)."""
    tables = dict(good_tables)
    tables["diagnosis"] = [dict(row, clavicle_only=None) for row in tables["diagnosis"]]
    return make_dataset(tmp_path, "good", **tables)


# --------------------------------------------------------------------------- the library

def test_no_output_of_an_evaluation_from_the_database_names_its_user_password_or_path(
        secret_database, tmp_path, good_dataset):
    url, forbidden, label = secret_database
    with open_store(url) as store:
        import_dataset(load_dataset(good_dataset), store)
        data = read_store(store)
    assert data.source == label
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    assert evaluation.as_json()["provenance"]["dataset"] == label
    for where, text in every_output(evaluation, data, tmp_path).items():
        assert_nothing_leaks(text, forbidden + [str(good_dataset)], where)
        if where not in ("terminal", "report.pdf"):  # the terminal does not name the data; the PDF wraps
            assert label in text, f"{where} does not name {label}"


def test_an_evaluation_of_a_folder_names_it_and_its_files_without_the_server_path(tmp_path, good_dataset):
    deep = tmp_path / "srv" / "uploads" / "x9f3"
    deep.mkdir(parents=True)
    folder = Path(shutil.copytree(good_dataset, deep / "cohort-2024"))
    data = load_dataset(folder)
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    body = evaluation.as_json()
    assert body["provenance"]["dataset"] == "cohort-2024"
    files = {f["name"]: f["sha256"] for f in body["provenance"]["files"]}
    assert set(files) >= {"patients.csv", "labs.csv"}
    assert files["patients.csv"] == data.sha256["patients.csv"]
    outputs = every_output(evaluation, data, tmp_path, pdf=False)
    for where, text in outputs.items():
        assert_nothing_leaks(text, [str(tmp_path), "x9f3", "/srv/"], where)
    assert files["labs.csv"] in outputs["report.html"] and files["labs.csv"] in outputs["report.md"]


def test_a_carelessly_labelled_dataset_still_shows_only_a_safe_label(tmp_path, good_dataset):
    data = load_dataset(good_dataset)
    data.source = "postgresql+psycopg://admin:hunter2@db.internal:5432/registry?sslkey=/etc/keys/k.pem"
    evaluation = evaluate(data, load_protocol("pardeo2017"), statistics=False)
    assert evaluation.source == "postgresql database registry on db.internal:5432"
    data.source = "/home/alice/secret/cohort"
    assert evaluate(data, load_protocol("pardeo2017"), statistics=False).source == "cohort"


# --------------------------------------------------------------------------- the command line

def test_cnotrack_evaluate_report_and_demo_never_print_the_database_url(secret_database, tmp_path, good_dataset,
                                                                       monkeypatch):
    url, forbidden, label = secret_database
    monkeypatch.delenv("CNOTRACK_DB", raising=False)
    assert runner.invoke(cli_app, ["import", str(good_dataset), "--db", url], catch_exceptions=False).exit_code == 0
    texts = {}
    for fmt in ("json", "markdown", "text"):
        done = runner.invoke(cli_app, ["evaluate", "--db", url, "--format", fmt], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        texts[f"evaluate --format {fmt}"] = done.output
    reports = [tmp_path / "out" / f"r{suffix}" for suffix in (".md", ".html", ".docx")]
    done = runner.invoke(cli_app, ["report", "--db", url, *[a for p in reports for a in ("--out", str(p))]],
                         catch_exceptions=False)
    assert done.exit_code == 0, done.output
    texts["report"] = done.output
    for path in reports:
        texts[path.name] = docx_text(path.read_bytes()) if path.suffix == ".docx" else path.read_text("utf-8")
    done = runner.invoke(cli_app, ["demo", "--db", url, "--out", str(tmp_path / "demo")], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    texts["demo"] = done.output
    assert label in " ".join(done.output.split())
    for path in sorted((tmp_path / "demo").iterdir()):
        texts[path.name] = pdf_text(path.read_bytes(), tmp_path) if path.suffix == ".pdf" else path.read_text("utf-8")
    for fmt in ("json", "markdown"):
        texts[f"demo --format {fmt}"] = runner.invoke(cli_app, ["demo", "--db", url, "--format", fmt],
                                                      catch_exceptions=False).output
    for where, text in texts.items():
        # "Report: PATH" names the file the user asked for, on their own machine: it may be shown
        text = "\n".join(line for line in text.splitlines() if not line.startswith("Report: "))
        assert_nothing_leaks(text, forbidden + [str(good_dataset)], where)
    assert json.loads(texts["evaluate --format json"])["provenance"]["dataset"] == label


# --------------------------------------------------------------------------- the web application

def test_the_api_and_every_web_download_name_the_database_without_its_secrets(secret_database, tmp_path,
                                                                              good_dataset):
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from cnotrack import users
    from cnotrack.web import create_app

    url, forbidden, label = secret_database
    password = "correct horse battery staple"
    with pytest.MonkeyPatch.context() as patch, open_store(url) as store:
        patch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        import_dataset(load_dataset(good_dataset), store)
        users.add_user(store, "viewer", password, "viewer", "Rome")
        users.add_user(store, "admin", password, "admin")
        texts = {}
        for username in ("viewer", "admin"):
            client = TestClient(create_app(store=store))
            login = client.post("/api/v1/login", json={"username": username, "password": password})
            assert login.status_code == 200, login.text
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            api = client.get("/api/v1/evaluation")
            assert api.status_code == 200, api.text
            assert api.json()["provenance"]["dataset"] == label
            texts[f"{username} /api/v1/evaluation"] = api.text
            texts[f"{username} /evaluation"] = client.get("/evaluation").text
            for fmt in ("json", "markdown", "html", "docx", "pdf") if username == "viewer" else ("json",):
                response = client.get("/evaluation/download", params={"format": fmt})
                assert response.status_code == 200, (fmt, response.text)
                body = response.content
                texts[f"{username} download {fmt}"] = (docx_text(body) if fmt == "docx" else
                                                       pdf_text(body, tmp_path) if fmt == "pdf" else body.decode())
    for where, text in texts.items():
        assert_nothing_leaks(text, forbidden + [str(good_dataset)], where)
