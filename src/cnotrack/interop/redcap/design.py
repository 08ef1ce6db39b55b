"""A REDCap project that captures exactly what cnotrack evaluates, generated from the exchange
format (``exchange/format.yaml``), so that a table or column added there appears here without
an edit: the data dictionary, the repeating-instruments file, and the mapping that reads the
project's records back into cnotrack's tables.

How the format becomes a project (``docs/redcap.md``, "Creating a REDCap project for cnotrack"):

- one instrument per table, named as the table; ``patients`` is the record's own form and every
  other table a repeating instrument (one instance per row);
- the record id field ``record_id`` is the patient (``patients.patient_id``, and in every other
  table the column that references ``patients``); a table that reaches its patient through
  another table (``lesions`` -> ``imaging``) keeps that reference as a text field
  (``lesions_study_id``), and its rows belong to the record of that patient;
- a field is named as its column; where two tables share a column name, the first table of the
  format to have it keeps the plain name and the others take ``<form>_<column>`` (``drug`` of
  treatments, ``adverse_events_drug``), so that a table a later format version adds never renames a
  field of a project in use (``administrations_dose``); a name still taken becomes
  ``<form>_form_<column>``; a name longer than ``FIELD_NAME_LIMIT`` keeps the start of each word
  (``vertebral_clavicular_or_sternal_lesion`` -> ``verte_clavi_or_stern_lesio``). Every name is
  checked: lower-case letters, digits and ``_``, starting with a letter, unique across the
  project, never a ``<form>_complete`` or ``redcap_*`` pseudo field. The Field Annotation of
  each field names its ``table.column``;
- vocabularies are coded choices (``choice``: its choices, ``drug``/``bone``/``lab_test``: the
  whole vocabulary, ``lab_unit``: every unit of every test): the code is the value lower-cased,
  every character other than a letter or digit made ``_`` (``zoledronic acid`` ->
  ``zoledronic_acid``, ``mg/dL`` -> ``mg_dl``), so a code is its own ``___code`` checkbox
  suffix and holds no comma or pipe; two values with the same code take ``_2``, ``_3`` in
  vocabulary order. Up to ``RADIO_LIMIT`` choices are radio buttons, more a dropdown;
- booleans are ``yesno``; dates ``text`` + ``date_ymd``; numbers ``text`` + ``number`` and
  integers ``text`` + ``integer``, with the format's min/max; a partial date (``birth_date``,
  ``YYYY-MM``) and a lab value that may be censored (``<0.5``) are plain ``text`` with a field
  note, because REDCap has no validation for either: cnotrack checks them when the records are
  read back, like a CSV cell.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ...errors import CnotrackError
from ...exchange.schema import ColumnSpec, TableSpec, exchange_format
from ...vocabulary import anatomy, drugs, lab_tests
from .project import PSEUDO_FIELDS

__all__ = [
    "DICTIONARY_HEADER",
    "FIELD_NAME_LIMIT",
    "RADIO_LIMIT",
    "RECORD_ID",
    "DesignedField",
    "DesignedForm",
    "choice_code",
    "cnotrack_dictionary",
    "cnotrack_mapping",
    "project_design",
    "repeating_instruments",
    "write_dictionary",
]

#: the record id field of the generated project: the patient
RECORD_ID = "record_id"

#: the longest field name the design makes. REDCap accepts up to 100 characters but its Online
#: Designer advises at most 26, so that statistics packages (and checkbox columns) keep the name
FIELD_NAME_LIMIT = 26

#: a coded field with at most this many choices is a radio field, with more a dropdown
RADIO_LIMIT = 8

#: REDCap's rule for field (and instrument) names
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

#: the 18 columns of a data dictionary, spelled as REDCap's web export spells them
DICTIONARY_HEADER = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?", "Custom Alignment",
    "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation",
)

_NOTES = {
    "date": "YYYY-MM-DD",
    "partial_date": "YYYY-MM-DD, or YYYY-MM when only the month is known",
    "lab_value": "a number with a dot (2.5); a value below or above the measurable range as <0.5 or >200",
    "lab_unit": "a unit of this test",
}


@dataclass(frozen=True)
class DesignedField:
    """One field of the generated project and the exchange-format column it holds."""

    name: str
    form: str
    table: str
    column: str
    field_type: str                              # text, radio, dropdown, yesno
    label: str
    choices: tuple[tuple[str, str, str], ...] = ()  # (code, label, cnotrack value)
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    note: str = ""
    required: bool = False

    @property
    def codes(self) -> dict[str, str]:
        """REDCap code -> cnotrack value (``1`` -> ``yes`` for a yesno field)."""
        if self.field_type == "yesno":
            return {"1": "yes", "0": "no"}
        return {code: value for code, _, value in self.choices}

    def dictionary_row(self) -> list[str]:
        """The field as the 18 cells of a data dictionary row."""
        choices = " | ".join(f"{code}, {label}" for code, label, _ in self.choices)
        return [self.name, self.form, "", self.field_type, self.label, choices, self.note, self.validation,
                self.minimum, self.maximum, "", "", "y" if self.required else "", "", "", "", "",
                f"cnotrack {self.table}.{self.column}"]


@dataclass(frozen=True)
class DesignedForm:
    """One instrument: a table of the exchange format.

    ``record_column`` is the table's column that is the record id (the patient); a table without
    one has ``parent``: (its column, the table that column references), whose row gives the patient.
    """

    name: str
    table: str
    repeating: bool
    fields: tuple[DesignedField, ...]
    record_column: str | None = None
    parent: tuple[str, str] | None = None

    @property
    def complete_field(self) -> str:
        return f"{self.name}_complete"


def choice_code(value: str) -> str:
    """The REDCap code of a vocabulary value: lower-cased, every character other than an ASCII
    letter or digit made ``_``. It is its own checkbox suffix (``Field.checkbox_column``)."""
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in value.lower())


@cache
def project_design() -> tuple[DesignedForm, ...]:
    """The generated project: its instruments in the format's table order, each with its fields."""
    fmt = exchange_format()
    names = _field_names(fmt.tables)
    forms = []
    for table in fmt.tables:
        record_column, parent = _record_of(table)
        fields: list[DesignedField] = []
        if table.name == "patients":
            fields.append(DesignedField(RECORD_ID, table.name, table.name, record_column or "",
                                        "text", "Patient ID", note="patient_id: unique in the registry"))
        for column in table.columns:
            if column.name == record_column:
                continue
            fields.append(_designed_field(table, column, names[table.name, column.name]))
        forms.append(DesignedForm(table.name, table.name, table.name != "patients", tuple(fields),
                                  record_column, parent))
    _check(forms)
    return tuple(forms)


