"""Adverse events, manifestations, complications, biopsies and family history as FHIR.

An adverse event is an ``AdverseEvent`` (actuality actual; ``event`` the term as text; ``date``
the onset; ``seriousness`` coded Serious/Non-serious in the R4 code system, exactly as R4 spells
the codes; ``outcome`` as text, because cnotrack's outcomes (recovered, not_recovered...) are not
R4's codes; the grade, which R4 has no element for (``severity`` is mild/moderate/severe), as a
cnotrack extension; ``suspectEntity.instance`` the course of the drug, see
``medication.suspect_course``, or a Medication when there is no course).

A manifestation or comorbidity, and a complication, is a text-coded ``Condition`` told apart by
its ``category`` text; a biopsy is a ``Procedure`` with the result as ``outcome`` text; a family
history row is a ``FamilyMemberHistory`` (``relationship`` as text: the v3 RoleCode codes are
not confirmed). Sites are ``bodySite`` concepts (``elements.site``); notes are ``note``.
"""

from __future__ import annotations

from ...exchange import Dataset
from ...exchange.schema import exchange_format
from .elements import codeable, compact, date_text, extension, site
from .ids import reference, resource_id
from .medication import course_starts, medication_id, suspect_course
from .names import BIOPSY, CATEGORY_COMPLICATION, CATEGORY_MANIFESTATION
from .patient import patient_id

__all__ = ["adverse_events", "biopsies", "complications", "family_history", "manifestations"]


def _note(text: str | None) -> list[dict]:
    return [] if text is None else [{"text": text}]


def adverse_events(dataset: Dataset) -> list[dict]:
    """One ``AdverseEvent`` per adverse_events row."""
    starts = course_starts(dataset)
    out = []
    for row in dataset["adverse_events"].rows(named=True):
        pid, drug = row["patient_id"], row["drug"]
        suspect = None
        if drug is not None:
            suspect = suspect_course(starts, pid, drug, row["onset_date"]) or medication_id(drug)
        serious = None if row["serious"] is None else ("yes" if row["serious"] else "no")
        out.append(compact({
            "resourceType": "AdverseEvent",
            "id": resource_id("adverse_events", pid, row["onset_date"], row["term"]),
            "extension": [extension("adverse-event-grade", "Integer", row["grade"])],
            "actuality": "actual",
            "event": codeable(row["term"]),
            "subject": reference(patient_id(pid)),
            "date": date_text(row["onset_date"]),
            "seriousness": codeable(serious and ("Serious" if serious == "yes" else "Non-serious"),
                                    "seriousness", serious),
            "outcome": codeable(row["outcome"]),
            "suspectEntity": [{"instance": reference(suspect)}] if suspect else [],
        }))
    return out


def _conditions(dataset: Dataset, table: str, column: str, category: str, day: str) -> list[dict]:
    key = exchange_format().table(table).key
    out = []
    for row in dataset[table].rows(named=True):
        out.append(compact({
            "resourceType": "Condition",
            "id": resource_id(table, *(row[k] for k in key)),
            "category": [codeable(category)],
            "code": codeable(row[column]),
            "bodySite": site(row.get("bone"), row.get("side")),
            "subject": reference(patient_id(row["patient_id"])),
            "onsetDateTime": date_text(row[day]),
            "note": _note(row["note"]),
        }))
    return out


def manifestations(dataset: Dataset) -> list[dict]:
    """One text-coded ``Condition`` per manifestations row (format 1.1)."""
    return _conditions(dataset, "manifestations", "condition", CATEGORY_MANIFESTATION, "onset_date")


def complications(dataset: Dataset) -> list[dict]:
    """One text-coded ``Condition`` per complications row (format 1.1), with its site."""
    return _conditions(dataset, "complications", "complication", CATEGORY_COMPLICATION, "date")


def biopsies(dataset: Dataset) -> list[dict]:
    """One ``Procedure`` per biopsies row (format 1.1): the site, and the result as ``outcome`` text."""
    return [compact({
        "resourceType": "Procedure",
        "id": resource_id("biopsies", row["patient_id"], row["date"], row["bone"], row["side"]),
        "status": "completed",
        "code": codeable(BIOPSY),
        "subject": reference(patient_id(row["patient_id"])),
        "performedDateTime": date_text(row["date"]),
        "bodySite": site(row["bone"], row["side"]),
        "outcome": codeable(row["result"]),
        "note": _note(row["note"]),
    }) for row in dataset["biopsies"].rows(named=True)]


def family_history(dataset: Dataset) -> list[dict]:
    """One ``FamilyMemberHistory`` per family_history row (format 1.1)."""
    return [compact({
        "resourceType": "FamilyMemberHistory",
        "id": resource_id("family_history", row["patient_id"], row["condition"], row["relative"]),
        "status": "completed",
        "patient": reference(patient_id(row["patient_id"])),
        "relationship": codeable(row["relative"]),
        "condition": [{"code": codeable(row["condition"])}],
        "note": _note(row["note"]),
    }) for row in dataset["family_history"].rows(named=True)]
