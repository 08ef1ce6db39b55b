"""A first mapping for a project cnotrack has never seen, drafted from its data dictionary.

``draft_mapping(fields)`` reads the field names, labels and choices and proposes one block per
cnotrack table it recognises (patients, treatments, assessments, one labs block per test,
imaging, lesions, adverse events, and the other tables of the exchange format whose names a
form carries), with ``codes`` where a choice's label is a value of cnotrack's vocabularies.
What it is unsure of carries a ``# review:`` comment saying what to check or fill; the user
reviews the draft, never imports it blind. The draft is YAML that ``load_mapping`` reads, or
whose review notes name what it lacks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ...exchange.schema import ColumnSpec, TableSpec, exchange_format
from ...vocabulary import anatomy, drugs, lab_tests, normalise_key
from .mapping import CODED_TYPES, field_choices
from .project import Field

__all__ = ["draft_mapping"]

#: words of a form's name (or its fields') that say which table it holds
_FORM_WORDS = {
    "patients": r"demograph|patient|personal|enrol|baseline_data|registration",
    "treatments": r"medic|treat|drug|therap",
    "assessments": r"visit|assess|follow|clinical|exam",
    "imaging": r"imag|mri|scan|scintig|radiol|x.?ray",
    "lesions": r"lesion|site|focus|foci",
    "adverse_events": r"adverse|\bae\b|_ae|side.?effect|safety",
}
#: per column, words of a field's name or label that say it holds that column
_COLUMN_WORDS = {
    "sex": r"\bsex\b|gender|sesso|geschlecht",
    "birth_date": r"birth|\bdob\b|born",
    "onset_date": r"onset|first symptom|symptoms? start",
    "diagnosis_date": r"diagnos.*date|date.*diagnos",
    "drug": r"drug|medication|medicine|agent|farmaco|\bmed\b",
    "start_date": r"start|begin|initiat",
    "stop_date": r"stop|\bend\b|discontinu",
    "dose": r"\bdose\b|dosage",
    "dose_unit": r"dose.?unit|unit",
    "route": r"route|\bvia\b",
    "stop_reason": r"reason",
    "date": r"date|\bdata\b|datum",
    "pga": r"\bpga\b|physician.*global|global.*physician",
    "pga_vas": r"pga.*vas|physician.*vas",
    "patient_global_vas": r"patient.*global",
    "pain_vas": r"pain",
    "chaq_di": r"chaq",
    "modality": r"modality|technique|type of (study|imaging)",
    "bone": r"bone|\bsite\b|location",
    "side": r"side|laterality",
    "segment": r"segment",
    "activity": r"activ",
    "grade": r"grade|severity",
    "symptomatic": r"symptomatic",
    "term": r"term|event|description",
    "serious": r"serious",
    "outcome": r"outcome",
    "fever": r"fever",
}


@dataclass
class _Draft:
    lines: list[str] = field(default_factory=list)

    def add(self, text: str, note: str | None = None) -> None:
        self.lines.append(text + (f"  # review: {note}" if note else ""))


def _words(f: Field) -> str:
    return f"{f.name} {f.label}".lower().replace("_", " ")


def _matches(pattern: str, f: Field) -> bool:
    return re.search(pattern, _words(f)) is not None


def draft_mapping(fields: dict[str, Field]) -> str:
    """The draft mapping (YAML text with ``# review:`` comments) for a data dictionary."""
    fmt = exchange_format()
    record_id = next(iter(fields))
    forms = list(dict.fromkeys(f.form for f in fields.values()))
    by_form = {form: [f for f in fields.values() if f.form == form] for form in forms}
    draft = _Draft()
    draft.add("cnotrack_mapping: 1")
    draft.add("project: null", "the project's name, shown in the import's provenance")
    draft.add("blocks:")
    patients_form = _best_form(by_form, "patients", ("sex", "birth_date")) or fields[record_id].form
    _block(draft, fmt.table("patients"), patients_form, by_form[patients_form], record_id, fields,
           extra={"center": "redcap_data_access_group"},
           note_extra={"center": "the data access group names the center; map another field or remove this"})
    for table in ("treatments", "assessments", "imaging", "lesions", "adverse_events"):
        form = _best_form(by_form, table, ())
        if form is not None and form != patients_form:
            _block(draft, fmt.table(table), form, by_form[form], record_id, fields)
    _lab_blocks(draft, by_form, record_id)
    known = {"patients", "treatments", "assessments", "labs", "imaging", "lesions", "adverse_events"}
    for spec in fmt.tables:
        if spec.name in known:
            continue
        stem = spec.name.rstrip("s")
        form = next((f for f in forms if stem in f.lower()), None)
        if form is not None:
            _block(draft, spec, form, by_form[form], record_id, fields)
    return "\n".join(draft.lines) + "\n"


def _best_form(by_form: dict[str, list[Field]], table: str, columns: tuple[str, ...]) -> str | None:
    """The form whose name says ``table``, else the one with most fields that say ``columns``."""
    pattern = _FORM_WORDS[table]
    named = [form for form in by_form if re.search(pattern, form.lower().replace("_", " ") + " " + form.lower())]
    if named:
        return named[0]
    scored = [(sum(any(_matches(_COLUMN_WORDS[c], f) for f in fs) for c in columns), form)
              for form, fs in by_form.items()]
    best = max(scored, default=(0, None))
    return best[1] if best[0] else None


def _block(draft: _Draft, spec: TableSpec, form: str, form_fields: list[Field], record_id: str,
           fields: dict[str, Field], *, extra: dict[str, str] | None = None,
           note_extra: dict[str, str] | None = None) -> None:
    draft.add(f"  - table: {spec.name}")
    draft.add(f"    form: {form}")
    draft.add("    columns:")
    used: set[str] = set()
    for column in spec.columns:
        if column.name == "patient_id":
            draft.add(f"      patient_id: {{field: {record_id}}}")
            continue
        if column.name == "study_id":
            note = "one study per record and event; use a study-id field if the form has one"
            draft.add("      study_id: {join: [" + record_id + ", redcap_event_name]}", note)
            continue
        if extra and column.name in extra:
            draft.add(f"      {column.name}: {{field: {extra[column.name]}}}", (note_extra or {}).get(column.name))
            continue
        candidate = _candidate(column, form_fields, used)
        if candidate is None:
            if column.required:
                draft.add(f"      # {column.name}: {{field: ...}}",
                          f"the required column {column.name} of {spec.name}: no field was recognised; "
                          "map it and remove the '#'")
            continue
        used.add(candidate.name)
        _column(draft, column, candidate)


def _candidate(column: ColumnSpec, form_fields: list[Field], used: set[str]) -> Field | None:
    pattern = _COLUMN_WORDS.get(column.name, re.escape(column.name.replace("_", " ")))
    for f in form_fields:
        if f.name in used or f.field_type in ("descriptive", "file", "calc") or not _matches(pattern, f):
            continue
        dated = (f.validation or "").startswith(("date", "datetime"))
        if column.type in ("date", "partial_date") and f.field_type == "text" and not dated:
            continue
        return f
    return None


def _column(draft: _Draft, column: ColumnSpec, f: Field) -> None:
    if f.field_type == "checkbox":
        draft.add(f"      # {column.name}: {{checked: {{field: {f.name}, code: ...}}}}",
                  f"{f.name} is a checkbox: pick the choice that means {column.name}, or use each_checked")
        return
    if f.field_type not in CODED_TYPES or column.type not in ("choice", "bone", "drug", "boolean", "lab_test"):
        draft.add(f"      {column.name}: {{field: {f.name}}}", None if f.name == column.name else f"from {f.label!r}")
        return
    codes, unmatched = {}, []
    for code, label in field_choices(f).items():
        value = _vocabulary_value(column, label)
        if value is None:
            unmatched.append(f"{code} ({label})")
        else:
            codes[code] = value
    if not codes:
        draft.add(f"      {column.name}: {{field: {f.name}}}",
                  f"no choice of {f.name} is a cnotrack value of {column.name}; add codes: {{...}}")
        return
    shown = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in codes.items())
    note = (f"no cnotrack value matches the choices {', '.join(unmatched)}; add them to codes"
            if unmatched else None)
    draft.add(f"      {column.name}: {{field: {f.name}, codes: {{{shown}}}}}", note)


