"""Visits, lab values and questionnaire answers as FHIR ``Observation`` resources.

A lab value (``labs`` row) is an Observation coded LOINC where ``codes.yaml`` confirms it (ESR,
CRP) and otherwise by the test's label as text; ``valueQuantity`` holds the value, its unit
(UCUM-coded where confirmed), and for a censored value (``<0.5``) the ``comparator``; the
reference limits are ``referenceRange.low``/``high``.

A visit (``assessments`` row) is a panel Observation (the visit itself, so that a visit with no
values survives) whose ``hasMember`` are one Observation per value: PGA and disease status as
text-coded categories, the VAS scores and CHAQ DI as ``valueQuantity`` (no unit: a score), the
signs as ``valueBoolean``, the active lesion count as ``valueInteger``. None has a confirmed
code, so each is named by text (``names.ASSESSMENT_VALUES``). CHAQ answers and the diagnostic
criteria inputs are one Observation per row with a ``component`` per answered column.
"""

from __future__ import annotations

from ...exchange import Dataset
from ...exchange.schema import exchange_format
from ...vocabulary import lab_tests
from .elements import codeable, compact, date_text, quantity
from .ids import reference, resource_id
from .names import ASSESSMENT_PANEL, ASSESSMENT_VALUES, CHAQ_ANSWERS, DIAGNOSIS_INPUTS
from .patient import patient_id

__all__ = ["assessment_observations", "component_value", "lab_observations", "row_observations"]

_VALUE = {"boolean": "valueBoolean", "integer": "valueInteger", "date": "valueDateTime"}


def component_value(column_type: str, value: object) -> dict:
    """``value[x]`` of a value of this exchange-format type."""
    if column_type == "number":
        return {"valueQuantity": {"value": value}}
    if column_type in _VALUE:
        return {_VALUE[column_type]: date_text(value) if column_type == "date" else value}
    return {"valueString": str(value)}


def _observation(oid: str, pid: str, code: str, day, **fields) -> dict:
    return compact({"resourceType": "Observation", "id": oid, "status": "final", "code": codeable(code),
                    "subject": reference(patient_id(pid)), "effectiveDateTime": date_text(day), **fields})


def assessment_observations(dataset: Dataset) -> list[dict]:
    """Per assessments row, the visit's panel Observation and one Observation per value."""
    spec = exchange_format().table("assessments")
    out = []
    for row in dataset["assessments"].rows(named=True):
        pid, day = row["patient_id"], row["date"]
        members = []
        for column, label in ASSESSMENT_VALUES.items():
            value = row.get(column)
            if value is None:
                continue
            kind = spec.column(column).type
            shaped = ({"valueCodeableConcept": codeable(value)} if kind == "choice"
                      else component_value(kind, value))
            members.append(_observation(resource_id("assessments", pid, day, column), pid, label, day, **shaped))
        panel = _observation(resource_id("assessments", pid, day), pid, ASSESSMENT_PANEL, day,
                             hasMember=[reference(m["id"]) for m in members])
        out += [panel, *members]
    return out


def _limit(value: float | None, unit: str) -> dict | None:
    """A reference limit in the value's unit (nothing when the row gives no limit)."""
    return None if value is None else quantity(value, unit, ucum=True)


def lab_observations(dataset: Dataset) -> list[dict]:
    """One ``Observation`` per labs row."""
    labels = {t.code: t.label for t in lab_tests().tests}
    out = []
    for row in dataset["labs"].rows(named=True):
        unit = row["unit"]
        out.append(compact({
            "resourceType": "Observation",
            "id": resource_id("labs", row["patient_id"], row["date"], row["test"]),
            "status": "final",
            "code": codeable(labels[row["test"]], "labs", row["test"]),
            "subject": reference(patient_id(row["patient_id"])),
            "effectiveDateTime": date_text(row["date"]),
            "valueQuantity": quantity(row["value"], unit, comparator=row.get("censor"), ucum=True),
            "referenceRange": [{"low": _limit(row["ref_low"], unit), "high": _limit(row["ref_high"], unit)}],
        }))
    return out


def row_observations(dataset: Dataset, table: str) -> list[dict]:
    """``chaq`` or ``diagnosis`` rows: one Observation each, a component per column with a value."""
    spec = exchange_format().table(table)
    name = {"chaq": CHAQ_ANSWERS, "diagnosis": DIAGNOSIS_INPUTS}[table]
    out = []
    for row in dataset[table].rows(named=True):
        components = [{"code": codeable(c.name), **component_value(c.type, row[c.name])}
                      for c in spec.columns if c.name not in ("patient_id", "date") and row[c.name] is not None]
        key = [row["patient_id"]] + ([row["date"]] if table == "chaq" else [])
        out.append(_observation(resource_id(table, *key), row["patient_id"], name, row.get("date"),
                                component=components))
    return out
