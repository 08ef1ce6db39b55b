"""The people who use the web application: accounts, roles, centers and passwords.

A user has a role and, unless an admin, a center (the ``center`` of the patients they work
with):

- ``viewer``: reads the records of their center's patients;
- ``investigator``: reads, creates, edits and deletes the records of their center's patients;
- ``admin``: reads and changes every record, of every center, and manages the users.

**Names.** Usernames are case-insensitive: ``Rome`` and ``rome`` are one user (the name is
shown as it was given; every lookup uses ``users.username_key``, its lower case).

**Passwords** are hashed with argon2id (``argon2-cffi``, RFC 9106 low-memory parameters) and
never stored, logged or shown. A password has at least 12 characters and must not be easy to
guess: the zxcvbn strength estimator (``zxcvbn``, which knows common passwords, words, names,
keyboard patterns, repeats, sequences and dates) must score it at least
:data:`MIN_PASSWORD_SCORE` of 4, also once the username and "cnotrack" are taken out of it.

**Lifecycle.** :func:`add_user`; :func:`set_user_disabled` (a disabled user cannot log in and
their sessions end; enabling restores the account); :func:`reset_password` (an admin sets a new
password: the user's sessions end); :func:`change_password` (a user changes their own, giving
the current one: all their sessions end, the web application starts a new one for the browser
that asked); :func:`update_user` (role and center); :func:`delete_user`.

Deleting is *soft*: the row stays, disabled, without a password hash, marked ``deleted_at``,
and its name can never be taken again. The audit trail names people by their username
(``audit_log.actor``), so a name that a deleted user's changes carry must never come to mean
someone else. The last enabled admin cannot be disabled, deleted or given another role.

Every change, and every sign-in, is written to the audit trail as a security event
(``cnotrack.security_log``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from .errors import UserError
from .security_log import record_event
from .store.database import Store, as_utc
from .store.schema import sessions, users

__all__ = ["MIN_PASSWORD_LENGTH", "MIN_PASSWORD_SCORE", "NoSuchUserError", "Role", "User", "WrongPasswordError",
           "add_user", "authenticate", "change_password", "check_password", "delete_user", "end_user_sessions",
           "find_user", "get_user", "list_users", "reset_password", "set_user_disabled", "update_user"]

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is "safely unguessable", about 10^8 guesses or more
_MAX_PASSWORD_LENGTH = 1024
_ESTIMATED_CHARACTERS = 72  # zxcvbn's own limit: the rest of a longer password only adds strength
_USERNAME = re.compile(r"\A[A-Za-z0-9._@-]{1,200}\Z")  # \Z: "$" would let a final newline in
_NO_HASH = "!deleted"  # not a PHC string: never verifies
_HASHER = PasswordHasher()  # argon2id
_DUMMY: list[str] = []


class NoSuchUserError(UserError):
    """No (undeleted) user has this name."""


class WrongPasswordError(UserError):
    """The current password given to change it is not the user's password."""


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
    deleted: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def can_write(self) -> bool:
        """Whether the user may create, edit and delete records (of the patients they may see)."""
        return self.role in (Role.admin, Role.investigator)

    @property
    def status(self) -> str:
        return "deleted" if self.deleted else "disabled" if self.disabled else "active"

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "username": self.username, "role": self.role.value, "center": self.center,
                "created_at": self.created_at.isoformat(), "disabled": self.disabled, "deleted": self.deleted}


def _user(row: sa.RowMapping) -> User:
    return User(row["id"], row["username"], Role(row["role"]), row["center"], as_utc(row["created_at"]),
                bool(row["disabled"]), row["deleted_at"] is not None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"unknown role {role!r}; use admin, investigator or viewer") from None


def _center(role: Role, center: str | None) -> str | None:
    center = (center or "").strip() or None
    if role is not Role.admin and center is None:
        raise UserError(f"a{'n' if role is Role.investigator else ''} {role.value} works in one center: "
                        "give --center NAME (the patients' center as the records spell it)")
    return center


