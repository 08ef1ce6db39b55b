"""Issue 9, item 12: the synthetic label travels with the data.

The demo cohort (and every registry ``cnotrack synth`` writes) marks each patient
``synthetic`` = yes in ``patients``. Exported, imported again into a fresh database, read back
from it: every output (terminal, JSON, Markdown, HTML, PDF, Word, web pages and downloads) says
"SYNTHETIC DATA" with the count. Nothing recognises the demo by its patient ids; a real dataset
is never labelled, and a database that holds both says how many are synthetic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cnotrack.cli import app as cli_app
from cnotrack.demo import demo_folder
from cnotrack.engine import evaluate
from cnotrack.exchange import load_dataset
from cnotrack.protocols import load_protocol
from cnotrack.store import database, import_dataset, open_store, read_store
from cnotrack.synth import synthesize_registry, write_registry

from conftest import make_dataset, migrate, sqlite_url
from test_provenance_outputs import docx_text, every_output, pdf_text

runner = CliRunner()
ALL_NINE = "SYNTHETIC DATA: 9 of 9 patients are synthetic"


def words(text: str) -> str:
    """Text with line wrapping, panel borders and XML run breaks out of the way."""
    return " ".join(text.replace("\u2502", " ").split())


def cli(*args: str) -> str:
    done = runner.invoke(cli_app, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture
def good_dataset(tmp_path: Path, good_tables) -> Path:
    """The good dataset (real patients: none is marked synthetic), with diagnosis rows the
    Bristol criteria accept."""
    tables = dict(good_tables)
    tables["diagnosis"] = [dict(row, clavicle_only=None) for row in tables["diagnosis"]]
    return make_dataset(tmp_path, "good", **tables)


def test_the_demo_exported_imported_into_a_fresh_database_and_read_back_is_labelled_in_every_format(
        store, tmp_path, monkeypatch):
    monkeypatch.delenv("CNOTRACK_DB", raising=False)
    cli("demo", "--export", str(tmp_path / "exported"))
    import_dataset(load_dataset(tmp_path / "exported"), store)
    data = read_store(store)
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    body = evaluation.as_json()
    assert body["synthetic"] == {"patients": 9, "of": 9, "eligible": 9, "of_eligible": 9}
    assert body["notice"].startswith(ALL_NINE)
    for where, text in every_output(evaluation, data, tmp_path).items():
        assert ALL_NINE in words(text), f"{where} is not labelled synthetic"


def test_the_command_line_labels_the_demo_database_and_the_exported_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("CNOTRACK_DB", raising=False)
    url = sqlite_url(tmp_path, "demo.db")
    cli("demo", "--db", url, "--out", str(tmp_path / "demo-reports"))  # what `make demo` does
    cli("demo", "--export", str(tmp_path / "demo.xlsx"))
    outputs = {f"evaluate --db --format {fmt}": cli("evaluate", "--db", url, "--format", fmt)
               for fmt in ("text", "json", "markdown")}
    outputs["evaluate demo.xlsx"] = cli("evaluate", str(tmp_path / "demo.xlsx"))
    assert json.loads(outputs["evaluate --db --format json"])["synthetic"]["patients"] == 9
    reports = [tmp_path / "r" / f"report{suffix}" for suffix in (".md", ".html", ".pdf", ".docx")]
    cli("report", "--db", url, *[a for path in reports for a in ("--out", str(path))])
    for path in reports:
        data = path.read_bytes()
        outputs[path.name] = (pdf_text(data, tmp_path) if path.suffix == ".pdf" else
                              docx_text(data) if path.suffix == ".docx" else data.decode("utf-8"))
    for where, text in outputs.items():
        assert ALL_NINE in words(text), f"{where} is not labelled synthetic"


def test_a_real_dataset_is_never_labelled_synthetic(sqlite_store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), sqlite_store)
    data = read_store(sqlite_store)
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    assert evaluation.synthetic.patients == 0 and evaluation.notice is None
    assert "notice" not in evaluation.as_json()
    for where, text in every_output(evaluation, data, tmp_path, pdf=False).items():
        assert "SYNTHETIC DATA" not in text and "not real patients" not in text, f"{where} calls real patients synthetic"


def test_a_database_of_real_and_synthetic_patients_says_how_many_are_synthetic(store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    import_dataset(load_dataset(demo_folder()), store)
    data = read_store(store)
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    total = data.patients.height
    assert evaluation.as_json()["synthetic"]["patients"] == 9 and evaluation.synthetic.of == total > 9
    expected = f"SYNTHETIC DATA: 9 of {total} patients are synthetic"
    for where, text in every_output(evaluation, data, tmp_path, pdf=False).items():
        assert expected in words(text), f"{where} does not say how many patients are synthetic"


def test_a_patient_unmarked_in_the_database_is_no_longer_counted(sqlite_store):
    """The label is the data's: it is not recognised from the demo's patient ids."""
    import_dataset(load_dataset(demo_folder()), sqlite_store)
    patients = sa.table("patients", sa.column("patient_id"), sa.column("synthetic"))
    with sqlite_store.engine.begin() as conn:
        conn.execute(patients.update().where(patients.c.patient_id == "SYN-P01").values(synthetic=False))
    evaluation = evaluate(read_store(sqlite_store), load_protocol("pardeo2017"), statistics=False)
    assert evaluation.synthetic.patients == 8
    assert evaluation.notice.startswith("SYNTHETIC DATA: 8 of 9 patients are synthetic")


def test_every_registry_cnotrack_synth_writes_is_marked_synthetic(tmp_path):
    registry = synthesize_registry(30, 7)
    assert registry.patients["synthetic"].to_list() == [True] * 30
    folder = write_registry(30, 7, tmp_path / "registry")
    header, *rows = (folder / "patients.csv").read_text("utf-8").splitlines()
    assert header.split(",")[-1] == "synthetic" and all(row.endswith(",yes") for row in rows)
    evaluation = evaluate(load_dataset(folder), load_protocol("pardeo2017"), statistics=False)
    assert evaluation.notice.startswith("SYNTHETIC DATA: 30 of 30 patients are synthetic")


def test_migration_0006_adds_the_synthetic_column_and_takes_it_away_again(tmp_path):
    url = sqlite_url(tmp_path)
    open_store(url).close()
    migrate(url, "0005", down=True)
    engine = sa.create_engine(database.resolve_database_url(url))
    with engine.connect() as conn:
        assert "synthetic" not in {c["name"] for c in sa.inspect(conn).get_columns("patients")}
    engine.dispose()
    with open_store(url) as store:
        with store.engine.connect() as conn:
            assert "synthetic" in {c["name"] for c in sa.inspect(conn).get_columns("patients")}
        import_dataset(load_dataset(demo_folder()), store)
        assert read_store(store).patients["synthetic"].to_list() == [True] * 9
