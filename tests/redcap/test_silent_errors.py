"""REDCap records that were read silently wrong, or a hostile file that was read at all (the
review of issue 12): a short CSV row, a checkbox marked with a missing-data code, a field of
another form filled from another event or instance, a YAML alias bomb, an over-long cell, a
token pasted into ``--url``, an answer of the API without end; and missing-data codes that are
also choice codes of a field.
"""

from __future__ import annotations

import csv
import io
import json
import time

import httpx
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnotrack.errors import DatasetError
from cnotrack.exchange.reader import ReadLimits
from cnotrack.interop.redcap.apply import apply_mapping
from cnotrack.interop.redcap.files import project_from_content, read_project
from cnotrack.interop.redcap.load import load_redcap
from cnotrack.interop.redcap.mapping import load_mapping
from cnotrack.interop.redcap.records import parse_records

from .test_apply import MAPPING, RECORDS, read_cno_project, records_header, write_cno_project

HEADER = ["field_name", "form_name", "section_header", "field_type", "field_label",
          "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
          "text_validation_min", "text_validation_max", "identifier", "branching_logic", "required_field",
          "custom_alignment", "question_number", "matrix_group_name", "matrix_ranking", "field_annotation"]


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _dictionary(fields) -> bytes:
    return _csv([HEADER] + [[n, f, "", t, n, ch, "", v] + [""] * 10 for n, f, t, ch, v in fields])


# --------------------------------------------------------------------------- 1. a short records row

def test_a_records_row_with_fewer_cells_than_the_header_is_a_problem_not_padded():
    """A truncated row (an interrupted download, a hand edit that lost a cell) must be reported:
    REDCap always writes every cell. Today Polars pads the row with nulls and it is read as data."""
    data = b"record_id,a,b,c\n1,x,y,z\n2,x\n"
    with pytest.raises(DatasetError):
        parse_records(data, "records.csv")


# --------------------------------------------------------------------------- 2. checkbox + missing-data code

def test_a_checkbox_marked_with_a_missing_data_code_is_not_read_as_unticked(tmp_path):
    """REDCap exports a missing-data code of a checkbox as one more checkbox column
    (``symptoms___unk`` = 1, every real choice 0). A ``checked`` source then must not say
    ``no``: the symptom is unknown, not absent."""
    header = records_header()
    at = header.index("symptoms___3") + 1
    header.insert(at, "symptoms___unk")
    folder = tmp_path / "redcap"
    paths = write_cno_project(folder)
    rows = []
    for rid, event, instrument, instance, dag, values in RECORDS:
        values = dict(values)
        if rid == "103" and event == "baseline_arm_1" and not instrument:
            values.update({"symptoms___1": "0", "symptoms___2": "0", "symptoms___3": "0", "symptoms___unk": "1"})
        elif "symptoms___1" in values:
            values["symptoms___unk"] = "0"
        rows.append([rid, event, instrument, instance, dag] + [values.get(c, "") for c in header[5:]])
    paths["records"].write_bytes(_csv([header] + rows))
    project = read_cno_project(paths, missing_codes="UNK, Unknown")
    dataset = load_redcap(project, load_mapping(paths["mapping"]))
    row = dataset["assessments"].filter(pl.col("patient_id") == "103").row(0, named=True)
    assert row["bone_pain"] is None and row["fever"] is None, row  # today: False (no), False (no)


# --------------------------------------------------------------------------- 3. a field of another form

LONG_FIELDS = [
    ("record_id", "demographics", "text", "", ""),
    ("sex", "demographics", "radio", "1, Female | 2, Male", ""),
    ("visit_date", "visit", "text", "", "date_ymd"),
    ("esr", "labs", "text", "", "integer"),
]
LONG_MAPPING = """\
cnotrack_mapping: 1
blocks:
  - table: patients
    form: demographics
    columns:
      patient_id: {field: record_id}
      sex: {field: sex}
  - table: labs
    form: labs
    when: [esr]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      test: {value: ESR}
      value: {field: esr}
      unit: {value: mm/h}
"""


