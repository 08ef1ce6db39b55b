"""Importing into the store (SQLite and PostgreSQL): all or nothing, idempotent, merging, with
provenance and an audit trail; and reading the store back without losing a value."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import polars as pl
import pytest
import sqlalchemy as sa

from cnotrack import DatasetError, import_dataset, load_dataset, open_store, read_store
from cnotrack.exchange.cells import ID_MAX_LENGTH
from cnotrack import records
from cnotrack.audit import audit_trail
from cnotrack.store.provenance import record_provenance
from cnotrack.store import importer
from cnotrack.users import add_user
from cnotrack.store.schema import audit_log, imports, record_table

from conftest import GOOD_TABLES, make_dataset, snapshot
from test_validate import make_planted_dataset


def rows(store, name: str) -> list[dict]:
    table = record_table(name)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]


def audit(store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings()]


def import_rows(store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(imports).order_by(imports.c.id)).mappings()]


def comparable(data) -> dict[str, list[tuple]]:
    """Each table's rows without the row numbers, sorted, to compare datasets by content."""
    out = {}
    for name, frame in data.tables.items():
        frame = frame.drop("_row", strict=False)
        out[name] = sorted(frame.rows(), key=repr)
    return out


def test_importing_the_good_dataset_inserts_every_row(store, good_dataset, good_tables):
    report = import_dataset(load_dataset(good_dataset), store)
    assert report.inserted == {name: len(rows_) for name, rows_ in good_tables.items()}
    assert sum(report.updated.values()) == sum(report.unchanged.values()) == 0
    assert report.changed and report.import_id is not None


def test_the_store_gives_back_exactly_the_dataset_imported(store, good_dataset):
    data = load_dataset(good_dataset)
    import_dataset(data, store)
    assert comparable(read_store(store)) == comparable(data)


