"""Reading is bounded (ReadLimits), hostile workbooks are refused before they cost memory or
time, and a dataset is named by a safe label, never by a server's path."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from cnotrack import DatasetError, check_dataset, load_dataset
from cnotrack.exchange import CLI_LIMITS, UPLOAD_LIMITS, ReadLimits, read_dataset

from conftest import make_dataset, make_workbook

SHEET = "xl/worksheets/sheet1.xml"


def rewrite_member(path: Path, name: str, content: bytes, *, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[name] = content
    members.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def sheet_xml(rows: str, dimension: str = "A1:XFD1048576") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>sex</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>P01</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>F</t></is></c></row>'
        f"{rows}</sheetData></worksheet>"
    ).encode()


def base_workbook(tmp_path: Path, name: str = "cohort.xlsx") -> Path:
    return make_workbook(tmp_path / name, patients=[["patient_id", "sex"], ["P01", "F"]])


class RowCounter:
    """Counts the rows openpyxl hands out (the work of reading a sheet)."""

    def __init__(self, monkeypatch):
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet

        self.rows = 0
        real = ReadOnlyWorksheet._get_row

        def counting(sheet, *args, **kwargs):
            self.rows += 1
            return real(sheet, *args, **kwargs)

        monkeypatch.setattr(ReadOnlyWorksheet, "_get_row", counting)


# --------------------------------------------------------------------------- workbooks

def test_a_zip_bomb_workbook_is_refused_by_name_before_it_is_parsed(tmp_path, monkeypatch):
    path = rewrite_member(base_workbook(tmp_path), "xl/padding.xml", b" " * (60 * 2**20))
    assert path.stat().st_size < 200_000
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    for limits in (UPLOAD_LIMITS, CLI_LIMITS):
        problems = check_dataset(path, limits=limits)
        assert len(problems) == 1 and problems[0].table == "cohort.xlsx", problems
        assert "inflates" in problems[0].message


def test_a_workbook_that_inflates_beyond_the_upload_limit_is_refused(tmp_path):
    limits = ReadLimits(max_uncompressed_bytes=10_000)
    (problem,) = check_dataset(base_workbook(tmp_path), limits=limits)
    assert problem.table == "cohort.xlsx" and "10,000" in problem.message


def test_a_workbook_with_too_many_members_is_refused(tmp_path):
    path = rewrite_member(base_workbook(tmp_path), "xl/x0.xml", b"x",
                          extra={f"xl/x{i}.xml": b"x" for i in range(1, 300)})
    (problem,) = check_dataset(path, limits=UPLOAD_LIMITS)
    assert "files" in problem.message and problem.table == "cohort.xlsx"


def test_a_huge_declared_dimension_does_not_pad_the_rows(tmp_path, monkeypatch):
    path = rewrite_member(base_workbook(tmp_path), SHEET, sheet_xml(""))
    counter = RowCounter(monkeypatch)
    tracemalloc.start()
    try:
        data = load_dataset(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.patients["patient_id"].to_list() == ["P01"]
    assert counter.rows <= 3 and peak < 30 * 2**20


def test_many_styled_empty_rows_stop_at_the_row_limit(tmp_path, monkeypatch):
    styled = "".join(f'<row r="{r}"><c r="A{r}" s="0"/></row>' for r in range(3, 60_003))
    path = rewrite_member(base_workbook(tmp_path), SHEET, sheet_xml(styled))
    counter = RowCounter(monkeypatch)
    problems = check_dataset(path, limits=ReadLimits(max_rows=1_000))
    assert [(p.table, p.row) for p in problems] == [("cohort.xlsx[patients]", 1_002)]
    assert counter.rows <= 1_003


def test_styled_cells_far_to_the_right_stop_at_the_cell_limit(tmp_path, monkeypatch):
    wide = "".join(f'<row r="{r}"><c r="XFD{r}" s="0"/></row>' for r in range(3, 20_003))
    path = rewrite_member(base_workbook(tmp_path), SHEET, sheet_xml(wide))
    counter = RowCounter(monkeypatch)
    problems = check_dataset(path, limits=ReadLimits(max_cells=1_000_000))
    assert len(problems) == 1 and "1,000,000 cells" in problems[0].message
    assert counter.rows <= 1_000_000 // 16_384 + 3


def test_gaps_between_row_numbers_beyond_the_sheet_are_bounded(tmp_path):
    far = '<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>P09</t></is></c></row>'
    path = rewrite_member(base_workbook(tmp_path), SHEET, sheet_xml(far))
    (problem,) = check_dataset(path)
    assert problem.row == 1_048_578 and "1,048,576 rows" in problem.message


def test_a_workbook_larger_than_the_upload_limit_is_refused(tmp_path):
    (problem,) = check_dataset(base_workbook(tmp_path), limits=ReadLimits(max_file_bytes=100))
    assert problem.table == "cohort.xlsx" and "bytes" in problem.message


def test_a_workbook_within_the_upload_limits_reads_as_usual(tmp_path):
    assert load_dataset(base_workbook(tmp_path), limits=UPLOAD_LIMITS).patients.height == 1


# --------------------------------------------------------------------------- CSV files

def test_a_csv_table_with_more_rows_than_allowed_is_a_problem(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": f"P{i}", "sex": "F"} for i in range(20)])
    (problem,) = check_dataset(folder, limits=ReadLimits(max_rows=10))
    assert (problem.table, problem.row) == ("patients.csv", 12) and "10 rows" in problem.message


def test_a_quoted_csv_table_with_more_cells_than_allowed_stops_reading_there(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": f"P{i}", "sex": "F", "center": 'a "b"'}
                                              for i in range(50)])
    (problem,) = check_dataset(folder, limits=ReadLimits(max_cells=30))
    assert problem.row == 12 and "30 cells" in problem.message


def test_a_csv_file_with_more_columns_than_allowed_is_a_problem_of_its_header(tmp_path):
    folder = make_dataset(tmp_path, patients="patient_id,sex," + ",".join(f"c{i}" for i in range(600)) + "\n")
    problems = check_dataset(folder, limits=UPLOAD_LIMITS)
    assert any(p.row == 1 and "500" in p.message for p in problems)


def test_a_csv_file_larger_than_allowed_is_not_read(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F"}])
    (problem,) = check_dataset(folder, limits=ReadLimits(max_file_bytes=10))
    assert problem.table == "patients.csv" and "bytes" in problem.message


def test_the_upload_limits_are_stricter_than_the_command_lines():
    assert UPLOAD_LIMITS.max_file_bytes and CLI_LIMITS.max_file_bytes is None
    assert UPLOAD_LIMITS.max_rows and UPLOAD_LIMITS.max_cells and UPLOAD_LIMITS.max_compression_ratio


# --------------------------------------------------------------------------- labels

def test_a_dataset_is_named_by_its_folders_name_never_its_path(tmp_path, good_dataset):
    data = load_dataset(good_dataset)
    assert data.source == "good"
    with pytest.raises(DatasetError) as caught:
        load_dataset(make_dataset(tmp_path, "bad", patients=[{"patient_id": "P01", "sex": "X"}]))
    assert caught.value.source == "bad" and str(tmp_path) not in str(caught.value)


def test_a_label_names_the_dataset_in_its_source_and_every_problem(tmp_path):
    secret = tmp_path / "cnotrack-upload-1234"
    secret.mkdir()
    book = make_workbook(secret / "tmpab12.xlsx", patients=[["patient_id", "sex"], ["P01", "X"]], other=[["a"]])
    with pytest.raises(DatasetError) as caught:
        load_dataset(book, label="cohort.xlsx")
    assert caught.value.source == "cohort.xlsx"
    assert {p.table for p in caught.value.problems} == {"cohort.xlsx[patients]", "cohort.xlsx[other]"}
    assert "cnotrack-upload" not in str(caught.value) and "tmpab12" not in str(caught.value)
    good = make_workbook(secret / "tmpcd34.xlsx", patients=[["patient_id", "sex"], ["P01", "F"]])
    assert load_dataset(good, label="cohort.xlsx").source == "cohort.xlsx"
    assert read_dataset(good).source == "tmpcd34.xlsx"


def test_a_missing_path_is_named_by_its_label(tmp_path):
    with pytest.raises(DatasetError) as caught:
        load_dataset(tmp_path / "gone" / "x.xlsx", label="upload")
    assert caught.value.problems[0].table == "upload" and str(tmp_path) not in str(caught.value)


# --------------------------------------------------------------------------- columns present

def test_the_dataset_says_which_columns_each_file_had(tmp_path):
    folder = make_dataset(tmp_path, patients=[{"patient_id": "P01", "sex": "F", "center": "Rome"}],
                          labs=[{"patient_id": "P01", "date": "2020-01-01", "test": "CRP", "value": "1",
                                 "unit": "mg/L"}])
    data = load_dataset(folder, keep_extra=True)
    assert data.columns_present["patients"] == {"patient_id", "sex", "center"}
    assert data.columns_present["labs"] == {"patient_id", "date", "test", "value", "censor", "unit"}
    assert "treatments" not in data.columns_present
    from cnotrack.exchange.dataset import subset

    assert subset(data, ["P01"]).columns_present == data.columns_present
