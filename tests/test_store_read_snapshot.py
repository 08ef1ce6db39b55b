"""``read_store`` reads every table from one state of the database: a write committed by someone
else while the tables are being read is not half seen (SQLite: the writer waits until every table
is read; PostgreSQL: one REPEATABLE READ snapshot)."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from cnotrack import import_dataset, load_dataset, read_store
from cnotrack.store import bulk
from cnotrack.store.bulk import sqlite_file


def _write_labs_elsewhere(store) -> str:
    """Raise every lab value through another connection; what happened to that write."""
    sql = "UPDATE labs SET value = value + 1000"
    path = sqlite_file(store.engine)
    if path is not None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute(sql)
            return "committed"
        except sqlite3.OperationalError as exc:
            return f"refused: {exc}"
        finally:
            other.close()
    with store.engine.begin() as conn:  # another connection of the pool
        conn.execute(sa.text(sql))
    return "committed"


def test_a_write_committed_while_the_tables_are_read_is_not_half_seen(store, good_dataset, monkeypatch):
    import_dataset(load_dataset(good_dataset), store)
    before = read_store(store)
    outcome = []
    reader = "_read_adbc" if sqlite_file(store.engine) is not None else "_read_copy"
    plain = getattr(bulk, reader)

    def read_then_write(connection, table, schema, where):
        frame = plain(connection, table, schema, where)
        if table == "patients":  # read before labs: a write now must not show in the labs read
            outcome.append(_write_labs_elsewhere(store))
        return frame

    monkeypatch.setattr(bulk, reader, read_then_write)
    during = read_store(store)
    monkeypatch.undo()
    assert outcome and during["labs"].equals(before["labs"]), outcome
    if store.engine.dialect.name == "sqlite":
        assert outcome[0].startswith("refused: database is locked")
    else:
        assert outcome == ["committed"]
        assert not read_store(store)["labs"].equals(before["labs"])  # the write is seen afterwards
