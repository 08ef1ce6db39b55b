"""Odd input is either rejected with a problem that names file, row, column and value, or stored
exactly; never changed, dropped or crashed on."""

from __future__ import annotations

import openpyxl
import pytest

from cnotrack import check_dataset, export_dataset, load_dataset

from conftest import make_dataset, make_workbook, read_csv_rows

PATIENT = {"patient_id": "P01", "sex": "F"}


def patients_file(tmp_path, text: str | bytes, name: str = "ds"):
    return make_dataset(tmp_path, name, patients=text)


def only(problems):
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("table,column,value", [
    ("assessments", "pga_vas", "１０"), ("assessments", "pga_vas", "١٥"), ("lesions", "grade", "２"),
    ("labs", "value", "١٥"), ("labs", "value", "<٥"), ("assessments", "date", "２０２０-０１-０１"),
    ("diagnosis", "lesion_count", "٣"), ("patients", "birth_date", "２００８-０５"),
])
def test_unicode_digits_are_a_problem_of_their_cell_not_a_lost_value(tmp_path, table, column, value):
    rows = {
        "patients": [dict(PATIENT)],
        "assessments": [{"patient_id": "P01", "date": "2020-01-01", "pga_vas": "1"}],
        "labs": [{"patient_id": "P01", "date": "2020-01-01", "test": "CRP", "value": "1", "unit": "mg/L"}],
        "imaging": [{"patient_id": "P01", "study_id": "S1", "date": "2020-01-01", "modality": "mri"}],
        "lesions": [{"study_id": "S1", "bone": "T7", "grade": "1"}],
        "diagnosis": [{"patient_id": "P01", "lesion_count": "1"}],
    }
    rows[table][0][column] = value
    problem = only(check_dataset(make_dataset(tmp_path, **rows)))
    assert (problem.table, problem.row, problem.column, problem.value) == (f"{table}.csv", 2, column, value)


def test_a_malformed_quote_is_a_problem_never_a_rewritten_value(tmp_path):
    problems = check_dataset(patients_file(tmp_path, 'patient_id,sex,center\nP01,F,"1"5\nP02,M,Rome\n'))
    problem = only(problems)
    assert (problem.table, problem.row) == ("patients.csv", 2) and "quote" in problem.message


def test_an_unterminated_quote_is_a_problem(tmp_path):
    problem = only(check_dataset(patients_file(tmp_path, 'patient_id,sex,center\nP01,F,"Rome\n')))
    assert problem.row == 2 and "quote" in problem.message


def test_every_malformed_quote_of_a_file_is_reported_in_one_run(tmp_path):
    text = 'patient_id,sex,center\nP01,F,"1"5\nP02,M,Rome\nP03,F,"a"b\n'
    assert [p.row for p in check_dataset(patients_file(tmp_path, text))] == [2, 4]


@pytest.mark.parametrize("header", ["_row", "_extra", "__cells_ok", "__msg_sex"])
def test_a_column_named_like_an_internal_one_is_an_unknown_column_or_kept_as_extra(tmp_path, header):
    folder = patients_file(tmp_path, f"patient_id,sex,{header}\nP01,F,x\n")
    problem = only(check_dataset(folder))
    assert (problem.row, problem.column) == (1, header) and "unknown column" in problem.message
    data = load_dataset(folder, keep_extra=True)
    assert data.patients["_extra"].to_list() == [f'{{"{header}": "x"}}']
    out = export_dataset(data, tmp_path / "out")
    assert read_csv_rows(out / "patients.csv")[0][-1] == header
    assert load_dataset(out, keep_extra=True).patients["_extra"].to_list() == [f'{{"{header}": "x"}}']


@pytest.mark.parametrize("header", ["x,x", "Sex, sex", "a,a,a__1", "a,a__1,a", "x,X ,x"])
@pytest.mark.parametrize("keep_extra", [False, True])
def test_duplicate_or_colliding_headers_are_problems_of_the_header_row(tmp_path, header, keep_extra):
    width = header.count(",") + 1
    if "sex" in header.lower():
        text = f"patient_id,{header}\nP01,F,F\n"
    else:
        text = f"patient_id,sex,{header}\nP01,F" + ",1" * width + "\n"
    problems = check_dataset(patients_file(tmp_path, text), keep_extra=keep_extra)
    assert problems and all(p.row == 1 for p in problems)
    assert any("twice" in p.message for p in problems) or not keep_extra


def test_distinct_headers_that_look_like_the_readers_renaming_are_kept_apart(tmp_path):
    folder = patients_file(tmp_path, "patient_id,sex,a,a__1\nP01,F,1,2\n")
    assert load_dataset(folder, keep_extra=True).patients["_extra"].to_list() == ['{"a": "1", "a__1": "2"}']


@pytest.mark.parametrize("quoted", [False, True])
def test_a_cell_longer_than_a_spreadsheet_cell_is_a_problem_naming_its_row_and_column(tmp_path, quoted):
    long = "x" * 140_000
    cell = f'"{long}"' if quoted else long
    problem = only(check_dataset(patients_file(tmp_path, f"patient_id,sex,center\nP01,F,ok\nP02,F,{cell}\n")))
    assert (problem.table, problem.row, problem.column) == ("patients.csv", 3, "center")
    assert problem.value.startswith("xxxx") and len(problem.value) < 100 and "140,000" in problem.message


