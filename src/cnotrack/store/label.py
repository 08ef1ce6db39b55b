"""Safe labels for where data came from: what provenance may show without giving a secret away.

A report, a download or an API answer names its dataset. The name must tell a reader which data
it was, and nothing an attacker could use: never a database user or password (a PostgreSQL URL
carries both), never a query parameter (``?password=...``, ``sslkey=/path``), never the server's
file system layout (the full path of an SQLite file or of an uploaded folder).

- :func:`database_label` names a database by its kind, host and name:
  ``postgresql database cnotrack on db.example.org:5432``, ``sqlite database cnotrack.db``.
- :func:`path_label` names a file or folder by its name only: ``registry.xlsx``.
- :func:`source_label` makes any source text safe: a database URL becomes its database label,
  an absolute path its name; other text (``upload: patients.csv``) is kept.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["database_label", "path_label", "source_label"]

_SEPARATORS = re.compile(r"[\\/]+")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_IN_MEMORY = {"", ":memory:"}


def path_label(path: object) -> str:
    """The last part of a file or folder path (``/srv/uploads/x1/registry.xlsx`` ->
    ``registry.xlsx``), with either kind of slash; a trailing slash is ignored."""
    parts = [p for p in _SEPARATORS.split(str(path)) if p]
    return parts[-1] if parts else ""


def database_label(url: str | sa.URL) -> str:
    """The database of ``url`` as provenance may name it: its kind (``postgresql``,
    ``sqlite``, ...), host (with port) and database name, never the user, the password or any
    query parameter; an SQLite database by its file name only (``sqlite database
    cnotrack.db``; an in-memory one as ``sqlite database in memory``). A URL that cannot be
    parsed gives ``database`` and nothing of its text."""
    from sqlalchemy.engine import make_url  # SQLAlchemy only when a database is named

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - whatever the text was, none of it is shown
        return "database"
    kind = parsed.get_backend_name() or "database"
    if kind == "sqlite":
        name = (parsed.database or "").removeprefix("file:")
        return "sqlite database in memory" if name in _IN_MEMORY else f"sqlite database {path_label(name)}"
    name = path_label(parsed.database or "") or "(default)"
    where = parsed.host or ""
    if where and parsed.port:
        where = f"{where}:{parsed.port}"
    if "/" in where or "\\" in where:  # a socket folder given as the host
        where = "a local socket"
    return f"{kind} database {name}" + (f" on {where}" if where else "")


def source_label(source: str) -> str:
    """``source`` safe to show: a database URL as :func:`database_label` gives it, an absolute
    path (POSIX or Windows) as its name; anything else unchanged. Applied to every
    evaluation's source, so that a dataset labelled carelessly still leaks nothing."""
    text = str(source)
    if _URL.match(text):
        return database_label(text)
    if text.startswith(("/", "\\", "~")) or _WINDOWS_PATH.match(text):
        return path_label(text)
    return text
