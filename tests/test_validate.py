"""Validation of CSV datasets: good data passes, and every problem is named with its file, row
(as a spreadsheet shows it, header = row 1) and column, all in one run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from cnotrack import DatasetError, Problem, check_dataset, load_dataset
from cnotrack.exchange.cells import ID_MAX_LENGTH

from conftest import make_dataset

DEMO = Path(__file__).resolve().parents[1] / "src" / "cnotrack" / "demo" / "pardeo2017"

PATIENT = {"patient_id": "P01", "sex": "F"}


def where(problems: list[Problem]) -> set[tuple[str, int | None, str | None]]:
    return {(p.table, p.row, p.column) for p in problems}


# --------------------------------------------------------------------------- good datasets

def test_the_good_dataset_is_valid_and_every_table_is_loaded(good_dataset, good_tables):
    assert check_dataset(good_dataset) == []
    data = load_dataset(good_dataset)
    assert set(good_tables) == set(data.tables)
    for name, rows in good_tables.items():
        assert rows, f"the good dataset leaves {name} empty"
        assert data[name].height == len(rows), name


def test_the_shipped_demo_dataset_is_valid():
    assert check_dataset(DEMO) == []


def test_loaded_columns_carry_their_types(good_dataset):
    data = load_dataset(good_dataset)
    assert data["treatments"].schema["start_date"] == pl.Date
    assert data["treatments"].schema["dose"] == pl.Float64
    assert data["assessments"].schema["fever"] == pl.Boolean
    assert data["lesions"].schema["grade"] == pl.Int64
    labs = data["labs"].filter(pl.col("_row") == 5)
    assert labs.select("value", "censor", "unit").row(0) == (0.5, "<", "mg/dL")
    high = data["labs"].filter(pl.col("value") == 200).select("censor").item()
    assert high == ">"


def test_a_dataset_with_only_patients_is_valid(tmp_path):
    assert check_dataset(make_dataset(tmp_path, patients=[PATIENT])) == []


def test_column_names_match_ignoring_case_and_surrounding_spaces(tmp_path):
    folder = make_dataset(tmp_path, patients=[[" Patient_ID ", "SEX", "Birth_Date"], ["P01", "F", "2001-02"]])
    data = load_dataset(folder)
    assert data.patients.select("patient_id", "sex", "birth_date").row(0) == ("P01", "F", "2001-02")


def test_columns_may_come_in_any_order(tmp_path):
    folder = make_dataset(tmp_path, patients=[["center", "sex", "patient_id"], ["Rome", "M", "P01"]])
    assert load_dataset(folder).patients.select("patient_id", "sex", "center").row(0) == ("P01", "M", "Rome")


def test_vocabulary_values_match_ignoring_case_and_spaces_and_come_out_canonical(tmp_path):
    folder = make_dataset(
        tmp_path,
        patients=[{"patient_id": "P01", "sex": " female "}, {"patient_id": "P02", "sex": "MALE"},
                  {"patient_id": "P03", "sex": "u"}],
        treatments=[{"patient_id": "P01", "drug": "Kineret", "start_date": "2020-01-01", "route": "Subcutaneous",
                     "stop_reason": "Adverse Event"},
                    {"patient_id": "P01", "drug": " NAPROXEN ", "start_date": "2020-01-01", "route": "PO"}],
        labs=[{"patient_id": "P01", "date": "2020-01-01", "test": "crp", "value": "3", "unit": "MG/DL"}],
        imaging=[{"patient_id": "P01", "study_id": "S1", "date": "2020-01-01", "modality": "Bone Scan"}],
        lesions=[{"study_id": "S1", "bone": "Thigh Bone", "side": "L", "segment": "Distal_Metaphysis",
                  "activity": "ACTIVE"}],
        adverse_events=[{"patient_id": "P01", "onset_date": "2020-02-01", "term": "rash",
                         "outcome": "Not Recovered"}],
    )
    data = load_dataset(folder)
    assert data.patients["sex"].to_list() == ["F", "M", "U"]
    assert sorted(data["treatments"]["drug"].to_list()) == ["anakinra", "naproxen"]
    assert sorted(data["treatments"]["route"].to_list()) == ["oral", "sc"]
    assert "adverse_event" in data["treatments"]["stop_reason"].to_list()
    assert data["labs"].select("test", "unit").row(0) == ("CRP", "mg/dL")
    assert data["imaging"]["modality"].item() == "bone_scintigraphy"
    assert data["lesions"].select("bone", "side", "segment", "activity").row(0) == (
        "femur", "left", "distal_metaphysis", "active")
    assert data["adverse_events"]["outcome"].item() == "not_recovered"


@pytest.mark.parametrize("word, value", [
    ("yes", True), ("YES", True), ("y", True), ("True", True), ("1", True),
    ("no", False), ("N", False), ("false", False), ("FALSE", False), ("0", False), ("", None),
])
def test_booleans_are_read_in_every_spelling_of_the_format(tmp_path, word, value):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          assessments=[{"patient_id": "P01", "date": "2020-01-01", "fever": word}])
    assert load_dataset(folder)["assessments"]["fever"].item() is value


def test_identifiers_are_case_sensitive(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT, {"patient_id": "p01", "sex": "M"}],
                          treatments=[{"patient_id": "P01", "drug": "naproxen", "start_date": "2020-01-01"},
                                      {"patient_id": "p01", "drug": "naproxen", "start_date": "2020-01-01"}])
    data = load_dataset(folder)
    assert sorted(data.patients["patient_id"].to_list()) == ["P01", "p01"]
    assert data["treatments"].height == 2


def test_cells_are_trimmed_and_a_blank_cell_is_missing(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "  P01 ", "sex": "F", "center": "   ",
                                               "birth_date": " 2001-02-03 "}])
    row = load_dataset(folder).patients.row(0, named=True)
    assert (row["patient_id"], row["center"], row["birth_date"]) == ("P01", None, "2001-02-03")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    folder = make_dataset(tmp_path, patients="\ufeffpatient_id,sex\nP01,F\n")
    assert load_dataset(folder).patients["patient_id"].to_list() == ["P01"]


def test_windows_line_ends_are_accepted(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex,center\r\nP01,F,Rome\r\nP02,M,\r\n")
    data = load_dataset(folder)
    assert data.patients.select("patient_id", "center").rows() == [("P01", "Rome"), ("P02", None)]


def test_quoted_cells_keep_commas_quotes_and_line_breaks(tmp_path):
    folder = make_dataset(tmp_path, patients='patient_id,sex,center\nP01,F,"Genoa, ""Gaslini""\nsecond floor"\n')
    assert load_dataset(folder).patients["center"].item() == 'Genoa, "Gaslini"\nsecond floor'


def test_line_breaks_inside_a_cell_are_kept_as_newlines(tmp_path):
    folder = make_dataset(tmp_path, patients='patient_id,sex,center\r\nP01,F,"a\r\nb"\r\nP02,F,"c\rd"\r\n')
    assert load_dataset(folder).patients["center"].to_list() == ["a\nb", "c\nd"]


def test_blank_lines_and_rows_of_empty_cells_are_ignored(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex\n\nP01,F\n,\n  ,  \n\nP02,M\n\n")
    data = load_dataset(folder)
    assert data.patients.select("patient_id", "_row").rows() == [("P01", 3), ("P02", 7)]


def test_a_partial_birth_date_is_kept_as_year_and_month(tmp_path):
    folder = make_dataset(tmp_path, patients=[{**PATIENT, "birth_date": "2008-07", "onset_date": "2008-07-01"}])
    row = load_dataset(folder).patients.row(0, named=True)
    assert row["birth_date"] == "2008-07" and row["onset_date"] == dt.date(2008, 7, 1)


def test_a_stop_date_on_the_start_date_is_valid(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT], treatments=[
        {"patient_id": "P01", "drug": "naproxen", "start_date": "2020-01-01", "stop_date": "2020-01-01"}])
    assert check_dataset(folder) == []


def test_mandible_takes_a_side_or_none(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          imaging=[{"patient_id": "P01", "study_id": "S1", "date": "2020-01-01", "modality": "mri"}],
                          lesions=[{"study_id": "S1", "bone": "mandible", "side": "left"},
                                   {"study_id": "S1", "bone": "mandible", "side": ""},
                                   {"study_id": "S1", "bone": "maxilla", "side": "right"}])
    assert check_dataset(folder) == []


def test_one_lesion_id_in_two_studies_is_valid(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          imaging=[{"patient_id": "P01", "study_id": "S1", "date": "2020-01-01", "modality": "mri"},
                                   {"patient_id": "P01", "study_id": "S2", "date": "2020-06-01", "modality": "mri"}],
                          lesions=[{"study_id": "S1", "bone": "tibia", "side": "left", "lesion_id": "A"},
                                   {"study_id": "S2", "bone": "tibia", "side": "left", "lesion_id": "A"}])
    assert check_dataset(folder) == []


def test_an_identifier_of_the_maximum_length_is_valid(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P" * ID_MAX_LENGTH, "sex": "F"}])
    assert load_dataset(folder).patients["patient_id"].item() == "P" * ID_MAX_LENGTH


@pytest.mark.parametrize("text", ["1e-05", "0.30000000000000004", "1E+3", ".5", "7.", "+2.5"])
def test_numbers_in_any_decimal_or_exponent_form_are_read(tmp_path, text):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          treatments=[{"patient_id": "P01", "drug": "naproxen", "start_date": "2020-01-01",
                                       "dose": text}])
    assert load_dataset(folder)["treatments"]["dose"].item() == float(text)


# --------------------------------------------------------------------------- one problem at a time

T = {"patient_id": "P01", "drug": "naproxen", "start_date": "2020-01-01"}
A = {"patient_id": "P01", "date": "2020-01-01"}
L = {"patient_id": "P01", "date": "2020-01-01", "test": "CRP", "value": "3", "unit": "mg/L"}
I = {"patient_id": "P01", "study_id": "S1", "date": "2020-01-01", "modality": "mri"}
LE = {"study_id": "S1", "bone": "tibia", "side": "left"}
AE = {"patient_id": "P01", "onset_date": "2020-01-01", "term": "rash"}

SINGLE_PROBLEMS = {
    "bad date": ({"treatments": [{**T, "start_date": "2020-02-30"}]}, ("treatments.csv", 2, "start_date"), "2020-02-30"),
    "date in another form": ({"assessments": [{**A, "date": "01/02/2020"}]}, ("assessments.csv", 2, "date"), "01/02/2020"),
    "date in year 0": ({"treatments": [{**T, "start_date": "0000-01-01"}]}, ("treatments.csv", 2, "start_date"), "0000-01-01"),
    "integer beyond the database's range": ({"adverse_events": [{**AE, "grade": "2147483648"}]},
                                            ("adverse_events.csv", 2, "grade"), "2147483648"),
    "bad partial birth date": ({"patients": [{**PATIENT, "birth_date": "2020-13"}]}, ("patients.csv", 2, "birth_date"), "2020-13"),
    "bad boolean": ({"assessments": [{**A, "fever": "maybe"}]}, ("assessments.csv", 2, "fever"), "maybe"),
    "unknown sex": ({"patients": [{"patient_id": "P01", "sex": "X"}]}, ("patients.csv", 2, "sex"), "X"),
    "unknown drug": ({"treatments": [{**T, "drug": "aspirinx"}]}, ("treatments.csv", 2, "drug"), "aspirinx"),
    "unknown adverse event drug": ({"adverse_events": [{**AE, "drug": "xyz"}]}, ("adverse_events.csv", 2, "drug"), "xyz"),
    "CRP in mg/mL": ({"labs": [{**L, "unit": "mg/mL"}]}, ("labs.csv", 2, "unit"), "mg/mL"),
    "ESR in mg/L": ({"labs": [{**L, "test": "ESR"}]}, ("labs.csv", 2, "unit"), "mg/L"),
    "unknown lab test": ({"labs": [{**L, "test": "ferritin"}]}, ("labs.csv", 2, "test"), "ferritin"),
    "lab value not a number": ({"labs": [{**L, "value": "high"}]}, ("labs.csv", 2, "value"), "high"),
    "negative lab value": ({"labs": [{**L, "value": "-1"}]}, ("labs.csv", 2, "value"), "-1"),
    "ref_high below ref_low": ({"labs": [{**L, "ref_high": "3", "ref_low": "4"}]}, ("labs.csv", 2, "ref_high"), "3"),
    "stop before start": ({"treatments": [{**T, "stop_date": "2019-12-31"}]}, ("treatments.csv", 2, "stop_date"), "2019-12-31"),
    "negative dose": ({"treatments": [{**T, "dose": "-2"}]}, ("treatments.csv", 2, "dose"), "-2"),
    "dose with a decimal comma": ({"treatments": [{**T, "dose": "2,5"}]}, ("treatments.csv", 2, "dose"), "2,5"),
    "dose too large for a number": ({"treatments": [{**T, "dose": "1e400"}]}, ("treatments.csv", 2, "dose"), "1e400"),
    "unknown route": ({"treatments": [{**T, "route": "rectal"}]}, ("treatments.csv", 2, "route"), "rectal"),
    "unknown stop reason": ({"treatments": [{**T, "stop_reason": "bored"}]}, ("treatments.csv", 2, "stop_reason"), "bored"),
    "pga out of vocabulary": ({"assessments": [{**A, "pga": "very bad"}]}, ("assessments.csv", 2, "pga"), "very bad"),
    "pga_vas above 10": ({"assessments": [{**A, "pga_vas": "10.5"}]}, ("assessments.csv", 2, "pga_vas"), "10.5"),
    "pain_vas below 0": ({"assessments": [{**A, "pain_vas": "-0.5"}]}, ("assessments.csv", 2, "pain_vas"), "-0.5"),
    "chaq_di 4": ({"assessments": [{**A, "chaq_di": "4"}]}, ("assessments.csv", 2, "chaq_di"), "4"),
    "unknown modality": ({"imaging": [{**I, "modality": "ultrasound"}]}, ("imaging.csv", 2, "modality"), "ultrasound"),
    "unknown bone": ({"imaging": [I], "lesions": [{**LE, "bone": "elbow"}]}, ("lesions.csv", 2, "bone"), "elbow"),
    "paired bone without side": ({"imaging": [I], "lesions": [{**LE, "side": ""}]}, ("lesions.csv", 2, "side"), None),
    "midline bone with side": ({"imaging": [I], "lesions": [{**LE, "bone": "T7"}]}, ("lesions.csv", 2, "side"), "left"),
    "unknown side": ({"imaging": [I], "lesions": [{**LE, "side": "both"}]}, ("lesions.csv", 2, "side"), "both"),
    "bad segment for bone": ({"imaging": [I], "lesions": [{**LE, "segment": "body"}]}, ("lesions.csv", 2, "segment"), "body"),
    "segment on a bone without segments": ({"imaging": [I], "lesions": [{**LE, "bone": "patella", "segment": "shaft"}]},
                                           ("lesions.csv", 2, "segment"), "shaft"),
    "unknown activity": ({"imaging": [I], "lesions": [{**LE, "activity": "sleeping"}]}, ("lesions.csv", 2, "activity"), "sleeping"),
    "lesion grade 7": ({"imaging": [I], "lesions": [{**LE, "grade": "7"}]}, ("lesions.csv", 2, "grade"), "7"),
    "lesion grade not whole": ({"imaging": [I], "lesions": [{**LE, "grade": "1.5"}]}, ("lesions.csv", 2, "grade"), "1.5"),
    "adverse event grade 7": ({"adverse_events": [{**AE, "grade": "7"}]}, ("adverse_events.csv", 2, "grade"), "7"),
    "grade too large for a number": ({"adverse_events": [{**AE, "grade": "99999999999999999999"}]},
                                     ("adverse_events.csv", 2, "grade"), "99999999999999999999"),
    "unknown outcome": ({"adverse_events": [{**AE, "outcome": "better"}]}, ("adverse_events.csv", 2, "outcome"), "better"),
    "patient missing": ({"treatments": [{**T, "patient_id": "P02"}]}, ("treatments.csv", 2, "patient_id"), "P02"),
    "patient missing by case": ({"labs": [{**L, "patient_id": "p01"}]}, ("labs.csv", 2, "patient_id"), "p01"),
    "study missing": ({"imaging": [I], "lesions": [{**LE, "study_id": "S2"}]}, ("lesions.csv", 2, "study_id"), "S2"),
    "required value missing": ({"adverse_events": [{**AE, "term": " "}]}, ("adverse_events.csv", 2, "term"), None),
    "onset before birth": ({"patients": [{**PATIENT, "birth_date": "2010-05-05", "onset_date": "2010-05-04"}]},
                           ("patients.csv", 2, "onset_date"), "2010-05-04"),
    "diagnosis before a partial birth date": ({"patients": [{**PATIENT, "birth_date": "2010-05", "diagnosis_date": "2010-04-30"}]},
                                              ("patients.csv", 2, "diagnosis_date"), "2010-04-30"),
    "identifier too long": ({"patients": [{"patient_id": "P" * (ID_MAX_LENGTH + 1), "sex": "F"}]},
                            ("patients.csv", 2, "patient_id"), "P" * (ID_MAX_LENGTH + 1)),
    "lesion_id too long": ({"imaging": [I], "lesions": [{**LE, "lesion_id": "L" * 250}]}, ("lesions.csv", 2, "lesion_id"), "L" * 250),
    "control character in text": ({"adverse_events": [{**AE, "term": "rash\x01"}]}, ("adverse_events.csv", 2, "term"), "rash\x01"),
}


@pytest.mark.parametrize("case", list(SINGLE_PROBLEMS))
def test_each_kind_of_problem_is_named_with_its_file_row_column_and_value(tmp_path, case):
    tables, expected, value = SINGLE_PROBLEMS[case]
    tables = {"patients": [PATIENT], **tables}
    problems = check_dataset(make_dataset(tmp_path, **tables))
    assert [(p.table, p.row, p.column) for p in problems] == [expected], problems
    assert problems[0].value == value
    assert problems[0].message


def test_a_duplicate_patient_id_points_at_the_second_row(tmp_path):
    problems = check_dataset(make_dataset(tmp_path, patients=[PATIENT, {"patient_id": "P02", "sex": "M"},
                                                              {"patient_id": "P01", "sex": "M"}]))
    assert where(problems) == {("patients.csv", 4, "patient_id")}
    assert "row 2" in problems[0].message


@pytest.mark.parametrize("table, rows, column", [
    ("treatments", [T, {**T, "dose": "3"}], "start_date"),
    ("assessments", [A, {**A, "pga": "mild"}], "date"),
    ("labs", [L, {**L, "value": "4"}], "test"),
    ("imaging", [I, {**I, "date": "2021-01-01"}], "study_id"),
    ("adverse_events", [AE, {**AE, "grade": "2"}], "term"),
])
def test_a_repeated_natural_key_is_a_problem_of_the_second_row(tmp_path, table, rows, column):
    problems = check_dataset(make_dataset(tmp_path, patients=[PATIENT], **{table: rows}))
    assert where(problems) == {(f"{table}.csv", 3, column)}


def test_two_lesions_at_one_site_of_one_study_are_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT], imaging=[I],
                          lesions=[{**LE, "segment": "diaphysis"}, {**LE, "bone": "femur"},
                                   {**LE, "segment": "Diaphysis", "grade": "2"}])
    problems = check_dataset(folder)
    assert [(p.table, p.row) for p in problems] == [("lesions.csv", 4)]


def test_one_lesion_id_twice_in_a_study_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT], imaging=[I],
                          lesions=[{**LE, "lesion_id": "A"}, {**LE, "bone": "femur", "lesion_id": "A"}])
    assert where(check_dataset(folder)) == {("lesions.csv", 3, "lesion_id")}


def test_an_unknown_column_is_a_problem_of_the_header_row(tmp_path):
    problems = check_dataset(make_dataset(tmp_path, patients=[{**PATIENT, "Nickname": "Bob"}]))
    assert where(problems) == {("patients.csv", 1, "Nickname")}
    assert "--keep-extra" in problems[0].message


def test_an_unknown_column_is_accepted_with_keep_extra(tmp_path):
    folder = make_dataset(tmp_path, patients=[{**PATIENT, "Nickname": "Bob"}, {"patient_id": "P02", "sex": "M"}])
    data = load_dataset(folder, keep_extra=True)
    assert data.patients["_extra"].to_list() == ['{"nickname": "Bob"}', None]


def test_a_missing_required_column_is_a_problem_of_the_header_row(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT], adverse_events=[{"patient_id": "P01", "onset_date": "2020-01-01"}])
    assert where(check_dataset(folder)) == {("adverse_events.csv", 1, "term")}


def test_a_column_named_twice_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[["patient_id", "sex", "Sex"], ["P01", "F", "F"]])
    assert where(check_dataset(folder)) == {("patients.csv", 1, "Sex")}


def test_values_in_a_column_without_a_header_are_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[["patient_id", "sex", ""], ["P01", "F", "oops"]])
    assert [(p.table, p.row) for p in check_dataset(folder)] == [("patients.csv", 1)]


def test_an_empty_column_without_a_header_is_ignored(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex,\nP01,F,\n")
    assert check_dataset(folder) == []


def test_a_missing_patients_table_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, treatments=[T])
    problems = check_dataset(folder)
    assert ("patients.csv", None, None) in where(problems)


def test_an_unknown_file_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT], visits=[A])
    assert where(check_dataset(folder)) == {("visits.csv", None, None)}


def test_an_empty_file_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT], labs="")
    assert where(check_dataset(folder)) == {("labs.csv", 1, None)}


def test_a_row_with_too_few_cells_is_a_problem_not_a_row_of_empty_cells(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex,center\nP01,F,Rome\nP02,M\n")
    problems = check_dataset(folder)
    assert where(problems) == {("patients.csv", 3, None)}
    assert "2 cells" in problems[0].message


def test_a_row_with_too_many_cells_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex\nP01,F\nP02,M,Rome\n")
    assert where(check_dataset(folder)) == {("patients.csv", 3, None)}


def test_a_file_that_is_not_utf8_is_named_with_the_line_of_the_first_bad_byte(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex,center\nP01,F,Rome\nP02,M,Z\xfcrich\n".encode("latin-1"))
    problems = check_dataset(folder)
    assert where(problems) == {("patients.csv", 3, None)}
    assert "UTF-8" in problems[0].message


def test_a_missing_dataset_is_a_problem_not_a_crash(tmp_path):
    problems = check_dataset(tmp_path / "nowhere")
    assert len(problems) == 1 and "no such file" in problems[0].message


def test_a_dataset_error_says_nothing_was_imported_and_lists_every_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "X"}, {"patient_id": "P02", "sex": "Y"}])
    with pytest.raises(DatasetError) as info:
        load_dataset(folder)
    assert len(info.value.problems) == 2
    assert "nothing was imported" in str(info.value)
    assert "patients.csv, row 2, column 'sex'" in str(info.value)


def test_a_problem_reads_as_where_what_and_the_value():
    problem = Problem("labs.csv", 4, "unit", "mg/mL", "is not a unit for CRP; use mg/L, mg/dL")
    assert str(problem) == "labs.csv, row 4, column 'unit': is not a unit for CRP; use mg/L, mg/dL (value 'mg/mL')"
    assert problem.as_dict() == {"table": "labs.csv", "row": 4, "column": "unit", "value": "mg/mL",
                                 "message": "is not a unit for CRP; use mg/L, mg/dL"}


# --------------------------------------------------------------------------- every problem at once

PLANTED_PATIENTS = (
    "patient_id,sex,birth_date,onset_date,diagnosis_date,center,nickname\n"   # 1 unknown column
    'P01,F,2005-03-14,2012-01-10,2012-06-01,"Genoa,\nGaslini",x\n'             # 2 (a cell on two lines)
    "P02,X,2008-07,2014-02-01,,Genoa,\n"                                       # 3 unknown sex
    "\n"                                                                       # 4 blank
    "P03,M,2010-13-01,,,Milan,\n"                                              # 5 bad birth date
    "P01,M,,,,Rome,\n"                                                         # 6 duplicate patient_id
    "P04,female,2009-02,2008-01-01,,,\n"                                       # 7 onset before birth
)
PLANTED_TREATMENTS = (
    "patient_id,drug,start_date,stop_date,dose,dose_unit,route,stop_reason\n"
    "P01,naproxen,2012-06-01,2012-12-01,15,mg/kg/day,oral,inefficacy\n"       # 2 fine
    "P01,aspirinx,2012-07-01,,10,mg/kg/day,oral,\n"                           # 3 unknown drug
    "P02,anakinra,2014-03-01,2014-02-01,2,mg/kg/day,sc,\n"                    # 4 stop before start
    "P09,ibuprofen,2014-03-01,,,,,\n"                                         # 5 patient missing
    "P01,ibuprofen,2014-03-01,,abc,,,\n"                                      # 6 dose not a number
    "P01,methotrexate,2014-04-01,,,,orally,\n"                                # 7 unknown route
)
PLANTED_ASSESSMENTS = (
    "patient_id,date,pga,pga_vas,patient_global_vas,pain_vas,chaq_di,bone_pain,local_swelling,functional_impairment,fever\n"
    "P01,2012-06-01,severe,8,9,7,1.5,yes,yes,no,no\n"     # 2 fine
    "\n"                                                    # 3 blank
    ",,,,,,,,,,\n"                                          # 4 blank (empty cells only)
    "P01,2012-07-01,very bad,,,,,,,,\n"                     # 5 pga out of vocabulary
    "P01,2012-08-01,,,,,4,,,,\n"                            # 6 chaq_di 4
    "P02,2014-03-01,,11,,,,,,,\n"                           # 7 pga_vas above 10
    "P02,2014-04-01,,,,,,maybe,,,\n"                        # 8 bad boolean
    "P01,2012-06-01,mild,,,,,,,,\n"                         # 9 duplicates row 2
    "P01,01/05/2013,,,,,,,,,\n"                             # 10 bad date
)
PLANTED_LABS = (
    "patient_id,date,test,value,unit,ref_high,ref_low\n"
    "P01,2012-06-01,CRP,2.7,mg/dL,0.5,\n"    # 2 fine
    "P01,2012-06-01,ESR,38,mg/L,20,\n"       # 3 unit wrong for ESR
    "P01,2012-07-01,CRP,12,mg/mL,,\n"        # 4 CRP in mg/mL
    "P01,2012-08-01,FERRITIN,12,ng/mL,,\n"   # 5 unknown test
    "P01,2012-09-01,CRP,high,mg/L,,\n"       # 6 value not a number
    "P01,2012-10-01,CRP,5,mg/L,3,4\n"        # 7 ref_high below ref_low
    "P01,2012-11-01,CRP,,mg/L,,\n"           # 8 value missing
)
PLANTED_IMAGING = (
    "patient_id,study_id,date,modality\n"
    "P01,S1,2012-06-01,bone_scintigraphy\n"   # 2 fine
    "P01,S1,2012-07-01,mri\n"                 # 3 duplicate study_id
    "P02,S2,2014-03-01,ultrasound\n"          # 4 unknown modality
    "P02,S3,2014-03-05,wb_mri\n"              # 5 fine
)
PLANTED_LESIONS = (
    "study_id,bone,side,segment,activity,grade,symptomatic,lesion_id\n"
    "S1,tibia,left,distal_metaphysis,active,2,yes,L1\n"   # 2 fine
    "S1,femur,,distal_metaphysis,,,,\n"                    # 3 paired bone without side
    "S1,T7,left,body,,,,\n"                                # 4 midline bone with side
    "S1,tibia,right,body,,,,\n"                            # 5 segment not of the tibia
    "S1,tibia,left,distal_metaphysis,,,,\n"                # 6 duplicate lesion site (row 2)
    "S1,humerus,left,,,,,L1\n"                             # 7 duplicate lesion_id (row 2)
    "\n"                                                   # 8 blank
    "S9,radius,left,,,,,\n"                                # 9 study missing
    "S3,ulna,left,,,7,,\n"                                 # 10 grade 7
    "S3,elbow,left,,,,,\n"                                 # 11 unknown bone
    "S3,fibula,left,,sleeping,,,\n"                        # 12 unknown activity
    "S3,radius,right\n"                                    # 13 ragged row
    "S3,radius,left,,,,perhaps,\n"                         # 14 bad boolean
)
PLANTED_ADVERSE_EVENTS = (
    "patient_id,onset_date,grade,serious,drug,outcome\n"   # 1 term is missing
    "P01,2013-08-01,1,no,anakinra,recovered\n"
)

PLANTED_EXPECTED = {
    ("patients.csv", 1, "nickname"),
    ("patients.csv", 3, "sex"),
    ("patients.csv", 5, "birth_date"),
    ("patients.csv", 6, "patient_id"),
    ("patients.csv", 7, "onset_date"),
    ("treatments.csv", 3, "drug"),
    ("treatments.csv", 4, "stop_date"),
    ("treatments.csv", 5, "patient_id"),
    ("treatments.csv", 6, "dose"),
    ("treatments.csv", 7, "route"),
    ("assessments.csv", 5, "pga"),
    ("assessments.csv", 6, "chaq_di"),
    ("assessments.csv", 7, "pga_vas"),
    ("assessments.csv", 8, "bone_pain"),
    ("assessments.csv", 9, "date"),
    ("assessments.csv", 10, "date"),
    ("labs.csv", 3, "unit"),
    ("labs.csv", 4, "unit"),
    ("labs.csv", 5, "test"),
    ("labs.csv", 6, "value"),
    ("labs.csv", 7, "ref_high"),
    ("labs.csv", 8, "value"),
    ("imaging.csv", 3, "study_id"),
    ("imaging.csv", 4, "modality"),
    ("lesions.csv", 3, "side"),
    ("lesions.csv", 4, "side"),
    ("lesions.csv", 5, "segment"),
    ("lesions.csv", 6, "segment"),
    ("lesions.csv", 7, "lesion_id"),
    ("lesions.csv", 9, "study_id"),
    ("lesions.csv", 10, "grade"),
    ("lesions.csv", 11, "bone"),
    ("lesions.csv", 12, "activity"),
    ("lesions.csv", 13, None),
    ("lesions.csv", 14, "symptomatic"),
    ("adverse_events.csv", 1, "term"),
}


def make_planted_dataset(tmp_path: Path) -> Path:
    """A dataset with many kinds of error in every table (see the comments for each row)."""
    return make_dataset(tmp_path, "planted", patients=PLANTED_PATIENTS, treatments=PLANTED_TREATMENTS,
                        assessments=PLANTED_ASSESSMENTS, labs=PLANTED_LABS, imaging=PLANTED_IMAGING,
                        lesions=PLANTED_LESIONS, adverse_events=PLANTED_ADVERSE_EVENTS)


def test_every_planted_problem_is_named_with_its_file_row_and_column_in_one_run(tmp_path):
    problems = check_dataset(make_planted_dataset(tmp_path))
    found = where(problems)
    assert PLANTED_EXPECTED - found == set()
    assert found - PLANTED_EXPECTED == set()
    assert len(problems) == len(PLANTED_EXPECTED)


def test_every_planted_problem_carries_its_bad_value_and_a_message(tmp_path):
    problems = {(p.table, p.row, p.column): p for p in check_dataset(make_planted_dataset(tmp_path))}
    assert problems[("patients.csv", 3, "sex")].value == "X"
    assert problems[("treatments.csv", 3, "drug")].value == "aspirinx"
    assert problems[("labs.csv", 4, "unit")].value == "mg/mL"
    assert "mg/L" in problems[("labs.csv", 4, "unit")].message
    assert problems[("assessments.csv", 6, "chaq_di")].value == "4"
    assert problems[("lesions.csv", 10, "grade")].value == "7"
    assert "row 2" in problems[("lesions.csv", 7, "lesion_id")].message
    assert all(p.message for p in problems.values())


def test_a_file_that_is_not_utf8_does_not_hide_the_problems_of_the_other_files(tmp_path):
    folder = make_dataset(
        tmp_path,
        patients=[PATIENT],
        labs="patient_id,date,test,value,unit\nP01,2020-01-01,CRP,3,mg/L\nP01,2020-01-02,CRP,<0,5,mg/L\n"
             "P01,2020-01-03,CRP,5 \xb5g/L,mg/L\n".encode("latin-1"),
        treatments=[{**T, "drug": "unknownumab"}],
    )
    found = where(check_dataset(folder))
    assert found == {("labs.csv", 4, None), ("treatments.csv", 2, "drug")}


def test_a_file_name_in_upper_case_is_read_not_skipped(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT])
    (folder / "Labs.CSV").write_text("patient_id,date,test,value,unit\nP01,2020-01-01,CRP,oops,mg/L\n")
    assert where(check_dataset(folder)) == {("Labs.CSV", 2, "value")}


def test_two_files_for_one_table_are_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT])
    (folder / "PATIENTS.csv").write_text("patient_id,sex\nP02,M\n")
    assert [(p.table, p.row) for p in check_dataset(folder)] == [("patients.csv", None)]


def test_every_table_and_column_of_the_format_is_documented():
    from cnotrack.exchange.schema import exchange_format

    doc = (Path(__file__).resolve().parents[1] / "docs" / "exchange-format.md").read_text("utf-8")
    for table in exchange_format().tables:
        assert f"### {table.name}" in doc or f"**{table.name}**" in doc, table.name
        for column in table.columns:
            assert f"| {column.name} |" in doc or f"`{column.name}`" in doc, f"{table.name}.{column.name}"


def test_chaq_answers_must_belong_to_an_assessment_of_that_patient_and_date(tmp_path):
    from cnotrack.exchange import check_dataset

    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,sex\nP1,F\n")
    (folder / "assessments.csv").write_text("patient_id,date\nP1,2020-01-01\n")
    (folder / "chaq.csv").write_text("patient_id,date,dressing_1,walking_aid\nP1,2020-01-01,2,no\nP1,2020-02-01,1,yes\n")
    problems = check_dataset(folder)
    assert [(p.table, p.row, p.column) for p in problems] == [("chaq.csv", 3, "date")]
