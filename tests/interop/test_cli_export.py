"""``cnotrack export --fhir`` and ``--omop``: thin layers over ``write_fhir`` and
``write_omop``/``load_omop``, with the options checked before any work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cnotrack import cli
from cnotrack.demo import demo_folder
from cnotrack.exchange import load_dataset
from cnotrack.interop.fhir import fhir_bundle
from cnotrack.store import import_dataset, open_store

from conftest import sqlite_url

DDL = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "omop" / "duckdb"


def run(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    for console in (cli.out, cli.err):
        monkeypatch.setattr(console, "_width", 250)
    with pytest.raises(SystemExit) as info:
        cli.main()
    captured = capsys.readouterr()
    return (0 if info.value.code is None else int(info.value.code)), captured.out, captured.err


@pytest.fixture
def db(tmp_path) -> str:
    url = sqlite_url(tmp_path)
    with open_store(url) as store:
        import_dataset(load_dataset(demo_folder()), store)
    return url


def test_export_fhir_writes_the_bundle_of_the_stored_data(monkeypatch, capsys, tmp_path, db) -> None:
    code, out, _ = run(monkeypatch, capsys, "export", "--fhir", tmp_path / "b.json", "--bundle", "transaction",
                       "--db", db)
    assert code == 0 and "Wrote" in out
    written = json.loads((tmp_path / "b.json").read_text("utf-8"))
    with open_store(db) as store:
        from cnotrack.store import read_store
        assert written == fhir_bundle(read_store(store), bundle_type="transaction")
    assert written["type"] == "transaction" and all(e["request"]["method"] == "PUT" for e in written["entry"])


def test_export_omop_writes_the_tables_and_loads_them_into_duckdb(monkeypatch, capsys, tmp_path, db) -> None:
    if not DDL.is_dir():
        pytest.skip("the official OMOP DDL is not in ../shared/reference/omop/duckdb")
    pytest.importorskip("duckdb")
    code, out, err = run(monkeypatch, capsys, "export", "--omop", tmp_path / "omop", "--load",
                         f"duckdb:{tmp_path / 'cdm.duckdb'}", "--ddl", DDL, "--db", db)
    assert code == 0, err
    assert (tmp_path / "omop" / "person.csv").read_text("utf-8").count("\n") == 1 + 9
    (loaded,) = [line for line in out.splitlines() if line.startswith("Loaded")]
    assert "foreign keys hold" in loaded and str(tmp_path) not in loaded  # the database by its file name only
    import duckdb
    with duckdb.connect(str(tmp_path / "cdm.duckdb")) as conn:
        assert conn.execute("SELECT count(*) FROM person").fetchone()[0] == 9


@pytest.mark.parametrize("args, message", [
    ([], "give TARGET"),
    (["--load", "duckdb:x.duckdb"], "go with --omop"),
    (["--omop", "o", "--load", "duckdb:x.duckdb"], "--load needs --ddl"),
])
def test_export_options_are_checked_before_any_work(monkeypatch, capsys, tmp_path, db, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(monkeypatch, capsys, "export", *args, "--db", db)
    assert code == 1 and message in err and not (tmp_path / "o").exists()


def test_a_load_url_that_is_not_known_is_refused_without_echoing_it(monkeypatch, capsys, tmp_path, db) -> None:
    code, _, err = run(monkeypatch, capsys, "export", "--omop", tmp_path / "o", "--load", "mysql://u:hunter2@h/x",
                       "--ddl", tmp_path, "--db", db)
    assert code == 1 and "hunter2" not in err and "not a database URL" in err
