"""Issue 9, item 1: the same data gives the same fingerprint whether read from files or from a
database, exported and imported again or not (``cnotrack.engine.fingerprint``)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import struct
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings

from cnotrack.demo import demo_folder
from cnotrack.engine import evaluate
from cnotrack.engine.evaluate import dataset_fingerprint
from cnotrack.exchange import Dataset, export_dataset, load_dataset
from cnotrack.exchange.dataset import empty_table
from cnotrack.exchange.schema import exchange_format
from cnotrack.protocols import load_protocol
from cnotrack.store import import_dataset, open_store, read_store

from conftest import make_dataset, migrated_sqlite_url
from test_roundtrip import datasets


def fingerprints_of_every_path(folder: Path, store, work: Path, *, keep_extra: bool = False) -> dict[str, str]:
    """The fingerprint of ``folder`` read as files, read back from ``store`` after importing it,
    and read from that database's CSV and workbook exports."""
    data = load_dataset(folder, keep_extra=keep_extra)
    import_dataset(data, store)
    stored = read_store(store)
    return {
        "files": dataset_fingerprint(data),
        "database": dataset_fingerprint(stored),
        "exported csv": dataset_fingerprint(load_dataset(export_dataset(stored, work / "out"), keep_extra=True)),
        "exported xlsx": dataset_fingerprint(load_dataset(export_dataset(stored, work / "out.xlsx"),
                                                          keep_extra=True)),
    }


def test_the_good_dataset_has_one_fingerprint_from_files_and_from_sqlite_and_postgresql(store, tmp_path,
                                                                                       good_dataset):
    prints = fingerprints_of_every_path(good_dataset, store, tmp_path)
    assert len(set(prints.values())) == 1, prints


def test_the_demo_has_one_fingerprint_from_files_and_from_the_database_and_in_its_evaluation(store, tmp_path):
    prints = fingerprints_of_every_path(demo_folder(), store, tmp_path)
    assert len(set(prints.values())) == 1, prints
    from_files = evaluate(load_dataset(demo_folder()), load_protocol("pardeo2017"), statistics=False)
    from_store = evaluate(read_store(store), load_protocol("pardeo2017"), statistics=False)
    assert from_files.dataset_sha256 == from_store.dataset_sha256 == prints["files"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets(keep_extra=True))
def test_any_valid_dataset_has_one_fingerprint_through_import_and_export(case):
    written, _ = case
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        source = make_dataset(work, "source", **written)
        with open_store(migrated_sqlite_url(work, "1.db")) as store:
            prints = fingerprints_of_every_path(source, store, work, keep_extra=True)
    assert len(set(prints.values())) == 1, prints


def test_the_fingerprint_ignores_row_and_column_order_and_follows_every_value(tmp_path):
    rows = [["patient_id", "sex", "center"], ["P1", "F", "Rome"], ["P2", "M", "Genoa"]]
    labs = [["patient_id", "date", "test", "value", "unit"], ["P1", "2020-01-01", "CRP", "<0.5", "mg/dL"],
            ["P1", "2020-02-01", "CRP", "1.25", "mg/dL"]]
    base = dataset_fingerprint(load_dataset(make_dataset(tmp_path, "a", patients=rows, labs=labs)))
    shuffled = [[r[2], r[0], r[1]] for r in [rows[0], rows[2], rows[1]]]
    assert dataset_fingerprint(load_dataset(make_dataset(tmp_path, "b", patients=shuffled, labs=labs))) == base
    changed = [labs[0], labs[1], ["P1", "2020-02-01", "CRP", "1.26", "mg/dL"]]
    assert dataset_fingerprint(load_dataset(make_dataset(tmp_path, "c", patients=rows, labs=changed))) != base
    uncensored = [labs[0], ["P1", "2020-01-01", "CRP", "0.5", "mg/dL"], labs[2]]
    assert dataset_fingerprint(load_dataset(make_dataset(tmp_path, "d", patients=rows, labs=uncensored))) != base
    moved = [rows[0], ["P1", "F", "Rome,"], ["P2", "M", "Genoa"]]
    assert dataset_fingerprint(load_dataset(make_dataset(tmp_path, "e", patients=moved, labs=labs))) != base


