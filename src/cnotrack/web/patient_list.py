"""The cohort list of the dashboard, one page at a time, read from the database.

:func:`patient_list_page` reads one page of the patients a user may see (``ORDER BY`` a
whitelisted column, ``LIMIT``/``OFFSET``, the total by ``COUNT``), then their records counted
per table with one ``GROUP BY`` query per table restricted to that page's patients; the work and
the page grow with the page size, never with the registry. Each row is
``timeline.completeness`` of the patient (how complete their data is), with the patient's
``record_id`` and, given the ids of a protocol's cohort, ``in_cohort``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

import sqlalchemy as sa

from ..records import _visible_rows  # the one definition of who may see which record
from ..store.database import Store
from ..store.schema import record_table
from ..users import User
from .listing import Page, SortKeys, sorted_page
from .timeline import completeness

__all__ = ["COUNTED_TABLES", "PATIENT_SORT_KEYS", "patient_list_page"]

#: The tables counted per patient (lesions through the patient's imaging studies).
COUNTED_TABLES = ("treatments", "assessments", "labs", "imaging", "adverse_events", "lesions")

_patients = record_table("patients")
#: How the cohort list may be sorted (``-`` before a key: descending); by patient id by default.
PATIENT_SORT_KEYS = SortKeys({name: _patients.c[name] for name in
                              ("patient_id", "sex", "center", "birth_date", "onset_date", "diagnosis_date")},
                             "patient_id")
_COLUMNS = ("id", "patient_id", "sex", "center", "birth_date", "onset_date", "diagnosis_date")


def _counts(conn: sa.Connection, patient_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per patient of ``patient_ids``: their live records per table of :data:`COUNTED_TABLES`."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if not patient_ids:
        return counts
    imaging = record_table("imaging")
    for table in COUNTED_TABLES:
        if table == "lesions":
            lesions = record_table("lesions")
            query = (sa.select(imaging.c.patient_id, sa.func.count())
                     .join(lesions, lesions.c.study_id == imaging.c.study_id)
                     .where(imaging.c.patient_id.in_(patient_ids), imaging.c.deleted_at.is_(None),
                            lesions.c.deleted_at.is_(None))
                     .group_by(imaging.c.patient_id))
        else:
            t = record_table(table)
            query = (sa.select(t.c.patient_id, sa.func.count())
                     .where(t.c.patient_id.in_(patient_ids), t.c.deleted_at.is_(None)).group_by(t.c.patient_id))
        for pid, n in conn.execute(query):
            counts[pid][table] = n
    return counts


def patient_list_page(store: Store, user: User, *, page: int = 1, size: int = 50, sort: str | None = None,
                      cohort: Collection[str] | None = None) -> Page:
    """Page ``page`` of the patients ``user`` may see, ``size`` a page (at most
    ``listing.MAX_PAGE_SIZE``), sorted by ``sort`` (:data:`PATIENT_SORT_KEYS`; a key not there is
    a 422): each item a ``timeline.completeness`` row with ``record_id`` and ``in_cohort``
    (whether the patient is in ``cohort``, ``None`` if no cohort is given)."""
    query = sa.select(*(_patients.c[c] for c in _COLUMNS)).where(_visible_rows(user, "patients"))
    with store.engine.connect() as conn:
        listed = sorted_page(conn, query, PATIENT_SORT_KEYS, sort, tiebreak=_patients.c.id, page=page, size=size)
        counts = _counts(conn, [r["patient_id"] for r in listed.items])
    rows = []
    for patient in listed.items:
        row = completeness(patient, counts.get(patient["patient_id"], {}))
        row["record_id"] = patient["id"]
        row["in_cohort"] = None if cohort is None else patient["patient_id"] in cohort
        rows.append(row)
    return Page(rows, listed.total, listed.number, listed.size, listed.sort)
