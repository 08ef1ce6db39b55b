"""The people who use the web application: accounts, roles, centers and passwords.

A user has a role and, unless an admin, a center (the ``center`` of the patients they work
with):

- ``viewer``: reads the records of their center's patients;
- ``investigator``: reads, creates, edits and deletes the records of their center's patients;
- ``admin``: reads and changes every record, of every center, and manages the users.

Passwords are hashed with argon2id (``argon2-cffi``, RFC 9106 low-memory parameters) and
never stored, logged or shown. ``cnotrack users add`` is :func:`add_user`; logging in is
:func:`authenticate`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import UserError
from .store.database import Store
from .store.schema import users

__all__ = ["MIN_PASSWORD_LENGTH", "Role", "User", "add_user", "authenticate", "get_user", "list_users",
           "set_user_disabled"]

MIN_PASSWORD_LENGTH = 12
_MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,200}$")
_HASHER = PasswordHasher()  # argon2id
_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """Verified when the username is unknown, so that a wrong name takes as long as a wrong password."""
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash("cnotrack: no such user"))
    return _DUMMY[0]


class Role(str, Enum):
    """What a user may do (see the module's docstring)."""

    admin = "admin"
    investigator = "investigator"
    viewer = "viewer"


@dataclass(frozen=True)
class User:
    """A user account (without its password hash)."""

    id: int
    username: str
    role: Role
    center: str | None
    created_at: dt.datetime
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def can_write(self) -> bool:
        """Whether the user may create, edit and delete records (of the patients they may see)."""
        return self.role in (Role.admin, Role.investigator)

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "username": self.username, "role": self.role.value, "center": self.center,
                "created_at": self.created_at.isoformat(), "disabled": self.disabled}


def _user(row: sa.RowMapping) -> User:
    created = row["created_at"]
    if created.tzinfo is None:  # SQLite keeps no time zone; cnotrack writes UTC
        created = created.replace(tzinfo=dt.timezone.utc)
    return User(row["id"], row["username"], Role(row["role"]), row["center"], created, bool(row["disabled"]))


def add_user(store: Store, username: str, password: str, role: Role | str, center: str | None = None) -> User:
    """Create a user; raise ``UserError`` for a taken or malformed name, a short password, an
    unknown role, or a non-admin without a center."""
    try:
        role = Role(role)
    except ValueError:
        raise UserError(f"unknown role {role!r}; use admin, investigator or viewer") from None
    if not _USERNAME.match(username or ""):
        raise UserError(f"the username {username!r} is not valid; use 1 to 200 letters, digits, "
                        "'.', '_', '@' or '-'")
    check_password(password)
    center = (center or "").strip() or None
    if role is not Role.admin and center is None:
        raise UserError(f"a{'n' if role is Role.investigator else ''} {role.value} works in one center: "
                        "give --center NAME (the patients' center as the records spell it)")
    now = dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
            raise UserError(f"the username {username!r} is taken; choose another")
        user_id = conn.execute(users.insert().values(
            username=username, password_hash=_HASHER.hash(password), role=role.value, center=center,
            created_at=now, disabled=False)).inserted_primary_key[0]
    return User(user_id, username, role, center, now)


def check_password(password: str) -> None:
    """Raise ``UserError`` unless ``password`` is acceptable (12 to 1024 characters)."""
    if not password or not password.strip():
        raise UserError("the password is empty; give one of at least "
                        f"{MIN_PASSWORD_LENGTH} characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password has {len(password)} characters; give at least {MIN_PASSWORD_LENGTH} "
                        "(a phrase of several words is easy to remember)")
    if len(password) > _MAX_PASSWORD_LENGTH:
        raise UserError(f"the password is longer than {_MAX_PASSWORD_LENGTH} characters")


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user with this name and password, or ``None`` (unknown name, wrong password or a
    disabled account: the caller cannot tell which, and neither can a timing attacker)."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).mappings().first()
    if row is None or not password or len(password) > _MAX_PASSWORD_LENGTH:
        _verify(_dummy_hash(), password or "")
        return None
    if not _verify(row["password_hash"], password) or row["disabled"]:
        return None
    if _HASHER.check_needs_rehash(row["password_hash"]):
        with store.engine.begin() as conn:
            conn.execute(users.update().where(users.c.id == row["id"]).values(password_hash=_HASHER.hash(password)))
    return _user(row)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def get_user(store: Store, user_id: int) -> User | None:
    """The user with this id, or ``None``."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return _user(row) if row else None


def list_users(store: Store) -> list[User]:
    """Every user, by name."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.username)).mappings().all()
    return [_user(r) for r in rows]


def set_user_disabled(store: Store, username: str, disabled: bool = True) -> User:
    """Disable (or enable again) a user: a disabled user cannot log in, and their sessions end."""
    from .store.schema import sessions

    with store.engine.begin() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).mappings().first()
        if row is None:
            raise UserError(f"no user named {username!r}; see `cnotrack users list`")
        conn.execute(users.update().where(users.c.id == row["id"]).values(disabled=disabled))
        if disabled:
            conn.execute(sessions.delete().where(sessions.c.user_id == row["id"]))
        row = conn.execute(sa.select(users).where(users.c.id == row["id"])).mappings().first()
    return _user(row)
