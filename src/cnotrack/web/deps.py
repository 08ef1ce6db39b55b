"""Who is asking: the signed-in user of a request, and logging in (throttled, audited)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request, Response

from ..security_log import UNKNOWN_USER, log_event
from ..users import User, WrongPasswordError, authenticate, change_password, find_user
from .auth import (COOKIE, SESSION_LIFETIME, LoginThrottle, client_address, load_session, start_session,
                   throttle_keys)
from .errors import ApiError

__all__ = ["LoginRequired", "ReportSlots", "api_user", "change_own_password", "login_or_refuse", "page_user",
           "set_session_cookie"]


class LoginRequired(Exception):
    """A page needs a signed-in user: answered with a redirect to the login page."""


def api_user(request: Request) -> User:
    """The signed-in user, or 401."""
    session = load_session(request)
    if session is None:
        raise ApiError(401, "unauthenticated", "log in first: POST /api/v1/login with username and password")
    return session.user


def page_user(request: Request) -> User:
    """The signed-in user, or a redirect to the login page."""
    session = load_session(request)
    if session is None:
        raise LoginRequired()
    return session.user


def _refuse_if_throttled(request: Request, throttle: LoginThrottle, keys: tuple[str, str]) -> None:
    wait = throttle.retry_after(*keys)
    if wait is not None:
        raise ApiError(429, "too_many_requests",
                       f"too many failed logins for this user or address; try again in {math.ceil(wait)} s",
                       headers={"Retry-After": str(max(1, math.ceil(wait)))})


def _failed(request: Request, keys: tuple[str, str], username: str) -> None:
    """Count and audit a failed password: by the user's name only if one has it (the name field
    sometimes receives a password), and the lock-out when it starts."""
    store = request.app.state.store
    known = find_user(store, username)
    actor = known.username if known else UNKNOWN_USER
    address = {"address": client_address(request)}
    log_event(store, "login_failed", actor=actor, subject=known, after=address)
    if request.app.state.throttle.failed(*keys):
        log_event(store, "locked_out", actor=actor, subject=known, after=address)


def _new_session(request: Request, user: User) -> tuple[str, str]:
    state = request.app.state
    return start_session(state.store, user, now=state.now(), idle_timeout=state.idle_timeout)


def login_or_refuse(request: Request, username: str, password: str) -> tuple[User, str, str]:
    """Check the password (throttled); the user, the session token and the CSRF token, or 401/429.
    Logins and failed logins are written to the audit trail; the password tried never is."""
    throttle: LoginThrottle = request.app.state.throttle
    keys = throttle_keys(username, request)
    _refuse_if_throttled(request, throttle, keys)
    store = request.app.state.store
    user = authenticate(store, username, password)
    if user is None:
        _failed(request, keys, username)
        raise ApiError(401, "unauthenticated", "wrong username or password")
    throttle.succeeded(keys[0])
    token, csrf = _new_session(request, user)
    log_event(store, "login", actor=user.username, subject=user, after={"address": client_address(request)})
    return user, token, csrf


def change_own_password(request: Request, user: User, current: str, new: str) -> tuple[str, str]:
    """The signed-in user changes their password, throttled like logging in (a wrong current
    password counts as a failed login): every session of theirs ends and this browser gets a
    new one; the new session token and CSRF token."""
    throttle: LoginThrottle = request.app.state.throttle
    keys = throttle_keys(user.username, request)
    _refuse_if_throttled(request, throttle, keys)
    try:
        change_password(request.app.state.store, user, current, new)
    except WrongPasswordError:
        _failed(request, keys, user.username)
        raise
    return _new_session(request, user)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


class ReportSlots:
    """At most one evaluation or report (the evaluation page, ``/api/v1/evaluation``, a download)
    at a time per user: a second request of the same user while one runs is refused, never
    queued; other users are not held up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[int] = set()

    @contextmanager
    def hold(self, user: User) -> Iterator[None]:
        with self._lock:
            if user.id in self._busy:
                raise ApiError(429, "too_many_requests",
                               "an evaluation or report of yours is being prepared: wait until it is done, "
                               "then ask again (one at a time per user)", headers={"Retry-After": "10"})
            self._busy.add(user.id)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(user.id)
