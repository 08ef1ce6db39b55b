"""The mapping file: which REDCap form and field becomes which cnotrack table and column.

A mapping is YAML (``docs/redcap.md``, "The mapping file"), read by ``load_mapping`` into a
``Mapping`` checked in two steps:

1. against itself and the exchange format (``load_mapping``): every key known (an unknown key
   is a problem naming it, ``blocks[2].columns.sex: unknown key 'cods'``), one source per
   column, tables and columns of the exchange format, every required column of a table mapped;
2. against one project's data dictionary (``check_mapping``): forms, events and fields exist,
   ``codes`` are choices of their field, ``each_checked`` and ``checked`` name checkboxes and
   their choices.

Each problem names the mapping file, the YAML line and the key path, the bad value and the fix,
and all of them are raised together as one ``DatasetError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ...datafiles import safe_yaml
from ...errors import DatasetError, Problem
from ...exchange.schema import exchange_format
from .project import PSEUDO_FIELDS, RedcapProject

__all__ = ["Block", "Checked", "Mapping", "Source", "check_mapping", "field_choices", "load_mapping",
           "project_events", "repeating_events", "CODED_TYPES"]

#: field types whose value is a choice code (a checkbox is coded too, one column per choice)
CODED_TYPES = ("radio", "dropdown", "yesno", "truefalse")
#: the choices REDCap gives yesno and truefalse fields (the dictionary lists none)
BUILT_IN_CHOICES = {"yesno": (("1", "Yes"), ("0", "No")), "truefalse": (("1", "True"), ("0", "False"))}
_SOURCE_KINDS = ("field", "join", "value", "checked", "checked_choice")
#: the largest mapping file read: a mapping is a few kilobytes, a larger file is not one
MAX_MAPPING_BYTES = 1 << 20


def _text(value: Any) -> Any:
    """A YAML scalar as the text the user meant: ``1`` -> ``"1"``, ``yes`` -> ``"yes"``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Checked(_Strict):
    """One choice of a checkbox field, read as yes (ticked) or no."""

    field: str
    code: str

    _code = field_validator("code", mode="before")(_text)


