"""One error shape for every error of the API, and the HTML error page of the web pages.

Every error response of ``/api/...`` is::

    {"error": {"status": 409, "code": "stale_record", "message": "...", "details": [...]}}

``details`` lists the problems of a record that broke the exchange format (422: ``column``,
``value``, ``message``), or the ``current`` and ``submitted`` versions of a stale edit (409).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (AccessError, CnotrackError, DatasetError, EvaluationError, ProtocolError, RecordConflictError,
                      RecordNotFoundError, UserError)
from .jsonsafe import jsonable

__all__ = ["ApiError", "ErrorBody", "error_body", "install_error_handlers"]

log = logging.getLogger("cnotrack.web")


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
    return ApiError(400, "bad_request", str(exc))


_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_request",
          429: "too_many_requests"}


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
        # the traceback names code, never the request's body or the record's values
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return respond(request, ApiError(500, "internal_error", "an internal error; it has been logged"))


def error_page_response(templates, request: Request, error: ApiError, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {"error": error, **context},
                                      status_code=error.status, headers=error.headers)
