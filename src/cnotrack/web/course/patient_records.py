"""Every record of one patient, read with filters in SQL: one query per table
(``records.list_records`` filtered on the patient, with its rule of who may see what), and the
lesions of all the patient's imaging studies in one query (on the patient's live studies), so
that a patient's page costs the same whatever the size of the registry."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ... import records
from ...records import _as_record  # the one shape of a record, as list_records gives it
from ...store.database import Store
from ...store.schema import record_table
from ...users import User

__all__ = ["PATIENT_TABLES", "patient_records"]

#: The tables read for a patient's page: every record table but the patients and the lesions
#: (those come with the patient's studies).
PATIENT_TABLES: tuple[str, ...] = tuple(t for t in records.RECORD_TYPES if t not in ("patients", "lesions"))


_ALL = 1_000_000  # a patient's records are never paged


def patient_records(store: Store, user: User, patient: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The live records of ``patient`` (a record ``records.get_record`` gave ``user``, so one the
    user may see), per table of :data:`PATIENT_TABLES` plus ``lesions``, each list in id order.

    ``user`` is checked again against the patient's center, so that a caller passing another
    center's patient gets nothing rather than their records."""
    if not records.may_see_patient(user, patient.get("center")):
        return {t: [] for t in (*PATIENT_TABLES, "lesions")}
    pid = patient["patient_id"]
    out = {t: records.list_records(store, user, t, filters={"patient_id": pid}, limit=_ALL) for t in PATIENT_TABLES}
    lesions, imaging = record_table("lesions"), record_table("imaging")
    studies = sa.select(imaging.c.study_id).where(imaging.c.patient_id == pid, imaging.c.deleted_at.is_(None))
    query = (sa.select(lesions).where(lesions.c.study_id.in_(studies), lesions.c.deleted_at.is_(None))
             .order_by(lesions.c.id))
    with store.engine.connect() as conn:
        out["lesions"] = [_as_record("lesions", r) for r in conn.execute(query).mappings()]
    return out
