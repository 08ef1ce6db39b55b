"""Imaging studies and the lesions they show, as FHIR.

A study is an ``ImagingStudy`` (status available, ``started`` the study date, the study id as
identifier). Its modality is *not* ``ImagingStudy.modality``: that element is a Coding bound to
DICOM modality codes, which are not in the confirmed code list, so the modality goes in
``procedureCode`` as text (``bone_scintigraphy``) and no ``series`` is written (a series needs a
coded modality and a DICOM UID cnotrack does not have).

A lesion is a ``BodyStructure``, one per lesion followed across studies as the exchange format
matches lesions (rules 1-4, the engine's ``lesion_fates``) chained over the patient's studies in
date order (``lesion_chains``: study k matched to study k-1, inactive rows included; a lesion
absent from a study in between is two). Its id is named by the key of the lesion's first row
(``uuid5`` of ``lesions/body-structure`` and study_id, bone, side, segment), its identifiers the
``lesion_id``s its rows carry. Its ``location`` is the bone (SNOMED CT where confirmed, the name
as text), its ``locationQualifier`` the side (SNOMED CT laterality) and the segment (text), from
the lesion's first study. Each lesion row is an ``Observation`` of that study (``derivedFrom``)
about that BodyStructure (``focus``): ``bodySite`` the bone, and components for side, segment
and ``lesion_id`` as given in that study (what the import reads back: a row's own values, which
may differ from the lesion's first row), activity, grade and symptomatic. A lesion the study did
not assess (``activity`` ``not_assessed``, format 1.1) is an Observation without a finding: its
``dataAbsentReason`` and its activity component's are ``not-performed`` (DataAbsentReason, R4)
with the text ``not_assessed``, which the import reads back.
"""

from __future__ import annotations

from ...engine.lesion_tracking import NOT_ASSESSED
from ...exchange import Dataset
from .elements import codeable, compact, date_text, identifier
from .ids import reference, resource_id
from .lesion_chains import FIRST, SITE, lesion_chains
from .names import LESION_FINDING
from .patient import patient_id

__all__ = ["FINDING_COMPONENTS", "body_structure_id", "body_structures", "imaging_studies", "lesion_findings"]

#: lesions column -> the component that holds it in a lesion finding
FINDING_COMPONENTS = ("side", "segment", "activity", "grade", "symptomatic", "lesion_id")


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


def _lesions_in_order(dataset: Dataset) -> list[dict]:
    """Every lesions row with its study's ``patient_id`` and ``date`` and its lesion's identity
    (``FIRST``, from ``lesion_chains``), by study date, study id and site."""
    chains = lesion_chains(dataset).select("study_id", *SITE, "patient_id", "date", *FIRST)
    rows = dataset["lesions"].join(chains, on=["study_id", *SITE], how="inner", nulls_equal=True)
    return rows.sort("date", "study_id", *SITE, nulls_last=False).rows(named=True)


def body_structure_id(row: dict) -> str:
    """The resource id of the BodyStructure of a lesions row's lesion: named by the key of the
    lesion's first row (``FIRST``), so that it is the same on every export of the same data."""
    return resource_id("lesions/body-structure", *(row[name] for name in FIRST))


def body_structures(dataset: Dataset) -> list[dict]:
    """One ``BodyStructure`` per lesion, located as in the lesion's first study; its identifiers
    are the ``lesion_id``s its rows carry, in the order first seen."""
    rows = _lesions_in_order(dataset)
    lesion_ids: dict[str, list[str]] = {}
    for row in rows:
        ids = lesion_ids.setdefault(body_structure_id(row), [])
        if row["lesion_id"] is not None and row["lesion_id"] not in ids:
            ids.append(row["lesion_id"])
    out: dict[str, dict] = {}
    for row in rows:
        rid = body_structure_id(row)
        if rid in out:
            continue
        out[rid] = compact({
            "resourceType": "BodyStructure", "id": rid,
            "identifier": [identifier("lesion_id", lid) for lid in lesion_ids[rid]],
            "location": codeable(row["bone"], "bones", row["bone"]),
            "locationQualifier": [codeable(row["side"], "laterality", row["side"]), codeable(row["segment"])],
            "patient": reference(patient_id(row["patient_id"])),
        })
    return list(out.values())


def lesion_findings(dataset: Dataset) -> list[dict]:
    """One ``Observation`` per lesions row, about its BodyStructure and derived from its study."""
    out = []
    for row in _lesions_in_order(dataset):
        values = {
            "side": {"valueCodeableConcept": codeable(row["side"], "laterality", row["side"])},
            "segment": {"valueCodeableConcept": codeable(row["segment"])},
            "activity": ({"dataAbsentReason": codeable(NOT_ASSESSED, "absent", NOT_ASSESSED)}
                         if row["activity"] == NOT_ASSESSED else {"valueCodeableConcept": codeable(row["activity"])}),
            "grade": {"valueInteger": row["grade"]},
            "symptomatic": {"valueBoolean": row["symptomatic"]},
            "lesion_id": {"valueString": row["lesion_id"]},
        }
        out.append(compact({
            "resourceType": "Observation",
            "id": resource_id("lesions", row["study_id"], row["bone"], row["side"], row["segment"]),
            "status": "final",
            "code": codeable(LESION_FINDING),
            "subject": reference(patient_id(row["patient_id"])),
            "focus": [reference(body_structure_id(row))],
            "effectiveDateTime": date_text(row["date"]),
            # a lesion the study did not assess: no finding, the reason said at both levels
            "dataAbsentReason": codeable(NOT_ASSESSED, "absent", NOT_ASSESSED) if row["activity"] == NOT_ASSESSED
            else None,
            "bodySite": codeable(row["bone"], "bones", row["bone"]),
            "derivedFrom": [reference(study_id(row["study_id"]))],
            "component": [{"code": codeable(name), **values[name]} for name in FINDING_COMPONENTS
                          if row[name] is not None],
        }))
    return out