def test_a_cell_of_the_largest_spreadsheet_length_is_stored_exactly(tmp_path):
    long = "y" * 32_767
    data = load_dataset(patients_file(tmp_path, f'patient_id,sex,center\nP01,F,"{long}"\n'))
    assert data.patients["center"].to_list() == [long]


@pytest.mark.parametrize("value", ["1e-400", "5e-324e", "1e-330"])
def test_a_number_too_small_for_a_float_is_a_problem_not_a_zero(tmp_path, value):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          assessments=[{"patient_id": "P01", "date": "2020-01-01", "pga_vas": value}],
                          labs=[{"patient_id": "P01", "date": "2020-01-01", "test": "CRP", "value": f"<{value}",
                                 "unit": "mg/L"}])
    problems = check_dataset(folder)
    if value in ("1e-400", "1e-330"):
        assert {(p.table, p.column, p.value) for p in problems} == {
            ("assessments.csv", "pga_vas", value), ("labs.csv", "value", f"<{value}")}
        assert all("too small" in p.message for p in problems)
    else:
        assert problems  # not a number at all, or below the minimum


@pytest.mark.parametrize("value", ["0", "0.0", "0e-400", "000.000E5", "-0.0000e-999999", "5e-324"])
def test_zero_written_in_any_form_and_the_smallest_float_are_numbers(tmp_path, value):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          assessments=[{"patient_id": "P01", "date": "2020-01-01", "pga_vas": value}])
    assert check_dataset(folder) == []


def test_a_number_too_large_for_a_float_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[PATIENT],
                          treatments=[{"patient_id": "P01", "drug": "naproxen", "start_date": "2020-01-01",
                                       "dose": "1e400"}])
    problem = only(check_dataset(folder))
    assert (problem.column, problem.value) == ("dose", "1e400") and "too large" in problem.message


def test_nul_bytes_are_a_problem_of_their_cell(tmp_path):
    problem = only(check_dataset(patients_file(tmp_path, b"patient_id,sex,center\nP01,F,Ro\x00me\n")))
    assert (problem.row, problem.column, problem.value) == (2, "center", "Ro\x00me")


def test_a_byte_order_mark_in_the_middle_of_a_cell_is_kept(tmp_path):
    data = load_dataset(patients_file(tmp_path, "\ufeffpatient_id,sex,center\nP01,F,Ro\ufeffme\n"))
    assert data.patients["center"].to_list() == ["Ro\ufeffme"]


def test_carriage_returns_alone_end_lines(tmp_path):
    data = load_dataset(patients_file(tmp_path, "patient_id,sex\rP01,F\rP02,M\r"))
    assert data.patients["patient_id"].to_list() == ["P01", "P02"] and data.patients["_row"].to_list() == [2, 3]


def test_a_header_only_file_is_an_empty_table(tmp_path):
    assert load_dataset(patients_file(tmp_path, "patient_id,sex\n")).patients.height == 0


def test_ten_thousand_columns_are_read_as_extra_attributes_or_named_as_unknown(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    folder = patients_file(tmp_path, f"patient_id,sex,{header}\nP01,F,{'v,' * 9_999}v\n")
    assert len(check_dataset(folder)) == 10_000
    data = load_dataset(folder, keep_extra=True)
    assert data.patients["_extra"].str.len_chars().item() > 10_000


def test_an_upper_case_csv_extension_is_read(tmp_path):
    folder = tmp_path / "upper"
    folder.mkdir()
    (folder / "PATIENTS.CSV").write_text("patient_id,sex\nP01,F\n", encoding="utf-8")
    assert load_dataset(folder).patients["patient_id"].to_list() == ["P01"]


def test_a_sheet_named_with_a_trailing_space_is_its_table(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", **{"Patients ": [["patient_id", "sex"], ["P01", "F"]]})
    assert load_dataset(book).patients["patient_id"].to_list() == ["P01"]


def test_a_formula_cell_without_a_saved_value_is_a_problem_not_an_empty_cell(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "patients"
    sheet.append(["patient_id", "sex", "center"])
    sheet.append(["P01", "F", "=CONCATENATE(\"Ro\",\"me\")"])  # openpyxl saves no computed value
    sheet.append(["P02", "M", "Genoa"])
    book.save(tmp_path / "f.xlsx")
    problem = only(check_dataset(tmp_path / "f.xlsx"))
    assert (problem.table, problem.row, problem.column) == ("f.xlsx[patients]", 2, "center")
    assert "formula without a saved value" in problem.message


def test_a_formula_cell_with_a_saved_value_is_read_as_that_value(tmp_path):
    make_workbook(tmp_path / "v.xlsx", patients=[["patient_id", "sex", "center"], ["P01", "F", "=1+1"]])
    path = tmp_path / "v.xlsx"
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet].replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>")
    assert b"<v>2</v>" in members[sheet]
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    assert load_dataset(path).patients["center"].to_list() == ["2"]