def add_user(store: Store, username: str, password: str, role: Role | str, center: str | None = None, *,
             actor: str = "cli") -> User:
    """Create a user; raise ``UserError`` for a taken (also by a deleted user, or in another case)
    or malformed name, a weak password, an unknown role, or a non-admin without a center."""
    role = _role(role)
    if not _USERNAME.match(username or ""):
        raise UserError(f"the username {username!r} is not valid; use 1 to 200 letters, digits, "
                        "'.', '_', '@' or '-'")
    check_password(password, username)
    center = _center(role, center)
    now = _now()
    with store.engine.begin() as conn:
        taken = _row(conn, username, include_deleted=True)
        if taken is not None:
            if taken["deleted_at"] is not None:
                raise UserError(f"the username {username!r} belonged to a user who was deleted; names are never "
                                "reused (the audit trail names people by them): choose another")
            raise UserError(f"the username {username!r} is taken (by {taken['username']!r}: names are "
                            "case-insensitive); choose another")
        user_id = conn.execute(users.insert().values(
            username=username, username_key=username.lower(), password_hash=_HASHER.hash(password),
            role=role.value, center=center, created_at=now, disabled=False)).inserted_primary_key[0]
        user = User(user_id, username, role, center, now)
        record_event(conn, "add", actor=actor, subject=user, after=_state(user), at=now)
    return user


def check_password(password: str, username: str | None = None) -> None:
    """Raise ``UserError`` unless ``password`` is acceptable: 12 to 1024 characters, and scored at
    least :data:`MIN_PASSWORD_SCORE` by zxcvbn, with and without ``username`` and "cnotrack" in it.
    The message gives zxcvbn's warning and suggestions."""
    if not password or not password.strip():
        raise UserError("the password is empty; give one of at least "
                        f"{MIN_PASSWORD_LENGTH} characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password has {len(password)} characters; give at least {MIN_PASSWORD_LENGTH} "
                        "(a phrase of several words is easy to remember)")
    if len(password) > _MAX_PASSWORD_LENGTH:
        raise UserError(f"the password is longer than {_MAX_PASSWORD_LENGTH} characters")
    inputs = ["cnotrack"]
    if username:
        inputs += [username, *(p for p in re.split(r"[._@-]+", username) if len(p) > 2)]
    _require_strong(password, inputs, "the password is too easy to guess")
    rest = re.sub("|".join(re.escape(w) for w in sorted(inputs, key=len, reverse=True)), "", password,
                  flags=re.IGNORECASE)
    if rest != password:
        _require_strong(rest or " ", inputs, "the password is built on the username or 'cnotrack', and the rest "
                        "of it is too easy to guess")


def _require_strong(password: str, inputs: list[str], message: str) -> None:
    estimate = zxcvbn(password[:_ESTIMATED_CHARACTERS], user_inputs=inputs)
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return
    feedback = estimate.get("feedback") or {}
    advice = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    advice = " ".join(a.strip() for a in advice if a and a.strip())
    raise UserError(f"{message} (strength {estimate['score']} of 4, cnotrack needs {MIN_PASSWORD_SCORE}). "
                    + (advice + " " if advice else "")
                    + "A phrase of four or more unrelated words is strong and easy to remember.")


def _row(conn: sa.Connection, username: str, *, include_deleted: bool = False) -> sa.RowMapping | None:
    query = sa.select(users).where(users.c.username_key == (username or "").lower())
    if not include_deleted:
        query = query.where(users.c.deleted_at.is_(None))
    return conn.execute(query).mappings().first()


def _existing(conn: sa.Connection, username: str) -> sa.RowMapping:
    row = _row(conn, username)
    if row is None:
        raise NoSuchUserError(f"no user named {username!r}; see `cnotrack users list`")
    return row


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user with this name (in any case) and password, or ``None`` (unknown name, wrong
    password, a disabled or deleted account: the caller cannot tell which, and neither can a
    timing attacker)."""
    with store.engine.connect() as conn:
        row = _row(conn, username) if _USERNAME.match(username or "") else None
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
    """The user with this id (deleted users too: see ``User.deleted``), or ``None``."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return _user(row) if row else None


def find_user(store: Store, username: str) -> User | None:
    """The undeleted user with this name, in any case, or ``None``."""
    if not _USERNAME.match(username or ""):
        return None
    with store.engine.connect() as conn:
        row = _row(conn, username)
    return _user(row) if row else None


