"""Lists that grow with the registry, paged and sorted in the database.

A list request names a page (``page``, from 1, or ``offset`` in the API), a page size (``size``
or ``limit``, bounded here whatever the request asks) and a sort key (``sort``: a column name,
``-`` before it for descending). Sort keys are looked up in each list's whitelist of columns
(:class:`SortKeys`) and never put into SQL as text: any other value is refused with a 422 that
names the parameter, the value and the keys there are. The page is read with ``ORDER BY`` the
key then the row id (so that pages never overlap or skip a row when keys tie), ``LIMIT`` and
``OFFSET``; the total is a ``COUNT`` of the same query.

- :func:`sorted_page` runs a SELECT as one page, with its total;
- :func:`user_page` is one page of the users (deleted users last);
- :func:`record_page` is one page of the records of a table a user may see (the ``/api/v1/{table}``
  lists), filtered as ``cnotrack.records.list_records`` filters;
- :class:`Page` carries the rows, the total and the links to the other pages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from .. import records
from ..records import _as_record, visible_rows  # the one definition of who may see which record
from ..exchange.schema import exchange_format
from ..store.database import Store
from ..store.schema import record_table, users
from ..users import User, _user  # a users row as a User, as cnotrack.users reads it
from .errors import ApiError

__all__ = ["MAX_API_LIMIT", "MAX_PAGE_SIZE", "USER_SORT_KEYS", "Page", "SortKeys", "page_number", "record_page",
           "record_sort_keys", "sorted_page", "user_page"]

#: The most rows of one page of the web pages, and of one answer of an API list.
MAX_PAGE_SIZE = 200
MAX_API_LIMIT = 1000


@dataclass(frozen=True)
class SortKeys:
    """The columns a list may be sorted by (name -> column), and its default key."""

    columns: Mapping[str, sa.ColumnElement[Any]]
    default: str

    def parse(self, value: str | None, parameter: str = "sort") -> tuple[str, bool]:
        """``(key, descending)`` of ``value`` (``"center"``, ``"-center"``), or a 422 naming the keys."""
        text = (value or self.default).strip()
        descending = text.startswith("-")
        key = text[1:] if descending else text
        if key not in self.columns:
            shown = text if len(text) <= 60 else text[:60] + "..."
            keys = ", ".join(self.columns)
            message = (f"cannot sort by {shown!r}: the {parameter} parameter takes one of {keys}, "
                       f"with '-' before it for descending order (e.g. {parameter}=-{self.default})")
            raise ApiError(422, "invalid_request", message,
                           [{"column": parameter, "value": shown, "message": f"sort by one of {keys}"}])
        return key, descending

    def order_by(self, key: str, descending: bool, tiebreak: sa.ColumnElement[Any]) -> list[Any]:
        column = self.columns[key]
        first = column.desc() if descending else column.asc()
        return [first.nulls_last(), tiebreak.desc() if descending else tiebreak.asc()]


@dataclass(frozen=True)
class Page:
    """One page of a list: its ``items``, the ``total`` of the list, the page ``number`` (from
    1), the page ``size`` and the ``sort`` it was read in ("" for a list of one order)."""

    items: list[Any]
    total: int
    number: int
    size: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_row(self) -> int:
        """The 1-based position of the first item in the list (0 for an empty page)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_row(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    def url(self, path: str, number: int, *, page_param: str = "page", **params: Any) -> str:
        """The address of page ``number`` of this list at ``path`` (as ``page_param``), with the
        same ``size`` and ``sort`` (none for a list of one order: ``sort`` empty) and ``params``."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query[page_param] = number
        if self.sort:
            query.update(size=self.size, sort=self.sort)
        return f"{path}?{urlencode(query)}"

    def links(self, path: str, *, page_param: str = "page", **params: Any) -> list[tuple[str, str | None]]:
        """(text, address or ``None`` for the current page or a gap) for a pager: previous, the
        first, a window of pages around this one, the last, next."""
        def url(n: int) -> str:
            return self.url(path, n, page_param=page_param, **params)

        out: list[tuple[str, str | None]] = []
        if self.number > 1:
            out.append(("« previous", url(self.number - 1)))
        shown = sorted({1, self.pages, *range(max(1, self.number - 2), min(self.pages, self.number + 2) + 1)})
        last = 0
        for n in shown:
            if n - last > 1:
                out.append(("…", None))
            out.append((str(n), None if n == self.number else url(n)))
            last = n
        if self.number < self.pages:
            out.append(("next »", url(self.number + 1)))
        return out


def page_number(value: int, size: int, total: int) -> int:
    """``value`` kept within the pages there are (a page past the last shows the last)."""
    return max(1, min(value, max(1, math.ceil(total / size))))


def sorted_page(conn: sa.Connection, query: sa.Select, keys: SortKeys, sort: str | None, *,
                tiebreak: sa.ColumnElement[Any], page: int = 1, size: int = 50,
                params: Mapping[str, Any] | None = None) -> Page:
    """Page ``page`` of ``size`` rows of ``query`` (as mappings) in the order ``sort`` (see
    :class:`SortKeys`), with the COUNT of every row; ``size`` is bounded by :data:`MAX_PAGE_SIZE`,
    and a page past the last is the last. ``params``: values of bound parameters of the query or
    of a sort key (``sa.bindparam``), for both the count and the page."""
    params = dict(params or {})
    key, descending = keys.parse(sort)
    size = max(1, min(size, MAX_PAGE_SIZE))
    total = conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()),
                         params).scalar_one()
    number = page_number(page, size, total)
    rows = conn.execute(query.order_by(*keys.order_by(key, descending, tiebreak))
                        .limit(size).offset((number - 1) * size), params).mappings().all()
    return Page(list(rows), total, number, size, ("-" if descending else "") + key)


def record_sort_keys(table: str) -> SortKeys:
    """The sort keys of a table's records: ``id`` and every column that is not free text."""
    t = record_table(table)
    spec = exchange_format().table(table)
    names = ["id"] + [c.name for c in spec.columns if c.type != "text"]
    return SortKeys({name: t.c[name] for name in names}, "id")


def record_page(store: Store, user: User, table: str, *, filters: Mapping[str, object] | None = None,
                sort: str | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The records of ``table`` that ``user`` may see, as ``list_records`` filters them, sorted by
    ``sort`` (:func:`record_sort_keys`; by id if not given), ``limit`` (at most
    :data:`MAX_API_LIMIT`) of them after skipping ``offset``: ``{"items", "total", "limit",
    "offset", "sort"}``, ``total`` counting every record the filters keep."""
    if table not in records.RECORD_TYPES:
        raise ApiError(404, "not_found", f"no record type {table!r}")
    keys = record_sort_keys(table)
    key, descending = keys.parse(sort)
    t = record_table(table)
    records.list_records(store, user, table, filters=filters, limit=0)  # checks the filters as it does
    query = sa.select(t).where(visible_rows(user, table))
    for name, value in (filters or {}).items():
        if value is not None:
            query = query.where(t.c[name] == value)
    limit = max(1, min(limit, MAX_API_LIMIT))
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(query.order_by(*keys.order_by(key, descending, t.c.id)).limit(limit)
                            .offset(max(0, offset))).mappings().all()
    return {"items": [_as_record(table, r) for r in rows], "total": total, "limit": limit, "offset": offset,
            "sort": ("-" if descending else "") + key}


#: How the users may be listed (deleted users come last whatever the key).
USER_SORT_KEYS = SortKeys({"username": users.c.username_key, "role": users.c.role, "center": users.c.center,
                           "created_at": users.c.created_at}, "username")


def user_page(store: Store, *, sort: str | None = None, page: int = 1, size: int = 50, offset: int | None = None,
              max_size: int = MAX_PAGE_SIZE) -> Page:
    """One page of the users as ``User`` values (for admins: the caller checks), sorted by
    ``sort`` (:data:`USER_SORT_KEYS`), deleted users last: page ``page`` of ``size`` (at most
    ``max_size``), or the ``size`` users after ``offset`` if it is given."""
    key, descending = USER_SORT_KEYS.parse(sort)
    size = max(1, min(size, max_size))
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
        number = page_number(page, size, total) if offset is None else offset // size + 1
        skip = (number - 1) * size if offset is None else offset
        rows = conn.execute(sa.select(users).order_by(users.c.deleted_at.is_not(None),
                                                      *USER_SORT_KEYS.order_by(key, descending, users.c.id))
                            .limit(size).offset(skip)).mappings().all()
    return Page([_user(r) for r in rows], total, number, size, ("-" if descending else "") + key)