class Source(_Strict):
    """Where one cnotrack column's value comes from: exactly one of ``field``, ``join``,
    ``value``, ``checked`` and ``checked_choice``."""

    field: str | None = None
    join: tuple[str, ...] | None = None
    separator: str | None = None
    value: str | None = None
    checked: Checked | None = None
    checked_choice: Literal[True] | None = None
    codes: dict[str, str] | None = None

    _value = field_validator("value", mode="before")(_text)

    @field_validator("codes", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        return {_text(k): _text(v) for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_source(self) -> Source:
        given = [k for k in _SOURCE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            found = f"it has {' and '.join(given)}" if given else "it has none"
            raise ValueError(f"a column takes exactly one of {', '.join(_SOURCE_KINDS)}; {found}")
        if self.codes is not None and self.kind not in ("field", "checked_choice"):
            raise ValueError(f"codes apply to a field or checked_choice source, not to {self.kind}; remove codes")
        if self.separator is not None and self.kind != "join":
            raise ValueError("separator applies to join only; remove it")
        if self.join is not None and len(self.join) < 2:
            raise ValueError("join needs two fields or more; for one, use field")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _SOURCE_KINDS if getattr(self, k) is not None)

    @property
    def fields(self) -> tuple[str, ...]:
        """The REDCap fields (and pseudo fields) this source reads."""
        if self.field is not None:
            return (self.field,)
        if self.join is not None:
            return self.join
        if self.checked is not None:
            return (self.checked.field,)
        return ()


class Block(_Strict):
    """Rows of one cnotrack table made from the rows of one REDCap form."""

    table: str
    form: str
    events: tuple[str, ...] | None = None
    when: tuple[str, ...] | None = None
    each_checked: str | None = None
    columns: dict[str, Source]


class Mapping(_Strict):
    """A whole mapping file. ``label`` names it in problems (the file's name)."""

    cnotrack_mapping: Literal[1]
    project: str | None = None
    missing_codes: dict[str, str] = {}
    blocks: tuple[Block, ...]
    label: str = "mapping"
    lines: dict[str, int] = {}

    @field_validator("missing_codes", mode="before")
    @classmethod
    def _missing_as_text(cls, value: Any) -> Any:
        return {_text(k): _text(v) for k, v in value.items()} if isinstance(value, dict) else value

    def line(self, path: str) -> int | None:
        """The YAML line of a key path (``blocks[0].columns.sex``), or of its nearest parent."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rsplit(".", 1)[0] if "." in path else (path.rsplit("[", 1)[0] if "[" in path else "")
        return None

    def problem(self, path: str, value: str | None, message: str) -> Problem:
        return Problem(self.label, self.line(path), path, value, message)


# --------------------------------------------------------------------------- loading


def load_mapping(mapping: str | Path, *, label: str | None = None) -> Mapping:
    """Read a mapping from a file (a ``Path``, or a one-line string naming an existing file) or
    from YAML text; check it against the exchange format; raise ``DatasetError`` with every
    problem (each naming the file, the line and the key path)."""
    if isinstance(mapping, Path) or ("\n" not in mapping and ":" not in mapping and Path(mapping).is_file()):
        path = Path(mapping)
        label = label or path.name
        try:
            _check_size(path.stat().st_size, label)
            text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError([Problem(label, None, None, None, f"cannot read the mapping file ({exc}); "
                                        "give a UTF-8 YAML file")], source=label) from None
    else:
        text, label = mapping, label or "mapping"
        _check_size(len(text.encode("utf-8", "surrogatepass")), label)
    try:
        _refuse_aliases(text, label)
        data = safe_yaml(text)
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DatasetError([Problem(label, mark.line + 1 if mark else None, None, None,
                                    f"not valid YAML: {getattr(exc, 'problem', None) or exc}")],
                           source=label) from None
    if not isinstance(data, dict):
        raise DatasetError([Problem(label, 1, None, None, "a mapping file is a YAML mapping with the keys "
                                    "cnotrack_mapping, project, missing_codes and blocks")], source=label)
    inner = [Problem(label, lines.get(k), None, str(k), f"unknown key {k!r}; the keys here are "
                     + ", ".join(_known_keys(()))) for k in data if k in ("label", "lines")]
    data = {k: v for k, v in data.items() if k not in ("label", "lines")} | {"label": label, "lines": lines}
    try:
        result = Mapping.model_validate(data)
    except ValidationError as exc:
        raise DatasetError(inner + [_pydantic_problem(e, label, lines) for e in exc.errors()], source=label) from None
    if inner:
        raise DatasetError(inner, source=label)
    problems = format_problems(result)
    if problems:
        raise DatasetError(problems, source=label)
    return result


def _check_size(size: int, label: str) -> None:
    if size > MAX_MAPPING_BYTES:
        raise DatasetError([Problem(label, None, None, f"{size:,} bytes", f"the mapping file has {size:,} bytes, "
                                    f"more than the {MAX_MAPPING_BYTES:,} a mapping may have (one is a few "
                                    "kilobytes); is this the mapping file?")], source=label)


def _refuse_aliases(text: str, label: str) -> None:
    """A YAML anchor or alias (``&name``, ``*name``) is refused, on the parser's events (one pass,
    before anything is built): a mapping has no need of them, and nested aliases expand a few
    hundred bytes into millions of keys (a "billion laughs")."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise DatasetError([Problem(label, event.start_mark.line + 1, None, f"{sign}{anchor}",
                                        "the mapping uses a YAML anchor or alias (&name, *name); a mapping "
                                        "has no need of them: write each value out where it is used")],
                               source=label)


