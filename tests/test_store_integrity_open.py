"""Opening the database fails loudly on a mistake (issue 9, item 11) and nothing is lost under
faults (item 13): a missing or foreign database is an error that names it, writers wait for
each other, a killed creation or migration leaves a database that opens, and no SQL error
carries row values."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from cnotrack import StoreError, import_dataset, load_dataset, open_store, read_store
from cnotrack.store import database
from cnotrack.store.schema import record_table

from conftest import GOOD_TABLES, make_dataset, sqlite_url


def _poll(condition, what: str, limit: float = 30.0) -> None:
    """Wait (bounded) until ``condition()`` holds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.01)


# --------------------------------------------------------------------------- missing, foreign


def test_a_database_that_does_not_exist_is_not_created_unless_asked(tmp_path):
    path = tmp_path / "tpyo.db"
    with pytest.raises(StoreError) as info:
        open_store(str(path), create=False)
    assert str(info.value).startswith(f"no cnotrack database at {path}; create one with cnotrack init-db --db {path}")
    assert not path.exists()
    open_store(str(path), create=True).close()
    open_store(str(path), create=False).close()


@pytest.mark.parametrize("content", [os.urandom(4096), b"patient_id,sex\nP1,F\n", b"SQLite format 2\x00garbage"],
                         ids=["random bytes", "a csv file", "almost sqlite"])
def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path, content):
    path = tmp_path / "data.db"
    path.write_bytes(content)
    for create in (False, True):
        with pytest.raises(StoreError, match=f"^{path} is not a cnotrack database"):
            open_store(str(path), create=create)
    assert path.read_bytes() == content


def test_a_folder_is_not_a_database(tmp_path):
    with pytest.raises(StoreError, match="is not a cnotrack database .it is a folder"):
        open_store(str(tmp_path), create=True)


def test_an_sqlite_database_of_another_program_is_not_a_cnotrack_database(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    for create in (False, True):
        with pytest.raises(StoreError, match="is not a cnotrack database .it holds tables that are not cnotrack's"):
            open_store(str(path), create=create)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]


def test_an_empty_file_is_created_only_when_asked(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="is not a cnotrack database yet .it is empty"):
        open_store(str(path), create=False)
    open_store(str(path), create=True).close()
    open_store(str(path), create=False).close()


@pytest.mark.postgres
def test_an_empty_postgresql_schema_is_created_only_when_asked(postgres_url):
    with pytest.raises(StoreError, match="not a cnotrack database yet"):
        open_store(postgres_url, create=False)
    open_store(postgres_url, create=True).close()
    open_store(postgres_url, create=False).close()


def test_a_busy_timeout_that_is_not_a_number_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(database.BUSY_TIMEOUT_ENV_VAR, "soon")
    with pytest.raises(StoreError, match="CNOTRACK_DB_BUSY_TIMEOUT is 'soon'"):
        open_store(sqlite_url(tmp_path))


# --------------------------------------------------------------------------- concurrent writers


