"""Imaging studies and the lesions they show, as FHIR.

A study is an ``ImagingStudy`` (status available, ``started`` the study date, the study id as
identifier). Its modality is *not* ``ImagingStudy.modality``: that element is a Coding bound to
DICOM modality codes, which are not in the confirmed code list, so the modality goes in
``procedureCode`` as text (``bone_scintigraphy``) and no ``series`` is written (a series needs a
coded modality and a DICOM UID cnotrack does not have).

A lesion is a ``BodyStructure``, one per lesion followed across studies: the lesion's
``lesion_id`` when the data gives one, otherwise its site (bone, side, segment) in the patient.
Its ``location`` is the bone (SNOMED CT where confirmed, the name as text), its
``locationQualifier`` the side (SNOMED CT laterality) and the segment (text), from the lesion's
first study. Each lesion row is an ``Observation`` of that study (``derivedFrom``) about that
BodyStructure (``focus``): ``bodySite`` the bone, and components for side and segment as seen
in that study, activity, grade and symptomatic.
"""

from __future__ import annotations

from ...exchange import Dataset
from .elements import codeable, compact, date_text, identifier
from .ids import reference, resource_id
from .names import LESION_FINDING
from .patient import patient_id

__all__ = ["FINDING_COMPONENTS", "body_structures", "imaging_studies", "lesion_findings", "lesion_identity"]

#: lesions column -> the component that holds it in a lesion finding
FINDING_COMPONENTS = ("side", "segment", "activity", "grade", "symptomatic")


def study_id(sid: str) -> str:
    """The resource id of the ImagingStudy of study ``sid``."""
    return resource_id("imaging", sid)


def imaging_studies(dataset: Dataset) -> list[dict]:
    """One ``ImagingStudy`` per imaging row."""
    return [compact({
        "resourceType": "ImagingStudy", "id": study_id(row["study_id"]),
        "identifier": [identifier("study_id", row["study_id"])],
        "status": "available",
        "subject": reference(patient_id(row["patient_id"])),
        "started": date_text(row["date"]),
        "procedureCode": [codeable(row["modality"])],
    }) for row in dataset["imaging"].rows(named=True)]


def lesion_identity(pid: str, row: dict) -> tuple:
    """What makes two lesion rows one lesion: the patient and ``lesion_id``, else the site."""
    if row["lesion_id"] is not None:
        return (pid, "lesion_id", row["lesion_id"])
    return (pid, "site", row["bone"], row["side"], row["segment"])


def _lesions_in_order(dataset: Dataset) -> list[tuple[dict, dict]]:
    """(study row, lesion row) pairs, by study date, study id and site."""
    studies = {r["study_id"]: r for r in dataset["imaging"].rows(named=True)}
    pairs = [(studies[r["study_id"]], r) for r in dataset["lesions"].rows(named=True)]
    return sorted(pairs, key=lambda p: (p[0]["date"], p[0]["study_id"], p[1]["bone"], p[1]["side"] or "",
                                        p[1]["segment"] or ""))


def body_structure_id(identity: tuple) -> str:
    """The resource id of the BodyStructure of a lesion identity (``lesion_identity``)."""
    return resource_id("lesions/body-structure", *identity)


def body_structures(dataset: Dataset) -> list[dict]:
    """One ``BodyStructure`` per lesion identity, located as in the lesion's first study."""
    out: dict[tuple, dict] = {}
    for study, row in _lesions_in_order(dataset):
        identity = lesion_identity(study["patient_id"], row)
        if identity in out:
            continue
        out[identity] = compact({
            "resourceType": "BodyStructure", "id": body_structure_id(identity),
            "identifier": [identifier("lesion_id", row["lesion_id"])],
            "location": codeable(row["bone"], "bones", row["bone"]),
            "locationQualifier": [codeable(row["side"], "laterality", row["side"]), codeable(row["segment"])],
            "patient": reference(patient_id(study["patient_id"])),
        })
    return list(out.values())


def lesion_findings(dataset: Dataset) -> list[dict]:
    """One ``Observation`` per lesions row, about its BodyStructure and derived from its study."""
    out = []
    for study, row in _lesions_in_order(dataset):
        identity = lesion_identity(study["patient_id"], row)
        values = {
            "side": {"valueCodeableConcept": codeable(row["side"], "laterality", row["side"])},
            "segment": {"valueCodeableConcept": codeable(row["segment"])},
            "activity": {"valueCodeableConcept": codeable(row["activity"])},
            "grade": {"valueInteger": row["grade"]},
            "symptomatic": {"valueBoolean": row["symptomatic"]},
        }
        out.append(compact({
            "resourceType": "Observation",
            "id": resource_id("lesions", row["study_id"], row["bone"], row["side"], row["segment"]),
            "status": "final",
            "code": codeable(LESION_FINDING),
            "subject": reference(patient_id(study["patient_id"])),
            "focus": [reference(body_structure_id(identity))],
            "effectiveDateTime": date_text(study["date"]),
            "bodySite": codeable(row["bone"], "bones", row["bone"]),
            "derivedFrom": [reference(study_id(row["study_id"]))],
            "component": [{"code": codeable(name), **values[name]} for name in FINDING_COMPONENTS
                          if row[name] is not None],
        }))
    return out