def _key_lines(node: yaml.Node | None, path: str = "") -> dict[str, int]:
    """Every key path of the YAML document -> its 1-based line."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            lines[sub] = key.start_mark.line + 1
            lines.update(_key_lines(value, sub))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = f"{path}[{i}]"
            lines[sub] = item.start_mark.line + 1
            lines.update(_key_lines(item, sub))
    return lines


def key_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _pydantic_problem(error: dict, label: str, lines: dict[str, int]) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    shown = value if isinstance(value, str) else None
    if kind == "extra_forbidden":
        parent, key = key_path(loc[:-1]), str(loc[-1])
        known = _known_keys(loc[:-1])
        message = f"unknown key {key!r}; the keys here are {', '.join(known)}"
        return Problem(label, lines.get(key_path(loc)), parent or None, key, message)
    path = key_path(loc)
    if kind == "missing":
        message = f"the key {loc[-1]!r} is missing; add it"
        path = key_path(loc[:-1]) or None
    elif kind == "literal_error" and loc == ("cnotrack_mapping",):
        message = "the mapping schema version must be 1 (cnotrack_mapping: 1)"
    else:
        message = error["msg"].removeprefix("Value error, ")
    line = lines.get(key_path(loc))
    while line is None and loc:
        loc = loc[:-1]
        line = lines.get(key_path(loc))
    return Problem(label, line, path, shown, message)


def _known_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] = Mapping
    if loc and loc[0] == "blocks":
        model = Block
        if len(loc) >= 4 and loc[2] == "columns":
            model = Checked if len(loc) >= 5 and loc[4] == "checked" else Source
    return [k for k in model.model_fields if k not in ("label", "lines")]


def format_problems(mapping: Mapping) -> list[Problem]:
    """What the mapping asks of the exchange format that it does not have."""
    fmt = exchange_format()
    problems: list[Problem] = []
    mapped: dict[str, set[str]] = {}
    for i, block in enumerate(mapping.blocks):
        where = f"blocks[{i}]"
        if block.table not in fmt.table_names:
            problems.append(mapping.problem(f"{where}.table", block.table,
                                            f"no such table; the tables are {', '.join(fmt.table_names)}"))
            continue
        spec = fmt.table(block.table)
        for name, source in block.columns.items():
            if name not in spec.column_names:
                problems.append(mapping.problem(f"{where}.columns.{name}", name,
                                                f"no such column in {spec.name}; its columns are "
                                                f"{', '.join(spec.column_names)}"))
            if source.checked_choice and block.each_checked is None:
                problems.append(mapping.problem(f"{where}.columns.{name}", None,
                                                "checked_choice needs the block's each_checked (the checkbox "
                                                "field whose ticked choices make the rows); add it"))
        if block.each_checked is not None and not any(s.checked_choice for s in block.columns.values()):
            problems.append(mapping.problem(f"{where}.each_checked", block.each_checked,
                                            "a block with each_checked makes one row per ticked choice; map "
                                            "a column to it with {checked_choice: true}"))
        missing = [c.name for c in spec.columns if c.required and c.name not in block.columns]
        if missing:
            problems.append(mapping.problem(f"{where}.columns", None,
                                            f"the required column{'s' if len(missing) > 1 else ''} "
                                            f"{', '.join(missing)} of {spec.name} "
                                            f"{'are' if len(missing) > 1 else 'is'} not mapped; map "
                                            "each to a field (or to {value: ...} where the project has "
                                            "one value for all rows)"))
        mapped.setdefault(block.table, set()).update(block.columns)
    for spec in fmt.tables:
        if spec.required and spec.name not in mapped:
            problems.append(mapping.problem("blocks", None, f"no block makes the required table {spec.name}; "
                                            f"add one (table: {spec.name}, form: ..., columns: ...)"))
    return problems


# --------------------------------------------------------------------------- against a project


def check_mapping(mapping: Mapping, project: RedcapProject) -> list[Problem]:
    """Every way ``mapping`` does not fit ``project``'s dictionary, forms and events."""
    problems: list[Problem] = []
    fields = project.fields
    forms = project.forms
    events = project_events(project)
    present = set(project.records.columns)
    for i, block in enumerate(mapping.blocks):
        where = f"blocks[{i}]"
        if block.form not in forms:
            problems.append(mapping.problem(f"{where}.form", block.form,
                                            f"no such form in {project.name}; its forms are {', '.join(forms)}"))
        for j, event in enumerate(block.events or ()):
            if event not in events:
                hint = f"its events are {', '.join(events)}" if events else "it is a classic project: remove events"
                problems.append(mapping.problem(f"{where}.events[{j}]", event, f"no such event; {hint}"))
        for j, name in enumerate(block.when or ()):
            problems.extend(_field_problems(mapping, project, f"{where}.when[{j}]", name, pseudo=False))
        if block.each_checked is not None:
            problems.extend(_checkbox_problems(mapping, project, f"{where}.each_checked", block.each_checked))
        for column, source in block.columns.items():
            path = f"{where}.columns.{column}"
            if source.checked is not None:
                problems.extend(_checkbox_problems(mapping, project, f"{path}.checked.field",
                                                   source.checked.field, source.checked.code))
                continue
            for name in source.fields:
                sub = f"{path}.field" if source.field is not None else f"{path}.join"
                found = _field_problems(mapping, project, sub, name, pseudo=True)
                problems.extend(found)
                if found or name in PSEUDO_FIELDS:
                    if name in PSEUDO_FIELDS and name not in present:
                        problems.append(mapping.problem(sub, name, f"the records have no {name} column"))
                    continue
                field = fields[name]
                if field.field_type != "checkbox" and name not in present:
                    problems.append(mapping.problem(sub, name, f"the records have no column {name} (a "
                                                    f"{field.field_type} field, or one left out of the export); "
                                                    "export it with the records or map another field"))
                    continue
                if field.field_type == "checkbox":
                    problems.append(mapping.problem(sub, name, "a checkbox field has one column per choice; use "
                                                    "{checked: {field: ..., code: ...}} or the block's "
                                                    "each_checked"))
                if field.form != block.form and repeating_events(project, field.form) is not None:
                    problems.append(mapping.problem(sub, name, f"the field is on the repeating form {field.form}; "
                                                    f"only a block of form {field.form} can read it"))
            if source.codes is not None:
                coded = block.each_checked if source.checked_choice else source.field
                if coded in fields:
                    choices = field_choices(fields[coded])
                    if choices:
                        for code in source.codes:
                            if code not in choices:
                                problems.append(mapping.problem(f"{path}.codes", code,
                                                                f"not a choice of {coded}; its choices are "
                                                                + _choice_list(choices)))
    return problems


