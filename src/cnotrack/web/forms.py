"""The fields of a record's form, read from the exchange format (one form per table).

The browser only helps (a date picker, a list of choices, a type-ahead list of identifiers);
what is valid is decided on the server by the exchange format's rules, and the problems are
shown beside their fields and listed, with links to them, at the top of the form.

Each field is labelled in words from ``field_labels.yaml`` (data, one entry per column of
every table of the exchange format; the CHAQ items come from the instrument's definition).
A patient or imaging-study identifier is a text input with a type-ahead list searched on the
server (``picker_pages``), never a list of every record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem
from ..exchange.records import cell_text
from ..exchange.schema import exchange_format
from ..instruments import get_instrument
from ..vocabulary import anatomy, drugs, lab_tests

__all__ = ["FormField", "field_label", "field_labels", "form_fields", "form_values", "record_title"]

TITLES = {"patients": "patient", "treatments": "treatment course", "assessments": "visit (assessment)",
          "labs": "laboratory result", "imaging": "imaging study", "lesions": "lesion",
          "adverse_events": "adverse event", "diagnosis": "diagnostic findings", "chaq": "CHAQ answers"}
#: The type-ahead search of an identifier column that references another table (``picker_pages``).
PICKERS = {"patients": "/pick/patients", "imaging": "/pick/studies"}


def record_title(table: str) -> str:
    return TITLES.get(table, table.replace("_", " "))


@lru_cache(maxsize=1)
def field_labels() -> dict[str, dict[str, str]]:
    """Per table of the exchange format, per column, the words its form field shows."""
    data = yaml.safe_load((Path(__file__).with_name("field_labels.yaml")).read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for table, columns in (data.get("tables") or {}).items():
        columns = dict(columns)
        instrument = columns.pop("instrument", None)
        labels = {i.key: i.label for i in get_instrument(instrument).inputs} if instrument else {}
        out[table] = {**labels, **{k: str(v) for k, v in columns.items()}}
    return out


def field_label(table: str, column: str) -> str:
    """The words of ``column`` of ``table`` ("Date of the visit"); the column's name with
    spaces for a column the labels file does not know (a test keeps that from happening)."""
    return field_labels().get(table, {}).get(column) or column.replace("_", " ")


@dataclass
class FormField:
    name: str
    kind: str                      # text, date, select, datalist, textarea, picker, fixed, note
    required: bool
    hint: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)   # (value, label)
    value: str = ""
    error: str = ""
    label: str = ""
    picker: str = ""               # the search URL of a picker field

    @property
    def id(self) -> str:
        return f"f-{self.name}"

    @property
    def described_by(self) -> str:
        """The ids of the field's error and hint, for ``aria-describedby``."""
        return " ".join(i for i, on in ((f"err-{self.name}", self.error), (f"hint-{self.name}", self.hint)) if on)


def _choices(values: list[str], blank: bool = True) -> list[tuple[str, str]]:
    return ([("", "")] if blank else []) + [(v, v.replace("_", " ")) for v in values]


def form_fields(table: str, values: dict[str, Any], problems: list[Problem], *,
                fixed_center: str | None = None) -> list[FormField]:
    """The fields of ``table``'s form with the values given and each field's problems.
    ``fixed_center``: the center of an investigator, shown and not editable on a patient's form
    (the server refuses a patient of another center whatever the form sends)."""
    spec = exchange_format().table(table)
    errors: dict[str, list[str]] = {}
    for p in problems:
        errors.setdefault(p.column or "", []).append(p.message)
    out = []
    for c in spec.columns:
        f = FormField(c.name, "text", c.required, value=_shown(values.get(c.name)),
                      error="; ".join(errors.pop(c.name, [])), label=field_label(table, c.name))
        if c.references in PICKERS:
            f.kind, f.picker = "picker", PICKERS[c.references]
            f.hint = "type part of the identifier to see matching ones"
        elif table == "patients" and c.name == "center" and fixed_center is not None:
            f.kind, f.value = "fixed", fixed_center
            f.hint = "your center: you add and edit the patients of your center only"
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
        out.append(FormField(column or "record", "note", False, error="; ".join(messages),
                             label=field_label(table, column) if column else "The record"))
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