def _vocabulary_value(column: ColumnSpec, label: str) -> str | None:
    """The cnotrack value a choice label names in the column's vocabulary, if any."""
    key = normalise_key(label)
    if column.type == "bone":
        return anatomy().lookup().get(key)
    if column.type == "drug":
        return drugs().lookup().get(key)
    if column.type == "lab_test":
        return lab_tests().lookup().get(key)
    if column.type == "boolean":
        return {"yes": "yes", "no": "no", "true": "yes", "false": "no", "si": "yes", "sì": "yes",
                "ja": "yes", "nein": "no", "oui": "yes", "non": "no"}.get(key)
    for choice in column.choices:
        if normalise_key(choice) == key:
            return choice
    aliases = {normalise_key(k): v for k, v in column.aliases.items()}
    return aliases.get(key)


def _lab_blocks(draft: _Draft, by_form: dict[str, list[Field]], record_id: str) -> None:
    """One labs block per field whose name or label names a lab test (``when`` that field)."""
    tests = lab_tests()
    lookup = tests.lookup()
    for form, form_fields in by_form.items():
        date = next((f for f in form_fields if (f.validation or "").startswith(("date", "datetime"))), None)
        for f in form_fields:
            if f.field_type not in ("text", "calc") or (f.validation or "").startswith(("date", "datetime")):
                continue
            words = [f.name, *re.split(r"[\s_()\[\],;:/]+", f.name + " " + f.label)]
            code = next((lookup[normalise_key(w)] for w in words if w and normalise_key(w) in lookup), None)
            if code is None:
                continue
            unit = tests.test(code).canonical_unit
            draft.add("  - table: labs")
            draft.add(f"    form: {form}")
            draft.add(f"    when: [{f.name}]")
            draft.add("    columns:")
            draft.add(f"      patient_id: {{field: {record_id}}}")
            if date is None:
                draft.add("      # date: {field: ...}", f"the required column date of labs: no date field on {form}; "
                          "map the date of the sample and remove the '#'")
            else:
                draft.add(f"      date: {{field: {date.name}}}", f"the date of the {code} sample?")
            draft.add(f"      test: {{value: {code}}}")
            draft.add(f"      value: {{field: {f.name}}}", f"from {f.label!r}")
            draft.add(f"      unit: {{value: {json.dumps(unit)}}}", f"the unit {f.name} is recorded in")
