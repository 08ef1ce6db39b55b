"""What the page modules share: the record id of a page's path and the answer after a form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from fastapi.responses import RedirectResponse

__all__ = ["RecordId", "see_other"]

#: A record id in a page's path: anything else (too large, negative, not a number) is a 404.
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def see_other(url: str) -> RedirectResponse:
    """The answer to a form that worked: the browser GETs ``url`` (Post/Redirect/Get)."""
    return RedirectResponse(url, status_code=303)
