"""The ``cnotrack`` command: exit codes, ``Error: `` on stderr, JSON for machines, and the same
results as the library functions it wraps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnotrack
from cnotrack import check_dataset, export_dataset, load_dataset, open_store, read_store
from cnotrack.cli import app, main

from conftest import folder_bytes, make_dataset, make_workbook, snapshot, sqlite_url
from test_validate import PLANTED_EXPECTED, make_planted_dataset

CONSOLE_SCRIPT = Path(sys.executable).parent / "cnotrack"


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``main()`` (the console script's entry point) in this process."""
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), captured.out, captured.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("Error: ")]


def test_validate_accepts_a_good_csv_folder(monkeypatch, capsys, good_dataset):
    code, out, _ = run(monkeypatch, capsys, "validate", good_dataset)
    assert code == 0 and "valid" in out


def test_validate_accepts_a_good_workbook(monkeypatch, capsys, tmp_path, good_tables):
    book = make_workbook(tmp_path / "good.xlsx", **good_tables)
    code, out, _ = run(monkeypatch, capsys, "validate", book)
    assert code == 0 and "valid" in out


def test_validate_lists_every_problem_and_exits_1(monkeypatch, capsys, tmp_path):
    code, out, _ = run(monkeypatch, capsys, "validate", make_planted_dataset(tmp_path))
    assert code == 1
    assert f"{len(PLANTED_EXPECTED)} problem" in out
    assert "aspirinx" in out and "mg/mL" in out


