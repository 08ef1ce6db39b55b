"""Content digests (``cnotrack.store.digests``): an unchanged re-import reads no stored row of a
table the last import left holding exactly the same rows, and any write since, a file that
covers only part of a table or lacks a column makes the import compare row by row again."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from cnotrack import import_dataset, load_dataset, records
from cnotrack.store import changes
from cnotrack.store.digests import content_digest
from cnotrack.store.schema import content_digests
from cnotrack.users import add_user

from conftest import make_dataset


def digests(store) -> dict[str, tuple[int, str]]:
    with store.engine.connect() as conn:
        return {r.table_name: (r.rows, r.digest) for r in conn.execute(sa.select(content_digests))}


def stored_reads(monkeypatch) -> list[str]:
    """The tables whose stored rows an import reads, in order."""
    seen: list[str] = []
    original = changes._stored

    def spy(conn, name, engine, *, values):
        if conn is not None:
            seen.append(name)
        return original(conn, name, engine, values=values)

    monkeypatch.setattr(changes, "_stored", spy)
    return seen


def test_an_import_records_the_digest_of_every_table_it_leaves_as_the_file(store, good_dataset, good_tables):
    import_dataset(load_dataset(good_dataset), store)
    recorded = digests(store)
    assert {name: rows for name, (rows, _) in recorded.items()} == {
        name: len(rows) for name, rows in good_tables.items()} | {
        name: 0 for name in recorded if name not in good_tables}


def test_an_unchanged_reimport_reads_no_stored_row(store, good_dataset, monkeypatch):
    first = import_dataset(load_dataset(good_dataset), store)
    seen = stored_reads(monkeypatch)
    again = import_dataset(load_dataset(good_dataset), store)
    assert seen == []
    assert not again.changed and again.import_id is None
    assert again.unchanged == {n: first.inserted[n] for n in first.inserted}


def test_a_web_edit_since_makes_the_import_compare_and_restore_the_value(store, good_dataset, monkeypatch):
    import_dataset(load_dataset(good_dataset), store)
    admin = add_user(store, "ada", "correct horse battery staple 42", "admin")
    with store.engine.connect() as conn:
        patient = conn.execute(sa.text("SELECT * FROM patients WHERE patient_id = 'P02'")).mappings().one()
    values = {k: patient[k] for k in records.record_columns("patients")}
    records.update_record(store, admin, "patients", patient["id"], {**values, "center": "Elsewhere"},
                          patient["version"])
    seen = stored_reads(monkeypatch)
    report = import_dataset(load_dataset(good_dataset), store)
    assert "patients" in seen
    assert report.updated["patients"] == 1 and report.changed_columns["patients"] == {"center": 1}


def test_a_changed_value_is_written_and_then_found_unchanged_by_its_digest(store, tmp_path, good_tables, monkeypatch):
    first = make_dataset(tmp_path, "first", **good_tables)
    import_dataset(load_dataset(first), store)
    labs = [dict(r) for r in good_tables["labs"]]
    labs[0]["value"] = "99"
    second = make_dataset(tmp_path, "second", **{**good_tables, "labs": labs})
    report = import_dataset(load_dataset(second), store)
    assert report.updated["labs"] == 1 and report.changed_columns["labs"] == {"value": 1}
    seen = stored_reads(monkeypatch)
    again = import_dataset(load_dataset(second), store)
    assert seen == [] and not again.changed


def test_a_file_with_part_of_a_table_leaves_no_digest_and_is_compared(store, tmp_path, good_tables, monkeypatch):
    import_dataset(load_dataset(make_dataset(tmp_path, "whole", **good_tables)), store)
    labs = [dict(r) for r in good_tables["labs"][1:]]
    labs[0]["value"] = "99"
    fewer = make_dataset(tmp_path, "fewer", **{**good_tables, "labs": labs})
    report = import_dataset(load_dataset(fewer), store)
    assert report.updated["labs"] == 1
    recorded = digests(store)
    assert "labs" not in recorded  # a stored lab row the file does not have
    assert "patients" in recorded  # written by this import as the file has it
    seen = stored_reads(monkeypatch)
    again = import_dataset(load_dataset(fewer), store)
    assert "labs" in seen and not again.changed
    assert again.unchanged["labs"] == len(good_tables["labs"]) - 1


def test_a_file_without_a_column_is_compared_row_by_row(store, tmp_path, good_tables, monkeypatch):
    import_dataset(load_dataset(make_dataset(tmp_path, "whole", **good_tables)), store)
    narrow = [{k: v for k, v in r.items() if k != "ref_low"} for r in good_tables["labs"]]
    seen = stored_reads(monkeypatch)
    report = import_dataset(load_dataset(make_dataset(tmp_path, "narrow", **{**good_tables, "labs": narrow})), store)
    assert "labs" in seen and not report.changed


def test_the_digest_is_of_the_rows_not_their_order():
    hashes = pl.Series([3, -1, 2**62, 7], dtype=pl.Int64)
    assert content_digest(hashes) == content_digest(hashes.reverse())
    assert content_digest(hashes) != content_digest(hashes.head(3))
    assert content_digest(hashes) != content_digest(pl.Series([3, -1, 2**62, 8], dtype=pl.Int64))


def test_sql_typed_into_the_database_removes_the_digest(store, good_dataset, monkeypatch):
    import_dataset(load_dataset(good_dataset), store)
    with store.engine.begin() as conn:  # an edit outside cnotrack: no generation raised
        conn.execute(sa.text("UPDATE labs SET value = value + 1, row_hash = NULL WHERE id = 1"))
    assert "labs" not in digests(store)
    seen = stored_reads(monkeypatch)
    report = import_dataset(load_dataset(good_dataset), store)
    assert "labs" in seen and report.updated["labs"] == 1 and report.changed_columns["labs"] == {"value": 1}


def test_a_row_inserted_by_sql_makes_the_import_compare(store, good_dataset, monkeypatch):
    import_dataset(load_dataset(good_dataset), store)
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO patients (patient_id, sex, version) VALUES ('P99', 'F', 1)"))
    seen = stored_reads(monkeypatch)
    report = import_dataset(load_dataset(good_dataset), store)
    assert "patients" in seen and not report.changed