def _field_problems(mapping: Mapping, project: RedcapProject, path: str, name: str, *, pseudo: bool) -> list[Problem]:
    if name in project.fields or (pseudo and name in PSEUDO_FIELDS):
        return []
    hint = f" or one of {', '.join(PSEUDO_FIELDS[:4])}" if pseudo else ""
    close = [f for f in project.fields if f.lower() == name.lower()]
    did = f" (did you mean {close[0]}?)" if close else ""
    return [mapping.problem(path, name, f"no such field in the data dictionary of {project.name}{did}; "
                            f"give a field name from it{hint}")]


def _checkbox_problems(mapping: Mapping, project: RedcapProject, path: str, name: str,
                       code: str | None = None) -> list[Problem]:
    found = _field_problems(mapping, project, path, name, pseudo=False)
    if found:
        return found
    field = project.fields[name]
    if field.field_type != "checkbox":
        return [mapping.problem(path, name, f"the field is a {field.field_type}, not a checkbox; use "
                                "{field: ...} for it")]
    choices = field_choices(field)
    if code is not None and code not in choices:
        return [mapping.problem(path.rsplit(".", 1)[0] + ".code", code,
                                f"not a choice of {name}; its choices are {_choice_list(choices)}")]
    absent = [field.checkbox_column(c) for c in ([code] if code is not None else choices)
              if field.checkbox_column(c) not in project.records.columns]
    if absent:
        return [mapping.problem(path, name, f"the records have no column {', '.join(absent)}; export the "
                                "checkbox with the records")]
    return []


def field_choices(field) -> dict[str, str]:
    """A coded field's choices, code -> label (yesno and truefalse have REDCap's own)."""
    choices = field.choices or BUILT_IN_CHOICES.get(field.field_type, ())
    return dict(choices)


def _choice_list(choices: dict[str, str]) -> str:
    return ", ".join(f"{c} ({label})" for c, label in choices.items())


def repeating_events(project: RedcapProject, form: str) -> set[str | None] | None:
    """The events in which ``form`` is a repeating instrument (``{None}`` in a classic project),
    or None where it never repeats: from the project's repeating settings, and from the records
    (a row whose ``redcap_repeat_instrument`` is the form)."""
    events = {event for event, repeated in project.repeating if repeated == form}
    records = project.records
    if "redcap_repeat_instrument" in records.columns:
        rows = records.filter(records["redcap_repeat_instrument"] == form)
        if rows.height:
            if "redcap_event_name" in records.columns:
                events |= set(rows["redcap_event_name"].unique().to_list())
            else:
                events.add(None)
    return events or None


def project_events(project: RedcapProject) -> list[str]:
    """The project's events: those read, else those its records name."""
    if project.events:
        return [e.unique_name for e in project.events]
    if "redcap_event_name" in project.records.columns:
        return project.records["redcap_event_name"].drop_nulls().unique(maintain_order=True).to_list()
    return []
