"""Patients as FHIR: ``Patient``, an ``Organization`` per center and the CNO ``Condition``.

``sex`` F/M/U is ``Patient.gender`` female/male/unknown; ``birth_date`` (YYYY-MM-DD or YYYY-MM)
is ``birthDate``, which takes both. ``center`` is an Organization (its ``name``) referenced by
``managingOrganization``. ``synthetic`` and ``race_ethnicity`` have no R4 element that fits
(US Core's race is coded, the registry's coding is not): cnotrack extensions. Every patient
has CNO, so each gets one Condition coded ICD-10 M86.3 and Orphanet 324964, with
``onsetDateTime`` from ``onset_date`` and ``recordedDate`` from ``diagnosis_date``.
"""

from __future__ import annotations

from functools import lru_cache

from ...exchange import Dataset
from .elements import codeable, compact, date_text, extension, identifier
from .ids import reference, resource_id
from .names import CATEGORY_DIAGNOSIS, CNO

__all__ = ["GENDER", "cno_conditions", "organization_id", "organizations", "patient_id", "patients"]

GENDER = {"F": "female", "M": "male", "U": "unknown"}


def organization_id(center: str) -> str:
    """The resource id of the Organization of a center."""
    return resource_id("centers", center)


@lru_cache(maxsize=65536)
def patient_id(pid: str) -> str:
    """The resource id of the Patient ``pid``."""
    return resource_id("patients", pid)


def organizations(dataset: Dataset) -> list[dict]:
    """One ``Organization`` per center named by a patient."""
    centers = sorted({c for c in dataset["patients"]["center"].to_list() if c is not None})
    return [{"resourceType": "Organization", "id": organization_id(c), "name": c} for c in centers]


def patients(dataset: Dataset) -> list[dict]:
    """One ``Patient`` per patients row."""
    out = []
    for row in dataset["patients"].rows(named=True):
        out.append(compact({
            "resourceType": "Patient", "id": patient_id(row["patient_id"]),
            "extension": [extension("synthetic", "Boolean", row.get("synthetic")),
                          extension("race-ethnicity", "String", row.get("race_ethnicity"))],
            "identifier": [identifier("patient_id", row["patient_id"])],
            "gender": GENDER[row["sex"]],
            "birthDate": row["birth_date"],
            "managingOrganization": reference(organization_id(row["center"])) if row["center"] else None,
        }))
    return out


def cno_conditions(dataset: Dataset) -> list[dict]:
    """One CNO ``Condition`` per patient, with onset and diagnosis dates."""
    out = []
    for row in dataset["patients"].rows(named=True):
        out.append(compact({
            "resourceType": "Condition", "id": resource_id("patients/cno", row["patient_id"]),
            "category": [codeable(CATEGORY_DIAGNOSIS)],
            "code": codeable(CNO, "conditions", "cno"),
            "subject": reference(patient_id(row["patient_id"])),
            "onsetDateTime": date_text(row["onset_date"]),
            "recordedDate": date_text(row["diagnosis_date"]),
        }))
    return out