def _record_of(table: TableSpec) -> tuple[str | None, tuple[str, str] | None]:
    """The column of ``table`` that is the patient, or the column through which its rows reach
    their patient (a reference to a table keyed by that one column, which names the patient)."""
    fmt = exchange_format()
    if table.name == "patients":
        return table.key[0], None
    direct = [c.name for c in table.columns if c.references == "patients"]
    if len(direct) == 1:
        return direct[0], None
    for column in table.columns:
        if column.references and column.references != "patients":
            parent = fmt.table(column.references)
            if len(parent.key) == 1 and any(c.references == "patients" for c in parent.columns):
                return None, (column.name, parent.name)
    raise CnotrackError(f"exchange format: table {table.name!r} has no column that references patients "
                        "(nor one that references a table keyed by one column that does), so its rows "
                        "belong to no REDCap record; add a patient_id column that references patients")


def _field_names(tables: tuple[TableSpec, ...]) -> dict[tuple[str, str], str]:
    """(table, column) -> REDCap field name, by the rules of the module's docstring."""
    columns = [(t.name, c.name) for t in tables for c in t.columns if c.name != _record_of(t)[0]]
    first: dict[str, str] = {}  # column -> the first table (in the format's order) that has it
    for table, column in columns:
        first.setdefault(column, table)
    taken = {RECORD_ID, *PSEUDO_FIELDS, *(f"{t.name}_complete" for t in tables)}
    plain = set(first)
    names: dict[tuple[str, str], str] = {}
    for table, column in columns:
        candidates = [_identifier(column)] if first[column] == table else []
        candidates += [f"{table}_{_identifier(column)}", f"{table}_form_{_identifier(column)}"]
        name = next((n for n in (_shorten(c) for c in candidates)
                     if n not in taken and n not in plain - {column}), None)
        number = 2
        while name is None or name in taken:
            suffix = f"_{number}"
            name = _shorten(candidates[-1], FIELD_NAME_LIMIT - len(suffix)) + suffix
            number += 1
        taken.add(name)
        names[table, column] = name
    return names


