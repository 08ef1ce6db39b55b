"""Signing in: sessions, CSRF tokens and login throttling.

- **Sessions.** Logging in creates a random 256-bit token, sent as the ``cnotrack_session``
  cookie (HttpOnly, SameSite=Lax, Secure when the request came over https) and stored only
  as its SHA-256 in the ``sessions`` table with the user and an expiry (12 hours). Logging
  out deletes the row, so a copied cookie stops working too.
- **CSRF.** Each session has its own random token. Every state-changing request (POST, PUT,
  PATCH, DELETE) of a signed-in user must carry it, as the ``X-CSRF-Token`` header or the
  ``csrf_token`` form field; the JSON login returns it, pages put it in their forms.
- **Throttling.** After 5 failed logins within 60 seconds for one username, or from one
  client address, further attempts get HTTP 429 until the oldest failure is a minute old.
  The window slides on an injectable clock (tests advance it instead of sleeping).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request

from ..store.database import Store
from ..store.schema import sessions
from ..users import User, get_user
from .errors import ApiError

__all__ = ["COOKIE", "CSRF_FIELD", "CSRF_HEADER", "LoginThrottle", "Session", "csrf_protect", "end_session",
           "load_session", "start_session"]

COOKIE = "cnotrack_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_LIFETIME = dt.timedelta(hours=12)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_LOGIN_PATHS = {"/login", "/api/v1/login"}


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, user: User) -> tuple[str, str]:
    """A new session for ``user``: the cookie token and the CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < now))
        conn.execute(sessions.insert().values(token_sha256=_digest(token), user_id=user.id, csrf_token=csrf,
                                              created_at=now, expires_at=now + SESSION_LIFETIME))
    return token, csrf


def end_session(store: Store, token: str | None) -> None:
    """Forget the session of this cookie token (logging out)."""
    if token:
        with store.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_sha256 == _digest(token)))


def load_session(request: Request) -> Session | None:
    """The session of the request's cookie, if it is valid, unexpired and its user enabled."""
    if hasattr(request.state, "session"):
        return request.state.session
    session = None
    token = request.cookies.get(COOKIE)
    if token and len(token) < 100:
        store: Store = request.app.state.store
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(sessions).where(sessions.c.token_sha256 == _digest(token))).mappings().first()
        if row is not None:
            expires = row["expires_at"]
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.timezone.utc)
            user = get_user(store, row["user_id"])
            if expires > dt.datetime.now(dt.timezone.utc) and user is not None and not user.disabled:
                session = Session(user, row["csrf_token"])
    request.state.session = session
    return session


async def csrf_protect(request: Request) -> None:
    """Refuse (403) a state-changing request of a signed-in user that lacks the session's CSRF
    token. Requests without a session are left to the route, which refuses them with 401."""
    if request.method in _SAFE_METHODS or request.url.path in _LOGIN_PATHS:
        return
    session = load_session(request)
    if session is None:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not token or not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        raise ApiError(403, "csrf_token_missing",
                       f"this request changes data and needs the session's CSRF token: send it as the "
                       f"{CSRF_HEADER} header or the {CSRF_FIELD} form field (the login response gives it)")


class LoginThrottle:
    """Failed logins per key (a username, a client address) in a sliding window."""

    def __init__(self, limit: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until another attempt is allowed, or ``None`` if it is allowed now."""
        now = self.clock()
        waits = []
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                waits.append(failures[-self.limit] + self.window - now)
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        if len(self._failures) > 100_000:  # bounded memory under a flood of names
            for key in list(self._failures):
                self._recent(key, now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


def throttle_keys(username: str, request: Request) -> tuple[str, str]:
    address = request.client.host if request.client else "unknown"
    return f"user:{username.strip().lower()}", f"addr:{address}"