def list_users(store: Store, *, include_deleted: bool = True) -> list[User]:
    """Every user, by name (deleted users last unless left out)."""
    query = sa.select(users).order_by(users.c.deleted_at.is_not(None), users.c.username_key)
    if not include_deleted:
        query = query.where(users.c.deleted_at.is_(None))
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [_user(r) for r in rows]


def end_user_sessions(conn: sa.Connection, user_id: int) -> int:
    """End every session of the user (in the transaction of ``conn``); how many there were."""
    return conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount or 0


def _state(user: User) -> dict[str, object]:
    return {"role": user.role.value, "center": user.center, "status": user.status}


def _refuse_last_admin(conn: sa.Connection, row: sa.RowMapping, doing: str) -> None:
    if row["role"] != Role.admin.value or row["disabled"]:
        return
    others = conn.execute(sa.select(sa.func.count()).select_from(users).where(
        users.c.role == Role.admin.value, users.c.disabled.is_(False), users.c.deleted_at.is_(None),
        users.c.id != row["id"])).scalar()
    if not others:
        raise UserError(f"{row['username']!r} is the last enabled admin: {doing} would leave nobody to manage "
                        "the users; make another user admin first")


def _change(store: Store, username: str, actor: str, action: str, values: dict[str, object], *,
            end_sessions: bool, last_admin: str | None = None) -> User:
    with store.engine.begin() as conn:
        row = _existing(conn, username)
        if last_admin:
            _refuse_last_admin(conn, row, last_admin)
        before = _user(row)
        conn.execute(users.update().where(users.c.id == row["id"]).values(**values))
        if end_sessions:
            end_user_sessions(conn, row["id"])
        after = _user(conn.execute(sa.select(users).where(users.c.id == row["id"])).mappings().one())
        record_event(conn, action, actor=actor, subject=after, before=_state(before), after=_state(after))
    return after


def set_user_disabled(store: Store, username: str, disabled: bool = True, *, actor: str = "cli") -> User:
    """Disable (or enable again) a user: a disabled user cannot log in, and their sessions end."""
    return _change(store, username, actor, "disable" if disabled else "enable", {"disabled": disabled},
                   end_sessions=disabled, last_admin="disabling them" if disabled else None)


def reset_password(store: Store, username: str, password: str, *, actor: str = "cli") -> User:
    """Give a user a new password (an admin's reset): every session of the user ends."""
    with store.engine.connect() as conn:
        name = _existing(conn, username)["username"]
    check_password(password, name)
    return _change(store, username, actor, "reset_password", {"password_hash": _HASHER.hash(password)},
                   end_sessions=True)


def change_password(store: Store, user: User, current_password: str, new_password: str) -> User:
    """A user changes their own password: raise ``WrongPasswordError`` unless ``current_password``
    is theirs, ``UserError`` for a weak new one. Every session of the user ends (the web
    application then starts a new one for the browser that asked)."""
    if authenticate(store, user.username, current_password) is None:
        raise WrongPasswordError("the current password is not right; nothing was changed")
    check_password(new_password, user.username)
    if new_password == current_password:
        raise UserError("the new password is the current one; choose a new password")
    return _change(store, user.username, user.username, "password_change",
                   {"password_hash": _HASHER.hash(new_password)}, end_sessions=True)


def update_user(store: Store, username: str, *, role: Role | str | None = None, center: str | None = None,
                actor: str = "cli") -> User:
    """Change a user's role and center (a non-admin needs a center; an admin's is cleared unless
    given). The change applies to the user's open sessions at their next request."""
    with store.engine.connect() as conn:
        current = _user(_existing(conn, username))
    new_role = _role(role) if role is not None else current.role
    new_center = _center(new_role, center if center is not None else current.center)
    if center is None and new_role is Role.admin and current.role is not Role.admin:
        new_center = None
    return _change(store, username, actor, "role_change", {"role": new_role.value, "center": new_center},
                   end_sessions=False, last_admin="taking the role admin from them" if new_role is not Role.admin
                   else None)


def delete_user(store: Store, username: str, *, actor: str = "cli") -> User:
    """Delete a user: soft (see the module's docstring): they cannot log in, their sessions end,
    their password hash is erased and their name is never given to anyone else."""
    return _change(store, username, actor, "delete",
                   {"deleted_at": _now(), "disabled": True, "password_hash": _NO_HASH},
                   end_sessions=True, last_admin="deleting them")
