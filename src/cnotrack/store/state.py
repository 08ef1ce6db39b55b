"""The state of the clinical data of a database, as a short token that changes with every write.

``data_state(store)`` is one indexed read of one row: ``"<store id>-<generation>"``. The
generation is raised by ``mark_changed(conn)`` inside the transaction of every write of clinical
data that cnotrack makes, and only then:

- ``import_dataset`` when it adds, changes or restores at least one row (an import that changes
  nothing writes nothing, and leaves the token as it was);
- ``cnotrack.records``: ``create_record`` (a new record, or a deleted one restored),
  ``update_record`` when a value changes, ``delete_record``.

Reads, sign-ins, sessions, user changes and security events leave it alone. A write that is
rolled back takes its raise of the generation with it. The store id is random and set when the
row is made, so a database deleted and made again at the same path never repeats a token.
Writes made outside cnotrack (SQL typed into the database) are not seen: make them through
cnotrack, or call ``mark_changed`` in their transaction.

A cache keyed by ``(database, data_state(store))`` (the web application's evaluation) is thus
correct without ever being told of a write.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa

from .database import Store
from .schema import data_state as _table

__all__ = ["data_state", "initial_state", "mark_changed"]

_ROW = 1


def data_state(store: Store) -> str:
    """A token of the clinical data of ``store`` now: equal tokens mean equal data (see the module)."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(_table.c.store_id, _table.c.generation).where(_table.c.id == _ROW)).first()
    if row is None:  # only a database written outside cnotrack lacks the row
        return "unknown"
    return f"{row[0]}-{row[1]}"


def mark_changed(conn: sa.Connection) -> None:
    """Record, in the transaction of ``conn``, that clinical data changed: call it in every write
    transaction of clinical data, as its last statement (on PostgreSQL the row stays locked until
    the transaction ends, so two writers raise it one after the other)."""
    now = dt.datetime.now(dt.timezone.utc)
    done = conn.execute(_table.update().where(_table.c.id == _ROW)
                        .values(generation=_table.c.generation + 1, changed_at=now))
    if done.rowcount != 1:
        conn.execute(_table.insert().values(initial_state() | {"generation": 1, "changed_at": now}))


def initial_state() -> dict[str, object]:
    """The row of a new database (its migration writes it)."""
    return {"id": _ROW, "store_id": secrets.token_hex(16), "generation": 0,
            "changed_at": dt.datetime.now(dt.timezone.utc)}
