"""The OMOP CDM v5.4 export: its column file against the official specification, the mapping
of each cnotrack table, what is reported instead of dropped, concept resolution with an
Athena-shaped vocabulary, determinism, and loading with the official DDL."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_dataset
from test_roundtrip import datasets

from cnotrack.demo import demo_dataset
from cnotrack.errors import StoreError
from cnotrack.exchange import Dataset, load_dataset
from cnotrack.exchange.dataset import empty_table
from cnotrack.interop.omop import load_omop, omop_tables, verified_concepts, write_omop
from cnotrack.interop.omop._schema import _columns_file, column_names, column_type, width
from cnotrack.synth import synthesize_registry

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "omop"
FIELD_LEVEL = REFERENCE / "OMOP_CDMv5.4_Field_Level.csv"
DQD = REFERENCE / "DQD_OMOP_CDMv5.4_Concept_Level.csv"
needs_reference = pytest.mark.skipif(not FIELD_LEVEL.is_file(),
                                     reason=f"the OMOP reference files are not at {REFERENCE}")


def field_level() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with FIELD_LEVEL.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["cdmTableName"].lower(), []).append(row)
    return out


def with_table(dataset: Dataset, name: str, rows: list[dict]) -> Dataset:
    tables = dict(dataset.tables)
    schema = empty_table(name).schema
    tables[name] = pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)
    return Dataset(tables)


def replace_rows(dataset: Dataset, name: str, frame: pl.DataFrame) -> Dataset:
    tables = dict(dataset.tables)
    tables[name] = frame
    return Dataset(tables)


# ---- the column file against the official field specification

@needs_reference
def test_every_table_of_the_column_file_has_the_official_columns_in_the_official_order():
    spec = field_level()
    for table in _columns_file()["tables"]:
        assert column_names(table) == [r["cdmFieldName"] for r in spec[table]], table


@needs_reference
def test_the_widths_and_types_of_the_column_file_are_the_official_ones():
    spec = field_level()
    kinds = {pl.Int64: "integer", pl.Float64: "float", pl.Date: "date", pl.Datetime: "datetime", pl.String: "varchar"}
    for table in _columns_file()["tables"]:
        for row in spec[table]:
            declared = row["cdmDatatype"].lower()
            match = re.fullmatch(r"varchar\((\d+)\)", declared)
            assert width(table, row["cdmFieldName"]) == (int(match.group(1)) if match else None)
            assert declared.startswith(kinds[column_type(table, row["cdmFieldName"])]), (table, row["cdmFieldName"])


@needs_reference
def test_the_demo_export_fills_every_required_field_of_each_table_it_writes():
    spec = field_level()
    export = omop_tables(demo_dataset())
    for table, frame in export.tables.items():
        required = [r["cdmFieldName"] for r in spec[table] if r["isRequired"] == "Yes"]
        assert required
        for column in required:
            assert frame[column].null_count() == 0, (table, column)


@needs_reference
def test_every_shipped_concept_id_is_in_the_reference_files():
    """Gender ids are in the reference README's list of checked facts; the lab and unit ids in
    the Data Quality Dashboard's concept-level checks."""
    readme = (REFERENCE.parent / "README.md").read_text(encoding="utf-8")
    dqd = {row["conceptId"]: row for row in csv.DictReader(DQD.open(encoding="utf-8-sig"))}
    for concept_id, concept in verified_concepts().items():
        if concept.domain == "Gender":
            assert re.search(rf"\b{concept_id}\b", readme), concept_id
        elif concept.domain == "Measurement":
            assert dqd[str(concept_id)]["conceptName"] == concept.name
    assert dqd["3013707"]["plausibleUnitConceptIds"] == "8752"
    assert set(dqd["3020460"]["plausibleUnitConceptIds"].split(",")) == {"8751", "8840"}


# ---- the mapping

