"""Natural keys are unique in the database itself (issue 9, item 4), on SQLite and PostgreSQL:
a second row with the key of a stored one (deleted or not) is refused by the database, the
lesions' key counts an empty side or segment as a value, a lesion_id names one live lesion of
its study, and a database an older cnotrack filled with duplicates is merged or refused."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cnotrack import StoreError, import_dataset, load_dataset, open_store, read_store
from cnotrack.store import database
from cnotrack.store.schema import audit_log, record_table

from conftest import GOOD_TABLES, make_dataset, migrate, sqlite_url

TABLES_WITH_KEYS = ["patients", "treatments", "assessments", "labs", "imaging", "lesions", "adverse_events",
                    "diagnosis", "chaq"]


def _stored(store, name):
    table = record_table(name)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]


def _copy_of_first_row(store, name):
    row = _stored(store, name)[0]
    row.pop("id")
    return row


@pytest.mark.parametrize("name", TABLES_WITH_KEYS)
def test_the_database_refuses_a_second_row_with_a_stored_natural_key(store, good_dataset, name):
    import_dataset(load_dataset(good_dataset), store)
    table = record_table(name)
    copy = _copy_of_first_row(store, name)
    with pytest.raises(sa.exc.IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(table.insert().values(**copy))


@pytest.mark.parametrize("name", TABLES_WITH_KEYS)
def test_a_deleted_row_keeps_its_key(store, good_dataset, name):
    import_dataset(load_dataset(good_dataset), store)
    table = record_table(name)
    first = _stored(store, name)[0]
    with store.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == first["id"]).values(deleted_at=dt.datetime.now(dt.timezone.utc)))
    copy = _copy_of_first_row(store, name)
    copy["deleted_at"] = None
    with pytest.raises(sa.exc.IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(table.insert().values(**copy))


def test_a_lesion_without_side_and_segment_is_stored_once(store, tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P1", "sex": "F"}],
                          imaging=[{"patient_id": "P1", "study_id": "S1", "date": "2020-01-01",
                                    "modality": "mri"}],
                          lesions=[{"study_id": "S1", "bone": "mandible"}])
    import_dataset(load_dataset(folder), store)
    lesions = record_table("lesions")
    with pytest.raises(sa.exc.IntegrityError):  # NULLs are distinct in SQL; coalesce(side, '') is not
        with store.engine.begin() as conn:
            conn.execute(lesions.insert().values(study_id="S1", bone="mandible", side=None, segment=None))
    with store.engine.begin() as conn:  # another site of the same bone is another lesion
        conn.execute(lesions.insert().values(study_id="S1", bone="mandible", side="left", segment=None))


def test_a_lesion_id_names_one_live_lesion_of_its_study(store, tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P1", "sex": "F"}],
                          imaging=[{"patient_id": "P1", "study_id": "S1", "date": "2020-01-01", "modality": "mri"},
                                   {"patient_id": "P1", "study_id": "S2", "date": "2020-06-01", "modality": "mri"}],
                          lesions=[{"study_id": "S1", "bone": "mandible", "lesion_id": "L1"},
                                   {"study_id": "S2", "bone": "mandible", "lesion_id": "L1"}])
    import_dataset(load_dataset(folder), store)
    lesions = record_table("lesions")
    with pytest.raises(sa.exc.IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(lesions.insert().values(study_id="S1", bone="tibia", lesion_id="L1"))
    with store.engine.begin() as conn:
        conn.execute(lesions.update().where(lesions.c.study_id == "S1")
                     .values(deleted_at=dt.datetime.now(dt.timezone.utc)))
        conn.execute(lesions.insert().values(study_id="S1", bone="tibia", lesion_id="L1"))  # the other is deleted
        conn.execute(lesions.insert().values(study_id="S1", bone="radius", lesion_id=None))
        conn.execute(lesions.insert().values(study_id="S1", bone="ulna", lesion_id=None))


def test_importing_a_deleted_record_again_restores_it_instead_of_adding_one(store, good_dataset):
    import_dataset(load_dataset(good_dataset), store)
    labs = record_table("labs")
    with store.engine.begin() as conn:
        conn.execute(labs.update().values(deleted_at=dt.datetime.now(dt.timezone.utc)))
    report = import_dataset(load_dataset(good_dataset), store)
    assert report.inserted["labs"] == 0 and report.updated["labs"] == len(GOOD_TABLES["labs"])
    assert report.plan.tables["labs"].restored == len(GOOD_TABLES["labs"])
    assert len(_stored(store, "labs")) == len(GOOD_TABLES["labs"])


def test_creating_a_deleted_record_again_on_the_web_restores_it(store, good_dataset):
    from cnotrack import records, users

    import_dataset(load_dataset(good_dataset), store)
    admin = users.add_user(store, "chief", "correct horse battery staple", "admin")
    lesion = next(r for r in _stored(store, "lesions") if r["side"] is None and r["segment"] is None)
    records.delete_record(store, admin, "lesions", lesion["id"])
    again = records.create_record(store, admin, "lesions", {"study_id": lesion["study_id"], "bone": lesion["bone"]})
    assert again["id"] == lesion["id"]
    assert len([r for r in _stored(store, "lesions") if r["study_id"] == lesion["study_id"]
                and r["bone"] == lesion["bone"]]) == 1


def test_lesion_ids_swapped_between_two_stored_lesions_import_cleanly(store, tmp_path):
    def lesions(first, second):
        return make_dataset(tmp_path, f"{first}{second}", patients=[{"patient_id": "P1", "sex": "F"}],
                            imaging=[{"patient_id": "P1", "study_id": "S1", "date": "2020-01-01", "modality": "mri"}],
                            lesions=[{"study_id": "S1", "bone": "mandible", "lesion_id": first},
                                     {"study_id": "S1", "bone": "sacrum", "lesion_id": second}])

    import_dataset(load_dataset(lesions("L1", "L2")), store)
    report = import_dataset(load_dataset(lesions("L2", "L1")), store)
    assert report.updated["lesions"] == 2
    assert {(r["bone"], r["lesion_id"]) for r in _stored(store, "lesions")} == {("mandible", "L2"), ("sacrum", "L1")}


def test_an_import_giving_a_stored_lesions_id_to_another_lesion_is_refused_with_the_row(store, tmp_path):
    from cnotrack import DatasetError
    from cnotrack.store import plan_import

    base = dict(patients=[{"patient_id": "P1", "sex": "F"}],
                imaging=[{"patient_id": "P1", "study_id": "S1", "date": "2020-01-01", "modality": "mri"}])
    import_dataset(load_dataset(make_dataset(tmp_path, "a", **base,
                                             lesions=[{"study_id": "S1", "bone": "mandible", "lesion_id": "L1"}])), store)
    other = load_dataset(make_dataset(tmp_path, "b", **base, lesions=[{"study_id": "S1", "bone": "sacrum",
                                                                       "lesion_id": "L1"}]))
    for attempt in (plan_import, import_dataset):
        with pytest.raises(DatasetError) as info:
            attempt(other, store)
        (problem,) = info.value.problems
        assert problem.row == 2 and problem.column == "lesion_id" and problem.value == "L1"
        assert "already has this lesion_id" in problem.message
    assert len(_stored(store, "lesions")) == 1


# --------------------------------------------------------------------------- migration 0004


def _at_revision(url: str, revision: str) -> None:
    """A database migrated up to ``revision`` only (as an older cnotrack left it)."""
    migrate(url, revision)


def _raw_insert(url: str, table: str, rows: list[dict]) -> None:
    engine = sa.create_engine(database.resolve_database_url(url))
    with engine.begin() as conn:
        for row in rows:
            columns = ", ".join(row)
            conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_url(request, tmp_path):
    """A database at revision 0003 (before the natural keys), with one patient."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        _at_revision(url, "0003")
        _raw_insert(url, "patients", [{"patient_id": "P1", "sex": "F", "version": 1}])
        yield url
    else:
        from conftest import fresh_postgres_url, postgres_base_url

        with fresh_postgres_url(postgres_base_url()) as url:
            _at_revision(url, "0003")
            _raw_insert(url, "patients", [{"patient_id": "P1", "sex": "F", "version": 1}])
            yield url


