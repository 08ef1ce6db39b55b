"""How much a request may send: its body's bytes, and a form's files and fields.

Every request body is counted as it is received (a chunked request has no ``Content-Length``
to trust) and stopped with a 413 once it passes its limit: ``$CNOTRACK_MAX_UPLOAD_BYTES``
(50 MB) for a dataset upload (``POST /import``), ``$CNOTRACK_MAX_BODY_BYTES`` (1 MB) for any
other request, signed in or not. A form is parsed with explicit limits on files and fields,
whoever parses it first (the CSRF check reads the form before the route does, and Starlette
keeps the first parse): files only in an upload, and a bounded number of fields everywhere.
"""

from __future__ import annotations

import os

from fastapi import HTTPException
from starlette.types import Message, Receive, Scope

from .errors import ApiError

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_ENV_VAR", "MAX_UPLOAD_BYTES", "MAX_UPLOAD_ENV_VAR", "MAX_UPLOAD_FILES",
           "BodyTooLarge", "body_limit", "bounded_receive", "form_limits", "max_body_bytes", "max_upload_bytes"]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_ENV_VAR = "CNOTRACK_MAX_UPLOAD_BYTES"
MAX_BODY_BYTES = 1024 * 1024
MAX_BODY_ENV_VAR = "CNOTRACK_MAX_BODY_BYTES"
MAX_UPLOAD_FILES = 50
_MAX_FORM_FIELDS = 200   # the widest form (CHAQ answers) has under 50
_UPLOAD_PATH = "/import"


def _positive_env(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else default


def max_upload_bytes() -> int:
    """The largest body of a dataset upload: ``$CNOTRACK_MAX_UPLOAD_BYTES``, else 50 MB."""
    return _positive_env(MAX_UPLOAD_ENV_VAR, MAX_UPLOAD_BYTES)


def max_body_bytes() -> int:
    """The largest body of any other request: ``$CNOTRACK_MAX_BODY_BYTES``, else 1 MB."""
    return _positive_env(MAX_BODY_ENV_VAR, MAX_BODY_BYTES)


def _is_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path") == _UPLOAD_PATH


def body_limit(scope: Scope) -> int:
    """The byte limit of this request's body."""
    return max_upload_bytes() if _is_upload(scope) else max_body_bytes()


def form_limits(scope: Scope) -> dict[str, int]:
    """``request.form()``'s limits for this request: files only in a dataset upload."""
    if _is_upload(scope):
        return {"max_files": MAX_UPLOAD_FILES, "max_fields": MAX_UPLOAD_FILES + 10}
    return {"max_files": 0, "max_fields": _MAX_FORM_FIELDS}


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n:,} bytes"


class BodyTooLarge(ApiError, HTTPException):
    """413: the request's body passed its limit. Also an ``HTTPException``, so that FastAPI's
    body parsing passes it on instead of turning it into "an error parsing the body" (400);
    answered by the ``ApiError`` handler, in the one error shape."""

    def __init__(self, limit: int, *, upload: bool) -> None:
        what = ("the upload is larger than {size}; split the dataset or import it with the command line "
                "(cnotrack import)") if upload else "the request's body is larger than {size}"
        message = what.format(size=_size(limit))
        ApiError.__init__(self, 413, "too_large", message)
        HTTPException.__init__(self, 413, message)


def bounded_receive(scope: Scope, receive: Receive) -> Receive:
    """``receive`` that stops the request (413) once its body passes ``body_limit(scope)``
    bytes, and at once when its ``Content-Length`` says it will."""
    limit, upload = body_limit(scope), _is_upload(scope)
    declared = next((v for k, v in scope.get("headers") or [] if k == b"content-length"), b"")
    too_long = declared.isdigit() and int(declared) > limit
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        if too_long:
            raise BodyTooLarge(limit, upload=upload)
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit, upload=upload)
        return message

    return counted