def test_the_demo_cohort_maps_to_the_clinical_tables_with_the_verified_concepts():
    export = omop_tables(demo_dataset())
    assert export.problems == []
    assert set(export.tables) == {"care_site", "person", "observation_period", "condition_occurrence",
                                  "drug_exposure", "procedure_occurrence", "measurement", "observation",
                                  "cdm_source"}
    person = export["person"]
    demo = demo_dataset().patients
    assert person.height == demo.height
    assert person["person_source_value"].sort().to_list() == demo["patient_id"].sort().to_list()
    sex = dict(zip(demo["patient_id"], demo["sex"]))
    for pid, gender in person.select("person_source_value", "gender_concept_id").iter_rows():
        assert gender == {"F": 8532, "M": 8507}[sex[pid]]
    labs = export["measurement"]
    esr = labs.filter(pl.col("measurement_source_value") == "ESR")
    assert set(esr["measurement_concept_id"]) == {3013707} and set(esr["unit_concept_id"]) == {8752}
    crp = labs.filter(pl.col("measurement_source_value") == "CRP")
    assert set(crp["measurement_concept_id"]) == {3020460}
    assert set(zip(crp["unit_source_value"], crp["unit_concept_id"])) <= {("mg/L", 8751), ("mg/dL", 8840)}
    other = labs.filter(~pl.col("measurement_source_value").is_in(["ESR", "CRP"]))
    assert set(other["measurement_concept_id"]) == {0}
    assert export["condition_occurrence"].filter(pl.col("condition_source_value") == "M86.3").height == demo.height
    assert set(export["drug_exposure"]["drug_type_concept_id"]) == {0}


def test_ongoing_courses_end_at_the_end_of_the_observation_period_and_the_notes_say_so():
    dataset = demo_dataset()
    export = omop_tables(dataset)
    drugs = export["drug_exposure"].join(export["observation_period"], on="person_id")
    ongoing = drugs.filter(pl.col("verbatim_end_date").is_null())
    assert ongoing.height == dataset["treatments"]["stop_date"].null_count() > 0
    assert (ongoing["drug_exposure_end_date"] == ongoing["observation_period_end_date"]).all()
    assert (drugs["drug_exposure_end_date"] >= drugs["drug_exposure_start_date"]).all()
    assert any("THEMIS" in note and "ongoing course" in note for note in export.notes)


def test_a_censored_lab_value_keeps_its_censor_in_the_source_value():
    export = omop_tables(demo_dataset())
    censored = export["measurement"].filter(pl.col("value_source_value").str.starts_with("<")
                                            | pl.col("value_source_value").str.starts_with(">"))
    assert censored.height == demo_dataset()["labs"]["censor"].drop_nulls().len() > 0
    assert set(censored["operator_concept_id"]) == {0}
    assert any("censored" in note for note in export.notes)


def test_a_patient_without_birth_year_is_a_problem_and_none_of_their_records_is_exported():
    dataset = demo_dataset()
    patients = dataset.patients.with_columns(
        pl.when(pl.col("patient_id") == "SYN-P01").then(None).otherwise(pl.col("birth_date")).alias("birth_date"))
    export = omop_tables(replace_rows(dataset, "patients", patients))
    assert [(p.table, p.column, p.value) for p in export.problems] == [("patients", "birth_date", "SYN-P01")]
    assert "year_of_birth" in export.problems[0].message
    assert "SYN-P01" not in export["person"]["person_source_value"].to_list()
    assert export["person"].height == 8
    assert export["measurement"].height == dataset["labs"].filter(pl.col("patient_id") != "SYN-P01").height