def test_validate_in_json_names_every_problem_with_file_row_and_column(monkeypatch, capsys, tmp_path):
    folder = make_planted_dataset(tmp_path)
    code, out, _ = run(monkeypatch, capsys, "validate", folder, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False and report["dataset"] == str(folder)
    assert {(p["table"], p["row"], p["column"]) for p in report["problems"]} == PLANTED_EXPECTED
    assert all(set(p) == {"table", "row", "column", "value", "message"} for p in report["problems"])


def test_validate_in_json_of_a_good_dataset_says_valid(monkeypatch, capsys, good_dataset):
    code, out, _ = run(monkeypatch, capsys, "validate", good_dataset, "--format", "json")
    assert code == 0 and json.loads(out) == {"dataset": str(good_dataset), "valid": True, "problems": []}


def test_validate_rejects_an_unknown_column_unless_told_to_keep_extra(monkeypatch, capsys, tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F", "nickname": "Bo"}])
    assert run(monkeypatch, capsys, "validate", folder)[0] == 1
    assert run(monkeypatch, capsys, "validate", folder, "--keep-extra")[0] == 0


def test_validate_of_a_missing_path_exits_1_with_the_problem(monkeypatch, capsys, tmp_path):
    code, out, _ = run(monkeypatch, capsys, "validate", tmp_path / "nowhere", "--format", "json")
    assert code == 1 and "no such file" in json.loads(out)["problems"][0]["message"]


def test_import_of_a_bad_dataset_prints_the_problems_and_an_error_line_and_changes_nothing(
        monkeypatch, capsys, tmp_path, good_dataset):
    db = sqlite_url(tmp_path)
    assert run(monkeypatch, capsys, "import", good_dataset, "--db", db)[0] == 0
    with open_store(db) as store:
        before = snapshot(store)
    code, out, err = run(monkeypatch, capsys, "import", make_planted_dataset(tmp_path), "--db", db)
    assert code == 1
    assert len(error_lines(err)) == 1 and "nothing was changed" in error_lines(err)[0]
    assert "aspirinx" in err
    with open_store(db) as store:
        assert snapshot(store) == before


def test_import_then_import_again_reports_nothing_changed(monkeypatch, capsys, tmp_path, good_dataset):
    db = sqlite_url(tmp_path)
    code, out, _ = run(monkeypatch, capsys, "import", good_dataset, "--db", db)
    assert code == 0 and "added" in out
    code, out, _ = run(monkeypatch, capsys, "import", good_dataset, "--db", db)
    assert code == 0 and "Nothing changed" in out


def test_import_keeps_extra_columns_only_when_asked(monkeypatch, capsys, tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F", "nickname": "Bo"}])
    db = sqlite_url(tmp_path)
    code, _, err = run(monkeypatch, capsys, "import", folder, "--db", db)
    assert code == 1 and error_lines(err)
    assert run(monkeypatch, capsys, "import", folder, "--db", db, "--keep-extra")[0] == 0
    assert run(monkeypatch, capsys, "export", tmp_path / "out", "--db", db)[0] == 0
    assert "nickname" in (tmp_path / "out" / "patients.csv").read_text().splitlines()[0]


def test_export_writes_what_the_library_writes(monkeypatch, capsys, tmp_path, good_dataset):
    db = sqlite_url(tmp_path)
    run(monkeypatch, capsys, "import", good_dataset, "--db", db)
    assert run(monkeypatch, capsys, "export", tmp_path / "cli", "--db", db)[0] == 0
    assert run(monkeypatch, capsys, "export", tmp_path / "cli.xlsx", "--db", db)[0] == 0
    with open_store(db) as store:
        data = read_store(store)
    export_dataset(data, tmp_path / "lib")
    export_dataset(data, tmp_path / "lib.xlsx")
    assert folder_bytes(tmp_path / "cli") == folder_bytes(tmp_path / "lib")
    assert (tmp_path / "cli.xlsx").read_bytes() == (tmp_path / "lib.xlsx").read_bytes()
    assert folder_bytes(tmp_path / "cli") == folder_bytes(good_dataset)


def test_the_database_can_be_given_by_the_environment(monkeypatch, capsys, tmp_path, good_dataset):
    monkeypatch.setenv("CNOTRACK_DB", str(tmp_path / "env.db"))
    assert run(monkeypatch, capsys, "import", good_dataset)[0] == 0
    assert (tmp_path / "env.db").exists()
    assert run(monkeypatch, capsys, "export", tmp_path / "out")[0] == 0
    assert folder_bytes(tmp_path / "out") == folder_bytes(good_dataset)


def test_a_database_that_cannot_be_created_is_an_error_line(monkeypatch, capsys, tmp_path, good_dataset):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(monkeypatch, capsys, "import", good_dataset, "--db", blocker / "sub" / "x.db")
    assert code == 1 and error_lines(err)


def test_template_writes_a_valid_empty_workbook(monkeypatch, capsys, tmp_path):
    code, out, _ = run(monkeypatch, capsys, "template", tmp_path / "t.xlsx")
    assert code == 0 and "t.xlsx" in out
    assert check_dataset(tmp_path / "t.xlsx") == []


def test_template_to_a_file_that_is_not_xlsx_is_an_error_line(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "template", tmp_path / "t.csv")
    assert code == 1 and error_lines(err) and not (tmp_path / "t.csv").exists()


def test_version_prints_the_version(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "--version")
    assert code == 0 and out.strip() == f"cnotrack {cnotrack.__version__}"


def test_an_unknown_option_is_a_usage_error(monkeypatch, capsys, good_dataset):
    code, _, err = run(monkeypatch, capsys, "validate", good_dataset, "--no-such-option")
    assert code == 2 and "no-such-option" in err


def test_the_typer_app_runs_validate_for_library_callers(good_dataset):
    result = CliRunner().invoke(app, ["validate", str(good_dataset)])
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the console script is not installed next to python")
def test_the_installed_console_script_reports_a_bad_import_on_stderr(tmp_path, good_dataset):
    env = {**os.environ, "COLUMNS": "200", "CNOTRACK_DB": str(tmp_path / "cli.db")}
    bad = subprocess.run([str(CONSOLE_SCRIPT), "import", str(make_planted_dataset(tmp_path))],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stdout == ""
    assert [line for line in bad.stderr.splitlines() if line.startswith("Error: ")]
    good = subprocess.run([str(CONSOLE_SCRIPT), "validate", str(good_dataset), "--format", "json"],
                          capture_output=True, text=True, env=env)
    assert good.returncode == 0 and json.loads(good.stdout)["valid"] is True


@pytest.mark.postgres
def test_import_and_export_through_postgresql_give_the_dataset_back(monkeypatch, capsys, tmp_path, good_dataset,
                                                                   postgres_url):
    assert run(monkeypatch, capsys, "import", good_dataset, "--db", postgres_url)[0] == 0
    code, out, _ = run(monkeypatch, capsys, "import", good_dataset, "--db", postgres_url)
    assert code == 0 and "Nothing changed" in out
    assert run(monkeypatch, capsys, "export", tmp_path / "out", "--db", postgres_url)[0] == 0
    assert folder_bytes(tmp_path / "out") == folder_bytes(good_dataset)
    assert load_dataset(tmp_path / "out").patients.height == load_dataset(good_dataset).patients.height