def _long_project(rows, *, repeating=None, designations=None):
    header = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "sex",
              "demographics_complete", "visit_date", "visit_complete", "esr", "labs_complete"]
    events = _csv([["event_name", "arm_num", "unique_event_name"], ["Baseline", "1", "baseline_arm_1"],
                   ["Month 6", "1", "month_6_arm_1"], ["Visit", "1", "visit_arm_1"]])
    return project_from_content(dictionary=_dictionary(LONG_FIELDS), records=_csv([header] + rows), events=events,
                                designations=designations, repeating=repeating,
                                formats={"dictionary": "csv", "records": "csv", "events": "csv",
                                         "designations": "csv", "repeating": "csv"},
                                names={"records": "records.csv"})


def test_without_designations_an_empty_date_is_not_filled_from_another_event():
    """No designations file (it is optional): record 1's month 6 labs row has no visit date yet.
    It must not silently take the baseline visit's date (it is a problem: the lab has no date)."""
    rows = [["1", "baseline_arm_1", "", "", "1", "2", "2019-01-15", "2", "", ""],
            ["1", "month_6_arm_1", "", "", "", "", "", "0", "12", "2"]]
    project = _long_project(rows)
    try:
        dataset = load_redcap(project, load_mapping(LONG_MAPPING))
    except DatasetError:
        return  # reported (the lab has no date): fine
    labs = dataset["labs"].select("date", "value").rows()
    assert False, f"the month 6 ESR was dated with the baseline visit's date: {labs}"


def test_an_instance_of_a_repeating_event_does_not_take_another_instances_value():
    """A whole event repeats (instances without an instrument). Instance 2 has an ESR but no
    visit date: it must not take instance 1's date."""
    rows = [["1", "baseline_arm_1", "", "", "1", "2", "", "", "", ""],
            ["1", "visit_arm_1", "", "1", "", "", "2019-01-15", "2", "", ""],
            ["1", "visit_arm_1", "", "2", "", "", "", "0", "12", "2"]]
    repeating = _csv([["event_name", "form_name", "custom_form_label"], ["visit_arm_1", "", ""]])
    designations = _csv([["arm_num", "unique_event_name", "form"], ["1", "baseline_arm_1", "demographics"],
                         ["1", "visit_arm_1", "visit"], ["1", "visit_arm_1", "labs"]])
    project = _long_project(rows, repeating=repeating, designations=designations)
    try:
        dataset = load_redcap(project, load_mapping(LONG_MAPPING))
    except DatasetError:
        return  # reported: fine
    labs = dataset["labs"].select("date", "value").rows()
    assert False, f"instance 2's ESR was dated with instance 1's visit date: {labs}"


# --------------------------------------------------------------------------- 4. a hostile mapping file

def test_a_yaml_alias_bomb_in_a_mapping_is_refused_quickly():
    """Seven levels of aliases (652 bytes) expand to 10**7 key paths in the line index
    (``_key_lines`` walks aliased nodes again each time they are referenced)."""
    lines = ["a0: &a0 {k: v, j: w}"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(10)) + "}")
    lines.append("cnotrack_mapping: 1\nblocks: []\nx: *a6")
    text = "\n".join(lines)
    assert len(text) < 1000
    start = time.monotonic()
    with pytest.raises(DatasetError):
        load_mapping(text)
    assert time.monotonic() - start < 2.0, f"took {time.monotonic() - start:.1f}s for {len(text)} bytes"


# --------------------------------------------------------------------------- 5. no cell limit

def test_a_records_cell_longer_than_the_exchange_formats_limit_is_refused(tmp_path):
    """The exchange reader refuses a cell over 32,767 characters (ReadLimits.max_cell_chars);
    the REDCap reader has no limit, so the import stores a value whose own CSV export then
    does not read back."""
    records = [(a, b, c, d, e, dict(v)) for a, b, c, d, e, v in RECORDS]
    for *_, values in records:
        if "ae_term" in values:
            values["ae_term"] = "x" * 40_000
    paths = write_cno_project(tmp_path / "redcap", records=records)
    with pytest.raises(DatasetError):
        load_redcap(read_cno_project(paths), load_mapping(paths["mapping"]))


