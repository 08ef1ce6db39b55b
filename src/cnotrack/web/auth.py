"""Signing in: sessions, CSRF tokens and login throttling.

- **Sessions.** Logging in creates a random 256-bit token, sent as the ``cnotrack_session``
  cookie (HttpOnly, SameSite=Lax, Secure when the request came over https) and stored only
  as its SHA-256 in the ``sessions`` table with the user, an absolute expiry (12 hours) and
  the time of its last request (``last_seen_at``): a session unused for the idle timeout (30
  minutes unless ``create_app(idle_timeout=...)`` / ``cnotrack serve --idle-timeout``) ends.
  ``last_seen_at`` is written at most once a minute (a tenth of the idle timeout if shorter),
  so reading pages does not write the database on every request. Logging out deletes the
  row, so a copied cookie stops working too; so do disabling the user, resetting or changing
  their password, and deleting them (``cnotrack.users``).
- **CSRF.** Each session has its own random token. Every state-changing request (POST, PUT,
  PATCH, DELETE) of a signed-in user must carry it, as the ``X-CSRF-Token`` header or the
  ``csrf_token`` form field; the JSON login returns it, pages put it in their forms.
  Logging in is protected too (a cross-site page must not sign a browser in to an account of
  the attacker's): ``GET /login`` sets a random ``cnotrack_login`` cookie and puts its HMAC
  (with a key of the running application) in the form, and ``POST /login`` needs both to
  match; ``POST /api/v1/login`` needs ``Content-Type: application/json``, which a cross-site
  form cannot send (and cnotrack answers no CORS preflight).
- **Throttling.** After 5 failed logins within 60 seconds for one username, or from one
  client address, further attempts get HTTP 429 until the oldest failure is a minute old.
  The client address is the connection's peer, unless the operator names trusted proxies
  (``--forwarded-allow-ips``): only then is ``X-Forwarded-For`` believed. The window slides on
  an injectable clock (tests advance it instead of sleeping); the sessions' times follow the
  same clock.
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

from ..store.database import Store, as_utc
from ..store.schema import sessions
from ..users import User, get_user
from .errors import ApiError
from .limits import form_limits

__all__ = ["COOKIE", "CSRF_FIELD", "CSRF_HEADER", "IDLE_TIMEOUT", "LOGIN_COOKIE", "SESSION_LIFETIME", "LoginThrottle",
           "Session", "client_address", "csrf_protect", "end_session", "load_session", "login_form_token",
           "start_session", "throttle_keys", "wall_clock"]

COOKIE = "cnotrack_session"
LOGIN_COOKIE = "cnotrack_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_LIFETIME = dt.timedelta(hours=12)
IDLE_TIMEOUT = dt.timedelta(minutes=30)
_TOUCH_INTERVAL = dt.timedelta(minutes=1)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def wall_clock(clock: Callable[[], float] | None) -> Callable[[], dt.datetime]:
    """The time of day for sessions: now, or, given a monotonic ``clock`` (a test's), the time
    of day when this was called plus the seconds ``clock`` has advanced since."""
    if clock is None:
        return lambda: dt.datetime.now(dt.timezone.utc)
    start, origin = dt.datetime.now(dt.timezone.utc), clock()
    return lambda: start + dt.timedelta(seconds=clock() - origin)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()



def start_session(store: Store, user: User, *, now: dt.datetime | None = None,
                  idle_timeout: dt.timedelta = IDLE_TIMEOUT) -> tuple[str, str]:
    """A new session for ``user``: the cookie token and the CSRF token. Ended sessions (expired
    or idle) of every user are removed on the way."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = now or dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        conn.execute(sessions.delete().where(sa.or_(sessions.c.expires_at < now,
                                                    sessions.c.last_seen_at < now - idle_timeout)))
        conn.execute(sessions.insert().values(token_sha256=_digest(token), user_id=user.id, csrf_token=csrf,
                                              created_at=now, expires_at=now + SESSION_LIFETIME, last_seen_at=now))
    return token, csrf


