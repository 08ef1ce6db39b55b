"""Imports never silently clear data (issue 9, item 5): a column a file does not have keeps the
stored values, an explicit empty cell clears one, and the plan (``plan_import``, ``cnotrack
import --dry-run``, the import's own summary) lists per table the rows added, changed (with the
columns that change) and unchanged, before anything is written."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from cnotrack import import_dataset, load_dataset, open_store, read_store
from cnotrack.cli import main
from cnotrack.store import plan_import

from conftest import GOOD_TABLES, make_dataset, snapshot, sqlite_url


def _patient(store, pid):
    frame = read_store(store).patients
    return frame.filter(frame["patient_id"] == pid).row(0, named=True)


def test_a_file_without_the_date_columns_keeps_the_stored_dates(store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    before = _patient(store, "P01")
    slim = make_dataset(tmp_path, "slim", patients=[{"patient_id": "P01", "sex": "F", "center": "Rome"}])
    report = import_dataset(load_dataset(slim), store)
    assert report.unchanged["patients"] == 1 and not report.changed
    assert _patient(store, "P01") == before
    assert before["birth_date"] == "2005-03-14" and before["onset_date"] == dt.date(2012, 1, 10)


def test_an_empty_cell_in_a_column_the_file_has_clears_the_value(store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    cleared = make_dataset(tmp_path, "cleared", patients=[{"patient_id": "P01", "sex": "F", "onset_date": None}])
    report = import_dataset(load_dataset(cleared), store)
    assert report.updated["patients"] == 1 and report.changed_columns["patients"] == {"onset_date": 1}
    after = _patient(store, "P01")
    assert after["onset_date"] is None and after["birth_date"] == "2005-03-14" and after["center"] == "Rome"


def test_a_labs_file_without_reference_ranges_keeps_them(store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    labs = [{k: v for k, v in row.items() if k not in ("ref_high", "ref_low")} for row in GOOD_TABLES["labs"]]
    labs[0] = dict(labs[0], value="3.1")
    plan = plan_import(load_dataset(make_dataset(tmp_path, "labs", patients=GOOD_TABLES["patients"], labs=labs)),
                       store)
    assert plan.tables["labs"].changed == 1 and plan.tables["labs"].columns == {"value": 1}
    assert plan.tables["labs"].kept == ("ref_high", "ref_low")
    assert plan.tables["labs"].unchanged == len(labs) - 1


def test_the_plan_lists_added_changed_and_unchanged_rows_and_writes_nothing(store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    before = snapshot(store)
    patients = [dict(p) for p in GOOD_TABLES["patients"]]
    patients[1]["center"] = "Genoa"
    patients[2]["sex"], patients[2]["birth_date"] = "F", "2001-01"
    patients.append({"patient_id": "P99", "sex": "M"})
    plan = plan_import(load_dataset(make_dataset(tmp_path, "next", patients=patients)), store)
    table = plan.tables["patients"]
    assert (table.added, table.changed, table.unchanged) == (1, 2, len(GOOD_TABLES["patients"]) - 2)
    assert table.columns == {"sex": 1, "birth_date": 1, "center": 1}
    assert {c.key["patient_id"]: c.columns for c in table.changes} == {"P02": ("center",),
                                                                      "P03": ("sex", "birth_date")}
    assert snapshot(store) == before
    report = import_dataset(load_dataset(make_dataset(tmp_path, "again", patients=patients)), store)
    assert report.plan.tables["patients"].as_dict() == table.as_dict()


def test_extra_attributes_are_merged_one_by_one(store, tmp_path):
    first = make_dataset(tmp_path, "a", patients=[{"patient_id": "P1", "sex": "F", "note": "x", "weight": "30"}])
    import_dataset(load_dataset(first, keep_extra=True), store)
    second = make_dataset(tmp_path, "b", patients=[{"patient_id": "P1", "sex": "F", "weight": "31"}])
    import_dataset(load_dataset(second, keep_extra=True), store)
    assert _patient(store, "P1")["_extra"] == '{"note": "x", "weight": "31"}'
    import_dataset(load_dataset(make_dataset(tmp_path, "c", patients=[{"patient_id": "P1", "sex": "F"}])), store)
    assert _patient(store, "P1")["_extra"] == '{"note": "x", "weight": "31"}'  # no extra columns: kept


def _run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def test_cnotrack_import_dry_run_prints_the_plan_and_writes_nothing(monkeypatch, capsys, tmp_path, good_dataset):
    db = sqlite_url(tmp_path)
    assert _run(monkeypatch, capsys, "import", good_dataset, "--db", db)[0] == 0
    with open_store(db) as store:
        before = snapshot(store)
    slim = make_dataset(tmp_path, "slim", patients=[{"patient_id": "P01", "sex": "M"}])
    code, out, _ = _run(monkeypatch, capsys, "import", slim, "--db", db, "--dry-run")
    assert code == 0 and "dry run: nothing was written" in out
    assert "patients: not in the file, kept as stored: birth_date, onset_date, diagnosis_date, center, synthetic" in out
    line = next(row for row in out.splitlines() if "│ patients" in row)
    assert [cell.strip() for cell in line.split("│")[1:-1]] == ["patients", "0", "1", "0", "sex (1)"]
    with open_store(db) as store:
        assert snapshot(store) == before
    code, out, _ = _run(monkeypatch, capsys, "import", slim, "--db", db)
    assert code == 0 and "sex (1)" in out and "Imported" in out


def test_a_dry_run_into_a_database_that_does_not_exist_creates_none(monkeypatch, capsys, tmp_path, good_dataset):
    code, _, err = _run(monkeypatch, capsys, "import", good_dataset, "--db", tmp_path / "new.db", "--dry-run")
    assert code == 1 and err.startswith(f"Error: no cnotrack database at {tmp_path / 'new.db'}")
    assert not (tmp_path / "new.db").exists()