def test_an_import_waits_for_a_write_lock_and_then_a_busy_database_is_a_clear_error(tmp_path, good_dataset):
    url = sqlite_url(tmp_path)
    open_store(url).close()
    holder = sqlite3.connect(tmp_path / "cnotrack.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        with open_store(url, busy_timeout=0.2) as store:
            with pytest.raises(StoreError) as info:
                import_dataset(load_dataset(good_dataset), store)
        assert str(info.value).startswith("the database is busy: another import or the web app holds a write lock; "
                                          "try again")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with open_store(url) as store:
        assert read_store(store).patients.height == 0
        assert import_dataset(load_dataset(good_dataset), store).inserted["patients"] == len(GOOD_TABLES["patients"])


def _hold_import_at_labs(monkeypatch, reached: threading.Event, release: threading.Event):
    """Make the next import pause inside its transaction, after its patients, before its labs."""
    from cnotrack.store import importer

    real = importer._import_table
    paused = []

    def pausing(conn, dataset, name, *args):
        if name == "labs" and not paused:
            paused.append(threading.get_ident())
            reached.set()
            assert release.wait(60)
        return real(conn, dataset, name, *args)

    monkeypatch.setattr(importer, "_import_table", pausing)


def _import_in_thread(store, dataset, results):
    def run():
        try:
            results.append(import_dataset(dataset, store))
        except BaseException as exc:  # noqa: BLE001 (the test looks at it)
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_simultaneous_imports_into_sqlite_run_one_after_the_other(tmp_path, good_dataset, monkeypatch):
    url = sqlite_url(tmp_path)
    dataset = load_dataset(good_dataset)
    begun: list[int] = []
    with open_store(url) as store:
        sa.event.listen(store.engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *rest: begun.append(threading.get_ident())
                        if statement == "BEGIN IMMEDIATE" else None)
        reached, release = threading.Event(), threading.Event()
        _hold_import_at_labs(monkeypatch, reached, release)
        first_results, second_results = [], []
        first = _import_in_thread(store, dataset, first_results)
        assert reached.wait(60)
        second = _import_in_thread(store, dataset, second_results)
        _poll(lambda: second.ident in begun, "the second import to ask for the write lock")
        release.set()
        first.join(60)
        second.join(60)
        assert first_results[0].inserted["labs"] == len(GOOD_TABLES["labs"])
        assert second_results[0].changed is False, second_results
        assert len(read_store(store)["labs"]) == len(GOOD_TABLES["labs"])


@pytest.mark.postgres
def test_two_simultaneous_imports_into_postgresql_store_each_row_once(postgres_store, good_dataset, monkeypatch):
    dataset = load_dataset(good_dataset)
    reached, release = threading.Event(), threading.Event()
    _hold_import_at_labs(monkeypatch, reached, release)
    first_results, second_results = [], []
    first = _import_in_thread(postgres_store, dataset, first_results)
    assert reached.wait(60)
    second = _import_in_thread(postgres_store, dataset, second_results)

    def second_waits() -> bool:
        with postgres_store.engine.connect() as conn:
            return bool(conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").scalar())

    _poll(second_waits, "the second import to wait for the first one's lock")
    release.set()
    first.join(60)
    second.join(60)
    assert first_results[0].inserted["labs"] == len(GOOD_TABLES["labs"])
    assert second_results[0].changed is False, second_results
    assert read_store(postgres_store)["labs"].height == len(GOOD_TABLES["labs"])


@pytest.mark.postgres
def test_an_import_that_collides_with_a_web_edit_is_planned_again(postgres_store, tmp_path, monkeypatch):
    from cnotrack.store import importer

    folder = make_dataset(tmp_path, patients=GOOD_TABLES["patients"], labs=GOOD_TABLES["labs"])
    real = importer.plan_table
    collided = []

    def plan_then_collide(conn, dataset, name, engine=None):
        work = real(conn, dataset, name, engine)
        if name == "labs" and not collided:  # someone stores the first lab meanwhile, and commits
            collided.append(True)
            row = dict(work.inserts.row(0, named=True), import_id=None, version=1)
            with postgres_store.engine.begin() as other:
                other.execute(record_table("labs").insert().values(**row))
        return work

    import_dataset(load_dataset(make_dataset(tmp_path, "first", patients=GOOD_TABLES["patients"])), postgres_store)
    monkeypatch.setattr(importer, "plan_table", plan_then_collide)
    report = import_dataset(load_dataset(folder), postgres_store)
    assert collided and report.inserted["labs"] == len(GOOD_TABLES["labs"]) - 1
    assert read_store(postgres_store)["labs"].height == len(GOOD_TABLES["labs"])


# --------------------------------------------------------------------------- killed half way


_KILL_AFTER = textwrap.dedent("""
    import os, signal, sys
    from alembic.ddl import impl
    from cnotrack.store import open_store

    target, calls = sys.argv[2], int(sys.argv[3])
    real = getattr(impl.DefaultImpl, target)
    seen = []

    def killing(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        seen.append(1)
        if len(seen) == calls:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(impl.DefaultImpl, target, killing)
    open_store(sys.argv[1])
""")


def _killed_while_migrating(url: str, target: str, calls: int) -> None:
    done = subprocess.run([sys.executable, "-c", _KILL_AFTER, url, target, str(calls)], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_a_creation_killed_half_way_leaves_a_database_that_opens_and_is_finished(tmp_path, good_dataset):
    url = sqlite_url(tmp_path)
    _killed_while_migrating(url, "create_table", 3)
    with pytest.raises(StoreError, match="not a cnotrack database yet"):
        open_store(url, create=False)  # rolled back to nothing: not a database to read from
    with open_store(url) as store:  # ... and created when asked
        assert import_dataset(load_dataset(good_dataset), store).inserted["patients"] == len(GOOD_TABLES["patients"])


def test_a_migration_killed_half_way_is_rolled_back_and_finished_on_the_next_open(tmp_path, good_dataset):
    url = sqlite_url(tmp_path)
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(database._MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(sa.text("INSERT INTO patients (patient_id, sex, version) VALUES ('P1', 'F', 1)"))
    engine.dispose()
    _killed_while_migrating(url, "create_index", 2)  # inside 0004, after its first index
    with sqlite3.connect(tmp_path / "cnotrack.db") as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("0003",)]
        assert not raw.execute("SELECT name FROM sqlite_master WHERE name LIKE 'uq_%_key'").fetchall()
    with open_store(url, create=False) as store:
        assert read_store(store).patients["patient_id"].to_list() == ["P1"]
        with store.engine.connect() as conn:
            assert {i["name"] for i in sa.inspect(conn).get_indexes("labs")} >= {"uq_labs_key"}


def test_a_half_created_database_an_older_cnotrack_left_is_created_afresh(tmp_path):
    path = tmp_path / "half.db"
    with sqlite3.connect(path) as raw:  # what a killed creation left before creation was atomic
        raw.execute("CREATE TABLE imports (id INTEGER PRIMARY KEY)")
        raw.execute("CREATE TABLE audit_log (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreError, match="not a cnotrack database yet"):
        open_store(str(path), create=False)
    with open_store(str(path)) as store:
        assert read_store(store).patients.height == 0


# --------------------------------------------------------------------------- no values in errors


def test_a_failing_statement_carries_no_row_values(store):
    patients = record_table("patients")
    secret = "SECRET-PATIENT-4711"
    with store.engine.begin() as conn:
        conn.execute(patients.insert().values(patient_id=secret, sex="F", birth_date="2011-02"))
    failures = []
    for values in ({"patient_id": secret, "sex": "M", "birth_date": "2011-02"},      # key taken
                   {"patient_id": secret + "-2", "sex": None, "birth_date": "2011-02"}):  # sex missing
        with pytest.raises(sa.exc.IntegrityError) as info:
            with store.engine.begin() as conn:
                conn.execute(patients.insert().values(**values))
        failures.append(info.value)
    for exc in failures:
        for text in (str(exc), repr(exc), str(exc.orig)):
            assert secret not in text and "2011-02" not in text, text