def test_a_value_longer_than_its_column_is_reported_and_left_empty_never_truncated():
    dataset = demo_dataset()
    long_unit = "mg/kg/day given as a continuous subcutaneous infusion over 24 hours"
    treatments = dataset["treatments"].with_columns(
        pl.when(pl.col("drug") == "anakinra").then(pl.lit(long_unit)).otherwise(pl.col("dose_unit")).alias("dose_unit"))
    export = omop_tables(replace_rows(dataset, "treatments", treatments))
    problems = [p for p in export.problems if p.column == "dose_unit_source_value"]
    assert problems and all(p.value == long_unit and "at most 50" in p.message for p in problems)
    rows = set(dataset["treatments"].filter(pl.col("drug") == "anakinra")["_row"])
    assert {(p.table, p.row) for p in problems} == {("treatments", r) for r in rows}
    anakinra = export["drug_exposure"].filter(pl.col("drug_source_value") == "anakinra")
    assert anakinra.height == len(problems) and anakinra["dose_unit_source_value"].null_count() == anakinra.height
    assert not export["drug_exposure"]["dose_unit_source_value"].str.starts_with("mg/kg/day given").any()


def test_biopsies_become_specimens_and_undated_family_history_is_reported():
    dataset = with_table(demo_dataset(), "biopsies", [
        {"patient_id": "SYN-P02", "date": dt.date(2012, 1, 5), "bone": "tibia", "side": "left",
         "result": "inflammatory_sterile"}])
    dataset = with_table(dataset, "family_history", [
        {"patient_id": "SYN-P02", "condition": "psoriasis", "relative": "mother"}])
    export = omop_tables(dataset)
    specimen = export["specimen"].row(0, named=True)
    assert specimen["anatomic_site_source_value"] == "tibia left"
    assert specimen["disease_status_source_value"] == "inflammatory_sterile"
    assert specimen["specimen_concept_id"] == 0 and specimen["anatomic_site_concept_id"] == 0
    assert [p.table for p in export.problems] == ["family_history"]


def test_cdm_source_dates_come_from_the_data_not_the_clock():
    dataset = demo_dataset()
    row = omop_tables(dataset)["cdm_source"].row(0, named=True)
    latest = max(f[c].max() for f in dataset.tables.values() for c, t in f.schema.items()
                 if t == pl.Date and f.height)
    assert row["source_release_date"] == row["cdm_release_date"] == latest
    assert row["cdm_version"] == "v5.4" and row["cdm_source_name"] == "cnotrack"


# ---- the vocabulary

ATHENA_HEADER = ("concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\t"
                 "concept_code\tvalid_start_date\tvalid_end_date\tinvalid_reason")


def write_athena(folder: Path) -> Path:
    """A tiny Athena-shaped download; the ids are invented for this test, not OMOP's."""
    folder.mkdir()
    rows = [
        "900001\tChronic multifocal osteomyelitis\tCondition\tICD10\tICD10 code\t\tM86.3\t19700101\t20991231\t",
        "900002\tChronic multifocal osteomyelitis (standard)\tCondition\tSNOMED\tClinical Finding\tS\tX1\t19700101\t20991231\t",
        "900003\tanakinra; systemic\tDrug\tATC\tATC 5th\tC\tL04AC03\t19700101\t20991231\t",
        "900004\tanakinra\tDrug\tRxNorm\tIngredient\tS\tR1\t19700101\t20991231\t",
        "900005\tAlkaline phosphatase \"total\"\tMeasurement\tLOINC\tLab Test\tS\tL-ALP\t19700101\t20991231\t",
        "900006\tunit per liter\tUnit\tUCUM\tUnit\tS\tU/L\t19700101\t20991231\t",
        "900007\tnaproxen; old\tDrug\tATC\tATC 5th\tC\tM01AE02\t19700101\t20991231\tD",
    ]
    (folder / "CONCEPT.csv").write_text("\n".join([ATHENA_HEADER, *rows]) + "\n", encoding="utf-8")
    (folder / "CONCEPT_RELATIONSHIP.csv").write_text(
        "concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\tvalid_end_date\tinvalid_reason\n"
        "900001\t900002\tMaps to\t19700101\t20991231\t\n900003\t900004\tMaps to\t19700101\t20991231\t\n",
        encoding="utf-8")
    return folder


