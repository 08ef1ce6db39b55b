"""A REDCap data dictionary read into ``Field``s: the CSV of the web interface or of the API,
or the API's metadata as JSON.

REDCap writes the dictionary's 18 columns with two spellings of their headers: the web
export's (``Variable / Field Name``, ``Form Name``, ...) and the API's (``field_name``,
``form_name``, ...); both read the same. A header that is neither is a problem, never guessed
around: RareLink's published dictionary starts with ``1`` where ``Variable / Field Name``
belongs, and that is reported as the cell it is (file, row 1, column A).

Choices are REDCap's ``code, label | code, label`` (the code runs to the first comma, the label
may hold commas); ``yesno`` and ``truefalse`` get REDCap's fixed choices; a calculation
(``calc``), an SQL query (``sql``) or slider labels (``slider``) are not choices.
"""

from __future__ import annotations

from ...errors import DatasetError, Problem
from ...exchange.reader import column_letter
from .project import Field
from .records import read_small_csv

__all__ = [
    "CHOICE_FIELD_TYPES", "DICTIONARY_COLUMNS", "FIELD_TYPES", "format_choices", "parse_choices",
    "parse_dictionary", "parse_dictionary_json",
]

#: the dictionary's columns: (API spelling, web export spelling), in REDCap's order
DICTIONARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("field_name", "Variable / Field Name"),
    ("form_name", "Form Name"),
    ("section_header", "Section Header"),
    ("field_type", "Field Type"),
    ("field_label", "Field Label"),
    ("select_choices_or_calculations", "Choices, Calculations, OR Slider Labels"),
    ("field_note", "Field Note"),
    ("text_validation_type_or_show_slider_number", "Text Validation Type OR Show Slider Number"),
    ("text_validation_min", "Text Validation Min"),
    ("text_validation_max", "Text Validation Max"),
    ("identifier", "Identifier?"),
    ("branching_logic", "Branching Logic (Show field only if...)"),
    ("required_field", "Required Field?"),
    ("custom_alignment", "Custom Alignment"),
    ("question_number", "Question Number (surveys only)"),
    ("matrix_group_name", "Matrix Group Name"),
    ("matrix_ranking", "Matrix Ranking?"),
    ("field_annotation", "Field Annotation"),
)
#: the columns a dictionary cannot do without
_REQUIRED = ("field_name", "form_name", "field_type", "field_label")
#: either spelling, case and surrounding spaces aside -> the API spelling
_COLUMN_OF = {spelling.casefold(): api for api, web in DICTIONARY_COLUMNS for spelling in (api, web)}
_WEB_OF = dict(DICTIONARY_COLUMNS)

#: REDCap's field types
FIELD_TYPES = frozenset({"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse",
                         "calc", "sql", "slider", "file", "descriptive"})
#: the types whose choices column holds ``code, label | ...``
CHOICE_FIELD_TYPES = frozenset({"dropdown", "radio", "checkbox"})
_FIXED_CHOICES = {"yesno": (("1", "Yes"), ("0", "No")), "truefalse": (("1", "True"), ("0", "False"))}


def parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    """``"1, Female | 2, Male"`` -> ``(("1", "Female"), ("2", "Male"))``.

    Choices are separated by ``|`` (or a line break, which older dictionaries used); the code
    runs to the first comma and the label is the rest, so a label may hold commas. Raises
    ``ValueError`` naming the choice when one has no comma, an empty code or label, or repeats
    a code."""
    choices: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in text.replace("\r\n", "|").replace("\n", "|").split("|"):
        if not item.strip():
            continue
        code, comma, label = item.partition(",")
        code, label = code.strip(), label.strip()
        if not comma or not code or not label:
            raise ValueError(f"the choice {item.strip()!r} is not 'code, label'")
        if code in seen:
            raise ValueError(f"the code {code!r} is given twice")
        seen.add(code)
        choices.append((code, label))
    return tuple(choices)