# --------------------------------------------------------------------------- 6. a token in a mistyped --url

def test_a_mistyped_url_holding_the_token_is_not_echoed():
    from cnotrack.interop.redcap.api import RedcapApiError, api_url

    token = "0123456789ABCDEF0123456789ABCDEF"
    with pytest.raises(RedcapApiError) as caught:
        api_url(f"htps://redcap.example.org/api/?token={token}")
    assert token not in str(caught.value)


# --------------------------------------------------------------------------- short rows, in detail

def _problems(call) -> list:
    with pytest.raises(DatasetError) as caught:
        call()
    return caught.value.problems


def test_every_short_row_is_reported_at_once_by_its_spreadsheet_row():
    """Quoted delimiters and line breaks are inside cells (a row with a line break in a cell is
    one spreadsheet row), a blank line is no row, and each short row names its cells."""
    data = (b'record_id;a;b;c\n1;"x;y";"two\nlines";z\n2;x\n\n3;x;y;z\n4\n5;"a;b";c\n')
    problems = _problems(lambda: parse_records(data, "records.csv"))
    assert [(p.table, p.row) for p in problems] == [("records.csv", 3), ("records.csv", 6), ("records.csv", 7)]
    assert "row 3 has 2 cells, the header has 4" in problems[0].message
    assert "row 6 has 1 cells" in problems[1].message and "row 7 has 3 cells" in problems[2].message


def test_full_rows_read_as_before_crlf_tabs_and_a_last_row_without_a_line_end():
    frame = parse_records(b'record_id\ta\tb\r\n1\t"x\ty"\t\r\n\r\n2\tp\tq', "records.csv")
    assert frame.select("record_id", "a", "b", "_row").rows() == [("1", "x\ty", None, 2), ("2", "p", "q", 4)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(alphabet='ab,;"\n ', max_size=4), min_size=1, max_size=4), min_size=1,
                max_size=12))
def test_the_short_rows_found_are_those_the_csv_module_sees(rows):
    """Whatever the cells hold (delimiters, quotes, line breaks), a row is reported short
    exactly when the csv module reads fewer cells in it than in the header."""
    rows = [["id" + str(i)] + cells for i, cells in enumerate(rows, start=1)]
    header = ["record_id", "a", "b", "c", "d"][:max(len(r) for r in rows)]
    data = _csv([header] + rows)
    expected, row = [], 1
    for cells in csv.reader(io.StringIO(data.decode(), newline="")):
        row += 1 if row > 1 or cells != header else 0
        if cells != header and len(cells) < len(header):
            expected.append(row)
    try:
        parse_records(data, "records.csv")
        found = []
    except DatasetError as error:
        found = [p.row for p in error.problems if "cells, the header has" in p.message]
    shown = [i + 2 for i, r in enumerate(rows) if len(r) < len(header)]
    assert found == shown == expected


# --------------------------------------------------------------------------- checkboxes and missing-data codes

def test_a_checkbox_marked_with_a_missing_data_code_keeps_the_code_and_makes_no_each_checked_rows(tmp_path):
    header = records_header()
    header.insert(header.index("symptoms___3") + 1, "symptoms___unk")
    rows = []
    for rid, event, instrument, instance, dag, values in RECORDS:
        values = dict(values)
        if rid == "103" and event == "baseline_arm_1" and not instrument:
            values.update({"symptoms___1": "0", "symptoms___2": "0", "symptoms___3": "0", "symptoms___unk": "1"})
        elif "symptoms___1" in values:
            values["symptoms___unk"] = "0"
        rows.append([rid, event, instrument, instance, dag] + [values.get(c, "") for c in header[5:]])
    lesions_mapping = MAPPING + """\
  - table: lesions
    form: visit
    events: [baseline_arm_1]
    each_checked: symptoms
    when: [visit_date]
    columns:
      study_id: {join: [record_id, redcap_event_name]}
      bone: {checked_choice: true, codes: {"1": femur, "2": tibia, "3": fibula}}
"""
    paths = write_cno_project(tmp_path / "redcap")
    paths["records"].write_bytes(_csv([header] + rows))
    project = read_cno_project(paths, missing_codes="UNK, Unknown")
    dataset = load_redcap(project, load_mapping(paths["mapping"]))
    row = dataset["assessments"].filter(pl.col("patient_id") == "103").row(0, named=True)
    assert json.loads(row["_extra"]) == {f"redcap_missing.{c}": "UNK" for c in ("bone_pain", "fever", "local_swelling")}
    mapped = apply_mapping(project, load_mapping(lesions_mapping))  # each_checked: no row for 103
    lesions = mapped.raw.tables["lesions"]
    study = lesions.frame.get_column(lesions.frame.columns[lesions.header.index("study_id")]).to_list()
    assert "103-baseline_arm_1" not in study and "101-baseline_arm_1" in study


