"""The OMOP CDM v5.4 export conforms to the official OHDSI DDL, field specification and data-quality
thresholds, and counts the same cohort as cnotrack's own evaluation (issue 13, "Done when").

The checks (``omop_conformance``) pass on a hand-made export and catch each seeded error; then
the exporter's output for the demo cohort and a synthetic registry passes them, loads into DuckDB
(DDL, primary keys, foreign keys as anti-joins) and PostgreSQL (DDL, keys, every foreign key).

Cohort counts, over the exported patients (those with a birth year; the others are reported):
patients, females (8532 / sex F), anakinra courses (drug_source_value anakinra or its ATC /
SNOMED CT code / treatments rows) and ESR / CRP measurements (3013707 / 3020460 / labs rows).
Baseline: the pardeo2017 cohort comes from cnotrack's engine (its eligibility needs drug classes
and course ends the CDM does not carry as such); for each eligible patient the SQL finds the index
date (first anakinra start) and chooses the baseline ESR and CRP as ``engine/timepoints.py`` does
(closest to day 0 within [-90, 14] days, the earlier date on a tie, rows without a value ignored;
CRP unit 8840 times 10 to mg/L): who has one, its date and value must equal the engine's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

import polars as pl
import pytest

from cnotrack.errors import CnotrackError

from . import omop_conformance as oc

pytestmark = pytest.mark.skipif(not oc.OMOP_REFERENCE.is_dir(),
                                reason=f"the OMOP reference files are absent ({oc.OMOP_REFERENCE})")
duckdb = pytest.importorskip("duckdb")


# --------------------------------------------------------------------------- a hand-made export

def sample_tables() -> dict[str, pl.DataFrame]:
    """Two persons, one anakinra course, an ESR and a CRP: conforming without a vocabulary."""
    d = dt.date
    return {
        "person": oc.cdm_frame("person", [
            {"person_id": 1, "gender_concept_id": 8532, "year_of_birth": 2005, "race_concept_id": 0,
             "ethnicity_concept_id": 0, "person_source_value": "P0001", "gender_source_value": "F"},
            {"person_id": 2, "gender_concept_id": 8507, "year_of_birth": 2007, "race_concept_id": 0,
             "ethnicity_concept_id": 0, "person_source_value": "P0002", "gender_source_value": "M"}]),
        "observation_period": oc.cdm_frame("observation_period", [
            {"observation_period_id": i, "person_id": i, "observation_period_start_date": d(2014, 1, 1),
             "observation_period_end_date": d(2016, 1, 1), "period_type_concept_id": 0} for i in (1, 2)]),
        "drug_exposure": oc.cdm_frame("drug_exposure", [
            {"drug_exposure_id": 1, "person_id": 1, "drug_concept_id": 0, "drug_exposure_start_date": d(2015, 1, 1),
             "drug_exposure_end_date": d(2015, 7, 1), "drug_type_concept_id": 0, "drug_source_value": "anakinra"}]),
        "measurement": oc.cdm_frame("measurement", [
            {"measurement_id": 1, "person_id": 1, "measurement_concept_id": 3013707, "measurement_date": d(2015, 1, 1),
             "measurement_type_concept_id": 0, "value_as_number": 30.0, "unit_concept_id": 8752,
             "measurement_source_value": "ESR", "unit_source_value": "mm/h"},
            {"measurement_id": 2, "person_id": 1, "measurement_concept_id": 3020460, "measurement_date": d(2015, 1, 1),
             "measurement_type_concept_id": 0, "value_as_number": 2.1, "unit_concept_id": 8840,
             "measurement_source_value": "CRP", "unit_source_value": "mg/dL"}]),
        "cdm_source": oc.cdm_frame("cdm_source", [
            {"cdm_source_name": "cnotrack", "cdm_source_abbreviation": "cnotrack", "cdm_holder": "test",
             "source_release_date": d(2016, 1, 1), "cdm_release_date": d(2016, 1, 1), "cdm_version": "v5.4",
             "cdm_version_concept_id": 0, "vocabulary_version": "none"}]),
    }


def duckdb_violations(tables) -> list[oc.Violation]:
    with duckdb.connect() as con:
        oc.load_duckdb(con, tables)
        return oc.duckdb_foreign_key_violations(con)


def test_the_hand_made_export_passes_every_check_and_loads_into_duckdb_without_dangling_keys():
    tables = sample_tables()
    assert oc.check_export(tables) == []
    assert duckdb_violations(tables) == []


def test_the_anti_joins_are_every_foreign_key_of_the_field_specification():
    spec = {(f.table, f.name, f.fk_table) for fields in oc.field_spec().values() for f in fields if f.fk_table}
    for dialect in ("duckdb", "postgresql"):
        assert {(k.table, k.column, k.ref_table) for k in oc.foreign_keys(dialect)} == spec


@pytest.mark.parametrize(("table", "column", "value", "row", "rule"), [
    ("person", "year_of_birth", None, 0, "isRequired = Yes"),
    ("person", "gender_concept_id", 3013707, 0, "domain 'Measurement', the field's domain is 'Gender'"),
    ("measurement", "unit_concept_id", 8532, 1, "domain 'Gender', the field's domain is 'Unit'"),
    ("drug_exposure", "drug_concept_id", 999999999, 0, "neither verified nor 0"),
    ("measurement", "unit_concept_id", 8751, 0, "not a plausible unit of concept 3013707"),  # the ESR in mg/L
    ("measurement", "unit_concept_id", None, 0, "not a plausible unit of concept 3013707"),
    ("person", "person_source_value", "x" * 51, 0, "longer than varchar(50)"),
])
def test_each_check_catches_its_error_seeded_into_the_hand_made_export(table, column, value, row, rule):
    found = oc.check_export(oc.corrupt(sample_tables(), table, column, value, row))
    assert oc.rules(found) == {(table, column, value)}
    assert any(rule in v.rule for v in found), oc.report(found)


def test_the_ddl_refuses_a_null_required_field_and_the_anti_joins_catch_an_unverified_concept():
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        duckdb_violations(oc.corrupt(sample_tables(), "person", "year_of_birth", None))
    tables = oc.corrupt(sample_tables(), "drug_exposure", "drug_concept_id", 999999999)
    assert oc.rules(duckdb_violations(tables)) == {("drug_exposure", "drug_concept_id", 999999999)}


def test_a_gender_specific_concept_of_a_person_of_the_other_gender_is_caught():
    # 192367 "Dysplasia of cervix": plausibleGender Female in the DQD file (the concept is only in this test)
    dysplasia = oc.Concept(192367, "Dysplasia of cervix", "Condition", "SNOMED", "Clinical Finding", "test")
    d = dt.date
    conditions = [{"condition_occurrence_id": i, "person_id": i, "condition_concept_id": 192367,
                   "condition_start_date": d(2015, 1, 1), "condition_type_concept_id": 0} for i in (1, 2)]
    tables = {**sample_tables(), "condition_occurrence": oc.cdm_frame("condition_occurrence", conditions)}
    found = oc.check_export(tables, concepts=[*oc.VERIFIED_CONCEPTS, dysplasia])
    assert oc.rules(found) == {("condition_occurrence", "condition_concept_id", 192367)}
    assert found[0].rows == 1 and "8507" in found[0].rule  # person 2 is male; person 1 is not reported


def test_columns_out_of_ddl_order_are_caught():
    tables = sample_tables()
    person = tables["person"]
    tables["person"] = person.select(person.columns[::-1])
    assert [(v.table, v.column) for v in oc.check_export(tables)] == [("person", "*")]


def test_a_dangling_foreign_key_is_caught_by_the_duckdb_anti_joins():
    tables = oc.corrupt(sample_tables(), "measurement", "person_id", 99)
    found = duckdb_violations(tables)
    assert oc.rules(found) == {("measurement", "person_id", 99)}
    assert "fpk_measurement_person_id" in found[0].rule


def test_a_duplicated_primary_key_is_refused_by_duckdb():
    tables = oc.corrupt(sample_tables(), "measurement", "measurement_id", 1, row=1)
    with pytest.raises(duckdb.ConstraintException, match="duplicate"):
        duckdb_violations(tables)


# --------------------------------------------------------------------------- PostgreSQL

@pytest.fixture
def postgres():
    """A connection to the CI's server and a fresh schema name (dropped afterwards)."""
    psycopg = pytest.importorskip("psycopg")
    from conftest import postgres_base_url

    conn, schema = psycopg.connect(postgres_base_url()), f"omop_{uuid.uuid4().hex[:12]}"
    try:
        yield conn, schema
    finally:
        conn.rollback()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.commit()
        conn.close()


