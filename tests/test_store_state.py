"""``data_state(store)``: a token of the clinical data that every write of it changes (imports
that change something, record creates, edits, deletes, restores) and nothing else changes (reads,
unchanged re-imports, sign-ins, user changes, failed or refused writes)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cnotrack import import_dataset, load_dataset, open_store, read_store, records
from cnotrack.errors import RecordConflictError
from cnotrack.store import data_state
from cnotrack.store.schema import data_state as data_state_table
from cnotrack.users import add_user, authenticate, update_user

from conftest import make_dataset, migrate, sqlite_url

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def admin(store):
    return add_user(store, "ada", PASSWORD, "admin")


def _patient_record(store, admin, patient_id):
    return records.list_records(store, admin, "patients", filters={"patient_id": patient_id})[0]


def test_a_new_database_has_a_state_and_reading_it_changes_nothing(store):
    first = data_state(store)
    assert first == data_state(store) and first != "unknown"


def test_an_import_that_adds_rows_changes_the_state_and_the_same_import_again_does_not(store, good_dataset):
    empty = data_state(store)
    import_dataset(load_dataset(good_dataset), store)
    imported = data_state(store)
    assert imported != empty
    report = import_dataset(load_dataset(good_dataset), store)
    assert not report.changed
    assert data_state(store) == imported
    read_store(store)
    assert data_state(store) == imported


def test_a_re_import_that_changes_one_value_changes_the_state(store, tmp_path, good_tables):
    import_dataset(load_dataset(make_dataset(tmp_path, "a", **good_tables)), store)
    before = data_state(store)
    good_tables["patients"][0]["center"] = "elsewhere"
    report = import_dataset(load_dataset(make_dataset(tmp_path, "b", **good_tables)), store)
    assert report.updated["patients"] == 1
    assert data_state(store) != before


def test_every_web_write_changes_the_state(store, good_dataset, admin):
    import_dataset(load_dataset(good_dataset), store)
    seen = {data_state(store)}

    def changed() -> None:
        state = data_state(store)
        assert state not in seen
        seen.add(state)

    created = records.create_record(store, admin, "patients", {"patient_id": "NEW1", "sex": "F"})
    changed()
    edited = records.update_record(store, admin, "patients", created["id"],
                                   {**{k: v for k, v in created.items() if k not in ("id", "version")},
                                    "center": "north"}, created["version"])
    changed()
    records.delete_record(store, admin, "patients", edited["id"], edited["version"])
    changed()
    records.create_record(store, admin, "patients", {"patient_id": "NEW1", "sex": "M"})  # restores it
    changed()


def test_reads_sign_ins_user_changes_and_refused_writes_leave_the_state(store, good_dataset, admin):
    import_dataset(load_dataset(good_dataset), store)
    state = data_state(store)
    assert authenticate(store, "ada", PASSWORD) is not None
    add_user(store, "bob", PASSWORD, "investigator", center="north")
    update_user(store, "bob", center="south", actor="ada")
    record = _patient_record(store, admin, load_dataset(good_dataset).patients["patient_id"][0])
    records.get_record(store, admin, "patients", record["id"])
    records.audit_trail(store, admin)
    same = {k: v for k, v in record.items() if k not in ("id", "version")}
    records.update_record(store, admin, "patients", record["id"], same, record["version"])  # no change
    with pytest.raises(RecordConflictError):
        records.update_record(store, admin, "patients", record["id"], same, record["version"] + 5)
    with pytest.raises(RecordConflictError):
        records.create_record(store, admin, "patients", {"patient_id": record["patient_id"], "sex": "F"})
    assert data_state(store) == state


def test_a_database_made_again_at_the_same_path_gets_another_state(tmp_path):
    url = sqlite_url(tmp_path)
    with open_store(url) as store:
        first = data_state(store)
    (tmp_path / "cnotrack.db").unlink()
    with open_store(url) as store:
        assert data_state(store) != first


def test_migration_0007_adds_the_state_row_and_takes_it_away_again(tmp_path, good_dataset):
    url = sqlite_url(tmp_path)
    with open_store(url) as store:
        import_dataset(load_dataset(good_dataset), store)
    migrate(url, "0006", down=True)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert "data_state" not in sa.inspect(conn).get_table_names()
    engine.dispose()
    with open_store(url) as store:
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(data_state_table)).scalar() == 1
        before = data_state(store)
        records.create_record(store, add_user(store, "ada", PASSWORD, "admin"), "patients",
                              {"patient_id": "NEW1", "sex": "F"})
        assert data_state(store) != before
