"""The command line fails loudly on a mistake (issue 9, item 11): a ``--db`` that names no
database is an error for every command that only reads (and none is created), ``init-db``,
``import``, ``demo`` and ``users add`` create one, a file that is not a database is named, and
user text (workbook sheets in brackets, protocol values like ``[240, 120]``) is printed as it is."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cnotrack.cli import main

from conftest import make_workbook

PROTOCOL = Path(__file__).resolve().parents[1] / "src" / "cnotrack" / "protocols" / "builtin" / "pardeo2017.yaml"


def run(monkeypatch, capsys, *args, stdin: str | None = None):
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "250")
    if stdin is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


READERS = [("evaluate",), ("export", "OUT"), ("report", "--out", "OUT.md"), ("users", "list"), ("import", "DATA", "--dry-run")]


@pytest.mark.parametrize("command", READERS, ids=[" ".join(c[:2]) for c in READERS])
def test_a_command_that_reads_refuses_a_database_that_does_not_exist(monkeypatch, capsys, tmp_path, command,
                                                                      good_dataset):
    db = tmp_path / "tpyo.db"
    args = [a.replace("OUT", str(tmp_path / "out")).replace("DATA", str(good_dataset)) for a in command]
    code, out, err = run(monkeypatch, capsys, *args, "--db", db)
    assert code == 1
    assert err.strip().startswith(f"Error: no cnotrack database at {db}; create one with cnotrack init-db --db {db}")
    assert "Traceback" not in err and not db.exists() and not (tmp_path / "out").exists()


def test_the_default_database_is_not_created_by_a_command_that_reads(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("CNOTRACK_DB", raising=False)
    code, _, err = run(monkeypatch, capsys, "evaluate")
    assert code == 1 and "Error: no cnotrack database at" in err
    assert not (tmp_path / "data" / "cnotrack" / "cnotrack.db").exists()


def test_init_db_creates_a_database_that_the_readers_then_open(monkeypatch, capsys, tmp_path):
    db = tmp_path / "new.db"
    code, out, _ = run(monkeypatch, capsys, "init-db", "--db", db)
    assert code == 0 and "is ready (schema revision" in out and db.exists()
    code, out, _ = run(monkeypatch, capsys, "init-db", "--db", db)  # again: nothing to do, still fine
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, "users", "list", "--db", db)
    assert code == 0 and "Users" in out


def test_import_creates_the_database_it_is_given(monkeypatch, capsys, tmp_path, good_dataset):
    db = tmp_path / "sub" / "fresh.db"
    assert run(monkeypatch, capsys, "import", good_dataset, "--db", db)[0] == 0
    assert run(monkeypatch, capsys, "export", tmp_path / "out", "--db", db)[0] == 0


@pytest.mark.parametrize("content", [b"\x00\x01garbage" * 100, b"patient_id,sex\nP1,F\n"], ids=["bytes", "csv"])
@pytest.mark.parametrize("command", [("evaluate",), ("import", "DATA"), ("init-db",)], ids=lambda c: c[0])
def test_a_file_that_is_not_a_database_is_an_error_line(monkeypatch, capsys, tmp_path, good_dataset, content, command):
    db = tmp_path / "patients.csv"
    db.write_bytes(content)
    args = [a.replace("DATA", str(good_dataset)) for a in command]
    code, _, err = run(monkeypatch, capsys, *args, "--db", db)
    assert code == 1 and err.startswith(f"Error: {db} is not a cnotrack database") and "Traceback" not in err
    assert db.read_bytes() == content


def test_a_workbook_problem_shows_its_sheet_in_brackets(monkeypatch, capsys, tmp_path):
    book = make_workbook(tmp_path / "my.xlsx", patients=[["patient_id", "sex"], ["P1", "Q"]])
    code, out, _ = run(monkeypatch, capsys, "validate", book)
    assert code == 1 and "my.xlsx[patients]" in out
    code, _, err = run(monkeypatch, capsys, "import", book, "--db", tmp_path / "x.db")
    assert code == 1 and "my.xlsx[patients]" in err


def test_an_error_message_with_brackets_is_printed_whole(monkeypatch, capsys, tmp_path):
    protocol = tmp_path / "p.yaml"
    protocol.write_text(PROTOCOL.read_text("utf-8").replace("window: [120, 240]", "window: [240, 120]"), "utf-8")
    code, _, err = run(monkeypatch, capsys, "protocol", "show", protocol)
    assert code == 1 and "window [240, 120] must be" in err
    code, _, err = run(monkeypatch, capsys, "template", tmp_path / "x[bold]y.csv")
    assert code == 1 and "x[bold]y.csv" in err