@pytest.mark.postgres
def test_the_hand_made_export_loads_into_postgresql_with_every_key_and_foreign_key(postgres):
    conn, schema = postgres
    oc.load_postgres(conn, sample_tables(), schema)
    constraints = conn.execute(
        "SELECT contype, count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = %s GROUP BY 1", (schema,)).fetchall()
    assert dict(constraints) == {"p": 28, "f": len(oc.foreign_keys("postgresql"))}
    assert conn.execute(f'SELECT count(*) FROM "{schema}".measurement').fetchone() == (2,)


@pytest.mark.postgres
@pytest.mark.parametrize(("table", "column", "value", "row", "error"), [
    ("measurement", "person_id", 99, 0, "ForeignKeyViolation"),
    ("drug_exposure", "drug_concept_id", 999999999, 0, "ForeignKeyViolation"),
    ("measurement", "measurement_id", 1, 1, "UniqueViolation"),
    ("person", "year_of_birth", None, 0, "NotNullViolation"),
    ("person", "person_source_value", "x" * 51, 0, "StringDataRightTruncation"),
])
def test_postgresql_refuses_each_seeded_error(postgres, table, column, value, row, error):
    conn, schema = postgres
    with pytest.raises(Exception) as caught:
        oc.load_postgres(conn, oc.corrupt(sample_tables(), table, column, value, row), schema)
    assert type(caught.value).__name__ == error


