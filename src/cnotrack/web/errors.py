"""One error shape for every error of the API, and the HTML error page of the web pages.

Every error response of ``/api/...`` is::

    {"error": {"status": 409, "code": "stale_record", "message": "...", "details": [...]}}

``details`` lists the problems of a record that broke the exchange format (422: ``column``,
``value``, ``message``), or the ``current`` and ``submitted`` versions of a stale edit (409).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (AccessError, CnotrackError, DatasetError, EvaluationError, ProtocolError, RecordConflictError,
                      RecordNotFoundError, StoreError, UserError)
from .jsonsafe import jsonable

__all__ = ["ApiError", "ErrorBody", "error_body", "install_error_handlers", "log_server_error", "log_text",
           "safe_traceback"]

log = logging.getLogger("cnotrack.web")

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def log_text(text: str) -> str:
    """``text`` safe for one log line: a backslash and every control or non-printable character
    escaped as in a Python literal (``\\n``, ``\\x1b``, ``\\u2028``), so that a request cannot
    forge a log line or drive the terminal that shows the log."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and the exceptions it was raised from, naming code only: files,
    lines, functions and exception types, without the exceptions' messages (a database error's
    message carries the row's values) and without any frame's local variables."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for i, error in enumerate(reversed(chain)):
        if i:
            lines.append("The above exception led to the following one:")
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(error.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{type(error).__module__}.{type(error).__qualname__} (message not logged)")
    return "\n".join(log_text(line) for line in lines)


def log_server_error(method: str, path: str, exc: BaseException) -> None:
    """Log an unexpected exception: the request's method and path (escaped) and a traceback of
    code only (:func:`safe_traceback`): never the request's values, the exception's message or
    SQL parameters."""
    log.error("internal error on %s %s: %s\n%s", log_text(method), log_text(path), type(exc).__name__,
              safe_traceback(exc))


class ApiError(Exception):
    """An error answered with the error shape."""

    def __init__(self, status: int, code: str, message: str, details: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    details: list[Any]


class ErrorBody(BaseModel):
    """The body of every error response of the API."""

    error: ErrorDetail


def error_body(status: int, code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": jsonable(details or [])}}


def from_cnotrack_error(exc: CnotrackError) -> ApiError:
    """The HTTP status and code of an error cnotrack raised on purpose."""
    if isinstance(exc, DatasetError):
        details = [{"column": p.column, "value": p.value, "message": p.message} for p in exc.problems]
        n = len(details)
        return ApiError(422, "invalid_record", f"{n} problem{'s' if n != 1 else ''} in the record; "
                        "nothing was changed", details)
    if isinstance(exc, AccessError):
        return ApiError(403, "forbidden", str(exc))
    if isinstance(exc, RecordNotFoundError):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, RecordConflictError):
        details = []
        if exc.current is not None:
            details.append({"version": "current", "record": exc.current})
        if exc.submitted is not None:
            details.append({"version": "submitted", "record": exc.submitted})
        return ApiError(409, "conflict", str(exc), details)
    if isinstance(exc, (UserError, ProtocolError, EvaluationError)):
        return ApiError(422, "invalid_request", str(exc))
    if isinstance(exc, StoreError):  # a busy or unreachable database: the message may name its layout
        return ApiError(503, "unavailable", "the database is busy or unavailable; nothing was changed, "
                        "try again in a moment", headers={"Retry-After": "5"})
    return ApiError(400, "bad_request", str(exc))


_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_request",
          429: "too_many_requests", 503: "unavailable"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def install_error_handlers(app: FastAPI, render_page) -> None:
    """Answer errors with the error shape (API) or an error page (web pages)."""

    def respond(request: Request, error: ApiError) -> Response:
        if _wants_json(request):
            return JSONResponse(error_body(error.status, error.code, error.message, error.details),
                                status_code=error.status, headers=error.headers)
        if error.status == 401:
            return RedirectResponse("/login", status_code=303)
        return render_page(request, error)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return respond(request, exc)

    @app.exception_handler(CnotrackError)
    async def _cnotrack_error(request: Request, exc: CnotrackError) -> Response:
        return respond(request, from_cnotrack_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not _wants_json(request) and any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()):
            # a page's path with an id that cannot be a record's (too large, negative, not a number)
            return respond(request, ApiError(404, "not_found", "no such page: the record id in the address is "
                                             "not one of a record"))
        details = []
        for e in exc.errors():
            loc = [str(part) for part in e.get("loc", ()) if part not in ("body", "query", "path")]
            value = e.get("input")
            details.append({"column": ".".join(loc) or None,
                            "value": None if value is None or isinstance(value, (dict, list)) else str(value)[:200],
                            "message": e.get("msg", "invalid")})
        return respond(request, ApiError(422, "invalid_request", "the request does not match the API's schema "
                                         "(see /openapi.json)", details))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404:
            message = f"no such page or API route: {request.url.path}"
        return respond(request, ApiError(exc.status_code, code, message, headers=getattr(exc, "headers", None)))

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        # the traceback names code, never the request's body, the record's values or the message
        log_server_error(request.method, request.url.path, exc)
        return respond(request, ApiError(500, "internal_error", "an internal error; it has been logged"))


def error_page_response(templates, request: Request, error: ApiError, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {"error": error, **context},
                                      status_code=error.status, headers=error.headers)
