"""``cnotrack redcap import`` and ``cnotrack redcap mapping``: the library's results, problems
printed as ``cnotrack validate`` prints them (exit 1), and a dry run that writes nothing."""

from __future__ import annotations

import sys

import pytest

from cnotrack import cli
from cnotrack.cli import main
from cnotrack.interop.redcap.mapping import load_mapping
from cnotrack.store import open_store, read_store

from conftest import snapshot, sqlite_url

from .test_apply import RECORDS, write_cno_project


def run(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "250")
    for console in (cli.out, cli.err):  # made when cnotrack.cli was first imported, perhaps by another test
        monkeypatch.setattr(console, "_width", 250)
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    return (0 if info.value.code is None else int(info.value.code)), captured.out, captured.err


def _import_args(paths, db) -> list:
    return ["redcap", "import", paths["dictionary"], paths["records"], "--events", paths["events"],
            "--designations", paths["designations"], "--repeating", paths["repeating"],
            "--mapping", paths["mapping"], "--db", db]


def test_redcap_import_imports_once_and_then_changes_nothing(monkeypatch, capsys, tmp_path) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    db = sqlite_url(tmp_path)
    code, out, err = run(monkeypatch, capsys, *_import_args(paths, db))
    assert code == 0, err
    assert 'Imported REDCap project "CNO registry (test)" (records.csv)' in out
    with open_store(db) as store:
        assert read_store(store)["treatments"].height == 7
        before = snapshot(store)
    code, out, _ = run(monkeypatch, capsys, *_import_args(paths, db))
    assert code == 0 and "Nothing changed" in out
    with open_store(db) as store:
        assert snapshot(store) == before


def test_redcap_import_dry_run_writes_nothing(monkeypatch, capsys, tmp_path) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    db = sqlite_url(tmp_path)
    with open_store(db, create=True) as store:
        before = snapshot(store)
    code, out, err = run(monkeypatch, capsys, *_import_args(paths, db), "--dry-run")
    assert code == 0, err
    assert "dry run: nothing was written" in out and "patients" in out
    with open_store(db) as store:
        assert snapshot(store) == before


def test_redcap_import_prints_every_problem_in_redcap_terms(monkeypatch, capsys, tmp_path) -> None:
    records = [list(r) for r in RECORDS]
    records[0][5] = {**records[0][5], "sex": "7", "visit_date": "2019-13-01"}
    paths = write_cno_project(tmp_path / "redcap", records=[tuple(r) for r in records])
    code, out, err = run(monkeypatch, capsys, *_import_args(paths, sqlite_url(tmp_path)))
    assert code == 1
    assert "record 101, event baseline_arm_1:" in err
    assert "visit_date" in err and "2019-13-01" in err and "sex" in err
    assert "cnotrack columns assessments.date, labs.date" in err
    assert [line for line in err.splitlines() if line.startswith("Error: ")] == [
        'Error: REDCap project "CNO registry (test)" (records.csv): 2 problem(s); nothing was changed.']


def test_redcap_import_names_an_unknown_key_of_the_mapping(monkeypatch, capsys, tmp_path) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    paths["mapping"].write_text(paths["mapping"].read_text().replace("{field: sex}", "{field: sex, cods: {}}"))
    code, _, err = run(monkeypatch, capsys, *_import_args(paths, sqlite_url(tmp_path)))
    assert code == 1
    assert "mapping.yaml" in err and "blocks[0].columns.sex" in err and "unknown key 'cods'" in err


def test_redcap_mapping_drafts_a_mapping_that_loads(monkeypatch, capsys, tmp_path) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    code, out, err = run(monkeypatch, capsys, "redcap", "mapping", paths["dictionary"])
    assert code == 0, err
    assert out.startswith("cnotrack_mapping: 1\n") and "# review:" in out
    target = tmp_path / "draft.yaml"
    code, out, _ = run(monkeypatch, capsys, "redcap", "mapping", paths["dictionary"], "--out", target)
    assert code == 0 and "Wrote the draft mapping" in out
    assert {b.table for b in load_mapping(target).blocks} >= {"patients", "treatments", "labs"}
    code, _, err = run(monkeypatch, capsys, "redcap", "mapping", paths["dictionary"], "--out", target)
    assert code == 1 and "never overwritten" in err