# --------------------------------------------------------------------------- the exporter's output

DUCKDB_DDL, POSTGRES_DDL = oc.OMOP_REFERENCE / "duckdb", oc.OMOP_REFERENCE / "postgresql"
SEED, ESR, CRP = 13, 3013707, 3020460


@pytest.fixture(scope="module")
def omop():
    return pytest.importorskip("cnotrack.interop.omop", reason="the OMOP exporter is not there yet")


@pytest.fixture(scope="module")
def registry():
    from cnotrack.synth import synthesize_registry

    return synthesize_registry(300, SEED)


@pytest.fixture(scope="module")
def registry_export(omop, registry):
    return omop.omop_tables(registry)


@pytest.fixture(scope="module")
def demo_export(omop):
    from cnotrack.demo import demo_dataset

    return omop.omop_tables(demo_dataset())


@pytest.fixture(scope="module", params=["demo", "registry"])
def export(request):
    return request.getfixturevalue(f"{request.param}_export")


def test_the_export_passes_every_check_and_loads_into_duckdb_with_no_dangling_foreign_key(export):
    assert export.tables, "the export has no table"
    found = [*oc.check_export(oc.export_tables(export)), *duckdb_violations(oc.export_tables(export))]
    assert not found, oc.report(found)


def test_the_csv_files_written_load_into_duckdb_as_the_frames_are(omop, registry, registry_export, tmp_path):
    written = omop.write_omop(registry, tmp_path / "omop")
    files = {p.stem: p for p in sorted((tmp_path / "omop").glob("*.csv"))}
    assert set(files) == set(oc.export_tables(written)) == set(oc.export_tables(registry_export))
    with duckdb.connect() as con:
        oc.load_duckdb(con, files)
        assert oc.duckdb_foreign_key_violations(con) == []
        for name, frame in oc.export_tables(registry_export).items():
            assert con.execute(f"SELECT count(*) FROM cdm.{name}").fetchone() == (frame.height,), name


def test_load_omop_creates_a_duckdb_database_with_the_official_ddl(omop, registry_export, tmp_path):
    path = tmp_path / "cdm.duckdb"
    omop.load_omop(registry_export, f"duckdb:{path}", ddl_dir=DUCKDB_DDL)
    con = duckdb.connect(str(path), read_only=True)
    schemas = [s for (s,) in con.execute(
        "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'person'").fetchall()]
    assert len(schemas) == 1, schemas
    found = oc.duckdb_foreign_key_violations(con, schemas[0])  # its concept rows are placeholders
    assert not found, oc.report(found)
    for name, frame in oc.export_tables(registry_export).items():
        assert con.execute(f'SELECT count(*) FROM "{schemas[0]}".{name}').fetchone() == (frame.height,), name


