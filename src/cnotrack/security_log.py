"""Security events in the audit trail: sign-ins, user changes and report downloads.

They are rows of ``audit_log`` with ``kind = 'security'`` (record changes have ``kind =
'record'``), and only admins may read them (:func:`security_events`); the records' audit
trail (``cnotrack.records.audit_trail``) never shows them. ``table_name`` says what the event
is about:

- ``sessions``: ``login``, ``login_failed``, ``locked_out`` (the login throttle refused an
  attempt), ``logout``;
- ``users``: ``add``, ``disable``, ``enable``, ``reset_password``, ``delete``, ``role_change``
  (role or center), ``password_change`` (the user's own);
- ``reports``: ``download`` (the evaluation or report downloaded from the web application;
  ``record_key`` has the protocol and the format).

``actor`` is who did it; ``record_id`` and ``record_key`` name the user concerned. A failed
login names the user only when the name tried is an existing user's, else ``unknown user``
(the name field sometimes receives a password); a password is never written.
``before``/``after`` hold role, center and status for user changes, the client address for
sign-ins; never a password or its hash.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .errors import AccessError, UserError
from .store.database import Store, as_utc
from .store.schema import audit_log

if TYPE_CHECKING:
    from .users import User

__all__ = ["ACTIONS", "RECORD", "SECURITY", "UNKNOWN_USER", "log_event", "record_event", "security_events"]

RECORD, SECURITY = "record", "security"
UNKNOWN_USER = "unknown user"
ACTIONS: dict[str, str] = {
    **dict.fromkeys(("login", "login_failed", "locked_out", "logout"), "sessions"),
    **dict.fromkeys(("add", "disable", "enable", "reset_password", "delete", "role_change", "password_change"),
                    "users"),
    "download": "reports",
}


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def record_event(conn: sa.Connection, action: str, *, actor: str, subject: "User | None" = None,
                 key: dict[str, Any] | None = None, before: dict[str, Any] | None = None,
                 after: dict[str, Any] | None = None, at: dt.datetime | None = None) -> None:
    """Write one security event in the transaction of ``conn`` (see the module's docstring)."""
    table = ACTIONS[action]
    if key is None:
        key = {"username": subject.username} if subject is not None else {}
    conn.execute(audit_log.insert().values(
        kind=SECURITY, at=at or dt.datetime.now(dt.timezone.utc), actor=actor[:200], action=action,
        table_name=table, record_id=subject.id if subject is not None else None, record_key=_json(key),
        before=_json(before), after=_json(after), import_id=None))


def log_event(store: Store, action: str, **kwargs: Any) -> None:
    """:func:`record_event` in a transaction of its own."""
    with store.engine.begin() as conn:
        record_event(conn, action, **kwargs)


def security_events(store: Store, user: "User", *, action: str | None = None,
                    limit: int = 500) -> list[dict[str, Any]]:
    """The newest ``limit`` security events (0: all), newest first, of one action if asked; for
    admins only (``AccessError`` otherwise)."""
    if not user.is_admin:
        raise AccessError("only an admin sees the security events (sign-ins, user changes, downloads)")
    query = sa.select(audit_log).where(audit_log.c.kind == SECURITY).order_by(audit_log.c.id.desc())
    if action is not None:
        if action not in ACTIONS:
            raise UserError(f"no security event {action!r}; use one of {', '.join(ACTIONS)}")
        query = query.where(audit_log.c.action == action)
    if limit:
        query = query.limit(limit)
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [{"id": r["id"], "at": as_utc(r["at"]).isoformat(), "actor": r["actor"], "action": r["action"],
             "table": r["table_name"], "record_id": r["record_id"], "key": json.loads(r["record_key"]),
             "before": json.loads(r["before"]) if r["before"] else None,
             "after": json.loads(r["after"]) if r["after"] else None} for r in rows]

