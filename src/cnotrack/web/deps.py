"""Who is asking: the signed-in user of a request, and logging in (throttled)."""

from __future__ import annotations

import math

from fastapi import Request, Response

from ..users import User, authenticate
from .auth import COOKIE, SESSION_LIFETIME, LoginThrottle, load_session, start_session, throttle_keys
from .errors import ApiError

__all__ = ["LoginRequired", "api_user", "login_or_refuse", "page_user", "set_session_cookie"]


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


def login_or_refuse(request: Request, username: str, password: str) -> tuple[User, str, str]:
    """Check the password (throttled); the user, the session token and the CSRF token, or 401/429."""
    throttle: LoginThrottle = request.app.state.throttle
    keys = throttle_keys(username, request)
    wait = throttle.retry_after(*keys)
    if wait is not None:
        raise ApiError(429, "too_many_requests",
                       f"too many failed logins for this user or address; try again in {math.ceil(wait)} s",
                       headers={"Retry-After": str(max(1, math.ceil(wait)))})
    user = authenticate(request.app.state.store, username, password)
    if user is None:
        throttle.failed(*keys)
        raise ApiError(401, "unauthenticated", "wrong username or password")
    throttle.succeeded(keys[0])
    token, csrf = start_session(request.app.state.store, user)
    return user, token, csrf


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