def format_choices(choices: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """The choices column text of ``choices``, as REDCap writes it: ``"1, Female | 2, Male"``."""
    return " | ".join(f"{code}, {label}" for code, label in choices)


def parse_dictionary(data: bytes, source: str) -> dict[str, Field]:
    """The fields of a data dictionary CSV (web or API header spelling; UTF-8 with or without
    BOM; ``,``, ``;`` or tab delimited), in dictionary order. Every problem (a header that is
    missing, unknown or repeated, a field named twice, an unknown field type, choices that do
    not parse) is collected and raised at once as a ``DatasetError``."""
    problems: list[Problem] = []
    rows = read_small_csv(data, source, problems)
    if rows is None:
        raise DatasetError(problems, source)
    if not rows:
        if not problems:
            problems.append(Problem(source, None, None, None,
                                    "the data dictionary is empty; export it from REDCap "
                                    "(Project Setup > Data Dictionary) and try again"))
        raise DatasetError(problems, source)
    (_, header), body = rows[0], rows[1:]
    columns = _header_columns(header, source, problems)
    if not set(_REQUIRED) <= set(columns.values()):
        raise DatasetError(problems, source)  # without its header, no row can be read as a field
    items = [(row, {columns[i]: cell for i, cell in enumerate(cells) if i in columns})
             for row, cells in body if any(cell.strip() for cell in cells)]
    for row, cells in body:
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
            problems.append(Problem(source, row, column_letter(len(header) + 1), cells[len(header)],
                                    f"this row has {len(cells)} cells but the header only {len(header)}; "
                                    "quote cells that hold the delimiter"))
    return _fields(items, source, problems)


def parse_dictionary_json(items: list[dict], source: str) -> dict[str, Field]:
    """The fields of the API's metadata export (``content=metadata``, JSON: a list of objects
    with the API's keys), in its order. Keys the API may add in later versions are ignored; a
    missing key is an empty cell. ``row`` is the 1-based item."""
    problems: list[Problem] = []
    if not isinstance(items, list):
        raise DatasetError([Problem(source, None, None, type(items).__name__,
                                    "the metadata is not a JSON list of fields")], source)
    rows: list[tuple[int, dict[str, str]]] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(source, index, None, type(item).__name__,
                                    f"item {index} of the metadata is not an object with the API's keys"))
            continue
        cells = {}
        for key, value in item.items():
            if key in _WEB_OF:
                if value is not None and not isinstance(value, str):
                    problems.append(Problem(source, index, key, repr(value),
                                            f"item {index}: {key} must be a string"))
                cells[key] = value or ""
        rows.append((index, cells))
    return _fields(rows, source, problems)


def _header_columns(header: list[str], source: str, problems: list[Problem]) -> dict[int, str]:
    """The API name of each known header cell, by position; problems for the others."""
    columns: dict[int, str] = {}
    where: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _COLUMN_OF.get(cell.strip().casefold())
        letter = column_letter(index + 1)
        if name is None:
            if index == 0:
                problems.append(Problem(source, 1, "A", cell,
                                        f"row 1, column A of the data dictionary holds {cell!r}; it must be "
                                        f"the header 'Variable / Field Name' (or 'field_name' in the API's "
                                        f"spelling): write that header into the cell and read the file again"))
            else:
                problems.append(Problem(source, 1, letter, cell,
                                        f"column {letter}'s header {cell!r} is not a data dictionary column; "
                                        f"REDCap's are {', '.join(repr(w) for _, w in DICTIONARY_COLUMNS)} "
                                        f"(or the API's {', '.join(a for a, _ in DICTIONARY_COLUMNS)})"))
        elif name in where:
            problems.append(Problem(source, 1, letter, cell,
                                    f"column {letter} repeats the header of column "
                                    f"{column_letter(where[name] + 1)} ({_WEB_OF[name]!r}); keep one of them"))
        else:
            columns[index], where[name] = name, index
    for name in _REQUIRED:
        # a broken first cell is already reported as the cell it is
        if name not in where and not (name == "field_name" and 0 not in columns):
            problems.append(Problem(source, 1, None, None,
                                    f"the data dictionary has no column {_WEB_OF[name]!r} (or {name!r}); "
                                    f"export the whole dictionary from REDCap"))
    return columns