def test_a_vocabulary_resolves_icd10_atc_and_ucum_and_keeps_the_source_concept(tmp_path):
    vocabulary = write_athena(tmp_path / "athena")
    dataset = demo_dataset()
    alp_row = {"patient_id": "SYN-P01", "date": dt.date(2013, 1, 2), "test": "ALP", "value": 210.0, "unit": "U/L"}
    dataset = with_table(dataset, "labs", [*dataset["labs"].to_dicts(), alp_row])
    export = omop_tables(dataset, vocabulary=vocabulary)
    cno = export["condition_occurrence"].filter(pl.col("condition_source_value") == "M86.3")
    assert set(cno["condition_concept_id"]) == {900002} and set(cno["condition_source_concept_id"]) == {900001}
    drugs = export["drug_exposure"]
    anakinra = drugs.filter(pl.col("drug_source_value") == "anakinra")
    assert set(anakinra["drug_concept_id"]) == {900004} and set(anakinra["drug_source_concept_id"]) == {900003}
    naproxen = drugs.filter(pl.col("drug_source_value") == "naproxen")  # its only concept is invalid
    assert set(naproxen["drug_concept_id"]) == {0} and set(naproxen["drug_source_concept_id"]) == {0}
    alp = export["measurement"].filter(pl.col("unit_source_value") == "U/L")
    assert alp.height == 1 and set(alp["unit_concept_id"]) == {900006}
    assert set(alp["measurement_concept_id"]) == {0}  # no LOINC code is verified for ALP: nothing to look up
    assert {900001, 900002, 900003, 900004, 900006} <= export.concept_ids


def test_a_vocabulary_folder_without_concept_csv_is_refused_with_the_fix(tmp_path):
    from cnotrack.errors import VocabularyError
    with pytest.raises(VocabularyError, match="CONCEPT.csv"):
        omop_tables(demo_dataset(), vocabulary=tmp_path)


# ---- determinism and invariants

def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 12), st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_any_registry_exports_the_same_bytes_whatever_its_row_order_and_stays_in_its_periods(
        tmp_path_factory, n, seed, rng):
    dataset = synthesize_registry(n, seed)
    shuffled = Dataset({name: frame.sample(fraction=1.0, shuffle=True, seed=rng.randrange(2**31))
                        for name, frame in dataset.tables.items()})
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    export = write_omop(dataset, a)
    write_omop(shuffled, b)
    assert folder_bytes(a) == folder_bytes(b)
    periods = export["observation_period"]
    assert periods["person_id"].sort().to_list() == export["person"]["person_id"].sort().to_list()
    for table, column in (("measurement", "measurement_date"), ("observation", "observation_date"),
                          ("drug_exposure", "drug_exposure_end_date"), ("procedure_occurrence", "procedure_date")):
        if table not in export.tables:
            continue
        joined = export[table].join(periods, on="person_id")
        assert joined.height == export[table].height
        assert ((joined[column] >= joined["observation_period_start_date"])
                & (joined[column] <= joined["observation_period_end_date"])).all(), table
    missing_birth = dataset.patients["birth_date"].null_count()
    assert export["person"].height == n - missing_birth
    assert sum(p.column == "birth_date" for p in export.problems) == missing_birth


# ---- loading with the official DDL

DUCKDB_DDL = REFERENCE / "duckdb"
POSTGRES_DDL = REFERENCE / "postgresql"


@needs_reference
def test_the_demo_export_loads_into_duckdb_with_keys_and_checked_foreign_keys(tmp_path):
    pytest.importorskip("duckdb")
    export = write_omop(demo_dataset(), tmp_path / "omop")
    report = load_omop(export, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=DUCKDB_DDL)
    assert report.rows == {t: f.height for t, f in export.tables.items()}
    assert report.foreign_keys > 100 and report.placeholder_concepts == len(export.concept_ids)


