"""The cohort list of the dashboard, found, filtered, sorted and paged in the database.

:func:`patient_list_page` reads one page of the patients a user may see that match a
:class:`PatientFilters` (``WHERE``), sorted by a whitelisted key (:data:`PATIENT_SORT_KEYS`:
every column the list shows), ``LIMIT``/``OFFSET``, the total by ``COUNT`` of the same query;
then the page's patients' records counted per table with one ``GROUP BY`` query per table
restricted to that page. The work and the page grow with the page size and the index lookups
per patient, never with a Python loop over the registry. Each row is ``timeline.completeness``
of the patient, with the patient's ``record_id`` and, given the ids of a protocol's cohort,
``in_cohort``.

What a request may say, and how it is bound (never formatted into SQL):

- ``q``, text: a patient whose id, center, or a drug they received (a treatment course or an
  administration) contains it, case-insensitively; ``%`` and ``_`` in it are plain characters
  (escaped in the ``LIKE``); a control character in any parameter (a NUL, which PostgreSQL cannot
  take) is a 422 naming it; a drug's brand or local name (``Kineret``) also finds the generic
  (``anakinra``) through ``cnotrack.vocabulary``;
- ``center``: the patients of that center (an investigator or viewer only ever sees their own:
  another center's name gives an empty list, exactly as a center that does not exist);
- ``drug``: the patients who received that drug (any spelling the vocabulary knows);
- ``eligibility``: ``eligible`` or ``not_eligible`` for the dashboard's protocol, from the ids
  of the cached evaluation's cohort (no evaluation per request).

Every condition is ANDed with ``records.visible_rows``, so no filter, sort or count reaches a
patient the user may not see.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from ..record_search import has_control_character
from ..records import visible_rows  # the one definition of who may see which record
from ..store.database import Store
from ..store.schema import record_table
from ..users import User
from ..vocabulary import drugs, normalise_key
from .errors import ApiError
from .listing import Page, SortKeys, sorted_page
from .timeline import completeness

__all__ = ["COUNTED_TABLES", "ELIGIBILITY", "MAX_FILTER_LENGTH", "PATIENT_SORT_KEYS", "PatientFilters",
           "center_choices", "drug_choices", "patient_list_page"]

#: The tables counted per patient (lesions through the patient's imaging studies).
COUNTED_TABLES = ("treatments", "assessments", "labs", "imaging", "adverse_events", "lesions")
#: The values of the eligibility filter, with their words.
ELIGIBILITY = {"eligible": "eligible", "not_eligible": "not eligible"}
#: The longest text a search or a filter takes (the routes refuse longer with a 422).
MAX_FILTER_LENGTH = 100

_patients = record_table("patients")
_imaging, _lesions = record_table("imaging"), record_table("lesions")
_DRUG_TABLES = ("treatments", "administrations")
_COLUMNS = ("id", "patient_id", "sex", "center", "birth_date", "onset_date", "diagnosis_date")


@dataclass(frozen=True)
class PatientFilters:
    """What the cohort list is narrowed to (each empty: not narrowed); see the module."""

    q: str = ""
    center: str = ""
    drug: str = ""
    eligibility: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if len(value) > MAX_FILTER_LENGTH:
                raise ApiError(422, "invalid_request", f"the {f.name} parameter takes at most {MAX_FILTER_LENGTH} "
                               f"characters, not {len(value)}",
                               [{"column": f.name, "value": value[:60] + "...", "message": "too long"}])
            value = value.strip()
            if has_control_character(value):  # a NUL would be a 500 on PostgreSQL
                raise ApiError(422, "invalid_request", f"the {f.name} parameter holds a control character; type "
                               "the text of an identifier, a center or a drug",
                               [{"column": f.name, "value": value[:60].encode("unicode_escape").decode(),
                                 "message": "control character"}])
            object.__setattr__(self, f.name, value)
        if self.eligibility not in ("", *ELIGIBILITY):
            shown = self.eligibility[:60]
            raise ApiError(422, "invalid_request", f"the eligibility parameter takes {' or '.join(ELIGIBILITY)} "
                           f"(or nothing), not {shown!r}",
                           [{"column": "eligibility", "value": shown, "message": "eligible or not_eligible"}])

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def params(self) -> dict[str, str]:
        """The filters as query parameters (the empty ones left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _count(table: str) -> sa.ScalarSelect:
    """The live records of ``table`` of the patient of the enclosing query (correlated)."""
    if table == "lesions":
        return (sa.select(sa.func.count()).select_from(_lesions.join(_imaging, _lesions.c.study_id == _imaging.c.study_id))
                .where(_imaging.c.patient_id == _patients.c.patient_id, _imaging.c.deleted_at.is_(None),
                       _lesions.c.deleted_at.is_(None)).scalar_subquery())
    t = record_table(table)
    return (sa.select(sa.func.count()).where(t.c.patient_id == _patients.c.patient_id, t.c.deleted_at.is_(None))
            .scalar_subquery())


def _has(table: str) -> sa.ColumnElement[bool]:
    """Whether the patient of the enclosing query has a live record of ``table``."""
    if table == "lesions":
        return sa.exists().select_from(_lesions.join(_imaging, _lesions.c.study_id == _imaging.c.study_id)).where(
            _imaging.c.patient_id == _patients.c.patient_id, _imaging.c.deleted_at.is_(None),
            _lesions.c.deleted_at.is_(None))
    t = record_table(table)
    return sa.exists().where(t.c.patient_id == _patients.c.patient_id, t.c.deleted_at.is_(None))


def _completeness() -> sa.ColumnElement[int]:
    """How many of ``timeline.COMPLETENESS_ITEMS`` the patient has (the percentage's numerator)."""
    present = [_patients.c.birth_date.is_not(None), _patients.c.onset_date.is_not(None),
               _patients.c.diagnosis_date.is_not(None), *(_has(t) for t in ("treatments", "assessments", "labs",
                                                                            "imaging", "lesions"))]
    return sum((sa.case((p, 1), else_=0) for p in present[1:]), sa.case((present[0], 1), else_=0))


#: The patient ids of the protocol's cohort, bound per request (``sorted_page(params=...)``) as ONE
#: parameter, the JSON array of the ids, never text in the SQL: a cohort of a registry may hold
#: more ids than a statement takes parameters (SQLite 32,766, PostgreSQL 65,535).
_COHORT_IDS = sa.bindparam("cohort_ids", type_=sa.String)


class _InJsonTexts(ColumnElement):
    """``column IN (the texts of the JSON array bound to param)``, in each dialect's words."""

    type = sa.Boolean()
    inherit_cache = False

    def __init__(self, column: sa.ColumnElement, param: sa.BindParameter) -> None:
        self.column, self.param = column, param


@compiles(_InJsonTexts, "sqlite")
def _in_json_sqlite(element: _InJsonTexts, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({compiler.process(element.param, **kw)}))"


@compiles(_InJsonTexts, "postgresql")
def _in_json_postgresql(element: _InJsonTexts, compiler, **kw) -> str:
    return (f"{compiler.process(element.column, **kw)} IN "
            f"(SELECT json_array_elements_text(CAST({compiler.process(element.param, **kw)} AS json)))")


def _in_cohort() -> sa.ColumnElement[bool]:
    return _InJsonTexts(_patients.c.patient_id, _COHORT_IDS)


def _sort_keys() -> SortKeys:
    """How the cohort list may be sorted: by each column it shows (the counts, completeness and
    membership of the cohort computed in SQL) and the patient's dates; by patient id by default."""
    columns: dict[str, Any] = {name: _patients.c[name] for name in ("patient_id", "sex", "center")}
    columns.update({table: _count(table) for table in ("treatments", "assessments", "labs", "imaging", "lesions",
                                                       "adverse_events")})
    columns["completeness"] = _completeness()
    columns["cohort"] = sa.case((_in_cohort(), 1), else_=0)
    columns.update({name: _patients.c[name] for name in ("birth_date", "onset_date", "diagnosis_date")})
    return SortKeys(columns, "patient_id")


#: The keys the cohort list may be sorted by (``-`` before one: descending).
PATIENT_SORT_KEYS = _sort_keys()


def _drug_name(text: str) -> str | None:
    """The generic name of ``text`` if the drug vocabulary knows the spelling."""
    return drugs().lookup().get(normalise_key(text))


def _received(condition: Any) -> sa.ColumnElement[bool]:
    """Whether the patient has a live treatment course or administration whose drug meets
    ``condition(column)``."""
    out = []
    for table in _DRUG_TABLES:
        t = record_table(table)
        out.append(sa.exists().where(t.c.patient_id == _patients.c.patient_id, t.c.deleted_at.is_(None),
                                     condition(t.c.drug)))
    return sa.or_(*out)


def _same_text(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """``column`` is ``text``, whatever the case: both sides lowered by the database (SQLite's
    ``lower`` changes ASCII letters only, so a name lowered in Python, ``örebro``, would never
    equal the database's ``Örebro``), or exactly ``text``."""
    return sa.or_(column == text, sa.func.lower(column) == sa.func.lower(sa.literal(text, sa.String)))


def _conditions(filters: PatientFilters, cohort: Collection[str] | None) -> list[sa.ColumnElement[bool]]:
    out = []
    if filters.q:
        q, generic = filters.q, _drug_name(filters.q)
        matches = [_patients.c.patient_id.icontains(q, autoescape=True),
                   _patients.c.center.icontains(q, autoescape=True),
                   _received(lambda drug: drug.icontains(q, autoescape=True))]
        if generic is not None:
            matches.append(_received(lambda drug: drug == generic))
        out.append(sa.or_(*matches))
    if filters.center:
        out.append(_same_text(_patients.c.center, filters.center))
    if filters.drug:
        name = _drug_name(filters.drug) or filters.drug
        out.append(_received(lambda drug: _same_text(drug, name)))
    if filters.eligibility:
        if cohort is None:
            raise ValueError("the eligibility filter needs the cohort's patient ids")
        inside = _in_cohort()
        out.append(inside if filters.eligibility == "eligible" else sa.not_(inside))
    return out


def _counts(conn: sa.Connection, patient_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per patient of ``patient_ids``: their live records per table of :data:`COUNTED_TABLES`
    (one query: a ``GROUP BY`` per table, ``UNION ALL``)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if not patient_ids:
        return counts
    parts = []
    for table in COUNTED_TABLES:
        name = sa.literal(table, sa.String).label("tbl")
        if table == "lesions":
            parts.append(sa.select(name, _imaging.c.patient_id, sa.func.count().label("n"))
                         .join(_lesions, _lesions.c.study_id == _imaging.c.study_id)
                         .where(_imaging.c.patient_id.in_(patient_ids), _imaging.c.deleted_at.is_(None),
                                _lesions.c.deleted_at.is_(None))
                         .group_by(_imaging.c.patient_id))
        else:
            t = record_table(table)
            parts.append(sa.select(name, t.c.patient_id, sa.func.count().label("n"))
                         .where(t.c.patient_id.in_(patient_ids), t.c.deleted_at.is_(None)).group_by(t.c.patient_id))
    for table, pid, n in conn.execute(sa.union_all(*parts)):
        counts[pid][table] = n
    return counts


def patient_list_page(store: Store, user: User, *, page: int = 1, size: int = 50, sort: str | None = None,
                      cohort: Collection[str] | None = None, filters: PatientFilters | None = None) -> Page:
    """Page ``page`` of the patients ``user`` may see that match ``filters``, ``size`` a page (at
    most ``listing.MAX_PAGE_SIZE``), sorted by ``sort`` (:data:`PATIENT_SORT_KEYS`; a key not
    there is a 422): each item a ``timeline.completeness`` row with ``record_id`` and
    ``in_cohort`` (whether the patient is in ``cohort``, ``None`` if no cohort is given).
    ``total`` counts the patients that match."""
    filters = filters or PatientFilters()
    query = (sa.select(*(_patients.c[c] for c in _COLUMNS))
             .where(visible_rows(user, "patients"), *_conditions(filters, cohort)))
    with store.engine.connect() as conn:
        listed = sorted_page(conn, query, PATIENT_SORT_KEYS, sort, tiebreak=_patients.c.id, page=page, size=size,
                             params={"cohort_ids": json.dumps(sorted(cohort or ()))})
        counts = _counts(conn, [r["patient_id"] for r in listed.items])
    rows = []
    for patient in listed.items:
        row = completeness(patient, counts.get(patient["patient_id"], {}))
        row["record_id"] = patient["id"]
        row["in_cohort"] = None if cohort is None else patient["patient_id"] in cohort
        rows.append(row)
    return Page(rows, listed.total, listed.number, listed.size, listed.sort)


def center_choices(store: Store, user: User) -> list[str]:
    """The centers of the patients ``user`` may see (an investigator's: their own), sorted."""
    query = (sa.select(_patients.c.center).distinct()
             .where(visible_rows(user, "patients"), _patients.c.center.is_not(None)).order_by(_patients.c.center))
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def drug_choices() -> list[str]:
    """The drugs a patient may have received: the generic names of ``cnotrack.vocabulary``."""
    return sorted(d.name for d in drugs().drugs)
