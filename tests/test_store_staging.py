"""The first import into an empty SQLite table stages its rows through Arrow and copies them in
SQL (``cnotrack.store.staging``): the database it writes is the one ``executemany`` writes."""

from __future__ import annotations

import sqlalchemy as sa

from cnotrack import import_dataset, load_dataset, open_store, read_store
from cnotrack.exchange.schema import exchange_format
from cnotrack.store import importer, staging
from cnotrack.store.schema import record_table

from conftest import sqlite_url


def _contents(store) -> dict[str, list[tuple]]:
    out = {}
    with store.engine.connect() as conn:
        for name in exchange_format().table_names:
            t = record_table(name)
            columns = [c for c in t.c if c.name not in ("import_id",)]
            out[name] = [tuple(r) for r in conn.execute(sa.select(*columns).order_by(t.c.id))]
    return out


def test_a_staged_first_import_writes_what_executemany_writes(tmp_path, good_dataset, monkeypatch):
    data = load_dataset(good_dataset)
    with open_store(sqlite_url(tmp_path, "plain.db")) as store:
        monkeypatch.setattr(staging, "_MIN_ROWS", 10**9)  # nothing staged
        import_dataset(data, store)
        plain = _contents(store)
    copies = []
    real = staging.copy_staged

    def counted(*args, **kwargs):
        done = real(*args, **kwargs)
        copies.append(done)
        return done

    monkeypatch.setattr(staging, "_MIN_ROWS", 1)
    monkeypatch.setattr(importer, "copy_staged", counted)
    with open_store(sqlite_url(tmp_path, "staged.db")) as store:
        first = import_dataset(data, store)
        assert copies and all(copies) and sum(first.inserted.values()) > 0
        assert _contents(store) == plain
        again = import_dataset(data, store)  # nothing empty is left: nothing staged, nothing written
        assert not again.changed and len(copies) == sum(1 for n in first.inserted.values() if n)
        assert read_store(store).row_counts() == data.row_counts()
        with store.engine.connect() as conn:  # the scratch file is detached
            assert staging.ALIAS not in [r[1] for r in conn.exec_driver_sql("PRAGMA database_list")]


def test_rows_stored_after_staging_are_planned_again_and_written_without_the_stage(tmp_path, good_dataset,
                                                                                     monkeypatch):
    data = load_dataset(good_dataset)
    monkeypatch.setattr(staging, "_MIN_ROWS", 1)
    real = staging.stage_rows
    with open_store(sqlite_url(tmp_path, "raced.db")) as store:
        one = data.patients.head(1)

        def stage_then_someone_writes(dataset, store_):
            manager = real(dataset, store_)
            staged = manager.__enter__()
            with store_.engine.begin() as conn:  # a patient stored between staging and the import
                conn.execute(record_table("patients").insert().values(
                    patient_id=one["patient_id"][0], sex=one["sex"][0], version=1))
            return _Wrapped(manager, staged)

        monkeypatch.setattr(importer, "stage_rows", stage_then_someone_writes)
        report = import_dataset(data, store)
        assert report.inserted["patients"] == data.patients.height - 1
        assert read_store(store).row_counts() == data.row_counts()


class _Wrapped:
    def __init__(self, manager, staged):
        self.manager, self.staged = manager, staged

    def __enter__(self):
        return self.staged

    def __exit__(self, *exc):
        return self.manager.__exit__(*exc)