@pytest.mark.parametrize(("table", "column", "value", "where", "found_by"), [
    ("person", "year_of_birth", None, None, "checks"),
    ("person", "gender_concept_id", ESR, None, "checks"),
    ("measurement", "unit_concept_id", 8751, pl.col("measurement_concept_id") == ESR, "checks"),
    ("measurement", "person_id", 10**9, None, "anti-joins"),
    ("drug_exposure", "drug_exposure_id", "duplicate", None, "primary key"),
])
def test_each_check_catches_its_error_seeded_into_the_registry_export(registry_export, table, column, value,
                                                                      where, found_by):
    tables = oc.export_tables(registry_export)
    row = 0 if where is None else int(tables[table].with_row_index("i").filter(where)["i"][0])
    if value == "duplicate":
        value, row = tables[table][column][0], 1
    tables = oc.corrupt(tables, table, column, value, row)
    if found_by == "checks":
        assert (table, column, value) in oc.rules(oc.check_export(tables))
    elif found_by == "anti-joins":
        assert oc.rules(duckdb_violations(tables)) == {(table, column, value)}
    else:
        with pytest.raises(duckdb.ConstraintException, match="duplicate"):
            duckdb_violations(tables)


@pytest.mark.parametrize(("table", "column", "value"), [("measurement", "person_id", 10**9),
                                                    ("drug_exposure", "drug_exposure_id", 2)])
def test_load_omop_refuses_a_dangling_foreign_key_or_a_duplicated_key(omop, registry_export, tmp_path,
                                                                       table, column, value):
    broken = dataclasses.replace(registry_export, tables=oc.corrupt(registry_export.tables, table, column, value))
    with pytest.raises(CnotrackError):
        omop.load_omop(broken, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=DUCKDB_DDL)


def test_lab_values_keep_every_digit_in_the_duckdb_numeric_columns(cdm, registry_export):
    # the official DuckDB DDL declares value_as_number NUMERIC, which DuckDB reads as DECIMAL(18,3)
    loaded = dict(cdm.execute("SELECT measurement_id, value_as_number::DOUBLE FROM cdm.measurement").fetchall())
    frame = oc.export_tables(registry_export)["measurement"].drop_nulls("value_as_number")
    lost = [(i, v, loaded[i]) for i, v in frame.select("measurement_id", "value_as_number").iter_rows()
            if abs(loaded[i] - v) > 1e-9]
    assert not lost, f"measurement_id, exported value, value in DuckDB: {lost[:10]}"


@pytest.mark.postgres
def test_the_export_loads_into_postgresql_with_every_key_and_foreign_key_constraint(postgres, export):
    conn, schema = postgres
    oc.load_postgres(conn, oc.export_tables(export), schema)
    for name, frame in oc.export_tables(export).items():
        assert conn.execute(f'SELECT count(*) FROM "{schema}".{name}').fetchone() == (frame.height,), name


