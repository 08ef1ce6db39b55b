"""Opening the database: where it is, how it is reached, and bringing its schema up to date.

``open_store(url, create=...)`` opens a cnotrack database and migrates it to the newest schema.
It refuses, with a ``StoreError`` that names the path and the fix,

- a database that does not exist, unless asked to create it (``create=True``: ``cnotrack
  init-db``, ``import``, ``demo`` and ``users add`` do; ``evaluate``, ``export``, ``report``,
  ``serve`` and ``users list`` do not, so that a mistyped ``--db`` fails instead of showing an
  empty cohort);
- a file that is not an SQLite database, and a database whose tables are not cnotrack's.

Every schema change is atomic, on SQLite too: the SQLite driver is told to leave transactions to
SQLAlchemy (``isolation_level=None``, and an explicit ``BEGIN``), so that the creation of a new
database and every migration run in one transaction; a process killed half way leaves the
database as it was before (SQLite rolls the interrupted transaction back when the file is next
opened), and the next ``open_store`` finishes the job. A database that an older cnotrack left
half created (its tables empty and no schema version) is recognised and created afresh.

Writers wait for each other: a write transaction (``Store.begin_write``) starts with ``BEGIN
IMMEDIATE`` on SQLite, which waits up to ``busy_timeout`` seconds (default 30, or
``$CNOTRACK_DB_BUSY_TIMEOUT``) for another writer to finish; on PostgreSQL an import or a
migration also takes a transaction-level advisory lock, so that two imports run one after the
other. A lock still held when the time is up is a ``StoreError`` ("the database is busy").

No SQL error carries row values: the engine hides the parameters of a failing statement
(``hide_parameters``), and PostgreSQL's detail lines (``Key (patient_id)=(P1) already
exists``, ``Failing row contains (...)``) are cut from the driver's message (they stay in
``exc.orig.diag`` for code that needs them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from platformdirs import user_data_path

from ..errors import StoreError

__all__ = ["BUSY_TIMEOUT_ENV_VAR", "ENV_VAR", "Store", "as_utc", "default_database_url", "open_store",
           "resolve_database_url", "upgrade_schema"]

ENV_VAR = "CNOTRACK_DB"
BUSY_TIMEOUT_ENV_VAR = "CNOTRACK_DB_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT = 30.0
_MIGRATIONS = Path(__file__).parent / "migrations"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_LOCK_KEY = 0x636E6F74  # "cnot": the advisory lock of imports and migrations, per schema
BUSY_MESSAGE = ("the database is busy: another import or the web app holds a write lock; try again "
                "(or wait longer: ${var} sets the seconds to wait, now {seconds:g})")


def as_utc(value: dt.datetime) -> dt.datetime:
    """A time read back from the database, in UTC: SQLite keeps no time zone, and cnotrack
    writes every time in UTC."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def default_database_url() -> str:
    """The embedded SQLite database: ``<user data dir>/cnotrack/cnotrack.db``.

    On Linux this is ``~/.local/share/cnotrack/cnotrack.db`` (``$XDG_DATA_HOME`` is honoured),
    on macOS ``~/Library/Application Support/cnotrack/cnotrack.db``, on Windows
    ``%LOCALAPPDATA%\\cnotrack\\cnotrack.db``.
    """
    return f"sqlite:///{user_data_path('cnotrack', appauthor=False) / 'cnotrack.db'}"


