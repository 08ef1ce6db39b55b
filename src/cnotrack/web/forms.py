"""The fields of a record's form, read from the exchange format (one form per table).

The browser only helps (a date picker, a list of choices); what is valid is decided on the
server by the exchange format's rules, and the problems are shown beside their fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from ..exchange.records import cell_text
from ..exchange.schema import exchange_format
from ..vocabulary import anatomy, drugs, lab_tests

__all__ = ["FormField", "form_fields", "form_values", "record_title"]

TITLES = {"patients": "patient", "treatments": "treatment course", "assessments": "visit (assessment)",
          "labs": "laboratory result", "imaging": "imaging study", "lesions": "lesion",
          "adverse_events": "adverse event", "diagnosis": "diagnostic findings", "chaq": "CHAQ answers"}


def record_title(table: str) -> str:
    return TITLES.get(table, table.replace("_", " "))


@dataclass
class FormField:
    name: str
    kind: str                      # text, date, select, datalist, textarea
    required: bool
    hint: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)   # (value, label)
    value: str = ""
    error: str = ""


def _choices(values: list[str], blank: bool = True) -> list[tuple[str, str]]:
    return ([("", "")] if blank else []) + [(v, v.replace("_", " ")) for v in values]


def form_fields(table: str, values: dict[str, Any], problems: list[Problem], *,
                patient_ids: list[str] = (), study_ids: list[str] = ()) -> list[FormField]:
    """The fields of ``table``'s form with the values given and each field's problems."""
    spec = exchange_format().table(table)
    errors: dict[str, list[str]] = {}
    for p in problems:
        errors.setdefault(p.column or "", []).append(p.message)
    out = []
    for c in spec.columns:
        f = FormField(c.name, "text", c.required, value=_shown(values.get(c.name)),
                      error="; ".join(errors.pop(c.name, [])))
        if c.references == "patients":
            f.kind, f.choices = "select", _choices(list(patient_ids))
        elif c.references == "imaging":
            f.kind, f.choices = "select", _choices(list(study_ids))
        elif c.type == "date":
            f.kind = "date"
        elif c.type == "partial_date":
            f.hint = "YYYY-MM-DD or YYYY-MM"
        elif c.type == "boolean":
            f.kind, f.choices = "select", [("", ""), ("yes", "yes"), ("no", "no")]
            f.value = {"true": "yes", "false": "no"}.get(f.value.lower(), f.value)
        elif c.type == "choice":
            f.kind, f.choices = "select", _choices(list(c.choices))
        elif c.type == "drug":
            f.kind, f.choices, f.hint = "datalist", _choices(sorted(d.name for d in drugs().drugs), False), "generic name"
        elif c.type == "bone":
            f.kind, f.choices = "datalist", _choices([b.name for b in anatomy().bones], False)
        elif c.type == "lab_test":
            f.kind, f.choices = "select", _choices([t.code for t in lab_tests().tests])
        elif c.type == "lab_unit":
            units = sorted({u for t in lab_tests().tests for u in t.units})
            f.kind, f.choices = "datalist", _choices(units, False)
        elif c.type == "lab_value":
            f.hint = "a number, or censored: <0.5, >200"
            if values.get("censor") and f.value and not f.value.startswith(("<", ">")):
                f.value = f"{values['censor']}{f.value}"
        elif c.type in ("number", "integer"):
            lo = "" if c.min is None else f"{c.min:g}"
            hi = "" if c.max is None else f"{c.max:g}"
            f.hint = ("whole number" if c.type == "integer" else "number") + (f", {lo} to {hi}" if lo or hi else "")
        elif c.type == "text" and c.name == "term":
            f.kind = "textarea"
        out.append(f)
    for column, messages in errors.items():  # problems of no single field (unknown fields)
        out.append(FormField(column or "record", "note", False, error="; ".join(messages)))
    return out


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    try:
        return cell_text(value) or ""
    except TypeError:
        return str(value)


def form_values(table: str, form: Any) -> dict[str, str]:
    """The record's values from a submitted form (only the table's columns)."""
    return {c: str(form.get(c) or "") for c in exchange_format().table(table).column_names if form.get(c) is not None}
