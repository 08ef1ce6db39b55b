"""Reading REDCap projects from the files REDCap exports: the real fixture projects in
``../shared/reference/redcap`` (REDCapR's classic and longitudinal test projects, RareLink's
published dictionary and JSON records), variants of them written here (BOM, ``;``, tab, CRLF),
and every problem a project's files can have, all reported at once."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnotrack.errors import DatasetError
from cnotrack.interop.redcap import (
    DICTIONARY_COLUMNS, Field, format_choices, parse_choices, parse_designations, parse_dictionary,
    parse_dictionary_json, parse_events, parse_missing_codes, parse_records, parse_repeating,
    project_from_content, read_project,
)
from cnotrack.interop.redcap import records as records_module

from .conftest import reference_dir

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
REDCAP_NS = "{https://projectredcap.org}"


def fixture(project: str, name: str) -> Path:
    path = reference_dir() / project / name
    if not path.is_file():
        pytest.skip(f"the REDCap reference file is not here: {path}")
    return path


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", line_end: str = "\n", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def problems_of(error: pytest.ExceptionInfo[DatasetError]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.message) for p in error.value.problems]


WEB_HEADER = [web for _, web in DICTIONARY_COLUMNS]
API_HEADER = [api for api, _ in DICTIONARY_COLUMNS]


def dictionary_row(name: str, form: str, field_type: str, label: str, choices: str = "",
                   validation: str = "") -> list[str]:
    return [name, form, "", field_type, label, choices, "", validation] + [""] * 10


SMALL_DICTIONARY = [
    WEB_HEADER,
    dictionary_row("record_id", "visit", "text", "Record ID"),
    dictionary_row("temperature", "visit", "text", "Temperature", validation="number_1dp_comma_decimal"),
    dictionary_row("visit_date", "visit", "text", "Date", validation="date_ymd"),
    dictionary_row("sites", "visit", "checkbox", "Sites", "1, Femur | 2, Tibia, distal | -4, Other"),
]


# --------------------------------------------------------------------------- the real fixtures

def test_the_classic_project_with_a_repeating_instrument_reads_its_rows_and_instances():
    folder = "REDCapR-repeating-instruments"
    project = read_project(fixture(folder, "dictionary.csv"), fixture(folder, "data.csv"))
    records = project.records
    assert records.height == 6
    assert records.get_column("_row").to_list() == [2, 3, 4, 5, 6, 7]
    assert project.forms == ["demographics", "bp"]
    assert not project.longitudinal and project.events == []
    assert project.repeating == {(None, "bp")}
    instances = (records.filter(pl.col("redcap_repeat_instrument") == "bp")
                 .group_by("record_id").agg(pl.col("redcap_repeat_instance")).sort("record_id").rows())
    assert instances == [("1", ["1", "2", "3"]), ("2", ["1"])]
    assert records.get_column("demographics_complete").to_list() == ["2", None, None, None, "2", None]
    assert records.get_column("bp_complete").drop_nulls().to_list() == ["2"] * 4
    first = records.row(0, named=True)
    assert (first["dob"], first["age"], first["ethnicity"]) == ("2010-10-14", "8.9", "1")
    assert dict(project.fields["ethnicity"].choices)["1"] == "NOT Hispanic or Latino"
    assert project.fields["bp_systolic"].validation == "integer" and project.fields["bp_systolic"].minimum == "0"
    assert project.name == "data.csv" and set(project.sha256) == {"dictionary.csv", "data.csv"}


def designations_of_project_xml(path: Path) -> list[list[str]]:
    """The instrument-event mappings a project XML holds (each StudyEventDef's FormRefs), as
    REDCap's designations CSV."""
    rows = [["arm_num", "unique_event_name", "form"]]
    for event in ET.parse(path).getroot().iter(f"{ODM}StudyEventDef"):
        for form in event.iter(f"{ODM}FormRef"):
            rows.append([event.get(f"{REDCAP_NS}ArmNum"), event.get(f"{REDCAP_NS}UniqueEventName"),
                         form.get(f"{REDCAP_NS}FormName")])
    return rows


def test_the_longitudinal_project_reads_its_events_designations_and_checkbox_columns(tmp_path):
    folder = "REDCapR-longitudinal"
    designations = tmp_path / "designations.csv"
    designations.write_bytes(csv_bytes(designations_of_project_xml(fixture(folder, "project.xml"))))
    project = read_project(fixture(folder, "dictionary.csv"), fixture(folder, "data.csv"),
                           events=fixture(folder, "event.csv"), designations=designations)
    records = project.records
    assert records.height == 18 and project.longitudinal
    assert [(e.unique_name, e.arm) for e in project.events][:3] == [
        ("enrollment_arm_1", 1), ("dose_1_arm_1", 1), ("visit_1_arm_1", 1)]
    assert len(project.events) == 12 and {e.arm for e in project.events} == {1, 2}
    assert project.events[7].label == "Deadline to opt out of study"
    assert records.group_by("study_id").len().sort("study_id").rows() == [("100", 6), ("220", 6), ("304", 6)]
    assert set(records.get_column("redcap_event_name")) <= {e.unique_name for e in project.events}
    assert project.designations["enrollment_arm_1"] == ["demographics", "contact_info", "baseline_data"]
    assert project.designations["dose_1_arm_1"] == ["patient_morale_questionnaire"]
    assert project.repeating == set()
    # checkbox columns back to their choices
    gym, meds = project.fields["gym"], project.fields["meds"]
    assert [gym.checkbox_column(code) for code, _ in gym.choices] == [f"gym___{i}" for i in range(5)]
    assert dict(gym.choices) == {"0": "Monday", "1": "Tuesday", "2": "Wednesday", "3": "Thursday", "4": "Friday"}
    assert [meds.checkbox_column(code) for code, _ in meds.choices] == [f"meds___{i}" for i in range(1, 6)]
    enrolment = records.filter(pl.col("redcap_event_name") == "enrollment_arm_1")
    checked = {record: [label for code, label in meds.choices if row[meds.checkbox_column(code)] == "1"]
               for record, row in zip(enrolment.get_column("study_id"), enrolment.iter_rows(named=True))}
    assert checked == {"100": ["Celexa"], "220": ["Lexapro", "Celexa"]}
    # the other field types
    assert project.fields["bmi"].field_type == "calc" and project.fields["bmi"].choices == ()
    assert project.fields["specify_mood"].field_type == "slider" and project.fields["specify_mood"].choices == ()
    assert project.fields["given_birth"].choices == (("1", "Yes"), ("0", "No"))
    assert project.fields["patient_document"].field_type == "file" and "patient_document" in records.columns
    assert project.fields["first_name"].identifier and not project.fields["study_id"].identifier
    assert enrolment.get_column("bmi").to_list() == ["31.3", "27.1"]
    assert enrolment.get_column("dob").to_list() == ["1983-09-23", "2011-02-12"]
    assert records.get_column("patient_morale_questionnaire_complete").drop_nulls().unique().sort().to_list() \
        == ["0", "1", "2"]
    assert len([c for c in records.columns if c.endswith("_complete")]) == len(project.forms) == 9


RARELINK = "rarelink-cdm"
RARELINK_DICTIONARY = "rarelink_cdm_datadictionary_v2_0_5.csv"
RARELINK_RECORDS = "evaluation_cohort_redcap.json"


def test_the_rarelink_dictionarys_broken_first_header_is_reported_as_the_cell_it_is():
    with pytest.raises(DatasetError) as error:
        parse_dictionary(fixture(RARELINK, RARELINK_DICTIONARY).read_bytes(), RARELINK_DICTIONARY)
    header = error.value.problems[0]
    assert (header.table, header.row, header.column, header.value) == (RARELINK_DICTIONARY, 1, "A", "1")
    assert "'Variable / Field Name'" in header.message and "row 1, column A" in header.message
    # its second real defect: a quoted label with quotes that are not doubled
    assert [(p.row, "must be doubled" in p.message) for p in error.value.problems[1:]] == [(83, True)]
    assert str(error.value).startswith(f"{RARELINK_DICTIONARY}: 2 problems")


def repaired_rarelink_dictionary() -> bytes:
    """The RareLink dictionary with its two defects repaired: the first header cell, and the
    undoubled quotes of one descriptive field's label."""
    data = fixture(RARELINK, RARELINK_DICTIONARY).read_bytes()
    assert data.startswith(b"1,Form Name,")
    data = b"Variable / Field Name" + data[1:]
    opening = b'snomedct_122869004_descr,rarelink_6_3_measurements,,descriptive,"'
    start = data.index(opening) + len(opening)
    end = data.index(b'</div>",', start) + len(b"</div>")
    return data[:start] + data[start:end].replace(b'""', b'"').replace(b'"', b'""') + data[end:]


def test_the_rarelink_json_records_read_with_their_repeating_instruments():
    records_data = fixture(RARELINK, RARELINK_RECORDS).read_bytes()
    project = project_from_content(dictionary=repaired_rarelink_dictionary(), records=records_data,
                                   names={"dictionary": RARELINK_DICTIONARY, "records": RARELINK_RECORDS})
    records = project.records
    assert records.height == 138 and records.get_column("_row").to_list() == list(range(1, 139))
    assert len(project.fields) == 108 and project.record_id == "record_id"
    assert records.schema["redcap_repeat_instance"] == pl.String  # REDCap wrote numbers: kept as text
    assert records_module._flat_strings(records_data)  # proven by the one-pass check, no loop over items
    counts = dict(records.group_by("redcap_repeat_instrument").len().rows())
    assert counts == {None: 10, "rarelink_4_care_pathway": 9, "rarelink_5_disease": 10,
                      "rarelink_6_1_genetic_findings": 13, "rarelink_6_2_phenotypic_feature": 48,
                      "rarelink_6_3_measurements": 47, "rarelink_6_4_family_history": 1}
    assert project.repeating == {(None, form) for form in counts if form}
    assert records.get_column("record_id").n_unique() == 10
    first = records.filter(pl.col("redcap_repeat_instrument") == "rarelink_6_2_phenotypic_feature").row(0, named=True)
    assert first["redcap_repeat_instance"] == "1"
    sex = project.fields["snomedct_263495000"]
    assert sex.field_type == "dropdown" and sex.choices[0] == ("snomedct_446141000124107", "Female gender identity")
    assert project.sha256[RARELINK_RECORDS] and project.name == RARELINK_RECORDS


# --------------------------------------------------------------------------- spellings, delimiters, encodings

@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_records_export_with_a_bom_crlf_and_a_locales_delimiter_reads_as_the_plain_one(tmp_path, delimiter):
    folder = "REDCapR-longitudinal"
    dictionary, records = fixture(folder, "dictionary.csv"), fixture(folder, "data.csv")
    plain = read_project(dictionary, records)
    (tmp_path / "dictionary.csv").write_bytes(csv_bytes(csv_rows(dictionary), delimiter=delimiter, bom=True))
    (tmp_path / "data.csv").write_bytes(csv_bytes(csv_rows(records), delimiter=delimiter, line_end="\r\n", bom=True))
    variant = read_project(tmp_path / "dictionary.csv", tmp_path / "data.csv")
    assert variant.fields == plain.fields
    assert variant.records.equals(plain.records)


def test_comma_decimals_dates_and_quoted_line_breaks_stay_the_text_redcap_exported():
    records = csv_bytes([["record_id", "temperature", "visit_date", "sites___1", "sites___2", "sites____4",
                          "visit_complete"],
                         ["1", "36,5", "2024-03-01", "1", "0", "1", "2"],
                         ["2", "", "2024-03-02", "0", "0", "0", "0"],
                         ["3", "38,25", "", "0", "1", "0", "1"]], delimiter=";", line_end="\r\n", bom=True)
    dictionary = csv_bytes(SMALL_DICTIONARY)
    project = project_from_content(dictionary=dictionary, records=records)
    assert project.records.get_column("temperature").to_list() == ["36,5", None, "38,25"]
    assert project.records.get_column("visit_date").to_list() == ["2024-03-01", "2024-03-02", None]
    assert project.fields["temperature"].validation == "number_1dp_comma_decimal"
    assert project.fields["sites"].choices == (("1", "Femur"), ("2", "Tibia, distal"), ("-4", "Other"))
    quoted = b'record_id,temperature\r\n1,"line one\r\nline two"\r\n2,"say ""hi"", then go"\r\n'
    frame = parse_records(quoted, "quoted.csv")
    assert frame.rows() == [("1", "line one\r\nline two", 2), ("2", 'say "hi", then go', 3)]


def test_a_blank_line_keeps_the_row_numbers_a_spreadsheet_shows():
    frame = parse_records(b"record_id,age\n1,3\n\n2,4\n", "gap.csv")
    assert frame.rows() == [("1", "3", 2), ("2", "4", 4)]


field_names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
labels = st.text(st.characters(codec="utf-8", exclude_characters="|\r\n\x00"), min_size=1, max_size=20) \
    .map(str.strip).filter(bool)
codes = st.from_regex(r"-?[A-Za-z0-9]{1,4}", fullmatch=True)
choice_lists = st.lists(st.tuples(codes, labels), min_size=1, max_size=6, unique_by=lambda c: c[0])


@st.composite
def dictionaries(draw) -> list[list[str]]:
    names = draw(st.lists(field_names, min_size=1, max_size=8, unique=True))
    rows = []
    for name in names:
        field_type = draw(st.sampled_from(["text", "notes", "radio", "dropdown", "checkbox", "yesno", "calc"]))
        choices = ""
        if field_type in ("radio", "dropdown", "checkbox"):
            picked = draw(choice_lists)
            if field_type == "checkbox":  # codes that export as distinct columns
                picked = list({Field(name, "", "", "").checkbox_column(c): (c, label) for c, label in picked}.values())
            choices = format_choices(picked)
        elif field_type == "calc":
            choices = "[a] + [b]"
        row = dictionary_row(name, draw(st.sampled_from(["demographics", "visit"])), field_type, draw(labels),
                             choices, draw(st.sampled_from(["", "date_ymd", "number_comma_decimal"])))
        row[10] = draw(st.sampled_from(["", "y"]))
        row[12] = draw(st.sampled_from(["", "y"]))
        rows.append(row)
    return rows


@settings(max_examples=60, deadline=None)
@given(rows=dictionaries(), delimiter=st.sampled_from([",", ";"]), bom=st.booleans())
def test_a_dictionary_in_web_spelling_and_in_api_spelling_reads_the_same_fields(rows, delimiter, bom):
    web = parse_dictionary(csv_bytes([WEB_HEADER] + rows, delimiter=delimiter, bom=bom), "web.csv")
    api = parse_dictionary(csv_bytes([API_HEADER] + rows), "api.csv")
    metadata = parse_dictionary_json([dict(zip(API_HEADER, row)) for row in rows], "metadata")
    assert web == api
    assert list(web) == [row[0] for row in rows]
    assert {n: f.choices for n, f in metadata.items()} == {n: f.choices for n, f in web.items()}
    assert all(f.row == i + 2 for i, f in enumerate(web.values()))


@given(choice_lists)
def test_a_choices_string_reads_back_the_choices_it_was_written_from(choices):
    assert parse_choices(format_choices(choices)) == tuple(choices)


def test_a_choice_label_may_hold_commas_and_the_code_runs_to_the_first_one():
    assert parse_choices("1, Female | 2, Male") == (("1", "Female"), ("2", "Male"))
    assert parse_choices("a, Tibia, distal, left|b,x") == (("a", "Tibia, distal, left"), ("b", "x"))
    with pytest.raises(ValueError, match="'Female'"):
        parse_choices("Female | 2, Male")


# --------------------------------------------------------------------------- problems, all at once

def test_every_problem_of_a_projects_files_is_reported_at_once(tmp_path):
    dictionary = csv_bytes(SMALL_DICTIONARY + [
        dictionary_row("temperature", "visit", "text", "Again"),
        dictionary_row("mood", "visit", "smiley", "Mood"),
        dictionary_row("bone", "visit", "radio", "Bone", "femur | 2, tibia"),
    ])
    records = csv_bytes([["record_id", "redcap_event_name", "temperature", "sites___1", "sites___9", "colour",
                          "visit_complete", "temperature"],
                         ["1", "visit_arm_1", "36,5", "1", "0", "red", "2", "1"],
                         ["", "visit_arm_1", "", "0", "0", "", "0", ""]])
    with pytest.raises(DatasetError) as error:
        project_from_content(dictionary=dictionary, records=records,
                             names={"dictionary": "dictionary.csv", "records": "records.csv"})
    found = {(p.table, p.row, p.column) for p in error.value.problems}
    assert found == {("dictionary.csv", 6, "field_name"),                      # temperature twice
                     ("dictionary.csv", 7, "field_type"),                      # smiley
                     ("dictionary.csv", 8, "select_choices_or_calculations"),  # femur has no code
                     ("records.csv", 1, "temperature"),                        # a repeated header
                     ("records.csv", 3, "record_id")}                          # an empty record id
    # the dictionary's problems stop the column checks (fields unknown): fix it and they come
    fixed = csv_bytes(SMALL_DICTIONARY)
    with pytest.raises(DatasetError) as error:
        project_from_content(dictionary=fixed, records=records, names={"records": "records.csv"})
    messages = {(p.row, p.column): p.message for p in error.value.problems}
    assert set(messages) == {(1, "temperature"), (3, "record_id"), (1, "sites___9"), (1, "colour")}
    assert "not one of its codes" in messages[(1, "sites___9")] or "no code" in messages[(1, "sites___9")]
    assert "1, 2, -4" in messages[(1, "sites___9")]
    assert "not a field of the data dictionary" in messages[(1, "colour")]


def test_a_dictionary_with_an_unknown_or_missing_header_names_it():
    header = ["field_name", "form_name", "field_type", "Field Lable"]
    with pytest.raises(DatasetError) as error:
        parse_dictionary(csv_bytes([header, ["record_id", "a", "text", "ID"]]), "dd.csv")
    assert [(p.row, p.column) for p in error.value.problems] == [(1, None), (1, "D")]
    assert "'Field Lable'" in error.value.problems[1].message
    assert "'Field Label'" in error.value.problems[0].message


def test_designations_and_repeating_forms_must_name_the_projects_events_and_forms():
    dictionary = csv_bytes(SMALL_DICTIONARY)
    records = csv_bytes([["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"],
                         ["1", "baseline_arm_1", "", ""], ["1", "week_1_arm_1", "visit", "x"],
                         ["2", "week_9_arm_1", "", ""]])
    events = csv_bytes([["event_name", "arm_num", "unique_event_name"], ["Baseline", "1", "baseline_arm_1"],
                        ["Week 1", "1", "week_1_arm_1"]])
    designations = csv_bytes([["arm_num", "unique_event_name", "form"], ["1", "baseline_arm_1", "visit"],
                              ["1", "month_3_arm_1", "visit"], ["1", "week_1_arm_1", "labs"]])
    repeating = csv_bytes([["event_name", "form_name", "custom_form_label"], ["week_2_arm_1", "visit", ""]])
    with pytest.raises(DatasetError) as error:
        project_from_content(dictionary=dictionary, records=records, events=events, designations=designations,
                             repeating=repeating)
    found = {(p.table, p.row, p.column, p.value) for p in error.value.problems}
    assert found == {
        ("records", 4, "redcap_event_name", "week_9_arm_1"),
        ("designations", None, "unique_event_name", "month_3_arm_1"),
        ("designations", None, "form", "labs"),
        ("repeating", None, "event_name", "week_2_arm_1"),
        ("records", 3, "redcap_repeat_instance", "x"),
        ("records", 3, "redcap_repeat_instrument", "visit"),  # the settings do not make it repeat there
    }


def test_a_classic_projects_records_with_an_event_column_take_their_events_from_the_records():
    records = csv_bytes([["record_id", "redcap_event_name", "temperature"], ["1", "event_1_arm_1", "37"],
                         ["2", "event_1_arm_1", ""]])
    project = project_from_content(dictionary=csv_bytes(SMALL_DICTIONARY), records=records)
    assert [(e.unique_name, e.arm) for e in project.events] == [("event_1_arm_1", 1)]
    assert project.longitudinal


def test_a_missing_data_code_is_a_checkbox_column_too():
    records = csv_bytes([["record_id", "sites___1", "sites___unk", "temperature"], ["1", "0", "1", "UNK"]])
    project = project_from_content(dictionary=csv_bytes(SMALL_DICTIONARY), records=records,
                                   missing_codes="UNK, Unknown | NA, Not applicable")
    assert project.missing_codes == {"UNK": "Unknown", "NA": "Not applicable"}
    with pytest.raises(DatasetError) as error:
        project_from_content(dictionary=csv_bytes(SMALL_DICTIONARY), records=records)
    assert [p.column for p in error.value.problems] == ["sites___unk"]
    with pytest.raises(DatasetError, match="UNK Unknown"):
        parse_missing_codes("UNK Unknown")


def test_json_records_must_be_a_list_of_objects_of_strings():
    good = json.dumps([{"record_id": "1", "age": "3", "redcap_repeat_instance": 2}, {"record_id": "2", "age": ""}])
    assert parse_records(good.encode(), "r.json", format="json").rows() == [("1", "3", "2", 1), ("2", None, None, 2)]
    bad = json.dumps([{"record_id": "1", "age": 3}, ["2"], {"record_id": "3", "age": None}])
    with pytest.raises(DatasetError) as error:
        parse_records(bad.encode(), "r.json", format="json")
    assert [(p.row, p.column) for p in error.value.problems] == [(1, "age"), (2, None), (3, "age")]
    assert "item 1 (record '1')" in error.value.problems[0].message
    with pytest.raises(DatasetError, match="not JSON"):
        parse_records(b"[{", "r.json", format="json")


def test_the_settings_files_read_in_the_apis_json_shapes():
    events = parse_events(json.dumps([{"event_name": "Baseline", "arm_num": 1, "unique_event_name": "baseline_arm_1",
                                       "custom_event_label": None, "event_id": 12}]).encode(), "event", "json")
    assert [(e.unique_name, e.label, e.arm) for e in events] == [("baseline_arm_1", "Baseline", 1)]
    designations = parse_designations(json.dumps([{"arm_num": 1, "unique_event_name": "baseline_arm_1", "form": "a"},
                                                  {"arm_num": 1, "unique_event_name": "baseline_arm_1", "form": "b"}])
                                      .encode(), "formEventMapping", "json")
    assert designations == {"baseline_arm_1": ["a", "b"]}
    repeating = parse_repeating(json.dumps([{"event_name": "visit_arm_1", "form_name": "", "custom_form_label": ""},
                                            {"event_name": "", "form_name": "labs", "custom_form_label": ""}])
                                .encode(), "repeatingFormsEvents", "json")
    assert repeating == {("visit_arm_1", None), (None, "labs")}


# --------------------------------------------------------------------------- large files

def test_a_large_records_file_is_read_without_a_loop_over_its_rows(monkeypatch):
    rows = 20_000
    lines = ["record_id,redcap_repeat_instrument,redcap_repeat_instance,temperature,visit_date,sites___1,"
             "sites___2,visit_complete"]
    lines += [f'{i // 4 + 1},{"visit" if i % 4 else ""},{i % 4 or ""},"3{i % 10},5",2024-01-{i % 28 + 1:02d},'
              f'{i % 2},0,2' for i in range(rows)]
    data = ("\r\n".join(lines) + "\r\n").encode()
    read = []
    real_reader = csv.reader

    def counting_reader(*args, **kwargs):  # the csv module may read the header, never the rows
        for row in real_reader(*args, **kwargs):
            read.append(row)
            yield row

    monkeypatch.setattr(records_module.csv, "reader", counting_reader)
    frame = parse_records(data, "big.csv")
    assert len(read) <= 1
    assert frame.height == rows and frame.get_column("_row").to_list()[-1] == rows + 1
    assert frame.get_column("temperature").head(3).to_list() == ["30,5", "31,5", "32,5"]
    project = project_from_content(dictionary=csv_bytes(SMALL_DICTIONARY), records=data)
    assert project.repeating == {(None, "visit")}
    assert project.records.filter(pl.col("redcap_repeat_instance") == "3").height == rows // 4


def test_without_an_events_file_the_events_are_those_the_records_and_settings_name():
    records = csv_bytes([["record_id", "redcap_event_name", "temperature"], ["1", "baseline_arm_1", "37"]])
    designations = csv_bytes([["arm_num", "unique_event_name", "form"], ["1", "baseline_arm_1", "visit"],
                              ["2", "week_1_arm_2", "visit"]])
    project = project_from_content(dictionary=csv_bytes(SMALL_DICTIONARY), records=records,
                                   designations=designations)
    assert [(e.unique_name, e.arm) for e in project.events] == [("baseline_arm_1", 1), ("week_1_arm_2", 2)]


def test_the_package_exports_the_readers():
    import cnotrack.interop.redcap as redcap

    assert sorted(redcap.__all__) == sorted([
        "DICTIONARY_COLUMNS", "Event", "Field", "RedcapProject", "check_record_columns", "format_choices",
        "parse_choices", "parse_designations", "parse_dictionary", "parse_dictionary_json", "parse_events",
        "parse_missing_codes", "parse_records", "parse_repeating", "project_from_content", "read_project"])
    assert all(hasattr(redcap, name) for name in redcap.__all__)