def end_session(store: Store, token: str | None) -> None:
    """Forget the session of this cookie token (logging out)."""
    if token:
        with store.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_sha256 == _digest(token)))


def load_session(request: Request) -> Session | None:
    """The session of the request's cookie, if it is valid, neither expired nor idle too long,
    and its user enabled; its ``last_seen_at`` moves on (at most once a minute)."""
    if hasattr(request.state, "session"):
        return request.state.session
    session = None
    token = request.cookies.get(COOKIE)
    if token and len(token) < 100:
        state = request.app.state
        store: Store = state.store
        now, idle = state.now(), state.idle_timeout
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(sessions).where(sessions.c.token_sha256 == _digest(token))).mappings().first()
        if row is not None:
            last_seen = as_utc(row["last_seen_at"])
            if as_utc(row["expires_at"]) <= now or now - last_seen > idle:
                end_session(store, token)
            else:
                user = get_user(store, row["user_id"])
                if user is not None and not user.disabled and not user.deleted:
                    session = Session(user, row["csrf_token"])
                    if now - last_seen >= min(_TOUCH_INTERVAL, idle / 10):
                        with store.engine.begin() as conn:
                            conn.execute(sessions.update().where(sessions.c.id == row["id"]).values(last_seen_at=now))
    request.state.session = session
    return session


def login_form_token(request: Request) -> tuple[str, str]:
    """For the login form: the ``cnotrack_login`` cookie's value (the request's, or a new one)
    and the form field that must come back with it."""
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    if not (20 <= len(nonce) < 100):
        nonce = secrets.token_urlsafe(32)
    return nonce, _login_field(request, nonce)


def _login_field(request: Request, nonce: str) -> str:
    return hmac.new(request.app.state.login_key, nonce.encode(), hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


_LOGIN_REFUSED = ("this login form has expired or did not come from cnotrack: open the login page again "
                  "(cnotrack needs cookies to sign in)")


async def csrf_protect(request: Request) -> None:
    """Refuse (403) a state-changing request of a signed-in user that lacks the session's CSRF
    token, a form login without its login token, and a JSON login that is not JSON (415).
    Other requests without a session are left to the route, which refuses them with 401."""
    if request.method in _SAFE_METHODS:
        return
    path = request.url.path
    if path == "/api/v1/login":
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise ApiError(415, "unsupported_media_type",
                           "log in with a JSON body: send Content-Type: application/json")
        return
    if path == "/login":
        nonce = request.cookies.get(LOGIN_COOKIE) or ""
        field = await _form_field(request)
        if not (20 <= len(nonce) < 100) or not _same(field, _login_field(request, nonce)):
            raise ApiError(403, "csrf_token_missing", _LOGIN_REFUSED)
        return
    session = load_session(request)
    if session is None:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        token = await _form_field(request)
    if not _same(token, session.csrf_token):
        raise ApiError(403, "csrf_token_missing",
                       f"this request changes data and needs the session's CSRF token: send it as the "
                       f"{CSRF_HEADER} header or the {CSRF_FIELD} form field (the login response gives it)")


async def _form_field(request: Request) -> str | None:
    if not request.headers.get("content-type", "").startswith(_FORM_TYPES):
        return None
    form = await request.form(**form_limits(request.scope))  # the first parse is the one kept
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


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

    def failed(self, *keys: str) -> bool:
        """Count a failure for each key; whether that locks any of them out."""
        now = self.clock()
        if len(self._failures) > 100_000:  # bounded memory under a flood of names
            for key in list(self._failures):
                self._recent(key, now)
        locked = False
        for key in keys:
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            locked = locked or len(failures) == self.limit
        return locked

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


def client_address(request: Request) -> str:
    """The client's address: the peer of the connection, or the address a trusted proxy gave
    (``create_app(forwarded_allow_ips=...)``)."""
    return request.client.host if request.client else "unknown"


def throttle_keys(username: str, request: Request) -> tuple[str, str]:
    return f"user:{username.strip().lower()}", f"addr:{client_address(request)}"