@needs_reference
def test_a_dangling_person_id_fails_the_duckdb_load_naming_the_constraint(tmp_path):
    pytest.importorskip("duckdb")
    export = omop_tables(demo_dataset())
    export.tables["measurement"] = export["measurement"].with_columns(pl.lit(999, dtype=pl.Int64).alias("person_id"))
    with pytest.raises(StoreError, match="fpk_measurement_person_id"):
        load_omop(export, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=DUCKDB_DDL)


def test_a_missing_ddl_folder_is_refused_with_the_file_it_needs(tmp_path):
    with pytest.raises(StoreError, match="OMOPCDM_duckdb_5.4_ddl.sql"):
        load_omop(omop_tables(demo_dataset()), f"duckdb:{tmp_path / 'x.duckdb'}", ddl_dir=tmp_path)


@needs_reference
def test_an_incomplete_athena_download_fails_the_duckdb_load_on_its_foreign_keys(tmp_path):
    pytest.importorskip("duckdb")
    vocabulary = write_athena(tmp_path / "athena")
    export = omop_tables(demo_dataset(), vocabulary=vocabulary)
    with pytest.raises(StoreError, match="foreign key"):  # the fixture has no DOMAIN/VOCABULARY rows
        load_omop(export, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=DUCKDB_DDL)


@needs_reference
def test_the_demo_export_loads_into_postgresql_with_every_foreign_key():
    url = os.environ.get("CNOTRACK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CNOTRACK_TEST_POSTGRES_URL is not set")
    from conftest import fresh_postgres_url
    with fresh_postgres_url(url) as schema_url:
        report = load_omop(omop_tables(demo_dataset()), schema_url, ddl_dir=POSTGRES_DDL)
    assert report.dialect == "postgresql" and report.foreign_keys > 100 and report.rows["person"] == 9


@needs_reference
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(datasets())
def test_any_valid_dataset_exports_required_fields_and_fitting_values_or_says_why_not(tmp_path_factory, case):
    written, _ = case
    dataset = load_dataset(make_dataset(tmp_path_factory.mktemp("ds"), "source", **written))
    export = omop_tables(dataset)
    spec = field_level()
    for table, frame in export.tables.items():
        for row in spec[table]:
            column = row["cdmFieldName"]
            if row["isRequired"] == "Yes":
                assert frame[column].null_count() == 0, (table, column)
            if width(table, column) is not None:
                assert (frame[column].drop_nulls().str.len_chars() <= width(table, column)).all(), (table, column)
    with_birth = dataset.patients["birth_date"].drop_nulls().len()
    assert export.tables.get("person", pl.DataFrame({"person_id": []})).height == with_birth
    assert sum(p.column == "birth_date" for p in export.problems) == dataset.patients.height - with_birth


# ---- problems name their patient; the builders are whole-table expressions

def test_a_patient_without_diagnosis_or_onset_date_is_a_problem_naming_the_patient_and_row():
    dataset = demo_dataset()
    patients = dataset.patients.with_columns(
        pl.when(pl.col("patient_id") == "SYN-P03").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("diagnosis_date", "onset_date"))
    export = omop_tables(replace_rows(dataset, "patients", patients))
    row = patients.filter(pl.col("patient_id") == "SYN-P03")["_row"].item()
    [problem] = [p for p in export.problems if p.column == "diagnosis_date"]
    assert (problem.table, problem.row, problem.value) == ("patients", row, "SYN-P03")
    assert "SYN-P03" in problem.message and "condition_start_date" in problem.message
    assert export["condition_occurrence"].filter(pl.col("condition_source_value") == "M86.3").height == 8


