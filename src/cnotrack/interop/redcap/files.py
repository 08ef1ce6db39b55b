"""A REDCap project read from the files REDCap exports (or the same content from its API): the
data dictionary, the flat records, the events, the designations (which forms each event
holds), the repeating instruments and events, the missing-data codes.

Each file is parsed on its own (``parse_*``), then ``project_from_content`` checks that they
belong together: every records column is the dictionary's, every event the records and the
designations name is an event of the project, every repeating form is a form. All problems of
all files are raised at once, as one ``DatasetError``.

A classic project's records may still carry ``redcap_event_name`` (some exports do); with no
events file, the events are taken from the records. With no repeating file, what repeats is
taken from the records: a form that has rows with ``redcap_repeat_instrument`` set repeats in
that event, and an event whose rows carry an instance without an instrument repeats as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import polars as pl

from ...errors import DatasetError, Problem
from ...exchange.reader import CLI_LIMITS, ReadLimits, too_large_file
from .dictionary import parse_choices, parse_dictionary, parse_dictionary_json
from .project import RECORD_ROW, Event, Field, RedcapProject
from .records import check_record_columns, read_records, read_small_csv

__all__ = [
    "parse_designations", "parse_events", "parse_missing_codes", "parse_repeating",
    "project_from_content", "read_project", "sniff_format",
]

Format = Literal["csv", "json"]
_ARM = re.compile(r"_arm_([0-9]+)$")
_INSTANCE = re.compile(r"^[1-9][0-9]*$")


def sniff_format(data: bytes) -> Format:
    """JSON when ``data`` starts with ``[`` or ``{`` (white space and a BOM aside), else CSV."""
    return "json" if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"[", b"{") else "csv"


def _rows(data: bytes, source: str, format: Format, problems: list[Problem]) -> list[tuple[int, dict[str, str]]] | None:
    """The rows of a small table file (CSV with a header, or JSON: a list of objects), each as
    header -> text (a JSON number becomes its text), with its row (CSV: header = 1; JSON: the
    1-based item); None (with a problem) when the file cannot be read as one."""
    if format == "json":
        try:
            items = json.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            problems.append(Problem(source, None, None, None, f"the file is not UTF-8 JSON ({error})"))
            return None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            problems.append(Problem(source, None, None, None, "the file is not a JSON list of objects"))
            return None
        return [(index, {str(k): "" if v is None else str(v) for k, v in item.items()})
                for index, item in enumerate(items, start=1)]
    rows = read_small_csv(data, source, problems)
    if rows is None:
        return None
    if not rows:
        return []
    (_, header), body = rows[0], rows[1:]
    names = [cell.strip() for cell in header]
    return [(row, dict(zip(names, cells))) for row, cells in body if any(c.strip() for c in cells)]


def _require(rows: list[tuple[int, dict[str, str]]], columns: tuple[str, ...], source: str,
             problems: list[Problem], what: str) -> bool:
    """Whether the rows have every one of ``columns`` (a problem for each missing)."""
    present = set(rows[0][1]) if rows else set(columns)
    missing = [c for c in columns if c not in present]
    for column in missing:
        problems.append(Problem(source, 1, column, None,
                                f"the {what} file has no column {column!r}; export it from REDCap again "
                                f"(its columns: {', '.join(columns)})"))
    return not missing


def parse_events(data: bytes, source: str, format: Format = "csv") -> list[Event]:
    """The events of a longitudinal project (REDCap's events export: ``event_name, arm_num,
    unique_event_name, ...``), in file order."""
    problems: list[Problem] = []
    events: list[Event] = []
    rows = _rows(data, source, format, problems)
    if rows is not None and _require(rows, ("event_name", "arm_num", "unique_event_name"), source, problems, "events"):
        seen: dict[str, int] = {}
        for row, cells in rows:
            name, arm = cells.get("unique_event_name", "").strip(), cells.get("arm_num", "").strip()
            if not name:
                problems.append(Problem(source, row, "unique_event_name", None,
                                        "this event has no unique event name; export the events again"))
                continue
            if name in seen:
                problems.append(Problem(source, row, "unique_event_name", name,
                                        f"the event {name!r} is listed twice (rows {seen[name]} and {row})"))
                continue
            if not arm.isdigit():
                problems.append(Problem(source, row, "arm_num", arm or None,
                                        f"the arm of event {name!r} is not a whole number (1, 2, ...)"))
                continue
            seen[name] = row
            events.append(Event(name, cells.get("event_name", "").strip(), int(arm)))
    if problems:
        raise DatasetError(problems, source)
    return events


def parse_designations(data: bytes, source: str, format: Format = "csv") -> dict[str, list[str]]:
    """Which forms each event holds (REDCap's instrument-event mappings: ``arm_num,
    unique_event_name, form``): event -> its forms, in file order."""
    problems: list[Problem] = []
    designations: dict[str, list[str]] = {}
    rows = _rows(data, source, format, problems)
    if rows is not None and _require(rows, ("unique_event_name", "form"), source, problems, "designations"):
        for row, cells in rows:
            event, form = cells.get("unique_event_name", "").strip(), cells.get("form", "").strip()
            if not event or not form:
                problems.append(Problem(source, row, "form" if event else "unique_event_name", None,
                                        "a designation names an event and a form; this row lacks one"))
                continue
            forms = designations.setdefault(event, [])
            if form not in forms:
                forms.append(form)
    if problems:
        raise DatasetError(problems, source)
    return designations


def parse_repeating(data: bytes, source: str, format: Format = "csv") -> set[tuple[str | None, str | None]]:
    """What repeats (REDCap's repeating instruments and events: ``event_name, form_name,
    custom_form_label``): (event or None in a classic project, form or None when the whole
    event repeats)."""
    problems: list[Problem] = []
    repeating: set[tuple[str | None, str | None]] = set()
    rows = _rows(data, source, format, problems)
    if rows is not None and _require(rows, ("form_name",), source, problems, "repeating instruments"):
        for row, cells in rows:
            event, form = cells.get("event_name", "").strip() or None, cells.get("form_name", "").strip() or None
            if event is None and form is None:
                problems.append(Problem(source, row, "form_name", None,
                                        "this row names neither an event nor a form; name what repeats"))
                continue
            repeating.add((event, form))
    if problems:
        raise DatasetError(problems, source)
    return repeating


def parse_missing_codes(text: str, source: str = "missing-data codes") -> dict[str, str]:
    """The project's missing-data codes (Project Setup > Additional customizations, or the API's
    ``missing_data_codes``): ``"UNK, Unknown | NA, Not applicable"`` -> ``{"UNK": "Unknown",
    "NA": "Not applicable"}``; empty text is none."""
    try:
        return dict(parse_choices(text or ""))
    except ValueError as error:
        raise DatasetError([Problem(source, None, None, text,
                                    f"the missing-data codes do not parse: {error}; write them as "
                                    f"'CODE, label | CODE, label'")], source) from None


def read_project(dictionary: Path, records: Path, *, events: Path | None = None,
                 designations: Path | None = None, repeating: Path | None = None,
                 missing_codes: str | None = None, name: str | None = None,
                 limits: ReadLimits = CLI_LIMITS) -> RedcapProject:
    """A project from the files REDCap exports (a ``.json`` file is read as JSON, any other as
    CSV): the data dictionary, the flat raw records, and for longitudinal or repeating projects
    the events, designations and repeating instruments files. All problems of all files are
    raised at once; each problem names its file. ``limits``: a file over ``max_file_bytes`` is
    not read, a records cell over ``max_cell_chars`` is a problem (see ``project_from_content``)."""
    paths = {"dictionary": dictionary, "records": records, "events": events,
             "designations": designations, "repeating": repeating}
    content: dict[str, bytes] = {}
    large: list[Problem] = []
    for part, path in paths.items():
        if path is None:
            continue
        path = Path(path)
        try:
            problem = too_large_file(path.name, path.stat().st_size, limits)
            if problem is None:
                content[part] = path.read_bytes()
            else:
                large.append(problem)
        except OSError as error:
            raise DatasetError([Problem(path.name, None, None, str(path),
                                        f"the file cannot be read ({error.strerror}); check the path")],
                               path.name) from None
    if large:
        raise DatasetError(large, Path(records).name)
    formats = {part: "json" if Path(path).suffix.lower() == ".json" else "csv"
               for part, path in paths.items() if path is not None}
    names = {part: Path(path).name for part, path in paths.items() if path is not None}
    return project_from_content(
        dictionary=content["dictionary"], dictionary_format=formats["dictionary"], records=content["records"],
        records_format=formats["records"], events=content.get("events"), designations=content.get("designations"),
        repeating=content.get("repeating"), formats=formats, missing_codes=missing_codes, name=name, names=names,
        limits=limits)


def project_from_content(*, records: bytes, records_format: Format | None = None,
                         dictionary: bytes | None = None, dictionary_format: Format | None = None,
                         fields: dict[str, Field] | None = None, events: bytes | None = None,
                         designations: bytes | None = None, repeating: bytes | None = None,
                         settings_format: Format | None = None, formats: Mapping[str, Format] | None = None,
                         missing_codes: str | None = None, name: str | None = None, source: str | None = None,
                         names: Mapping[str, str] | None = None, limits: ReadLimits = CLI_LIMITS) -> RedcapProject:
    """A project from content already fetched (files' bytes, or the API's answers), checked as
    a whole (see the module).

    The dictionary is given as its bytes (``dictionary``: CSV, or the API's metadata JSON) or
    already parsed (``fields``). A format left ``None`` is sniffed (JSON when the content starts
    with ``[``); ``settings_format`` is that of the events, designations and repeating content
    unless ``formats`` (part -> format) says otherwise. Problems name each part by ``names``
    (part -> name: ``dictionary``, ``records``, ``events``, ``designations``, ``repeating``),
    else by ``source`` (``"REDCap API at HOST"``: ``"... (events)"``), else by the part.
    ``name`` (the project's title) defaults to the records' name. ``limits`` (``ReadLimits``,
    the command line's by default): a part over ``max_file_bytes`` is a problem and is not read;
    a records cell longer than ``max_cell_chars`` (the exchange format's cell limit) is a problem
    naming its row and field."""
    if (dictionary is None) == (fields is None):
        raise ValueError("give the data dictionary either as bytes (dictionary=) or parsed (fields=)")
    given = {"dictionary": dictionary, "records": records, "events": events,
             "designations": designations, "repeating": repeating}
    label = {part: (names or {}).get(part) or (source if part == "records" and source else
                                               f"{source} ({part})" if source else part) for part in given}
    chosen = {"dictionary": dictionary_format, "records": records_format,
              **{part: settings_format for part in ("events", "designations", "repeating")}, **(formats or {})}
    kind = {part: chosen.get(part) or sniff_format(data) for part, data in given.items() if data is not None}
    problems = [large for part, data in given.items() if data is not None
                and (large := too_large_file(label[part], len(data), limits)) is not None]
    if problems:
        raise DatasetError(problems, label["records"])

    def attempt(parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except DatasetError as error:
            problems.extend(error.problems)
            return None

    if fields is None:
        parse = _dictionary_json if kind["dictionary"] == "json" else parse_dictionary
        fields = attempt(parse, dictionary, label["dictionary"])
    frame = read_records(records, label["records"], problems, format=kind["records"], limits=limits)
    event_list = attempt(parse_events, events, label["events"], kind["events"]) if events is not None else None
    designated = attempt(parse_designations, designations, label["designations"], kind["designations"]) \
        if designations is not None else None
    repeats = attempt(parse_repeating, repeating, label["repeating"], kind["repeating"]) \
        if repeating is not None else None
    codes = attempt(parse_missing_codes, missing_codes or "") or {}
    where = label["records"]
    if fields is None or frame is None or (events is not None and event_list is None):
        raise DatasetError(problems, where)

    problems.extend(check_record_columns(frame.columns, fields, where, codes))
    problems.extend(_record_id_problems(frame, fields, where))
    longitudinal = bool(event_list) or "redcap_event_name" in frame.columns
    if event_list is None:  # the events the records name, and those the settings name
        named = [event for event in designated or {}] + sorted({e for e, _ in repeats or () if e})
        event_list = _events_named(_events_of_records(frame), named if longitudinal else [])
    else:
        problems.extend(_event_problems(frame, event_list, where))
    forms = list(dict.fromkeys(f.form for f in fields.values()))
    if designated is not None:
        problems.extend(_designation_problems(designated, event_list, forms, label["designations"]))
    if repeats is not None:
        if not longitudinal:  # a classic project's settings may name its one hidden event
            repeats = {(None, form) for _, form in repeats}
        problems.extend(_repeating_problems(repeats, event_list, forms, label["repeating"], longitudinal))
    found, repeat_problems = _repeats_of_records(frame, forms, where, repeats)
    problems.extend(repeat_problems)
    if problems:
        raise DatasetError(problems, where)
    return RedcapProject(
        name=name or label["records"], fields=fields, records=frame, records_source=label["records"],
        events=event_list, designations=designated or {}, repeating=repeats if repeats is not None else found,
        missing_codes=codes,
        sha256={label[part]: hashlib.sha256(data).hexdigest() for part, data in given.items() if data is not None},
    )


def _dictionary_json(data: bytes, source: str) -> dict[str, Field]:
    """The fields of the API's metadata JSON bytes."""
    try:
        items = json.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError([Problem(source, None, None, None, f"the metadata is not UTF-8 JSON ({error})")],
                           source) from None
    return parse_dictionary_json(items, source)


def _first_rows(frame: pl.DataFrame, condition: pl.Expr, by: str) -> list[tuple[str, int]]:
    """Each distinct value of ``by`` among the rows where ``condition`` holds, with its first row."""
    return frame.filter(condition).group_by(by, maintain_order=True).agg(pl.col(RECORD_ROW).min()).rows()


def _record_id_problems(frame: pl.DataFrame, fields: dict[str, Field], source: str) -> list[Problem]:
    """The record id field must be the records' first column, as REDCap exports it."""
    record_id = next(iter(fields), None)
    first = frame.columns[0] if frame.width > 1 else None
    if record_id is None or first == record_id:
        return []
    return [Problem(source, 1, first, first,
                    f"the records' first column is {first!r}, but the data dictionary's record id field (its "
                    f"first field) is {record_id!r}; export the records and the dictionary from the same project")]


def _events_of_records(frame: pl.DataFrame) -> list[Event]:
    """The events the records name, in order of appearance (arm from ``..._arm_N``)."""
    if "redcap_event_name" not in frame.columns:
        return []
    return _events_named([], frame.get_column("redcap_event_name").drop_nulls().unique(maintain_order=True).to_list())


def _events_named(events: list[Event], names: list[str]) -> list[Event]:
    """``events`` and after them each of ``names`` that is not one (arm from ``..._arm_N``)."""
    known = {e.unique_name for e in events}
    for name in dict.fromkeys(names):
        if name not in known:
            events.append(Event(name, "", int(m.group(1)) if (m := _ARM.search(name)) else 1))
    return events


def _event_problems(frame: pl.DataFrame, events: list[Event], source: str) -> list[Problem]:
    """Records events that are not the project's, and rows without an event."""
    if "redcap_event_name" not in frame.columns:
        return [Problem(source, 1, None, None,
                        "the project has events, but the records have no redcap_event_name column; export "
                        "the records of the longitudinal project again")] if events else []
    known = [e.unique_name for e in events]
    event = pl.col("redcap_event_name")
    problems = [Problem(source, row, "redcap_event_name", name,
                        f"the event {name!r} is not an event of the project ({', '.join(known)})")
                for name, row in _first_rows(frame, event.is_not_null() & ~event.is_in(known), "redcap_event_name")]
    for row in frame.filter(event.is_null()).get_column(RECORD_ROW).head(1000):
        problems.append(Problem(source, row, "redcap_event_name", None,
                                "this row of a longitudinal project names no event; fill in its unique event name"))
    return problems


def _designation_problems(designated: dict[str, list[str]], events: list[Event], forms: list[str],
                          source: str) -> list[Problem]:
    known = {e.unique_name for e in events}
    problems = []
    for event, event_forms in designated.items():
        if event not in known:
            problems.append(Problem(source, None, "unique_event_name", event,
                                    f"the designations name the event {event!r}, which is not an event of the "
                                    f"project ({', '.join(e.unique_name for e in events) or 'none'})"))
        problems.extend(Problem(source, None, "form", form,
                                f"the designations give event {event!r} the form {form!r}, which is not a form "
                                f"of the data dictionary")
                        for form in event_forms if form not in forms)
    return problems


def _repeating_problems(repeats: set[tuple[str | None, str | None]], events: list[Event], forms: list[str],
                        source: str, longitudinal: bool) -> list[Problem]:
    known = {e.unique_name for e in events}
    problems = []
    for event, form in sorted(repeats, key=lambda r: (r[0] or "", r[1] or "")):
        if longitudinal and event not in known:
            problems.append(Problem(source, None, "event_name", event,
                                    f"the repeating {'form' if form else 'event'} names the event {event!r}, "
                                    f"which is not an event of the project"))
        if form is not None and form not in forms:
            problems.append(Problem(source, None, "form_name", form,
                                    f"the repeating form {form!r} is not a form of the data dictionary"))
    return problems


def _repeats_of_records(frame: pl.DataFrame, forms: list[str], source: str,
                        declared: set[tuple[str | None, str | None]] | None
                        ) -> tuple[set[tuple[str | None, str | None]], list[Problem]]:
    """What the records show repeating, (event or None, form or None), and the problems of their
    repeat columns: an instrument that is not a form, an instance that is not 1, 2, ..., an
    instrument without an instance, a repeat the settings (``declared``, when given) lack."""
    columns = frame.columns
    if "redcap_repeat_instrument" not in columns and "redcap_repeat_instance" not in columns:
        return set(), []
    instrument = pl.col("redcap_repeat_instrument") if "redcap_repeat_instrument" in columns else pl.lit(None, pl.String)
    instance = pl.col("redcap_repeat_instance") if "redcap_repeat_instance" in columns else pl.lit(None, pl.String)
    event = pl.col("redcap_event_name") if "redcap_event_name" in columns else pl.lit(None, pl.String)
    view = frame.select(RECORD_ROW, instrument.alias("form"), instance.alias("instance"), event.alias("event"))
    problems = [Problem(source, row, "redcap_repeat_instrument", form,
                        f"the repeat instrument {form!r} is not a form of the data dictionary")
                for form, row in _first_rows(view, pl.col("form").is_not_null() & ~pl.col("form").is_in(forms), "form")]
    bad = view.filter(pl.col("instance").is_not_null() & ~pl.col("instance").str.contains(_INSTANCE.pattern))
    problems += [Problem(source, row, "redcap_repeat_instance", value,
                         "the repeat instance is not a whole number from 1; export the records again")
                 for row, value in bad.select(RECORD_ROW, "instance").head(1000).rows()]
    lacking = view.filter(pl.col("form").is_not_null() & pl.col("instance").is_null())
    problems += [Problem(source, row, "redcap_repeat_instance", None,
                         f"the row repeats the form {form!r} but has no repeat instance")
                 for row, form in lacking.select(RECORD_ROW, "form").head(1000).rows()]
    combos = (view.filter(pl.col("instance").is_not_null())
              .group_by("event", "form", maintain_order=True).agg(pl.col(RECORD_ROW).min()).rows())
    found = {(e, f) for e, f, _ in combos}
    if declared is not None:
        for event_name, form, row in combos:
            if (event_name, form) not in declared:
                what = f"the form {form!r}" if form else "the whole event"
                where = f" in event {event_name!r}" if event_name else ""
                problems.append(Problem(source, row, "redcap_repeat_instrument", form,
                                        f"this row repeats {what}{where}, which the repeating instruments "
                                        f"file does not make repeat; export both from the same project"))
    return found, problems
