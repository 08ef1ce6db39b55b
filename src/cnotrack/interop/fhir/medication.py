"""Treatment courses and single administrations as FHIR medication resources.

A course (``treatments`` row) is a ``MedicationStatement``: the drug as
``medicationCodeableConcept`` (its generic name as text, ATC and SNOMED CT codes only where
``codes.yaml`` confirms them), ``effectivePeriod`` start/stop, ``status`` completed when the
course has a stop date and active otherwise, ``statusReason`` the stop reason as text, and
``dosage`` with the dose as ``doseAndRate.doseQuantity`` (the unit as text: doses are written
in free-text units, not UCUM) and the route as text (SNOMED CT route codes are not confirmed).
A single administration (``administrations``, format 1.1) is a ``MedicationAdministration``
(status completed, ``effectiveDateTime``, ``dosage.dose``, ``dosage.route``).
"""

from __future__ import annotations

import datetime as dt

from ...exchange import Dataset
from .elements import codeable, compact, date_text, quantity
from .ids import reference, resource_id
from .patient import patient_id

__all__ = [
    "administrations",
    "course_id",
    "course_starts",
    "medication_id",
    "medication_statements",
    "medications",
    "suspect_course",
]


def drug_concept(drug: str) -> dict:
    """The drug as a CodeableConcept: its generic name, and the codes ``codes.yaml`` confirms."""
    return codeable(drug, "drugs", drug)


def course_id(pid: str, drug: str, start: dt.date) -> str:
    """The resource id of the MedicationStatement of a course."""
    return resource_id("treatments", pid, drug, start)


def medication_id(drug: str) -> str:
    """The resource id of the Medication of a drug named by an adverse event without a course."""
    return resource_id("medications", drug)


def _dosage_text(dose: float | None, unit: str | None, route: str | None) -> str | None:
    parts = [] if dose is None else [repr(dose).removesuffix(".0")]  # every digit of the dose, as doseQuantity
    parts += [p for p in (unit, route) if p is not None]
    return " ".join(parts) or None


def medication_statements(dataset: Dataset) -> list[dict]:
    """One ``MedicationStatement`` per treatments row."""
    out = []
    for row in dataset["treatments"].rows(named=True):
        dose = quantity(row["dose"], row["dose_unit"])
        out.append(compact({
            "resourceType": "MedicationStatement",
            "id": course_id(row["patient_id"], row["drug"], row["start_date"]),
            "status": "completed" if row["stop_date"] is not None else "active",
            "statusReason": [codeable(row["stop_reason"])],
            "medicationCodeableConcept": drug_concept(row["drug"]),
            "subject": reference(patient_id(row["patient_id"])),
            "effectivePeriod": {"start": date_text(row["start_date"]), "end": date_text(row["stop_date"])},
            "dosage": [{"text": _dosage_text(row["dose"], row["dose_unit"], row["route"]),
                        "route": codeable(row["route"]),
                        "doseAndRate": [{"doseQuantity": dose}] if dose else []}],
        }))
    return out


def administrations(dataset: Dataset) -> list[dict]:
    """One ``MedicationAdministration`` per administrations row (format 1.1)."""
    out = []
    for row in dataset["administrations"].rows(named=True):
        out.append(compact({
            "resourceType": "MedicationAdministration",
            "id": resource_id("administrations", row["patient_id"], row["drug"], row["date"]),
            "status": "completed",
            "medicationCodeableConcept": drug_concept(row["drug"]),
            "subject": reference(patient_id(row["patient_id"])),
            "effectiveDateTime": date_text(row["date"]),
            "dosage": {"text": _dosage_text(row["dose"], row["dose_unit"], row["route"]),
                       "route": codeable(row["route"]), "dose": quantity(row["dose"], row["dose_unit"])},
        }))
    return out


def course_starts(dataset: Dataset) -> dict[tuple[str, str], list[dt.date]]:
    """(patient, drug) -> the start dates of that patient's courses of that drug, in order."""
    starts: dict[tuple[str, str], list[dt.date]] = {}
    for row in dataset["treatments"].select("patient_id", "drug", "start_date").rows():
        starts.setdefault((row[0], row[1]), []).append(row[2])
    return {key: sorted(days) for key, days in starts.items()}


def suspect_course(starts: dict[tuple[str, str], list[dt.date]], pid: str, drug: str, onset: dt.date) -> str | None:
    """The id of the course of ``drug`` an adverse event with this onset is attributed to: the
    latest that started on or before the onset, else the first; ``None`` without a course.
    ``starts`` is ``course_starts(dataset)``."""
    days = starts.get((pid, drug))
    if not days:
        return None
    before = [s for s in days if s <= onset]
    return course_id(pid, drug, before[-1] if before else days[0])


def medications(dataset: Dataset) -> list[dict]:
    """A ``Medication`` for each drug an adverse event names without a course of it (the
    event's ``suspectEntity`` must reference something)."""
    starts = course_starts(dataset)
    drugs = sorted({r["drug"] for r in dataset["adverse_events"].rows(named=True)
                    if r["drug"] is not None and suspect_course(starts, r["patient_id"], r["drug"],
                                                                r["onset_date"]) is None})
    return [{"resourceType": "Medication", "id": medication_id(d), "code": drug_concept(d)} for d in drugs]
