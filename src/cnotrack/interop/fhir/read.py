"""A FHIR Bundle that cnotrack wrote, read back into a dataset.

The import is the export's inverse, resource by resource (see the export modules for where each
field goes): it recognises text-coded resources by the texts in ``names``, resolves references
by ``fullUrl``, and gives the typed tables of the exchange format. It reads what cnotrack
writes; a Bundle from elsewhere imports only as far as it follows the same shapes, and every
resource that lacks what a row needs is reported, all at once, as a ``DatasetError``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from ...errors import DatasetError, Problem
from ...exchange import Dataset
from ...exchange.dataset import empty_table
from ...exchange.schema import exchange_format
from ...vocabulary import lab_tests
from .elements import extension_value, site_of, text_of
from .imaging import FINDING_COMPONENTS
from .names import (ASSESSMENT_PANEL, ASSESSMENT_VALUES, BIOPSY, CATEGORY_COMPLICATION, CATEGORY_DIAGNOSIS,
                    CATEGORY_MANIFESTATION, CHAQ_ANSWERS, DIAGNOSIS_INPUTS, LESION_FINDING)
from .patient import GENDER

__all__ = ["dataset_from_fhir"]

_SEX = {gender: sex for sex, gender in GENDER.items()}
_COLUMN_OF = {label: column for column, label in ASSESSMENT_VALUES.items()}


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text[:10])


def _value(resource: dict, column_type: str) -> object:
    """The value of an Observation or component written by ``observations.component_value``."""
    if "valueCodeableConcept" in resource:
        return text_of(resource["valueCodeableConcept"])
    if "valueQuantity" in resource:
        return resource["valueQuantity"].get("value")
    if "valueDateTime" in resource:
        return _date(resource["valueDateTime"])
    for key in ("valueBoolean", "valueInteger", "valueString"):
        if key in resource:
            return resource[key]
    return None


def _identifier(resource: dict) -> str | None:
    return next((i.get("value") for i in resource.get("identifier", [])), None)


class _Reader:
    def __init__(self, bundle: dict) -> None:
        self.entries = [e.get("resource", {}) for e in bundle.get("entry", [])]
        self.by_url = {e.get("fullUrl"): e.get("resource", {}) for e in bundle.get("entry", [])}
        self.problems: list[Problem] = []
        self.rows: dict[str, list[dict]] = {name: [] for name in exchange_format().table_names}
        self.lab_codes = {t.label: t.code for t in lab_tests().tests}

    def resolve(self, reference: dict | None, where: tuple[int, str]) -> dict:
        target = self.by_url.get((reference or {}).get("reference"))
        if target is None:
            self.problem(where, str(reference), "the reference does not resolve inside the Bundle")
            return {}
        return target

    def problem(self, where: tuple[int, str], value: str | None, message: str) -> None:
        index, path = where
        self.problems.append(Problem("fhir", index, path, value, message))

    def patient_of(self, reference: dict | None, where: tuple[int, str]) -> str | None:
        pid = _identifier(self.resolve(reference, where))
        if pid is None:
            self.problem(where, str(reference), "the patient referenced has no patient_id identifier")
        return pid

    def drug_of(self, resource: dict) -> str | None:
        return text_of(resource.get("medicationCodeableConcept") or resource.get("code"))

    # ------------------------------------------------------------------ one method per resource type
    def read(self) -> None:
        for index, resource in enumerate(self.entries):
            method = getattr(self, f"read_{resource.get('resourceType')}", None)
            if method is not None:
                method(index, resource)

    def read_Patient(self, i: int, r: dict) -> None:
        organization = (self.resolve(r["managingOrganization"], (i, "managingOrganization"))
                        if "managingOrganization" in r else {})
        self.rows["patients"].append({
            "patient_id": _identifier(r), "sex": _SEX.get(r.get("gender")), "birth_date": r.get("birthDate"),
            "center": organization.get("name"), "synthetic": extension_value(r, "synthetic", "Boolean"),
            "race_ethnicity": extension_value(r, "race-ethnicity", "String"),
        })

    def read_Condition(self, i: int, r: dict) -> None:
        category = text_of((r.get("category") or [None])[0])
        pid = self.patient_of(r.get("subject"), (i, "subject"))
        if category == CATEGORY_DIAGNOSIS:
            self.rows.setdefault("_cno", []).append({"patient_id": pid, "onset_date": _date(r.get("onsetDateTime")),
                                                      "diagnosis_date": _date(r.get("recordedDate"))})
            return
        bone, side = site_of(r.get("bodySite", []))
        note = text_of((r.get("note") or [None])[0])
        if category == CATEGORY_MANIFESTATION:
            self.rows["manifestations"].append({"patient_id": pid, "condition": text_of(r.get("code")),
                                                "onset_date": _date(r.get("onsetDateTime")), "note": note})
        elif category == CATEGORY_COMPLICATION:
            self.rows["complications"].append({"patient_id": pid, "complication": text_of(r.get("code")),
                                               "date": _date(r.get("onsetDateTime")), "bone": bone, "side": side,
                                               "note": note})

    def read_MedicationStatement(self, i: int, r: dict) -> None:
        dosage = (r.get("dosage") or [{}])[0]
        dose = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity", {})
        period = r.get("effectivePeriod", {})
        self.rows["treatments"].append({
            "patient_id": self.patient_of(r.get("subject"), (i, "subject")), "drug": self.drug_of(r),
            "start_date": _date(period.get("start")), "stop_date": _date(period.get("end")),
            "dose": dose.get("value"), "dose_unit": dose.get("unit"), "route": text_of(dosage.get("route")),
            "stop_reason": text_of((r.get("statusReason") or [None])[0]),
        })

    def read_MedicationAdministration(self, i: int, r: dict) -> None:
        dosage = r.get("dosage", {})
        dose = dosage.get("dose", {})
        self.rows["administrations"].append({
            "patient_id": self.patient_of(r.get("subject"), (i, "subject")), "drug": self.drug_of(r),
            "date": _date(r.get("effectiveDateTime")), "dose": dose.get("value"), "dose_unit": dose.get("unit"),
            "route": text_of(dosage.get("route")),
        })

    def read_Observation(self, i: int, r: dict) -> None:
        name = text_of(r.get("code"))
        labs = self.lab_codes
        pid = self.patient_of(r.get("subject"), (i, "subject"))
        day = _date(r.get("effectiveDateTime"))
        if name == ASSESSMENT_PANEL:
            spec = exchange_format().table("assessments")
            row: dict = {"patient_id": pid, "date": day}
            for n, member_ref in enumerate(r.get("hasMember", [])):
                member = self.resolve(member_ref, (i, f"hasMember[{n}]"))
                column = _COLUMN_OF.get(text_of(member.get("code")))
                if column is not None:
                    row[column] = _value(member, spec.column(column).type)
            self.rows["assessments"].append(row)
        elif name in labs:
            quantity = r.get("valueQuantity", {})
            reference_range = (r.get("referenceRange") or [{}])[0]
            self.rows["labs"].append({
                "patient_id": pid, "date": day, "test": labs[name], "value": quantity.get("value"),
                "censor": quantity.get("comparator"), "unit": quantity.get("unit"),
                "ref_high": reference_range.get("high", {}).get("value"),
                "ref_low": reference_range.get("low", {}).get("value"),
            })
        elif name in (CHAQ_ANSWERS, DIAGNOSIS_INPUTS):
            table = "chaq" if name == CHAQ_ANSWERS else "diagnosis"
            spec = exchange_format().table(table)
            row = {"patient_id": pid, "date": day}
            for component in r.get("component", []):
                column = text_of(component.get("code"))
                if column in spec.column_names:
                    row[column] = _value(component, spec.column(column).type)
            self.rows[table].append(row)
        elif name == LESION_FINDING:
            self.read_finding(i, r)

    def read_finding(self, i: int, r: dict) -> None:
        study = self.resolve((r.get("derivedFrom") or [None])[0], (i, "derivedFrom"))
        structure = self.resolve((r.get("focus") or [None])[0], (i, "focus"))
        row = {"study_id": _identifier(study), "bone": text_of(r.get("bodySite")), "lesion_id": _identifier(structure)}
        values = {text_of(c.get("code")): _value(c, "") if "dataAbsentReason" not in c
                  else text_of(c["dataAbsentReason"]) for c in r.get("component", [])}  # not_assessed
        row.update({name: values.get(name) for name in FINDING_COMPONENTS})
        self.rows["lesions"].append(row)

    def read_ImagingStudy(self, i: int, r: dict) -> None:
        self.rows["imaging"].append({
            "patient_id": self.patient_of(r.get("subject"), (i, "subject")), "study_id": _identifier(r),
            "date": _date(r.get("started")), "modality": text_of((r.get("procedureCode") or [None])[0]),
        })

    def read_Procedure(self, i: int, r: dict) -> None:
        if text_of(r.get("code")) != BIOPSY:
            return
        bone, side = site_of(r.get("bodySite", []))
        self.rows["biopsies"].append({
            "patient_id": self.patient_of(r.get("subject"), (i, "subject")),
            "date": _date(r.get("performedDateTime")), "bone": bone, "side": side,
            "result": text_of(r.get("outcome")), "note": text_of((r.get("note") or [None])[0]),
        })

    def read_FamilyMemberHistory(self, i: int, r: dict) -> None:
        condition = (r.get("condition") or [{}])[0]
        self.rows["family_history"].append({
            "patient_id": self.patient_of(r.get("patient"), (i, "patient")),
            "condition": text_of(condition.get("code")), "relative": text_of(r.get("relationship")),
            "note": text_of((r.get("note") or [None])[0]),
        })

    def read_AdverseEvent(self, i: int, r: dict) -> None:
        suspect = (r.get("suspectEntity") or [None])[0]
        drug = self.drug_of(self.resolve(suspect["instance"], (i, "suspectEntity[0].instance"))) if suspect else None
        codes = [c.get("code") for c in (r.get("seriousness") or {}).get("coding", [])]
        self.rows["adverse_events"].append({
            "patient_id": self.patient_of(r.get("subject"), (i, "subject")), "onset_date": _date(r.get("date")),
            "term": text_of(r.get("event")), "grade": extension_value(r, "adverse-event-grade", "Integer"),
            "serious": True if "Serious" in codes else False if "Non-serious" in codes else None,
            "drug": drug, "outcome": text_of(r.get("outcome")),
        })

    # ------------------------------------------------------------------ the dataset
    def dataset(self) -> Dataset:
        cno = {row["patient_id"]: row for row in self.rows.pop("_cno", [])}
        for row in self.rows["patients"]:
            row.update({k: v for k, v in cno.get(row["patient_id"], {}).items() if k != "patient_id"})
        tables = {}
        for name, rows in self.rows.items():
            schema = empty_table(name).schema
            for n, row in enumerate(rows):
                for column in exchange_format().table(name).key:
                    spec = exchange_format().table(name).column(column)
                    if spec.required and row.get(column) is None:
                        self.problems.append(Problem(name, None, column, None,
                                                     f"row {n + 1} read from the Bundle has no {column}, which "
                                                     "the exchange format requires"))
            tables[name] = pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema,
                                        orient="row") if rows else empty_table(name)
        if self.problems:
            raise DatasetError(self.problems, source="FHIR Bundle")
        return Dataset(tables, source="FHIR Bundle")


def dataset_from_fhir(bundle: dict | str | Path) -> Dataset:
    """The dataset in a FHIR R4 Bundle that cnotrack exported (``fhir_bundle``), as a dict or
    a JSON file; ``DatasetError`` lists every resource that lacks what its row needs."""
    if not isinstance(bundle, dict):
        bundle = json.loads(Path(bundle).read_text("utf-8"))
    reader = _Reader(bundle)
    reader.read()
    return reader.dataset()