def test_extra_attributes_count_in_the_fingerprint(tmp_path):
    plain = make_dataset(tmp_path, "a", patients=[["patient_id", "sex"], ["P1", "F"]])
    noted = make_dataset(tmp_path, "b", patients=[["patient_id", "sex", "note"], ["P1", "F", "twin"]])
    empty = make_dataset(tmp_path, "c", patients=[["patient_id", "sex", "note"], ["P1", "F", ""]])
    assert dataset_fingerprint(load_dataset(noted, keep_extra=True)) != dataset_fingerprint(load_dataset(plain))
    assert dataset_fingerprint(load_dataset(empty, keep_extra=True)) == dataset_fingerprint(load_dataset(plain))


# --------------------------------------------------------------------------- the definition, by hand

def _by_hand(tables: dict[str, list[dict]]) -> str:
    """The fingerprint as the module's docstring defines it, written with the csv module and
    struct (no Polars), so that the definition cannot drift with a Polars version."""
    digest = hashlib.sha256()
    for spec in exchange_format().tables:
        rows = sorted(tables.get(spec.name, []), key=lambda r: [r.get(k) for k in spec.key])
        if spec.since and not rows:
            continue  # a table of format 1.1 counts only with rows, and a column only with a value
        later = {c.name for c in spec.columns if c.since and all(r.get(c.name) is None for r in rows)}
        columns = [c for c in empty_table(spec.name).columns if c not in later] + ["_extra"]
        digest.update(f"table {spec.name} rows {len(rows)} columns {','.join(columns)}\n".encode())
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row in rows:
            cells = []
            for column in columns:
                value = row.get(column)
                if isinstance(value, bool):
                    value = int(value)
                elif isinstance(value, float):
                    value = struct.unpack("<q", struct.pack("<d", value + 0.0 if value else 0.0))[0]
                elif isinstance(value, dt.date):
                    value = (value - dt.date(1970, 1, 1)).days
                cells.append("" if value is None else str(value))
            writer.writerow(cells)
        digest.update(buffer.getvalue().encode())
    return digest.hexdigest()


def test_the_fingerprint_is_the_documented_text_hashed_and_no_function_of_polars(tmp_path):
    folder = make_dataset(
        tmp_path, patients=[["patient_id", "sex", "birth_date", "onset_date", "center", "synthetic", "Nick"],
                            ["P2", "M", "2008-07", "2014-02-01", 'Genoa, "Gaslini"', "no", ""],
                            ["P1", "F", "", "", "Zürich\nKinderspital", "yes", "Bo"]],
        labs=[["patient_id", "date", "test", "value", "unit", "ref_high"],
              ["P1", "2020-02-01", "CRP", "-0", "mg/L", "5"],
              ["P1", "2020-01-01", "CRP", "<0.1", "mg/dL", "0.5"]])
    data = load_dataset(folder, keep_extra=True)
    expected = _by_hand({
        "patients": [
            {"patient_id": "P1", "sex": "F", "center": "Zürich\nKinderspital", "synthetic": True, "_extra": '{"nick": "Bo"}'},
            {"patient_id": "P2", "sex": "M", "birth_date": "2008-07", "onset_date": dt.date(2014, 2, 1),
             "center": 'Genoa, "Gaslini"', "synthetic": False},
        ],
        "labs": [
            {"patient_id": "P1", "date": dt.date(2020, 1, 1), "test": "CRP", "value": 0.1, "censor": "<",
             "unit": "mg/dL", "ref_high": 0.5},
            {"patient_id": "P1", "date": dt.date(2020, 2, 1), "test": "CRP", "value": -0.0, "unit": "mg/L",
             "ref_high": 5.0},
        ],
    })
    assert dataset_fingerprint(data) == expected


def test_a_dataset_built_in_python_without_optional_columns_has_the_fingerprint_of_its_file(tmp_path):
    typed = Dataset({"patients": pl.DataFrame({"patient_id": ["P1"], "sex": ["F"]})})
    folder = make_dataset(tmp_path, patients=[["patient_id", "sex"], ["P1", "F"]])
    assert dataset_fingerprint(typed) == dataset_fingerprint(load_dataset(folder))
