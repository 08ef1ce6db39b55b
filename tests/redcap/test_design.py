"""The REDCap project cnotrack generates (``interop.redcap.design``) and the records it exports
(``interop.redcap.export``): the dictionary follows REDCap's own rules, checked against REDCap's
real files in ../shared/reference/redcap, and dictionary -> records -> import is the identity
on hypothesis-generated datasets (a byte-identical exchange-format export).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from cnotrack.errors import DatasetError
from cnotrack.exchange import export_dataset, load_dataset
from cnotrack.exchange.dataset import Dataset
from cnotrack.exchange.schema import exchange_format
from cnotrack.interop.redcap.design import (
    DICTIONARY_HEADER, FIELD_NAME_LIMIT, RECORD_ID, choice_code, cnotrack_dictionary, cnotrack_mapping,
    project_design, repeating_instruments, write_dictionary,
)
from cnotrack.interop.redcap.export import record_columns, redcap_records
from cnotrack.interop.redcap.project import PSEUDO_FIELDS, Field
from cnotrack.vocabulary import anatomy, drugs, lab_tests

from conftest import folder_bytes, make_dataset
from test_roundtrip import datasets

from .conftest import reference_file

DEMO = Path(__file__).resolve().parents[2] / "src" / "cnotrack" / "demo" / "pardeo2017"
FORMAT = exchange_format()
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def dictionary_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(cnotrack_dictionary().decode("utf-8"))))


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def choices_of(row: dict[str, str]) -> list[tuple[str, str]]:
    text = row["Choices, Calculations, OR Slider Labels"]
    return [tuple(part.split(", ", 1)) for part in text.split(" | ")] if text else []


# --------------------------------------------------------------------------- the data dictionary

def test_the_dictionary_header_is_byte_for_byte_the_header_of_a_real_redcap_web_export():
    real = reference_file("REDCapR-repeating-instruments", "dictionary.csv").read_bytes().splitlines()[0]
    assert cnotrack_dictionary().splitlines()[0] == real
    assert csv_rows(real + b"\n")[0] == list(DICTIONARY_HEADER)


def test_every_dictionary_row_has_the_18_columns():
    rows = csv_rows(cnotrack_dictionary())
    assert len(rows) > 1 and {len(r) for r in rows} == {18}


def test_the_record_id_field_comes_first_on_the_patients_form():
    first = dictionary_rows()[0]
    assert (first["Variable / Field Name"], first["Form Name"], first["Field Type"]) == (RECORD_ID, "patients", "text")


def test_field_names_follow_redcaps_rules_and_are_unique_across_the_project():
    names = [r["Variable / Field Name"] for r in dictionary_rows()]
    forms = {r["Form Name"] for r in dictionary_rows()}
    assert all(NAME.match(n) and len(n) <= FIELD_NAME_LIMIT for n in names), [n for n in names if len(n) > 26]
    assert len(names) == len(set(names))
    assert not set(names) & ({f"{f}_complete" for f in forms} | set(PSEUDO_FIELDS))
    assert all(NAME.match(f) for f in forms)


def test_a_column_two_tables_share_keeps_its_name_in_the_first_and_is_prefixed_in_the_others():
    """The first table of the format to have a column keeps its plain name, so that a table added
    by a later format version (``administrations.dose``) never renames a field of a project in use."""
    names = {(f.table, f.column): f.name for form in project_design() for f in form.fields}
    assert names["treatments", "drug"] == "drug" and names["treatments", "dose"] == "dose"
    assert names["administrations", "dose"] == "administrations_dose"
    assert names["adverse_events", "drug"] == "adverse_events_drug"
    assert names["lesions", "study_id"] == "lesions_study_id"
    assert names["assessments", "pga"] == "pga"


def test_a_prefixed_name_that_another_column_already_has_takes_form_in_its_name():
    names = {(f.table, f.column): f.name for form in project_design() for f in form.fields}
    assert names["patients", "diagnosis_date"] == "diagnosis_date"
    assert names["diagnosis", "date"] == "diagnosis_form_date"


def test_a_name_longer_than_the_limit_keeps_the_start_of_each_word():
    names = {(f.table, f.column): f.name for form in project_design() for f in form.fields}
    assert names["diagnosis", "vertebral_clavicular_or_sternal_lesion"] == "verte_clavi_or_stern_lesio"


def test_every_column_of_the_format_has_one_field_named_in_its_annotation():
    annotated = [r["Field Annotation"] for r in dictionary_rows()]
    expected = [f"cnotrack {t.name}.{c.name}" for t in FORMAT.tables for c in t.columns
                if t.name == "patients" or c.references != "patients"]
    assert annotated == expected


def test_there_is_one_instrument_per_table_in_the_formats_order():
    forms = list(dict.fromkeys(r["Form Name"] for r in dictionary_rows()))
    assert forms == list(FORMAT.table_names)


def test_column_types_become_redcap_field_types_and_validations():
    by_column = {(f.table, f.column): f for form in project_design() for f in form.fields}
    for table in FORMAT.tables:
        for column in table.columns:
            field = by_column.get((table.name, column.name))
            if field is None:   # the patient reference: the record id
                assert column.references == "patients"
                continue
            kind = (field.field_type, field.validation)
            if column.type == "boolean":
                assert kind == ("yesno", "")
            elif column.type == "date":
                assert kind == ("text", "date_ymd")
            elif column.type in ("number", "integer"):
                assert kind == ("text", column.type)
                assert field.minimum == ("" if column.min is None else f"{column.min:g}")
                assert field.maximum == ("" if column.max is None else f"{column.max:g}")
            elif column.type in ("choice", "drug", "bone", "lab_test", "lab_unit"):
                assert field.field_type in ("radio", "dropdown") and field.choices
            else:  # id, text, partial_date, lab_value: REDCap has no validation for YYYY-MM or <0.5
                assert kind == ("text", "")


def test_vocabularies_are_whole_in_the_choices():
    by_column = {(f.table, f.column): f for form in project_design() for f in form.fields}
    values = {(t, c): [v for _, _, v in f.choices] for (t, c), f in by_column.items()}
    assert values["treatments", "drug"] == [d.name for d in drugs().drugs]
    assert values["lesions", "bone"] == [b.name for b in anatomy().bones]
    assert values["labs", "test"] == [t.code for t in lab_tests().tests]
    assert set(values["labs", "unit"]) == {u for t in lab_tests().tests for u in t.units}
    assert values["lesions", "side"] == list(FORMAT.table("lesions").column("side").choices)


def test_every_choice_code_survives_the_checkbox_rule_and_redcaps_code_rules():
    for row in dictionary_rows():
        field = Field(row["Variable / Field Name"], row["Form Name"], "checkbox", row["Field Label"])
        for code, label in choices_of(row):
            assert re.fullmatch(r"[a-z0-9_]+", code), code
            assert field.checkbox_column(code) == f"{field.name}___{code}"
            assert "|" not in label and label.strip()


def test_a_choice_code_is_the_value_lower_cased_with_underscores():
    assert [choice_code(v) for v in ("zoledronic acid", "mg/dL", "10^9/L", "F", "C1")] == [
        "zoledronic_acid", "mg_dl", "10_9_l", "f", "c1"]


def test_choice_strings_are_written_as_redcaps_own_dictionaries_write_them():
    real = list(csv.DictReader(reference_file("REDCapR-longitudinal", "dictionary.csv").open(encoding="utf-8")))
    form = re.compile(r"^[^,|]+, [^|]+( \| [^,|]+, [^|]+)*$")
    column = "Choices, Calculations, OR Slider Labels"
    assert all(form.match(r[column]) for r in real if r["Field Type"] in ("radio", "dropdown", "checkbox"))
    ours = [r for r in dictionary_rows() if r[column]]
    assert ours and all(form.match(r[column]) for r in ours)


def test_the_field_types_and_validations_used_are_ones_real_redcap_dictionaries_use():
    real = list(csv.DictReader(reference_file("REDCapR-longitudinal", "dictionary.csv").open(encoding="utf-8")))
    validation = "Text Validation Type OR Show Slider Number"
    assert {r["Field Type"] for r in dictionary_rows()} <= {r["Field Type"] for r in real}
    assert {r[validation] for r in dictionary_rows()} <= {r[validation] for r in real}


def test_the_dictionary_parses_with_cnotracks_own_reader_as_it_was_designed():
    from cnotrack.interop.redcap.dictionary import parse_dictionary

    fields = parse_dictionary(cnotrack_dictionary(), "cnotrack.csv")
    designed = [f for form in project_design() for f in form.fields]
    assert list(fields) == [f.name for f in designed]
    for f in designed:
        got = fields[f.name]
        assert (got.form, got.field_type, got.validation or "", got.required) == (
            f.form, f.field_type, f.validation, f.required)
        if f.field_type != "yesno":
            assert got.choices == tuple((c, label) for c, label, _ in f.choices)


def test_the_repeating_instruments_are_every_form_but_patients_labelled_by_their_key():
    rows = csv_rows(repeating_instruments())
    assert rows[0] == ["form_name", "custom_form_label"]
    assert [r[0] for r in rows[1:]] == [t for t in FORMAT.table_names if t != "patients"]
    assert dict(rows[1:])["labs"] == "[labs_date] [test]"


def test_the_repeating_instruments_file_parses_with_cnotracks_own_reader():
    from cnotrack.interop.redcap.files import parse_repeating

    assert parse_repeating(repeating_instruments(), "repeating.csv") == {
        (None, t) for t in FORMAT.table_names if t != "patients"}


def test_the_mapping_is_a_valid_mapping_with_one_block_per_form():
    from cnotrack.interop.redcap.mapping import load_mapping

    mapping = load_mapping(cnotrack_mapping(), label="cnotrack.yaml")
    assert [(b.table, b.form) for b in mapping.blocks] == [(t, t) for t in FORMAT.table_names]
    sex = mapping.blocks[0].columns["sex"]
    assert (sex.field, sex.codes) == ("sex", {"f": "F", "m": "M", "u": "U"})


# --------------------------------------------------------------------------- the records

def test_the_records_columns_are_the_dictionary_fields_their_forms_complete_and_the_repeat_columns():
    data = redcap_records(load_dataset(DEMO))
    header = csv_rows(data)[0]
    assert header == record_columns()
    rows = dictionary_rows()
    fields = [r["Variable / Field Name"] for r in rows]
    expected = [RECORD_ID, "redcap_repeat_instrument", "redcap_repeat_instance"]
    for form in dict.fromkeys(r["Form Name"] for r in rows):
        expected += [r["Variable / Field Name"] for r in rows if r["Form Name"] == form and
                     r["Variable / Field Name"] != RECORD_ID] + [f"{form}_complete"]
    assert header == expected and set(header) - set(fields) <= set(PSEUDO_FIELDS) | {
        h for h in header if h.endswith("_complete")}


def test_one_row_per_patient_and_one_instance_per_row_of_every_other_table():
    dataset = load_dataset(DEMO)
    records = pl.read_csv(io.BytesIO(redcap_records(dataset)), infer_schema=False)
    counts = records.group_by("redcap_repeat_instrument").len()
    got = {row[0]: row[1] for row in counts.iter_rows()}
    expected = {name: dataset[name].height for name in FORMAT.table_names if dataset[name].height}
    assert got.pop(None) == expected.pop("patients") and got == expected
    numbered = records.filter(pl.col("redcap_repeat_instrument").is_not_null()).group_by(
        RECORD_ID, "redcap_repeat_instrument").agg(pl.col("redcap_repeat_instance").cast(pl.Int64))
    assert all(v == list(range(1, len(v) + 1)) for v in numbered["redcap_repeat_instance"].to_list())


def test_values_are_codes_dates_and_shortest_numbers(tmp_path):
    folder = make_dataset(
        tmp_path, patients=[{"patient_id": "P 1", "sex": "female", "birth_date": "2010-03"}],
        treatments=[{"patient_id": "P 1", "drug": "Zometa", "start_date": "2020-01-02", "dose": "0.050",
                     "route": "i.v."}],
        labs=[{"patient_id": "P 1", "date": "2020-01-02", "test": "crp", "value": "< 0.5", "unit": "MG/DL"}],
        imaging=[{"patient_id": "P 1", "study_id": "S1", "date": "2020-01-02", "modality": "wb mri"}],
        lesions=[{"study_id": "S1", "bone": "tibia", "side": "L", "symptomatic": "yes", "grade": "2"}],
    )
    records = pl.read_csv(io.BytesIO(redcap_records(load_dataset(folder))), infer_schema=False)
    cell = {(r["redcap_repeat_instrument"], k): v for r in records.iter_rows(named=True) for k, v in r.items()
            if v is not None}
    assert cell[None, "sex"] == "f" and cell[None, "birth_date"] == "2010-03"
    assert cell["treatments", "drug"] == "zoledronic_acid" and cell["treatments", "dose"] == "0.05"
    assert cell["treatments", "route"] == "iv" and cell["treatments", "start_date"] == "2020-01-02"
    assert (cell["labs", "value"], cell["labs", "unit"], cell["labs", "test"]) == ("<0.5", "mg_dl", "crp")
    assert cell["lesions", RECORD_ID] == "P 1" and cell["lesions", "side"] == "left"
    assert (cell["lesions", "symptomatic"], cell["lesions", "grade"]) == ("1", "2")


def test_the_same_dataset_gives_the_same_bytes_whatever_its_row_order():
    dataset = load_dataset(DEMO)
    shuffled = Dataset({name: frame.sample(fraction=1.0, shuffle=True, seed=7) for name, frame in dataset.tables.items()})
    assert redcap_records(shuffled) == redcap_records(dataset)


def test_a_lesion_of_a_study_that_no_patient_has_is_a_problem_not_a_silent_drop():
    dataset = load_dataset(DEMO)
    lesions = dataset["lesions"].with_columns(pl.lit("NO-SUCH-STUDY").alias("study_id")).head(1)
    broken = Dataset({**dataset.tables, "lesions": lesions})
    with pytest.raises(DatasetError) as caught:
        redcap_records(broken)
    problem = caught.value.problems[0]
    assert (problem.table, problem.column, problem.value) == ("lesions", "study_id", "NO-SUCH-STUDY")


def test_the_dictionary_command_writes_the_three_files(tmp_path):
    import cnotrack.cli_redcap_design  # noqa: F401  (registers the command on ``cnotrack redcap``)
    from cnotrack.cli import app

    paths = [tmp_path / "d.csv", tmp_path / "r.csv", tmp_path / "m.yaml"]
    result = CliRunner().invoke(app, ["redcap", "dictionary", str(paths[0]), "--repeating", str(paths[1]),
                                      "--mapping", str(paths[2])])
    assert result.exit_code == 0, result.output
    assert [p.read_bytes() for p in paths] == [cnotrack_dictionary(), repeating_instruments(),
                                               cnotrack_mapping().encode("utf-8")]
    assert write_dictionary(tmp_path / "only.csv") == [tmp_path / "only.csv"]


# --------------------------------------------------------------------------- round trip

def read_back(dataset: Dataset) -> Dataset:
    """dataset -> REDCap records -> the generated project -> the generated mapping -> a dataset."""
    from cnotrack.interop.redcap.files import project_from_content
    from cnotrack.interop.redcap.load import load_redcap
    from cnotrack.interop.redcap.mapping import load_mapping

    project = project_from_content(dictionary=cnotrack_dictionary(), records=redcap_records(dataset),
                                   repeating=repeating_instruments(), names={"records": "records.csv"},
                                   formats={"dictionary": "csv", "records": "csv", "repeating": "csv"})
    return load_redcap(project, load_mapping(cnotrack_mapping(), label="cnotrack.yaml"))


def assert_same_export(dataset: Dataset, back: Dataset, work: Path) -> None:
    assert folder_bytes(export_dataset(back, work / "back")) == folder_bytes(export_dataset(dataset, work / "sent"))


def test_the_demo_dataset_comes_back_from_redcap_byte_for_byte(tmp_path):
    dataset = load_dataset(DEMO)
    assert_same_export(dataset, read_back(dataset), tmp_path)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets())
def test_a_random_dataset_comes_back_from_redcap_byte_for_byte(case):
    written, _ = case
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        dataset = load_dataset(make_dataset(work, "source", **written))
        assert_same_export(dataset, read_back(dataset), work)
