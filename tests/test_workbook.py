"""Workbooks (.xlsx): the same dataset as sheets, Excel's own cell types, the template, and
workbooks that cnotrack writes."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import polars as pl
import pytest

from cnotrack import check_dataset, export_dataset, load_dataset, write_template
from cnotrack.exchange.schema import exchange_format

from conftest import make_dataset, make_workbook
from test_validate import (PLANTED_ADVERSE_EVENTS, PLANTED_ASSESSMENTS, PLANTED_EXPECTED, PLANTED_IMAGING,
                           PLANTED_LABS, PLANTED_LESIONS, PLANTED_PATIENTS, PLANTED_TREATMENTS, where)


def typed_cell(kind: str, text: object) -> object:
    """A cell as Excel would hold it when typed in by hand: dates, numbers and booleans."""
    if text is None:
        return None
    text = str(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "number":
        return float(text)
    if kind == "integer":
        return int(text)
    if kind == "boolean":
        return text == "yes"
    return text


def typed_tables(tables: dict[str, list[dict[str, object]]]) -> dict[str, list[dict[str, object]]]:
    out = {}
    for name, rows in tables.items():
        spec = exchange_format().table(name)
        kinds = {c.name: c.type for c in spec.columns}
        out[name] = [{k: typed_cell(kinds[k], v) for k, v in row.items()} for row in rows]
    return out


def data_frames(data) -> dict[str, pl.DataFrame]:
    out = {}
    for name, frame in data.tables.items():
        frame = frame.drop("_row", strict=False)
        out[name] = frame.sort(frame.columns, nulls_last=False)
    return out


def assert_same_data(left, right) -> None:
    a, b = data_frames(left), data_frames(right)
    for name in a:
        assert a[name].equals(b[name]), name


def test_the_good_dataset_as_a_workbook_of_text_cells_is_valid_and_equals_the_csv_folder(tmp_path, good_dataset,
                                                                                          good_tables):
    book = make_workbook(tmp_path / "good.xlsx", **good_tables)
    assert check_dataset(book) == []
    assert_same_data(load_dataset(book), load_dataset(good_dataset))


def test_excel_date_number_and_boolean_cells_are_read_as_the_values_they_show(tmp_path, good_dataset, good_tables):
    book = make_workbook(tmp_path / "typed.xlsx", **typed_tables(good_tables))
    assert check_dataset(book) == []
    assert_same_data(load_dataset(book), load_dataset(good_dataset))


def test_an_excel_date_time_cell_at_midnight_is_a_date(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", patients=[{"patient_id": "P01", "sex": "F",
                                                         "onset_date": dt.datetime(2020, 3, 4)}])
    assert load_dataset(book).patients["onset_date"].item() == dt.date(2020, 3, 4)


def test_an_excel_date_time_cell_with_a_time_is_a_problem(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", patients=[{"patient_id": "P01", "sex": "F",
                                                         "onset_date": dt.datetime(2020, 3, 4, 10, 30)}])
    problems = check_dataset(book)
    assert where(problems) == {("b.xlsx[patients]", 2, "onset_date")}


def test_an_identifier_typed_as_a_number_is_read_as_its_digits(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", patients=[{"patient_id": 17, "sex": "F"},
                                                        {"patient_id": 18.0, "sex": "M"}])
    assert load_dataset(book).patients["patient_id"].to_list() == ["17", "18"]


def test_sheet_names_match_ignoring_case_and_sheets_starting_with_underscore_are_ignored(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", **{"Patients": [{"patient_id": "P01", "sex": "F"}],
                                                "_notes": [["anything", "at all"]]})
    assert check_dataset(book) == []


def test_an_unknown_sheet_is_a_problem(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", patients=[{"patient_id": "P01", "sex": "F"}],
                         visits=[{"patient_id": "P01"}])
    assert where(check_dataset(book)) == {("b.xlsx[visits]", None, None)}


def test_a_file_that_is_not_a_workbook_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file")
    problems = check_dataset(path)
    assert len(problems) == 1 and "cannot be opened" in problems[0].message


def test_a_workbook_missing_the_patients_sheet_is_a_problem(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", labs=[{"patient_id": "P01", "date": "2020-01-01", "test": "CRP",
                                                     "value": 1, "unit": "mg/L"}])
    assert ("patients.csv", None, None) in where(check_dataset(book))


def rows_of(text: str) -> list[list[str] | None]:
    """The rows of a planted CSV text (``None`` for a blank line), for a sheet."""
    import csv
    import io

    out: list[list[str] | None] = []
    for row in csv.reader(io.StringIO(text, newline="")):
        out.append(row if row else None)
    return out


def test_planted_problems_in_a_workbook_are_named_with_sheet_row_and_column_counting_blank_rows(tmp_path):
    book = tmp_path / "planted.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    texts = {"patients": PLANTED_PATIENTS, "treatments": PLANTED_TREATMENTS, "assessments": PLANTED_ASSESSMENTS,
             "labs": PLANTED_LABS, "imaging": PLANTED_IMAGING, "lesions": PLANTED_LESIONS,
             "adverse_events": PLANTED_ADVERSE_EVENTS}
    for name, text in texts.items():
        sheet = wb.create_sheet(name)
        for row in rows_of(text):
            if row is None:
                sheet.append([])
            else:
                sheet.append([cell if cell != "" else None for cell in row])
    wb.save(book)
    found = where(check_dataset(book))
    # a sheet has no ragged rows: the short lesion row (S3, radius, right) is a valid row there
    expected = {(f"planted.xlsx[{t.removesuffix('.csv')}]", r, c) for t, r, c in PLANTED_EXPECTED}
    expected.remove(("planted.xlsx[lesions]", 13, None))
    assert found == expected


def test_blank_rows_of_a_sheet_are_ignored_but_counted(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", patients=[["patient_id", "sex"], ["P01", "F"], [], [None, None],
                                                        ["P02", "X"]])
    assert where(check_dataset(book)) == {("b.xlsx[patients]", 5, "sex")}


def test_the_template_is_a_valid_empty_dataset_with_every_table_and_column(tmp_path):
    path = write_template(tmp_path / "template.xlsx")
    assert check_dataset(path) == []
    book = openpyxl.load_workbook(path)
    for spec in exchange_format().tables:
        header = [c.value for c in book[spec.name][1]]
        assert header == list(spec.column_names)
    readme = "\n".join(str(r[0]) for r in book["_README"].iter_rows(values_only=True) if r[0])
    for spec in exchange_format().tables:
        for column in spec.columns:
            assert f"{column.name}:" in readme


def test_the_template_is_the_same_bytes_every_time(tmp_path):
    assert write_template(tmp_path / "a.xlsx").read_bytes() == write_template(tmp_path / "b.xlsx").read_bytes()


def test_an_exported_workbook_stamps_no_time_of_its_own(tmp_path, good_dataset):
    path = export_dataset(load_dataset(good_dataset), tmp_path / "out.xlsx")
    with zipfile.ZipFile(path) as archive:
        core = archive.read("docProps/core.xml").decode()
        stamps = {info.date_time for info in archive.infolist()}
    assert "2000-01-01T00:00:00Z" in core
    assert str(dt.date.today().year) not in core
    assert stamps == {(1980, 1, 1, 0, 0, 0)}


def test_an_exported_workbook_holds_every_cell_as_text(tmp_path, good_dataset):
    path = export_dataset(load_dataset(good_dataset), tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(path)
    cells = [c for row in book["labs"].iter_rows(min_row=2) for c in row if c.value is not None]
    assert cells and all(c.data_type == "s" for c in cells)


@pytest.mark.parametrize("term", ["=1+2", "=HYPERLINK(\"http://x\")", "+3", "-4", "@sum", "007", "1e5", "TRUE"])
def test_text_that_excel_could_take_for_a_formula_or_number_survives_a_workbook(tmp_path, term):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F"}],
                          adverse_events=[{"patient_id": "P01", "onset_date": "2020-01-01", "term": term}])
    path = export_dataset(load_dataset(folder), tmp_path / "out.xlsx")
    assert load_dataset(path)["adverse_events"]["term"].item() == term


def test_a_line_break_in_a_cell_survives_a_workbook(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F", "center": "a\r\nb\nc"}])
    path = export_dataset(load_dataset(folder), tmp_path / "out.xlsx")
    assert load_dataset(path).patients["center"].item() == "a\nb\nc"


def test_a_value_in_a_sheet_column_without_a_header_is_a_problem_not_dropped(tmp_path):
    book = make_workbook(tmp_path / "b.xlsx", patients=[["patient_id", "sex"], ["P01", "F", "stray"]])
    problems = check_dataset(book)
    assert [(p.table, p.row, p.value) for p in problems] == [("b.xlsx[patients]", 2, "stray")]
    assert "column C" in problems[0].message