CHOICE_FIELDS = [
    ("record_id", "demographics", "text", "", ""),
    ("sex", "demographics", "radio", "1, Female | 2, Male | NA, Not applicable", ""),
    ("flags", "demographics", "checkbox", "1, One | NA, Not applicable", ""),
    ("note", "demographics", "text", "", ""),
]
CHOICE_MAPPING = """\
cnotrack_mapping: 1
blocks:
  - table: patients
    form: demographics
    columns:
      patient_id: {field: record_id}
      sex: {field: sex}
      center: {field: note}
      birth_date: {checked: {field: flags, code: "NA"}}
"""


def test_a_missing_data_code_that_is_a_choice_of_the_field_is_that_choice():
    """REDCap advises missing-data codes that never clash with a real value, but does not stop
    a choice ``NA``: where the field offers the code as a choice, it is that answer (the form
    shows it, a checkbox has one column for it); for any other field it is a missing code."""
    header = ["record_id", "sex", "flags___1", "flags___na", "note", "demographics_complete"]
    records = _csv([header, ["1", "NA", "0", "1", "NA", "2"], ["2", "1", "1", "0", "x", "2"]])
    project = project_from_content(dictionary=_dictionary(CHOICE_FIELDS), records=records, records_format="csv",
                                   missing_codes="NA, Not applicable | UNK, Unknown")
    mapped = apply_mapping(project, load_mapping(CHOICE_MAPPING))
    table = mapped.raw.tables["patients"]
    cells = table.frame.rename(dict(zip(table.frame.columns, [*table.header, "_row"])))
    assert cells.select("sex", "center", "birth_date").rows() == [("Not applicable", None, "yes"), ("Female", "x", "no")]
    assert mapped.missing["patients"].to_list() == ['{"redcap_missing.center": "NA"}', None]


# --------------------------------------------------------------------------- a field of another form, kept right

def test_without_designations_a_form_not_in_the_event_still_gives_the_records_value():
    """The visit form is never filled at month 6 (no value, no status, in any record): the
    month 6 ESR takes the record's one visit date, as with designations."""
    rows = [["1", "baseline_arm_1", "", "", "1", "2", "2019-01-15", "2", "", ""],
            ["1", "month_6_arm_1", "", "", "", "", "", "", "12", "2"]]
    dataset = load_redcap(_long_project(rows), load_mapping(LONG_MAPPING))
    assert dataset["labs"].select("date", "value").rows()[0][0].isoformat() == "2019-01-15"


def test_each_instance_of_a_repeating_event_takes_its_own_value():
    rows = [["1", "baseline_arm_1", "", "", "1", "2", "", "", "", ""],
            ["1", "visit_arm_1", "", "1", "", "", "2019-01-15", "2", "30", "2"],
            ["1", "visit_arm_1", "", "2", "", "", "2019-03-01", "2", "12", "2"]]
    repeating = _csv([["event_name", "form_name", "custom_form_label"], ["visit_arm_1", "", ""]])
    dataset = load_redcap(_long_project(rows, repeating=repeating), load_mapping(LONG_MAPPING))
    labs = sorted((d.isoformat(), v) for d, v in dataset["labs"].select("date", "value").rows())
    assert labs == [("2019-01-15", 30.0), ("2019-03-01", 12.0)]