def resolve_database_url(url: str | None = None) -> str:
    """``url`` if given, else ``$CNOTRACK_DB``, else the default SQLite file.

    A plain file path is accepted as an SQLite database; ``postgresql://`` URLs use psycopg 3.
    """
    url = url or os.environ.get(ENV_VAR) or default_database_url()
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass
class Store:
    """An open cnotrack database."""

    engine: sa.Engine
    url: str
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT

    @contextlib.contextmanager
    def begin_write(self, *, exclusive: bool = False, attach: dict[str, Path] | None = None) -> Iterator[sa.Connection]:
        """A transaction that will write: committed when the block ends, rolled back on an error.

        On SQLite it starts with ``BEGIN IMMEDIATE``: it waits (up to ``busy_timeout``) until no
        other connection writes, and then no other can start writing until it ends, so that what
        it read stays true until it commits. ``exclusive`` (imports, migrations) also serialises
        it on PostgreSQL, with a transaction-level advisory lock that other exclusive writers wait
        for; plain writers are not held up by it. ``attach`` (SQLite: schema name -> file)
        attaches files to the connection for the transaction (SQLite attaches only outside one)
        and detaches them after it.
        """
        with self.engine.connect() as conn:
            conn.execution_options(cnotrack_write=True)
            raw = conn.connection.dbapi_connection
            for alias, path in (attach or {}).items():
                raw.execute(f'ATTACH DATABASE ? AS "{alias}"', (str(path),))
            try:
                with conn.begin():
                    if exclusive:
                        _serialise(conn)
                    yield conn
            finally:
                for alias in attach or {}:
                    raw.execute(f'DETACH DATABASE "{alias}"')

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(url: str | None = None, *, upgrade: bool = True, create: bool = True,
               busy_timeout: float | None = None) -> Store:
    """Open the cnotrack database at ``url`` (see ``resolve_database_url``) and migrate it.

    ``create``: a database that does not exist yet (no file; an empty file or SQLite database;
    an empty PostgreSQL schema) is created; with ``create=False`` it is a ``StoreError`` that
    says how to create one. Anything that is not a cnotrack database is a ``StoreError`` either
    way. ``busy_timeout``: seconds a writer waits for another one on SQLite (default
    ``$CNOTRACK_DB_BUSY_TIMEOUT``, else 30).
    """
    resolved = resolve_database_url(url)
    timeout = _busy_timeout(busy_timeout)
    try:
        parsed = sa.engine.make_url(resolved)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"cannot use the database URL {resolved!r}: {exc}; "
                         "give sqlite:///PATH or postgresql://USER@HOST/DB") from exc
    path = _sqlite_path(parsed)
    if path is not None:
        _check_sqlite_file(path, create)
    try:
        engine = sa.create_engine(resolved, hide_parameters=True,
                                  **({"connect_args": {"timeout": timeout}} if parsed.get_backend_name() == "sqlite"
                                     else {}))
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use the database URL {_redact(resolved)}: {exc}; "
                         "give sqlite:///PATH or postgresql://USER@HOST/DB") from exc
    _install_events(engine, timeout)
    store = Store(engine, resolved, timeout)
    where = str(path) if path is not None else _redact(resolved)
    try:
        state = _database_state(store)
        if state == "foreign":
            raise StoreError(f"{where} is not a cnotrack database (it holds tables that are not cnotrack's); "
                             f"give the path or URL of a cnotrack database with --db or ${ENV_VAR}")
        if state in ("empty", "partial") and not create:
            raise StoreError(_missing_message(where, path, empty=True))
        if state != "cnotrack" or (upgrade and not _at_head(store)):
            upgrade_schema(store, discard_partial=state == "partial")
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        if path is not None and isinstance(exc.orig, sqlite3.DatabaseError) and "not a database" in str(exc.orig):
            raise StoreError(f"{where} is not a cnotrack database (the file is not an SQLite database); "
                             f"give the path of a cnotrack database with --db or ${ENV_VAR}") from None
        raise StoreError(f"cannot open the database {where}: {_first_line(exc.orig)}; "
                         f"check --db or ${ENV_VAR}") from None
    except CommandError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the database {where}: its schema version is not one this cnotrack "
                         f"knows ({exc}); it was probably made by a newer cnotrack: upgrade cnotrack") from None
    except BaseException:
        engine.dispose()
        raise
    return store


def upgrade_schema(store: Store, *, discard_partial: bool = False) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``), in one transaction.

    ``discard_partial``: first drop the (empty) tables of a creation an older cnotrack left
    unfinished. On SQLite foreign keys are switched off for the transaction (table rebuilds
    need it) and checked before it commits."""
    config = _alembic_config()
    sqlite = store.engine.dialect.name == "sqlite"
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside the transaction: inside it is ignored
        try:
            conn.execution_options(cnotrack_write=True)
            with conn.begin():
                _serialise(conn)
                if discard_partial:
                    _drop_partial(conn)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise StoreError(f"the migration left {len(broken)} rows whose reference is missing "
                                         f"(first in table {broken[0][0]}); nothing was changed")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def _serialise(conn: sa.Connection) -> None:
    """On PostgreSQL, wait for the transaction-level advisory lock of imports and migrations (per
    schema), held until the transaction ends; SQLite's ``BEGIN IMMEDIATE`` already serialises."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"), {"key": _LOCK_KEY})


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