def _identifier(column: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", column.lower())
    return name if name[:1].isalpha() else f"f_{name}"


def _shorten(name: str, limit: int = FIELD_NAME_LIMIT) -> str:
    """``name`` within ``limit`` characters: every word cut to the longest common length that fits."""
    if len(name) <= limit:
        return name
    words = name.split("_")
    cuts = ("_".join(w[:cap] for w in words) for cap in range(max(map(len, words)), 0, -1))
    return next((c for c in cuts if len(c) <= limit), name[:limit]).rstrip("_")


def _designed_field(table: TableSpec, column: ColumnSpec, name: str) -> DesignedField:
    label = column.name.replace("_", " ")
    label = label[:1].upper() + label[1:]
    base = dict(name=name, form=table.name, table=table.name, column=column.name, label=label,
                required=column.required, note=_NOTES.get(column.type, ""))
    if column.references:
        base["note"] = f"the {column.name} of a row of {column.references}"
    if column.type == "boolean":
        return DesignedField(field_type="yesno", **base)
    if column.type == "date":
        return DesignedField(field_type="text", validation="date_ymd", **base)
    if column.type in ("number", "integer"):
        return DesignedField(field_type="text", validation=column.type, minimum=_bound(column.min),
                             maximum=_bound(column.max), **base)
    vocabulary = _vocabulary(column)
    if vocabulary:
        choices = _coded(vocabulary)
        kind = "radio" if len(choices) <= RADIO_LIMIT else "dropdown"
        return DesignedField(field_type=kind, choices=choices, **base)
    return DesignedField(field_type="text", **base)   # id, text, partial_date, lab_value


def _bound(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _vocabulary(column: ColumnSpec) -> list[tuple[str, str]]:
    """(cnotrack value, label) of every value a coded column may take; empty for other columns."""
    if column.type == "choice":
        return [(value, _choice_label(column, value)) for value in column.choices]
    if column.type == "drug":
        return [(d.name, d.name) for d in drugs().drugs]
    if column.type == "bone":
        return [(b.name, b.label) for b in anatomy().bones]
    if column.type == "lab_test":
        return [(t.code, f"{t.label} ({t.code})") for t in lab_tests().tests]
    if column.type == "lab_unit":
        units = dict.fromkeys(u for t in lab_tests().tests for u in t.units)
        return [(u, u) for u in units]
    return []


def _choice_label(column: ColumnSpec, value: str) -> str:
    """A choice's value with spaces for ``_``; a short one (``F``, ``sc``) followed by its first
    worded alias (``F (female)``, ``sc (subcutaneous)``)."""
    label = value.replace("_", " ")
    if len(value) <= 3:
        worded = [a for a, v in column.aliases.items() if v == value and re.fullmatch(r"[a-z][a-z ]+", a)
                  and len(a) > len(value)]
        if worded:
            label = f"{label} ({worded[0]})"
    return label


def _coded(vocabulary: list[tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    out: list[tuple[str, str, str]] = []
    used: set[str] = set()
    for value, label in vocabulary:
        code, number = choice_code(value), 2
        while code in used:
            code, number = f"{choice_code(value)}_{number}", number + 1
        used.add(code)
        # REDCap splits a choice at its first comma and the choices at every pipe
        out.append((code, label.replace("|", "/"), value))
    return tuple(out)


def _check(forms: list[DesignedForm]) -> None:
    """Every name follows REDCap's rules; a broken rule is a defect of this module, said plainly."""
    seen: set[str] = {f.complete_field for f in forms}
    wrong: list[str] = []
    for form in forms:
        if not FIELD_NAME.match(form.name):
            wrong.append(f"instrument {form.name!r}: not lower-case letters, digits and _")
        for f in form.fields:
            if not FIELD_NAME.match(f.name) or len(f.name) > FIELD_NAME_LIMIT or f.name in seen:
                wrong.append(f"field {f.name!r} ({f.table}.{f.column}): invalid, too long or taken")
            seen.add(f.name)
            for code, label, _ in f.choices:
                if choice_code(code) != code or "|" in label:
                    wrong.append(f"field {f.name!r}: choice code {code!r} does not survive REDCap's rules")
    if wrong:
        raise CnotrackError("REDCap design: " + "; ".join(wrong))


# --------------------------------------------------------------------------- the files

def cnotrack_dictionary() -> bytes:
    """The data dictionary CSV (web-export headers, UTF-8, ``\\n`` line ends) of the project."""
    rows = [list(DICTIONARY_HEADER)]
    rows += [f.dictionary_row() for form in project_design() for f in form.fields]
    return _csv(rows)


def repeating_instruments() -> bytes:
    """The repeating-instruments CSV (``form_name,custom_form_label``) to upload in REDCap's
    "Repeating instruments and events" page; each instance is labelled by its key fields."""
    rows = [["form_name", "custom_form_label"]]
    for form in project_design():
        if form.repeating:
            table = exchange_format().table(form.table)
            by_column = {f.column: f.name for f in form.fields}
            rows.append([form.name, " ".join(f"[{by_column[k]}]" for k in table.key if k in by_column)])
    return _csv(rows)


def cnotrack_mapping() -> str:
    """The mapping YAML (``interop.redcap.mapping``) that reads this project's records back into
    cnotrack's tables: one block per instrument, every coded field with its codes."""
    fmt = exchange_format()
    lines = [
        "# How `cnotrack redcap import` reads a REDCap project made by `cnotrack redcap dictionary`",
        f"# (exchange format version {fmt.version}): one block per instrument, codes -> cnotrack values.",
        "cnotrack_mapping: 1",
        "blocks:",
    ]
    for form in project_design():
        # every row of the form is a row of the table, even one that holds nothing but its patient
        lines += [f"  - table: {_yaml(form.table)}", f"    form: {_yaml(form.name)}", f"    when: [{RECORD_ID}]",
                  "    columns:"]
        if form.record_column:
            lines.append(f"      {_yaml(form.record_column)}: {{field: {RECORD_ID}}}")
        for f in form.fields:
            if f.name == RECORD_ID:
                continue
            source = f"field: {_yaml(f.name)}"
            if f.codes:
                codes = ", ".join(f"{_yaml(c)}: {_yaml(v)}" for c, v in f.codes.items())
                source += f", codes: {{{codes}}}"
            lines.append(f"      {_yaml(f.column)}: {{{source}}}")
    return "\n".join(lines) + "\n"


def write_dictionary(target: str | Path, *, repeating: str | Path | None = None,
                     mapping: str | Path | None = None) -> list[Path]:
    """Write the data dictionary to ``target`` and, when given, the repeating-instruments file
    and the mapping; return the paths written (``cnotrack redcap dictionary``)."""
    written = []
    for path, content in ((target, cnotrack_dictionary()), (repeating, repeating_instruments()),
                          (mapping, cnotrack_mapping().encode("utf-8"))):
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written.append(path)
    return written


def _csv(rows: list[list[str]]) -> bytes:
    """Rows quoted as REDCap quotes its exports: a cell with a space, comma, quote or line break
    in double quotes (a quote doubled), any other cell bare."""
    out = io.StringIO()
    for row in rows:
        out.write(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' if re.search(r'[\s,"]', c) else c
                           for c in row))
        out.write("\n")
    return out.getvalue().encode("utf-8")


_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def _yaml(text: str) -> str:
    """``text`` as a YAML scalar: bare when it is a plain word YAML reads as that text, else quoted."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)
