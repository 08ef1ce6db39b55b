"""Opening the database: where it is, how it is reached, and bringing its schema up to date."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from platformdirs import user_data_path

from ..errors import StoreError

__all__ = ["ENV_VAR", "Store", "default_database_url", "open_store", "resolve_database_url"]

ENV_VAR = "CNOTRACK_DB"
_MIGRATIONS = Path(__file__).parent / "migrations"


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

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    """Open (and create or migrate) the database at ``url`` (see ``resolve_database_url``)."""
    resolved = resolve_database_url(url)
    if resolved.startswith("sqlite:///"):
        path = Path(resolved.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the database {path}: {exc}; "
                             f"choose another with --db or ${ENV_VAR}") from exc
    try:
        engine = sa.create_engine(resolved, future=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use the database URL {_redact(resolved)}: {exc}; "
                         "give sqlite:///PATH or postgresql://USER@HOST/DB") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine, resolved)
    if upgrade:
        try:
            upgrade_schema(store)
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the database {_redact(resolved)}: {exc.orig}; "
                             f"check --db or ${ENV_VAR}") from exc
    return store


def upgrade_schema(store: Store) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)