# --------------------------------------------------------------------------- checks


@functools.cache  # the migrations are files of the package: read once per process
def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _at_head(store: Store) -> bool:
    """Whether the schema is the newest (read without waiting for any writer)."""
    with store.engine.connect() as conn:
        current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return current == [_head()]


def _busy_timeout(value: float | None) -> float:
    if value is not None:
        return float(value)
    text = os.environ.get(BUSY_TIMEOUT_ENV_VAR)
    if not text:
        return DEFAULT_BUSY_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise StoreError(f"${BUSY_TIMEOUT_ENV_VAR} is {text!r}; give the seconds to wait for a busy database "
                         "as a number, for example 30")
    return seconds


def _sqlite_path(url: sa.engine.URL) -> Path | None:
    """The file of an SQLite URL, or None (an in-memory database, or another backend)."""
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database)


def _missing_message(where: str, path: Path | None, *, empty: bool) -> str:
    target = f" --db {path}" if path is not None else f" --db {where}"
    why = ("is empty: a creation that was interrupted leaves it so" if path is not None
           else "holds no tables")
    head = f"{where} is not a cnotrack database yet (it {why})" if empty else f"no cnotrack database at {where}"
    return (f"{head}; create one with cnotrack init-db{target}, or import a dataset into it with "
            f"cnotrack import DATASET{target}; or check the path given by --db or ${ENV_VAR}")


def _check_sqlite_file(path: Path, create: bool) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is not a cnotrack database (it is a folder); give the path of a database "
                         f"file with --db or ${ENV_VAR}")
    if not path.exists():
        if not create:
            raise StoreError(_missing_message(str(path), path, empty=False))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the database {path}: {exc}; "
                             f"choose another with --db or ${ENV_VAR}") from exc
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc.strerror}; check its permissions") from exc
    if head and head != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not a cnotrack database (the file is not an SQLite database); "
                         f"give the path of a cnotrack database with --db or ${ENV_VAR}")


def _known_tables() -> set[str]:
    from .schema import metadata

    return set(metadata.tables) | {"alembic_version"}


def _database_state(store: Store) -> str:
    """``empty`` (no tables), ``cnotrack`` (a schema version), ``partial`` (an older cnotrack's
    creation left unfinished: only cnotrack's tables, all empty, no version) or ``foreign``."""
    with store.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        if not names:
            return "empty"
        if "alembic_version" in names:
            return "cnotrack"
        known = _known_tables()
        if any(n not in known and not n.startswith("_alembic_tmp_") for n in names):
            return "foreign"
        for name in names:
            if conn.execute(sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
                return "foreign"
        return "partial"


def _drop_partial(conn: sa.Connection) -> None:
    from .schema import metadata

    names = set(sa.inspect(conn).get_table_names())
    if "alembic_version" in names:
        return  # another process created the database meanwhile (this one waited for its lock)
    order = [t.name for t in reversed(metadata.sorted_tables)]
    for name in [n for n in order if n in names] + sorted(names - set(order)):
        conn.exec_driver_sql(f'DROP TABLE "{name}"')


# --------------------------------------------------------------------------- engine events


def _install_events(engine: sa.Engine, timeout: float) -> None:
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
    sa.event.listen(engine, "handle_error", lambda context: _clean_error(context, timeout))


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy, not the driver, begins and ends transactions: DDL is then transactional too
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _sqlite_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get("cnotrack_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _clean_error(context: sa.engine.ExceptionContext, timeout: float) -> BaseException | None:
    orig = context.original_exception
    if isinstance(orig, sqlite3.OperationalError) and str(orig).startswith(("database is locked",
                                                                           "database is busy")):
        return StoreError(BUSY_MESSAGE.replace("{var}", BUSY_TIMEOUT_ENV_VAR).format(seconds=timeout))
    if context.dialect is not None and context.dialect.name == "postgresql" and orig is not None and orig.args:
        diag = getattr(orig, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        first = primary or _first_line(orig)
        if isinstance(orig.args[0], str) and orig.args[0] != first:
            orig.args = (first, *orig.args[1:])
            wrapped = context.sqlalchemy_exception
            if wrapped is not None and wrapped.args:
                wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {first}", *wrapped.args[1:])
    return None


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else type(exc).__name__


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)