def _lab(**changes):
    return {"patient_id": "P1", "date": dt.date(2020, 1, 1), "test": "CRP", "value": 5.0, "unit": "mg/L",
            "version": 1, **changes}


def test_the_migration_merges_duplicates_that_are_the_same_record(old_url):
    _raw_insert(old_url, "labs", [_lab(), _lab(), _lab()])
    with open_store(old_url) as store:
        labs = _stored(store, "labs")
        assert len(labs) == 1
        with store.engine.connect() as conn:
            removed = conn.execute(sa.select(audit_log).where(audit_log.c.action == "delete")).mappings().all()
        assert len(removed) == 2 and {r["record_id"] for r in removed} == {2, 3}
        assert all("merged a duplicate of record 1" in r["actor"] for r in removed)
        assert read_store(store)["labs"].height == 1


def test_the_migration_refuses_duplicates_that_differ_and_changes_nothing(old_url):
    _raw_insert(old_url, "labs", [_lab(), _lab(value=7.0)])
    with pytest.raises(StoreError) as info:
        open_store(old_url)
    message = str(info.value)
    assert "labs" in message and "patient_id + date + test" in message and "1, 2" in message
    assert "5.0" not in message and "P1" not in message  # ids, never values
    engine = sa.create_engine(database.resolve_database_url(old_url))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0003"
        assert conn.exec_driver_sql("SELECT count(*) FROM labs").scalar() == 2
    engine.dispose()


def test_the_migration_refuses_two_live_lesions_of_a_study_with_one_lesion_id(old_url):
    _raw_insert(old_url, "imaging", [{"patient_id": "P1", "study_id": "S1", "date": dt.date(2020, 1, 1),
                                      "modality": "mri", "version": 1}])
    _raw_insert(old_url, "lesions", [{"study_id": "S1", "bone": "femur", "lesion_id": "L1", "version": 1},
                                     {"study_id": "S1", "bone": "tibia", "lesion_id": "L1", "version": 1}])
    with pytest.raises(StoreError, match="lesion_id unique per study"):
        open_store(old_url)


def test_the_migration_goes_down_and_up_again(tmp_path):
    url = sqlite_url(tmp_path)
    open_store(url).close()
    migrate(url, "0003", down=True)
    engine = sa.create_engine(database.resolve_database_url(url))
    with engine.connect() as conn:
        assert not [i for i in sa.inspect(conn).get_indexes("labs") if i["name"] == "uq_labs_key"]
    engine.dispose()
    with open_store(url) as store, store.engine.connect() as conn:
        assert [i for i in sa.inspect(conn).get_indexes("labs") if i["name"] == "uq_labs_key"]
