"""A follow-up imaging study's decision about each lesion of the previous study.

On a follow-up scan each lesion of the previous study of the patient (the latest earlier study
of the same modality, else the latest earlier study) is *resolved*, *still present* (with its
grade) or, where the exchange format can say so, *not assessed*. A decision is stored the way
the exchange format already carries lesion identity across studies, as a lesion row of the
follow-up study at the same site with the previous lesion's ``lesion_id``
(docs/exchange-format.md, "Matching a lesion across two studies"):

- **still present**: an active row (``activity`` ``active``) with the grade given; the lesion's
  fate is then ``stable``, ``improved`` or ``worsened``;
- **resolved**: an inactive row (``activity`` ``inactive``): "an inactive lesion counts as not
  present", so the fate is ``resolved``, and the decision is kept (not the mere absence of a row,
  which a reload cannot tell from a lesion nobody looked at yet);
- **not assessed**: a row with ``activity`` ``not_assessed`` only when the exchange format's
  ``lesions.activity`` lists that value (:func:`not_assessed_recordable`); version 1.1 does not,
  so it is not offered;
- **undecided** (no row): the format counts such a lesion as resolved; the page says so.

Every write goes through :mod:`cnotrack.records` (roles, centers, validation, audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import records
from .errors import AccessError, DatasetError, Problem, RecordNotFoundError
from .exchange.schema import exchange_format
from .store.database import Store
from .users import User

__all__ = ["DECISIONS", "FollowUp", "decision_of", "follow_up", "not_assessed_recordable", "record_lesion_decision",
           "site_label"]

#: what a follow-up study may record about a previous lesion (``clear`` removes the decision)
DECISIONS = ("resolved", "present", "not_assessed", "clear")
_SITE = ("bone", "side", "segment")
_LIMIT = 100_000


def site_label(lesion: dict[str, Any]) -> str:
    """``left femur distal metaphysis``: side, bone and segment in words."""
    return " ".join(str(lesion[k]).replace("_", " ") for k in ("side", "bone", "segment") if lesion.get(k))


def not_assessed_recordable() -> bool:
    """Whether the exchange format's ``lesions.activity`` can carry ``not_assessed``."""
    column = next(c for c in exchange_format().table("lesions").columns if c.name == "activity")
    return "not_assessed" in (column.choices or ())


@dataclass
class FollowUp:
    """An imaging study, its patient's previous study (or None) and the lesions of both; each
    previous lesion carries ``site``, ``decision`` (``resolved``, ``present``, ``not_assessed``,
    ``undecided``) and ``decision_row`` (the follow-up's row that records it, or None)."""

    study: dict[str, Any]
    patient: dict[str, Any]
    previous: dict[str, Any] | None
    previous_lesions: list[dict[str, Any]] = field(default_factory=list)
    lesions: list[dict[str, Any]] = field(default_factory=list)


def _same_lesion(old: dict[str, Any], row: dict[str, Any]) -> bool:
    """The exchange format's rules 1 and 2: the same ``lesion_id``, or the same site unless the
    two carry different ``lesion_id``s."""
    if old.get("lesion_id") and row.get("lesion_id"):
        return old["lesion_id"] == row["lesion_id"]
    return all(old.get(k) == row.get(k) for k in _SITE)


def decision_of(row: dict[str, Any] | None) -> str:
    """The decision a follow-up's lesion row records about a previous lesion."""
    if row is None:
        return "undecided"
    activity = row.get("activity")
    if activity == "inactive":
        return "resolved"
    return "not_assessed" if activity == "not_assessed" else "present"


def follow_up(store: Store, user: User, study_record_id: int) -> FollowUp:
    """The study ``study_record_id`` as ``user`` may see it, with its previous study's lesions and
    the decision recorded for each (``RecordNotFoundError`` for a study the user may not see)."""
    study = records.get_record(store, user, "imaging", study_record_id)
    patient = records.list_records(store, user, "patients", filters={"patient_id": study["patient_id"]})[0]
    studies = records.list_records(store, user, "imaging", filters={"patient_id": study["patient_id"]}, limit=_LIMIT)
    earlier = sorted((s for s in studies if s["date"] < study["date"]), key=lambda s: (s["date"], s["id"]))
    same = [s for s in earlier if s["modality"] == study["modality"]]
    previous = (same or earlier or [None])[-1]
    current = records.list_records(store, user, "lesions", filters={"study_id": study["study_id"]}, limit=_LIMIT)
    for row in current:
        row["site"] = site_label(row)
    before = []
    if previous is not None:
        taken: set[int] = set()
        for old in records.list_records(store, user, "lesions", filters={"study_id": previous["study_id"]},
                                        limit=_LIMIT):
            row = next((r for r in current if r["id"] not in taken and _same_lesion(old, r)), None)
            if row is not None:
                taken.add(row["id"])
                row["decides"] = old["id"]
            before.append({**old, "site": site_label(old), "decision": decision_of(row), "decision_row": row})
    return FollowUp(study, patient, previous, before, current)


def record_lesion_decision(store: Store, user: User, study_record_id: int, lesion_record_id: int, decision: str,
                           grade: int | None = None) -> FollowUp:
    """Record at the study ``study_record_id`` the decision about the previous study's lesion
    ``lesion_record_id`` (one of :data:`DECISIONS`), and return the follow-up as it is now.

    A lesion that is not one of the previous study's (or that ``user`` may not see) raises
    ``RecordNotFoundError``, as for one that does not exist; a viewer gets ``AccessError``; an
    unknown decision or a grade outside 1 to 3, ``DatasetError`` naming the column.
    """
    if not user.can_write:
        raise AccessError(f"user {user.username!r} is a viewer: recording a lesion's decision needs the role "
                          "investigator or admin")
    state = follow_up(store, user, study_record_id)
    old = next((p for p in state.previous_lesions if p["id"] == lesion_record_id), None)
    if old is None:
        raise RecordNotFoundError(f"no lesion {lesion_record_id} of the previous study of imaging study "
                                  f"{study_record_id}")
    if decision not in DECISIONS or (decision == "not_assessed" and not not_assessed_recordable()):
        allowed = ", ".join(d for d in DECISIONS if d != "not_assessed" or not_assessed_recordable())
        raise DatasetError([Problem("lesions", None, "decision", str(decision)[:40],
                                    f"not a decision: choose one of {allowed}")])
    row = old["decision_row"]
    if decision == "clear":
        if row is not None:
            records.delete_record(store, user, "lesions", row["id"], row["version"])
        return follow_up(store, user, study_record_id)
    activity = {"resolved": "inactive", "present": "active", "not_assessed": "not_assessed"}[decision]
    kept = ("symptomatic",) if row is not None and decision == "present" else ()
    values = {**{k: old[k] for k in _SITE}, "study_id": state.study["study_id"], "activity": activity,
              "grade": grade if decision == "present" else None,
              "lesion_id": (row or {}).get("lesion_id") or old.get("lesion_id"),
              **{k: row[k] for k in kept}}
    if row is None:
        records.create_record(store, user, "lesions", values)
    else:
        records.update_record(store, user, "lesions", row["id"], {**values, **{k: row[k] for k in _SITE}},
                              row["version"])
    return follow_up(store, user, study_record_id)