def _fields(items: list[tuple[int, dict[str, str]]], source: str, problems: list[Problem]) -> dict[str, Field]:
    """The fields of the dictionary rows ``items`` (row number, API column -> cell)."""
    fields: dict[str, Field] = {}
    for row, cells in items:
        field = _field(row, cells, source, problems)
        if field is None:
            continue
        if field.name in fields:
            problems.append(Problem(source, row, "field_name", field.name,
                                    f"the field {field.name!r} is defined twice (rows {fields[field.name].row} "
                                    f"and {row}); REDCap field names are unique: rename or remove one"))
            continue
        fields[field.name] = field
    if problems:
        raise DatasetError(problems, source)
    return fields


def _field(row: int, cells: dict[str, str], source: str, problems: list[Problem]) -> Field | None:
    """One field of a dictionary row, or None (with problems) when it cannot be one."""
    def cell(name: str) -> str:
        return (cells.get(name) or "").strip()

    name, form, field_type = cell("field_name"), cell("form_name"), cell("field_type").lower()
    found = len(problems)
    if not name:
        problems.append(Problem(source, row, "field_name", None,
                                "this row has no field name; give the field a variable name or remove the row"))
    if not form:
        problems.append(Problem(source, row, "form_name", None,
                                f"the field {name!r} has no form name; name the instrument it belongs to"))
    if field_type not in FIELD_TYPES:
        problems.append(Problem(source, row, "field_type", cells.get("field_type") or None,
                                f"the field {name!r} has an unknown field type; REDCap's are "
                                f"{', '.join(sorted(FIELD_TYPES))}"))
    choices: tuple[tuple[str, str], ...] = _FIXED_CHOICES.get(field_type, ())
    text = cell("select_choices_or_calculations")
    if field_type in CHOICE_FIELD_TYPES:
        try:
            choices = parse_choices(text)
        except ValueError as error:
            problems.append(Problem(source, row, "select_choices_or_calculations", text,
                                    f"the choices of {field_type} field {name!r} do not parse: {error}; "
                                    f"write them as 'code, label | code, label'"))
        else:
            if not choices:
                problems.append(Problem(source, row, "select_choices_or_calculations", None,
                                        f"the {field_type} field {name!r} has no choices; "
                                        f"write them as 'code, label | code, label'"))
            elif field_type == "checkbox":
                _check_checkbox_codes(name, choices, row, source, problems)
    if len(problems) > found:
        return None
    return Field(
        name=name, form=form, field_type=field_type, label=cells.get("field_label") or "",
        choices=choices, validation=cell("text_validation_type_or_show_slider_number") or None,
        minimum=cell("text_validation_min") or None, maximum=cell("text_validation_max") or None,
        required=cell("required_field").lower() == "y", identifier=cell("identifier").lower() == "y",
        row=row,
    )


def _check_checkbox_codes(name: str, choices: tuple[tuple[str, str], ...], row: int, source: str,
                          problems: list[Problem]) -> None:
    """Two codes of a checkbox that export as the same ``field___code`` column are a problem."""
    probe = Field(name, "", "checkbox", "")
    column_of: dict[str, str] = {}
    for code, _ in choices:
        column = probe.checkbox_column(code)
        if column in column_of:
            problems.append(Problem(source, row, "select_choices_or_calculations", code,
                                    f"the checkbox codes {column_of[column]!r} and {code!r} of {name!r} both "
                                    f"export as the column {column!r}; give them codes that differ in a "
                                    f"letter or digit"))
        column_of[column] = code
