"""Finding a patient or an imaging study by part of its identifier, among the records a user
may see: what the web forms' type-ahead pickers ask (``web/picker_pages``).

The search is one SQL query with the text as a bound parameter: ``%`` and ``_`` in it are
matched literally (escaped for ``LIKE``), a control character is refused (``CnotrackError``:
PostgreSQL cannot take a NUL), case does not matter, identifiers that begin with the
text come first, and at most ``limit`` matches are returned. A record of another center is
never among them: the query keeps to the rows ``cnotrack.records`` lets the user see.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import sqlalchemy as sa

from .errors import CnotrackError
from .records import visible_rows  # the one definition of what a user may see
from .store.database import Store
from .store.schema import record_table
from .users import User

__all__ = ["MAX_SEARCH_TEXT", "SEARCH_LIMIT", "has_control_character", "search_patients", "search_studies"]

#: The most matches a search returns, and the longest text it accepts (an identifier is shorter).
SEARCH_LIMIT = 20
MAX_SEARCH_TEXT = 100


def has_control_character(text: str) -> bool:
    """Whether ``text`` holds a control character (a NUL: PostgreSQL refuses it in a parameter)."""
    return any(unicodedata.category(c) == "Cc" for c in text)


def _check(text: str) -> str:
    if len(text) > MAX_SEARCH_TEXT:
        raise CnotrackError(f"search text of {len(text)} characters: type at most {MAX_SEARCH_TEXT} (an "
                            "identifier is shorter)")
    text = text.strip()
    if has_control_character(text):
        raise CnotrackError("the search text holds a control character; type part of an identifier")
    return text


def _matching(column: sa.ColumnElement, text: str) -> tuple[sa.ColumnElement[bool], sa.ColumnElement]:
    """The filter (contains ``text``) and the ordering (starts with it first) on ``column``."""
    if not text:
        return sa.true(), sa.literal(0)
    starts = column.istartswith(text, autoescape=True)  # %, _ and the escape matched as themselves
    return column.icontains(text, autoescape=True), sa.case((starts, 0), else_=1)


def search_patients(store: Store, user: User, text: str, *, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """The patients ``user`` may see whose identifier contains ``text``: ``patient_id`` and
    ``center``, at most ``limit``, those beginning with ``text`` first, then by identifier."""
    text = _check(text)
    t = record_table("patients")
    where, first = _matching(t.c.patient_id, text)
    query = (sa.select(t.c.patient_id, t.c.center).where(visible_rows(user, "patients"), where)
             .order_by(first, t.c.patient_id).limit(max(0, min(limit, SEARCH_LIMIT))))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def search_studies(store: Store, user: User, text: str, *, patient_id: str | None = None,
                   limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """The imaging studies ``user`` may see whose identifier contains ``text`` (of the patient
    ``patient_id`` if given): ``study_id``, ``patient_id``, ``date`` and ``modality``, at most
    ``limit``, those beginning with ``text`` first, then by identifier."""
    text = _check(text)
    t = record_table("imaging")
    where, first = _matching(t.c.study_id, text)
    query = sa.select(t.c.study_id, t.c.patient_id, t.c.date, t.c.modality).where(visible_rows(user, "imaging"), where)
    if patient_id:
        query = query.where(t.c.patient_id == patient_id)
    query = query.order_by(first, t.c.study_id).limit(max(0, min(limit, SEARCH_LIMIT)))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