@pytest.mark.postgres
def test_load_omop_loads_into_postgresql_with_every_foreign_key_constraint(omop, registry_export):
    from conftest import fresh_postgres_url, postgres_base_url

    with fresh_postgres_url(postgres_base_url()) as url:
        omop.load_omop(registry_export, url, ddl_dir=POSTGRES_DDL)
        with __import__("psycopg").connect(url) as conn:
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            fks = conn.execute("SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                               "WHERE n.nspname = %s AND contype = 'f'", (schema,)).fetchone()[0]
            assert fks == len(oc.foreign_keys("postgresql"))
            for name, frame in oc.export_tables(registry_export).items():
                assert conn.execute(f"SELECT count(*) FROM {name}").fetchone() == (frame.height,), name


# --------------------------------------------------------------------------- cohort counts

ANAKINRA = ("lower(drug_source_value) LIKE '%anakinra%' OR drug_source_value IN ('L04AC03', '385549000')")

BASELINE_SQL = f"""
WITH idx AS (
  SELECT person_id, min(drug_exposure_start_date) AS index_date
  FROM cdm.drug_exposure WHERE {ANAKINRA} GROUP BY person_id
), labs AS (
  SELECT m.person_id, CASE m.measurement_concept_id WHEN {ESR} THEN 'ESR' ELSE 'CRP' END AS test,
         m.measurement_date,
         m.value_as_number::DOUBLE * CASE m.unit_concept_id WHEN 8840 THEN 10 ELSE 1 END AS value,
         date_diff('day', i.index_date, m.measurement_date) AS day
  FROM cdm.measurement m JOIN idx i USING (person_id)
  WHERE m.measurement_concept_id IN ({ESR}, {CRP}) AND m.value_as_number IS NOT NULL
), chosen AS (
  SELECT *, row_number() OVER (PARTITION BY person_id, test ORDER BY abs(day), measurement_date) AS rank
  FROM labs WHERE day BETWEEN -90 AND 14
)
SELECT p.person_source_value AS patient_id, i.index_date, c.test, c.measurement_date AS date, c.value
FROM idx i JOIN cdm.person p USING (person_id)
LEFT JOIN chosen c ON c.person_id = i.person_id AND c.rank = 1
"""


@pytest.fixture(scope="module")
def cdm(registry_export):
    con = duckdb.connect()
    oc.load_duckdb(con, oc.export_tables(registry_export))
    yield con
    con.close()


def exported_patients(registry, registry_export) -> pl.DataFrame:
    """The dataset's patients with a birth year (the others cannot be persons, and are reported)."""
    patients = registry["patients"]
    kept = patients.filter(pl.col("birth_date").str.slice(0, 4).str.contains(r"^\d{4}$").fill_null(False))
    reported = " ".join(p.message for p in registry_export.problems
                        if (p.table, p.column) == ("patients", "birth_date"))
    unreported = [pid for pid in patients["patient_id"]
                  if pid not in kept["patient_id"] and not re.search(rf"\b{re.escape(pid)}\b", reported)]
    assert not unreported, f"patients without a birth year, not exported and not reported: {unreported}"
    return kept


def test_sql_over_the_cdm_counts_the_patients_females_anakinra_courses_and_labs_of_the_dataset(
        cdm, registry, registry_export):
    kept = exported_patients(registry, registry_export)["patient_id"]
    ids = kept.implode()
    treatments = registry["treatments"].filter(pl.col("patient_id").is_in(ids))
    labs = registry["labs"].filter(pl.col("patient_id").is_in(ids))
    expected = {
        "patients": kept.len(),
        "females": registry["patients"].filter(pl.col("patient_id").is_in(ids) & (pl.col("sex") == "F")).height,
        "anakinra courses": treatments.filter(pl.col("drug") == "anakinra").height,
        "ESR measurements": labs.filter(pl.col("test") == "ESR").height,
        "CRP measurements": labs.filter(pl.col("test") == "CRP").height,
    }
    sql = {
        "patients": "SELECT count(*) FROM cdm.person",
        "females": "SELECT count(*) FROM cdm.person WHERE gender_concept_id = 8532",
        "anakinra courses": f"SELECT count(*) FROM cdm.drug_exposure WHERE {ANAKINRA}",
        "ESR measurements": f"SELECT count(*) FROM cdm.measurement WHERE measurement_concept_id = {ESR}",
        "CRP measurements": f"SELECT count(*) FROM cdm.measurement WHERE measurement_concept_id = {CRP}",
    }
    assert {k: cdm.execute(q).fetchone()[0] for k, q in sql.items()} == expected


def test_sql_over_the_cdm_chooses_the_baseline_esr_and_crp_of_the_pardeo2017_evaluation(cdm, registry, registry_export):
    from cnotrack.engine.evaluate import evaluate
    from cnotrack.protocols import load_protocol

    evaluation = evaluate(registry, load_protocol("pardeo2017"), statistics=False)
    kept = exported_patients(registry, registry_export)["patient_id"].implode()
    engine = evaluation.patients.join(evaluation.cohort.eligible.select("patient_id", "index_date"),
                                      on="patient_id").filter(pl.col("patient_id").is_in(kept))
    assert engine.height > 20, "too few eligible patients to compare"
    sql = pl.DataFrame(cdm.execute(BASELINE_SQL).fetchall(), orient="row",
                       schema=["patient_id", "index_date", "test", "date", "value"])
    sql = sql.filter(pl.col("patient_id").is_in(engine["patient_id"].implode()))
    assert sql.select("patient_id", "index_date").unique().sort("patient_id").rows() == \
        engine.select("patient_id", "index_date").sort("patient_id").rows()
    for test in ("ESR", "CRP"):  # who has a baseline value, its date and its value (mg/L for CRP)
        ours = engine.select("patient_id", pl.col(f"{test}@baseline.date").alias("date"),
                             pl.col(f"{test}@baseline").round(6).alias("value")).drop_nulls("value")
        theirs = sql.filter(pl.col("test") == test).select("patient_id", "date", pl.col("value").round(6))
        assert theirs.sort("patient_id").rows() == ours.sort("patient_id").rows(), test