def test_dates_booleans_and_numbers_come_back_with_their_types(store, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    back = read_store(store)
    assert back["treatments"].schema["start_date"] == pl.Date
    assert back["assessments"].schema["fever"] == pl.Boolean
    assert back["lesions"].schema["grade"] == pl.Int64
    first = back["assessments"].sort("patient_id", "date").row(0, named=True)
    assert first["date"] == dt.date(2012, 6, 1) and first["fever"] is False and first["bone_pain"] is True
    assert first["chaq_di"] == 1.625
    labs = back["labs"].filter(pl.col("censor").is_not_null()).sort("value")
    assert labs.select("value", "censor").rows() == [(0.5, "<"), (200.0, ">")]


def test_importing_twice_equals_importing_once(store, good_dataset, good_tables):
    data = load_dataset(good_dataset)
    import_dataset(data, store)
    before = snapshot(store)
    report = import_dataset(load_dataset(good_dataset), store)
    assert not report.changed and report.import_id is None
    assert report.unchanged == {name: len(rows_) for name, rows_ in good_tables.items()}
    assert snapshot(store) == before


def test_a_changed_row_is_updated_and_the_change_is_in_the_audit_trail(store, tmp_path, good_tables):
    import_dataset(load_dataset(make_dataset(tmp_path, "v1", **good_tables)), store)
    patient = next(r for r in rows(store, "patients") if r["patient_id"] == "P02")
    good_tables["patients"][1]["center"] = "Genoa"
    good_tables["assessments"][0]["fever"] = "yes"
    report = import_dataset(load_dataset(make_dataset(tmp_path, "v2", **good_tables)), store)
    assert report.updated["patients"] == 1 and report.updated["assessments"] == 1
    assert report.inserted["patients"] == 0 and report.unchanged["patients"] == len(good_tables["patients"]) - 1
    after = next(r for r in rows(store, "patients") if r["patient_id"] == "P02")
    assert after["id"] == patient["id"]
    assert after["center"] == "Genoa" and after["version"] == 2 and after["import_id"] == report.import_id
    updates = [a for a in audit(store) if a["action"] == "update"]
    assert {a["table_name"] for a in updates} == {"patients", "assessments"}
    change = next(a for a in updates if a["table_name"] == "patients")
    assert change["record_id"] == patient["id"] and change["import_id"] == report.import_id
    assert json.loads(change["record_key"]) == {"patient_id": "P02"}
    assert json.loads(change["before"])["center"] == "Genoa, Gaslini"
    assert json.loads(change["after"])["center"] == "Genoa"
    fever = next(a for a in updates if a["table_name"] == "assessments")
    assert json.loads(fever["before"])["fever"] is False and json.loads(fever["after"])["fever"] is True


def test_every_inserted_row_is_in_the_audit_trail(store, good_dataset, good_tables):
    report = import_dataset(load_dataset(good_dataset), store)
    admin = add_user(store, "ada", "correct horse battery staple 42", "admin")
    inserts = [a for a in audit_trail(store, admin, limit=0) if a["action"] == "insert"]
    assert len(inserts) == sum(report.inserted.values())
    assert all(a["import_id"] == report.import_id and a["before"] is None for a in inserts)
    ids = {(a["table"], a["record_id"]) for a in inserts}
    assert ids == {(name, r["id"]) for name in good_tables for r in rows(store, name)}
    patient = next(r for r in rows(store, "patients") if r["patient_id"] == "P02")
    (entry,) = audit_trail(store, admin, table="patients", record_id=patient["id"])
    assert entry["key"] == {"patient_id": "P02"} and entry["actor"] == "cli"


def test_an_import_stores_its_added_rows_as_ranges_of_ids_not_copies(store, good_dataset, good_tables):
    report = import_dataset(load_dataset(good_dataset), store)
    stored = [a for a in audit(store) if a["action"] == "insert"]
    assert len(stored) == sum(1 for name in good_tables if report.inserted.get(name))  # one run per table
    assert all(a["before"] is None and a["after"] is None for a in stored)
    for a in stored:
        ids = [r["id"] for r in rows(store, a["table_name"])]
        assert (a["record_id"], a["last_record_id"]) == (min(ids), max(ids))


def test_an_unchanged_re_import_writes_nothing_at_all(store, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    before = snapshot(store), audit(store), import_rows(store)
    report = import_dataset(load_dataset(good_dataset), store)
    assert not report.changed and report.import_id is None
    assert (snapshot(store), audit(store), import_rows(store)) == before


def test_an_update_is_audited_with_the_changed_columns_only(store, tmp_path, good_tables):
    import_dataset(load_dataset(make_dataset(tmp_path, "v1", **good_tables)), store)
    good_tables["patients"][1]["center"] = "Genoa"
    import_dataset(load_dataset(make_dataset(tmp_path, "v2", **good_tables)), store)
    (change,) = [a for a in audit(store) if a["action"] == "update"]
    assert json.loads(change["before"]) == {"center": "Genoa, Gaslini"}
    assert json.loads(change["after"]) == {"center": "Genoa"}


def test_a_row_edited_on_the_web_is_compared_by_value_at_the_next_import(store, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    admin = add_user(store, "ada", "correct horse battery staple 42", "admin")
    patient = next(r for r in rows(store, "patients") if r["patient_id"] == "P02")
    values = {k: patient[k] for k in records.record_columns("patients")}
    records.update_record(store, admin, "patients", patient["id"], {**values, "center": "Elsewhere"},
                          patient["version"])
    assert next(r for r in rows(store, "patients") if r["patient_id"] == "P02")["row_hash"] is None
    report = import_dataset(load_dataset(good_dataset), store)
    assert report.updated["patients"] == 1 and report.changed_columns["patients"] == {"center": 1}
    assert report.unchanged["patients"] == len(rows(store, "patients")) - 1


def test_an_import_records_its_source_files_and_counts(store, good_dataset):
    report = import_dataset(load_dataset(good_dataset), store)
    (entry,) = import_rows(store)
    assert entry["id"] == report.import_id and entry["source"] == good_dataset.name
    files = json.loads(entry["files"])
    assert files["labs.csv"] == hashlib.sha256((good_dataset / "labs.csv").read_bytes()).hexdigest()
    assert entry["inserted"] == sum(report.inserted.values())


def test_every_row_carries_its_provenance(store, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    sha = hashlib.sha256((good_dataset / "lesions.csv").read_bytes()).hexdigest()
    lesions = rows(store, "lesions")
    assert {r["source_file"] for r in lesions} == {"lesions.csv"}
    # the file's SHA-256 is kept once, in imports.files, and joined back to every row
    provenance = record_provenance(store, "lesions")
    assert set(provenance["source_sha256"]) == {sha} and provenance["id"].to_list() == [r["id"] for r in lesions]
    assert "source_sha256" not in lesions[0]
    assert sorted(r["source_row"] for r in lesions) == list(range(2, 2 + len(GOOD_TABLES["lesions"])))
    # the row number is the spreadsheet row: a cell on two lines takes one row
    assert {r["patient_id"]: r["source_row"] for r in rows(store, "patients")}["p01"] == 6


def test_rows_missing_from_a_later_dataset_are_kept(store, tmp_path, good_tables):
    import_dataset(load_dataset(make_dataset(tmp_path, "all", **good_tables)), store)
    before = {name: len(rows(store, name)) for name in good_tables}
    smaller = {"patients": good_tables["patients"][:1],
               "labs": [r for r in good_tables["labs"] if r["patient_id"] == "P01"]}
    report = import_dataset(load_dataset(make_dataset(tmp_path, "some", **smaller)), store)
    assert not report.changed
    assert {name: len(rows(store, name)) for name in good_tables} == before


def test_new_rows_of_a_later_dataset_are_added(store, tmp_path, good_tables):
    import_dataset(load_dataset(make_dataset(tmp_path, "v1", **good_tables)), store)
    later = {"patients": [{"patient_id": "P05", "sex": "M"}],
             "labs": [{"patient_id": "P05", "date": "2020-01-01", "test": "ESR", "value": "7", "unit": "mm/h"}]}
    report = import_dataset(load_dataset(make_dataset(tmp_path, "v2", **later)), store)
    assert report.inserted["patients"] == 1 and report.inserted["labs"] == 1
    assert len(rows(store, "labs")) == len(GOOD_TABLES["labs"]) + 1


def test_a_rejected_import_leaves_the_database_exactly_as_before(store, tmp_path, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    before = snapshot(store)
    with pytest.raises(DatasetError):
        import_dataset(load_dataset(make_planted_dataset(tmp_path)), store)
    assert snapshot(store) == before


def test_an_import_that_fails_while_writing_writes_nothing(store, good_dataset, monkeypatch):
    import_dataset(load_dataset(make_dataset(good_dataset.parent, "first", patients=GOOD_TABLES["patients"][:2])),
                   store)
    before = snapshot(store)
    real = importer._import_table

    def fail_on_labs(conn, dataset, name, *args):
        if name == "labs":
            raise RuntimeError("the disk is full")
        return real(conn, dataset, name, *args)

    monkeypatch.setattr(importer, "_import_table", fail_on_labs)
    with pytest.raises(RuntimeError):
        import_dataset(load_dataset(good_dataset), store)
    assert snapshot(store) == before


def test_a_soft_deleted_row_is_restored_by_importing_it_again(store, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    table = record_table("patients")
    with store.engine.begin() as conn:
        conn.execute(table.update().where(table.c.patient_id == "P03")
                     .values(deleted_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)))
    assert "P03" not in read_store(store).patients["patient_id"].to_list()
    report = import_dataset(load_dataset(good_dataset), store)
    assert report.updated["patients"] == 1
    assert "P03" in read_store(store).patients["patient_id"].to_list()
    assert audit(store)[-1]["action"] == "restore"


def test_extra_columns_are_stored_and_read_back(store, tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F", "Site Code": "RM-1", "weight": "31.5"},
                                              {"patient_id": "P02", "sex": "M", "Site Code": "", "weight": "28"}])
    import_dataset(load_dataset(folder, keep_extra=True), store)
    extra = {r["patient_id"]: r["extra"] for r in rows(store, "patients")}
    assert json.loads(extra["P01"]) == {"site code": "RM-1", "weight": "31.5"}
    assert json.loads(extra["P02"]) == {"weight": "28"}
    assert read_store(store).patients.sort("patient_id")["_extra"].to_list() == [extra["P01"], extra["P02"]]


def test_a_changed_extra_value_is_an_update(store, tmp_path):
    first = make_dataset(tmp_path, "a", patients=[{"patient_id": "P01", "sex": "F", "note": "x"}])
    second = make_dataset(tmp_path, "b", patients=[{"patient_id": "P01", "sex": "F", "note": "y"}])
    import_dataset(load_dataset(first, keep_extra=True), store)
    report = import_dataset(load_dataset(second, keep_extra=True), store)
    assert report.updated["patients"] == 1
    assert json.loads(audit(store)[-1]["after"])["extra"] == '{"note": "y"}'


def test_long_identifiers_and_unicode_text_are_stored_whole(store, tmp_path):
    long_id = "P" + "é" * (ID_MAX_LENGTH - 1)
    term = "réaction au site d'injection, «grave»\n第二行 🦴"
    folder = make_dataset(tmp_path, patients=[{"patient_id": long_id, "sex": "F", "center": "Zürich"}],
                          adverse_events=[{"patient_id": long_id, "onset_date": "2020-01-01", "term": term}])
    import_dataset(load_dataset(folder), store)
    back = read_store(store)
    assert back.patients["patient_id"].item() == long_id
    assert back["adverse_events"]["term"].item() == term


def test_an_extremely_small_or_large_number_is_stored_exactly(store, tmp_path):
    values = ["1e-05", "0.30000000000000004", "1.7976931348623157e+308", "5e-324", "123456789.12345679"]
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F"}],
                          treatments=[{"patient_id": "P01", "drug": "naproxen", "start_date": f"2020-01-0{i + 1}",
                                       "dose": v} for i, v in enumerate(values)])
    import_dataset(load_dataset(folder), store)
    doses = read_store(store)["treatments"].sort("start_date")["dose"].to_list()
    assert doses == [float(v) for v in values]


@pytest.mark.postgres
def test_the_postgresql_store_uses_date_boolean_and_text_columns(postgres_store, good_dataset):
    import_dataset(load_dataset(good_dataset), postgres_store)
    inspector = sa.inspect(postgres_store.engine)
    types = {c["name"]: c["type"] for c in inspector.get_columns("assessments")}
    assert isinstance(types["date"], sa.Date) and isinstance(types["fever"], sa.Boolean)
    assert isinstance(types["extra"], sa.Text)
    with postgres_store.engine.connect() as conn:
        value = conn.execute(sa.text("SELECT fever, date FROM assessments ORDER BY id LIMIT 1")).one()
    assert value == (False, dt.date(2012, 6, 1))


@pytest.mark.postgres
def test_postgresql_and_sqlite_hold_the_same_data_after_the_same_import(postgres_store, sqlite_store, good_dataset):
    data = load_dataset(good_dataset)
    import_dataset(data, postgres_store)
    import_dataset(data, sqlite_store)
    assert comparable(read_store(postgres_store)) == comparable(read_store(sqlite_store))


@pytest.mark.postgres
def test_opening_the_postgresql_store_again_keeps_its_data(postgres_url, good_dataset):
    with open_store(postgres_url) as first:
        import_dataset(load_dataset(good_dataset), first)
    with open_store(postgres_url) as again:
        assert read_store(again).patients.height == len(GOOD_TABLES["patients"])


def test_extra_attributes_merge_with_the_stored_ones_as_one_expression():
    """The file's attributes replace the stored ones (an empty cell clears one), the others stay;
    the vectorised merge writes exactly what the row-by-row reference writes."""
    from cnotrack.store.changes import _S, _merged_extra, _merged_extra_expr

    stored = [None, '{"site": "RM-1", "weight": "31.5"}', '{"note": "a \\"b\\"\\n"}', '{"weight": "2"}', None]
    new = ['{"weight": "40"}', '{"weight": "30"}', None, None, None]
    names = ["weight"]
    frame = pl.DataFrame({_S + "extra": stored, "extra": new}, schema={_S + "extra": pl.String, "extra": pl.String})
    merged = frame.select(_merged_extra_expr(frame[_S + "extra"], names))["extra"].to_list()
    assert merged == [_merged_extra(s, n, names) for s, n in zip(stored, new)]
    assert merged == ['{"weight": "40"}', '{"site": "RM-1", "weight": "30"}', '{"note": "a \\"b\\"\\n"}', None, None]
