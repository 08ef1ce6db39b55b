"""The Jinja2 templates, with the signed-in user and the CSRF token in every page's context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ..engine.evaluate import Synthetic
from ..store.exporter import synthetic_patient_count
from .auth import load_session

__all__ = ["render", "templates"]


def _session_context(request: Request) -> dict[str, Any]:
    session = load_session(request) if "app" in request.scope else None
    return {"user": session.user if session else None, "csrf_token": session.csrf_token if session else "",
            "csrf_headers": json.dumps({"X-CSRF-Token": session.csrf_token}) if session else "{}"}


def _synthetic_context(request: Request) -> dict[str, Any]:
    """``synthetic_notice`` for ``_synthetic_banner.html``: the banner of every page when any
    patient the signed-in user may see is marked synthetic (one COUNT query, no evaluation)."""
    session = load_session(request) if "app" in request.scope else None
    if session is None:
        return {"synthetic_notice": None}
    user = session.user
    synthetic, total = synthetic_patient_count(request.app.state.store, center=user.center,
                                               every_center=user.is_admin)
    return {"synthetic_notice": Synthetic(synthetic, total).notice()}


templates = Jinja2Templates(directory=Path(__file__).parent / "templates",
                            context_processors=[_session_context, _synthetic_context])


def _label(name: str) -> str:
    return name.replace("_", " ")


templates.env.filters["label"] = _label
templates.env.filters["blank"] = lambda v: "" if v is None else v


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