# --------------------------------------------------------------------------- mapping files

def test_an_anchor_is_refused_naming_its_line():
    text = "cnotrack_mapping: 1\nblocks:\n  - &patients {table: patients, form: f, columns: {}}\n"
    [problem] = _problems(lambda: load_mapping(text))
    assert problem.row == 3 and problem.value == "&patients" and "anchor or alias" in problem.message


def test_a_mapping_over_a_megabyte_is_refused(tmp_path):
    text = "cnotrack_mapping: 1\nblocks: []\n" + "# padding\n" * 110_000
    path = tmp_path / "big.yaml"
    path.write_text(text)
    for given_ in (text, path):
        [problem] = _problems(lambda: load_mapping(given_))
        assert "more than the 1,048,576 a mapping may have" in problem.message


# --------------------------------------------------------------------------- read limits

def test_a_long_cell_names_the_file_the_row_and_the_field(tmp_path):
    records = [(a, b, c, d, e, dict(v)) for a, b, c, d, e, v in RECORDS]
    records[8][5]["ae_term"] = "x" * 40_000
    paths = write_cno_project(tmp_path / "redcap", records=records)
    [problem] = _problems(lambda: read_cno_project(paths))
    assert (problem.table, problem.row, problem.column) == ("records.csv", 10, "ae_term")
    assert "40,000 characters, more than the 32,767" in problem.message
    limits = ReadLimits(max_cell_chars=50_000)
    assert read_project(paths["dictionary"], paths["records"], limits=limits).records.height == len(RECORDS)


def test_a_file_over_the_byte_limit_is_not_read(tmp_path):
    paths = write_cno_project(tmp_path / "redcap")
    limits = ReadLimits(max_file_bytes=1_000)
    problems = _problems(lambda: read_project(paths["dictionary"], paths["records"], events=paths["events"],
                                              limits=limits))
    assert [p.table for p in problems] == ["dictionary.csv", "records.csv"]
    assert all("more than the 1,000 allowed" in p.message for p in problems)
    problems = _problems(lambda: project_from_content(dictionary=paths["dictionary"].read_bytes(),
                                                      records=paths["records"].read_bytes(), limits=limits))
    assert [p.table for p in problems] == ["dictionary", "records"]


# --------------------------------------------------------------------------- the API

TOKEN = "0123456789ABCDEF0123456789ABCDEF"


@pytest.mark.parametrize("url", [f"htps://{TOKEN}@redcap.example.org/api/", f"https://u:{TOKEN}@redcap.example.org/api/",
                                 f"https://redcap.example.org/api/#{TOKEN}", f"redcap.example.org/api/?{TOKEN}",
                                 f"http://redcap.example.org/api/{TOKEN}", f"ftp://redcap.example.org/{TOKEN}/"])
def test_a_url_is_never_echoed_with_the_token(url):
    from cnotrack.interop.redcap.api import RedcapApiError, api_url

    with pytest.raises(RedcapApiError) as caught:
        api_url(url)
    assert TOKEN not in str(caught.value) and TOKEN.lower() not in str(caught.value).lower()


def test_an_answer_over_the_cap_is_an_error_and_is_not_read_to_its_end():
    from cnotrack.interop.redcap.api import RedcapApiError, RedcapClient, RedcapToken

    sent = []

    def chunks():
        for _ in range(1_000):
            sent.append(1)
            yield b"x" * 1_000

    server = httpx.MockTransport(lambda request: httpx.Response(200, content=chunks()))
    with RedcapClient("https://redcap.example.org/api/", RedcapToken(TOKEN), transport=server,
                      limits=ReadLimits(max_file_bytes=10_000)) as client:
        with pytest.raises(RedcapApiError) as caught:
            client.export("record")
    assert "more than 10,000 bytes" in str(caught.value) and caught.value.content == "record"
    assert len(sent) < 1_000
