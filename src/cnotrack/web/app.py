"""The web application: ``create_app(store_url)`` builds it over one database.

The pages (``pages``, ``imaging_pages``, ``import_pages``) and the JSON API (``api``) call the
same library functions (``cnotrack.records``, ``cnotrack.users``, the engine). Around them:

- every response carries the security headers (:data:`SECURITY_HEADERS`): a Content-Security-
  Policy that allows only the application's own scripts and styles (no inline script), no
  framing, no MIME sniffing, no referrer, no caching of pages that show health data;
- the access log names the method, the path (no query string; control characters escaped), the
  status and the signed-in user (or ``-``): never a body or a record's values;
- every request body is counted as it arrives and stopped with 413 past its limit
  (``limits``: 1 MB, 50 MB for a dataset upload), before any route or the CSRF check reads it;
- errors have one shape (``errors``);
- evaluations are computed once per state of the data, protocol and user scope
  (``evaluation_cache``), and lists are paged and sorted in the database (``listing``).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .. import __version__
from ..store.database import Store, open_store
from .auth import IDLE_TIMEOUT, SESSION_LIFETIME, LoginThrottle, csrf_protect, wall_clock
from .deps import LoginRequired, ReportSlots
from .errors import ApiError, error_page_response, install_error_handlers, log_server_error, log_text
from .limits import BodyTooLarge, bounded_receive
from .templating import templates

__all__ = ["SECURITY_HEADERS", "create_app"]

HERE = Path(__file__).parent
access_log = logging.getLogger("cnotrack.web.access")

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response (and HSTS over https); logs each request
    as method, path (escaped), status, time and user name only. An exception that escaped the
    routes is answered here with the error handler's 500 and logged without its message (see
    ``errors.log_server_error``), so that it never reaches the server's own traceback log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name == "Cache-Control" and scope["path"].startswith("/static/"):
                        value = "public, max-age=3600"
                    headers[name] = value
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        try:
            await self.app(scope, bounded_receive(scope, receive), send_with_headers)
        except BodyTooLarge as exc:  # read outside a route (by a middleware): answered here, as 413
            if started:
                raise
            handler = scope["app"].exception_handlers[ApiError] if "app" in scope else None
            response = await handler(Request(scope), exc) if handler else PlainTextResponse(exc.message, 413)
            await response(scope, receive, send_with_headers)
        except Exception as exc:
            await _answer_server_error(scope, receive, send_with_headers, exc, started)
        finally:
            access_log.info("%s %s %d %.0fms user=%s", log_text(scope["method"]), log_text(scope["path"]), status,
                            (time.perf_counter() - start) * 1000, _username(scope))


def _username(scope: Scope) -> str:
    """The signed-in user of the request (as the route found it), or ``-``."""
    session = (scope.get("state") or {}).get("session")
    name = getattr(getattr(session, "user", None), "username", None)
    return log_text(name) if isinstance(name, str) and name else "-"


async def _answer_server_error(scope: Scope, receive: Receive, send: Send, exc: Exception, started: bool) -> None:
    handler = getattr(scope.get("app"), "exception_handlers", {}).get(Exception)
    if started or handler is None:
        log_server_error(scope["method"], scope["path"], exc)
        if not started:
            await PlainTextResponse("an internal error; it has been logged", status_code=500)(scope, receive, send)
        return
    response = await handler(Request(scope, receive), exc)  # logs it
    await response(scope, receive, send)


def create_app(store_url: str | None = None, *, store: Store | None = None,
               clock: Callable[[], float] | None = None, idle_timeout: dt.timedelta = IDLE_TIMEOUT,
               forwarded_allow_ips: Sequence[str] = (), evaluation_cache_size: int = 16) -> FastAPI:
    """The web application over the database at ``store_url`` (see ``open_store``), or over an
    open ``store``. ``clock`` (seconds, monotonic) drives the login throttle and the sessions'
    expiry and idle timeout; tests pass their own. A session unused for ``idle_timeout`` ends.
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from the proxies (IP
    addresses or networks) in ``forwarded_allow_ips``: by default from nobody. The evaluations
    are kept per state of the data (``evaluation_cache``), at most ``evaluation_cache_size``."""
    from . import api, evaluation_pages, imaging_pages, import_pages, pages
    from .services import new_evaluation_cache

    app = FastAPI(title="cnotrack", version=__version__, openapi_url="/openapi.json", docs_url=None,
                  redoc_url=None, dependencies=[Depends(csrf_protect)],
                  description="The cnotrack JSON API. Log in with POST /api/v1/login; send the returned "
                              "csrf_token as X-CSRF-Token with every POST, PUT and DELETE. Every error is "
                              '{"error": {"status", "code", "message", "details"}}.')
    app.state.store = store if store is not None else open_store(store_url)
    app.state.throttle = LoginThrottle(clock=clock) if clock else LoginThrottle()
    if not dt.timedelta(minutes=1) <= idle_timeout <= SESSION_LIFETIME:
        raise ValueError(f"idle_timeout {idle_timeout} must be between 1 minute and {SESSION_LIFETIME}")
    app.state.now, app.state.idle_timeout = wall_clock(clock), idle_timeout
    app.state.login_key = secrets.token_bytes(32)
    app.state.report_slots = ReportSlots()
    app.state.pending_imports = {}
    app.state.evaluations = new_evaluation_cache(evaluation_cache_size)
    app.add_middleware(SecurityHeaders)
    if forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(forwarded_allow_ips))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(evaluation_pages.router)
    app.include_router(imaging_pages.router)
    app.include_router(import_pages.router)

    def render_error(request: Request, error):
        return error_page_response(templates, request, error)

    install_error_handlers(app, render_error)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        return RedirectResponse("/login", status_code=303)

    return app