def test_a_patient_without_any_dated_record_is_a_problem_naming_the_patient_and_row():
    dataset = demo_dataset()
    extra = dataset.patients.head(1).with_columns(
        pl.lit("SYN-P99").alias("patient_id"), pl.lit(99, dtype=pl.Int64).alias("_row"),
        pl.lit(None, dtype=pl.Date).alias("onset_date"), pl.lit(None, dtype=pl.Date).alias("diagnosis_date"))
    export = omop_tables(replace_rows(dataset, "patients", pl.concat([dataset.patients, extra])))
    undated = [(p.table, p.row, p.column, p.value) for p in export.problems if "no dated record" in p.message]
    assert undated == [("patients", 99, "patient_id", "SYN-P99")]
    assert export["person"].height == 10 and export["observation_period"].height == 9


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(), st.floats(-1e-4, 1e-4), st.integers(-2**70, 2**70).map(float)), max_size=8))
def test_numbers_in_source_values_are_spelled_as_python_spells_them(values):
    from cnotrack.interop.omop._frames import float_text, number_text
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Float64})
    assert frame.select(float_text(pl.col("v")))["v"].to_list() == [repr(v) for v in values]
    expected = [str(int(v)) if v.is_integer() else repr(v) for v in values]
    assert frame.select(number_text(pl.col("v")))["v"].to_list() == expected


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(datasets(), st.integers(0, 2**32 - 1))
def test_the_export_does_not_depend_on_the_order_of_the_dataset_rows(tmp_path_factory, case, seed):
    written, _ = case
    dataset = load_dataset(make_dataset(tmp_path_factory.mktemp("ds"), "source", **written))
    shuffled = Dataset({name: frame.sample(fraction=1.0, shuffle=True, seed=seed)
                        for name, frame in dataset.tables.items()})
    first, second = omop_tables(dataset), omop_tables(shuffled)
    assert first.tables.keys() == second.tables.keys()
    for table, frame in first.tables.items():
        assert frame.equals(second.tables[table]), table
    assert (first.notes, first.problems, first.concept_ids) == (second.notes, second.problems, second.concept_ids)


@needs_reference
def test_a_duplicated_key_fails_the_duckdb_load_naming_the_table_constraint_and_value(tmp_path):
    pytest.importorskip("duckdb")
    export = omop_tables(demo_dataset())
    export.tables["drug_exposure"] = export["drug_exposure"].with_columns(
        pl.when(pl.col("drug_exposure_id") == 3).then(2).otherwise(pl.col("drug_exposure_id")).alias("drug_exposure_id"))
    with pytest.raises(StoreError, match=r"xpk_drug_exposure of drug_exposure .*drug_exposure_id 2 is in 2 rows"):
        load_omop(export, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=DUCKDB_DDL)


def dangling_person(export):
    ids = export["measurement"]["person_id"]
    export.tables["measurement"] = export["measurement"].with_columns(
        pl.when(pl.int_range(pl.len()) < 2).then(1000 + pl.int_range(pl.len())).otherwise(ids).alias("person_id"))
    return r"fpk_measurement_person_id of measurement: 2 row\(s\) of measurement.person_id not in person.person_id " \
           r"\(the first dangling value: 1000\)"


@needs_reference
def test_a_dangling_foreign_key_fails_the_duckdb_load_naming_the_first_dangling_value(tmp_path):
    pytest.importorskip("duckdb")
    export = omop_tables(demo_dataset())
    with pytest.raises(StoreError, match=dangling_person(export)):
        load_omop(export, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=DUCKDB_DDL)


@needs_reference
@pytest.mark.parametrize("broken", ["duplicate", "dangling"])
def test_a_broken_key_fails_the_postgresql_load_naming_the_table_constraint_and_value(broken):
    url = os.environ.get("CNOTRACK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CNOTRACK_TEST_POSTGRES_URL is not set")
    from conftest import fresh_postgres_url
    export = omop_tables(demo_dataset())
    if broken == "duplicate":
        export.tables["person"] = export["person"].with_columns(
            pl.when(pl.col("person_id") == 2).then(1).otherwise(pl.col("person_id")).alias("person_id"))
        expected = r"xpk_person of person .*person.person_id 1 is in 2 rows"
    else:
        expected = dangling_person(export)
    with fresh_postgres_url(url) as schema_url, pytest.raises(StoreError, match=expected):
        load_omop(export, schema_url, ddl_dir=POSTGRES_DDL)
