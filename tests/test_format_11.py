"""Issue 12, item 1: exchange format 1.1 (what CNO registries record), which extends version 1
and never breaks it: a version 1 dataset exports the same files and bytes and keeps its
fingerprint; every 1.1 field is validated and round-trips byte for byte; the vocabularies read
the local names of Italian, German, French and Spanish registries, each with its source."""

from __future__ import annotations

import hashlib

import openpyxl
import polars as pl
import polars_hash  # noqa: F401
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from cnotrack.demo import demo_folder
from cnotrack.engine.fingerprint import dataset_fingerprint
from cnotrack.errors import VocabularyError
from cnotrack.exchange import check_dataset, export_dataset, load_dataset, write_template
from cnotrack.exchange.schema import ColumnSpec, exchange_format
from cnotrack.store import import_dataset, open_store, read_store
from cnotrack.store.changes import data_columns, row_hash
from cnotrack.vocabulary import (DrugVocabulary, anatomy, drugs, lab_tests, local_names, normalise_key,
                                 _synonym_table)

from conftest import folder_bytes, make_dataset, migrate, read_csv_rows, sqlite_url
from test_roundtrip import assert_identical_round_trips, round_trip

FORMAT = exchange_format()
VERSION_1 = [t.name for t in FORMAT.tables if t.since is None]
ADDED_TABLES = ["manifestations", "family_history", "biopsies", "administrations", "complications"]
# computed with cnotrack before format 1.1 existed (the demo cohort, and the good dataset of
# tests/conftest.py, whose tables were then all of version 1)
DEMO_FINGERPRINT = "ec0dcd9eb3ddc208184854be24accce1fc0519a320f30dca4007596a1297bda7"
GOOD_V1_FINGERPRINT = "50436dcff4da239f6827f47315876467ee6ab87443c3e74902c93ea699eb37f6"
DEMO_EXPORT_SHA256 = "4cefa69f4933dda7444a6b3275c6ab4029fbc8e60537a4fd652ac1e763c72c48"


def folder_sha256(folder) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(folder_bytes(folder).items()):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


PATIENTS = [{"patient_id": "P1", "sex": "F", "race_ethnicity": "2 - White, not Hispanic"},
            {"patient_id": "P2", "sex": "M", "race_ethnicity": None}]


def registry_tables() -> dict[str, list[dict[str, object]]]:
    """A small dataset using every 1.1 table and column, spelled as registries write them."""
    return {
        "patients": PATIENTS,
        "treatments": [{"patient_id": "P1", "drug": "acido zoledronico", "start_date": "2020-01-01"}],
        "assessments": [
            {"patient_id": "P1", "date": "2020-01-01", "disease_status": "Active disease", "active_lesion_count": "3"},
            {"patient_id": "P1", "date": "2020-07-01", "disease_status": "inactive on treatment",
             "active_lesion_count": "0"},
            {"patient_id": "P2", "date": "2021-01-01", "disease_status": "clinical remission off medication",
             "active_lesion_count": None}],
        "labs": [{"patient_id": "P1", "date": "2020-01-01", "test": "PCR", "value": "12", "unit": "mg/L"},
                 {"patient_id": "P1", "date": "2020-01-02", "test": "lattato deidrogenasi", "value": "410",
                  "unit": "UI/L"},
                 {"patient_id": "P1", "date": "2020-01-03", "test": "Vitamina C", "value": "<0.2", "unit": "mg/dL"}],
        "manifestations": [{"patient_id": "P1", "condition": "PPP", "onset_date": "2019-05-01", "note": None},
                           {"patient_id": "P1", "condition": "Crohn's disease", "onset_date": None,
                            "note": "ileal, 'mild'"}],
        "family_history": [{"patient_id": "P1", "condition": "psoriasis", "relative": "mother", "note": None},
                           {"patient_id": "P1", "condition": "CRMO", "relative": "brother", "note": "biopsy-proven"}],
        "biopsies": [{"patient_id": "P1", "date": "2020-02-01", "bone": "Schlüsselbein", "side": "sx",
                      "result": "sterile inflammation", "note": None},
                     {"patient_id": "P2", "date": "2021-02-01", "bone": None, "side": None, "result": "other",
                      "note": "site not recorded"}],
        "administrations": [{"patient_id": "P1", "drug": "Pamidronsäure", "date": "2020-03-01", "dose": "1",
                             "dose_unit": "mg/kg", "route": "i.v."},
                            {"patient_id": "P1", "drug": "pamidronate", "date": "2020-03-02", "dose": "1",
                             "dose_unit": "mg/kg", "route": "iv"}],
        "complications": [{"patient_id": "P1", "complication": "vertebra plana", "date": "2020-04-01",
                           "bone": "BWK 7", "side": None, "note": None},
                          {"patient_id": "P2", "complication": "LLD", "date": None, "bone": "fémur", "side": "r",
                           "note": "1.5 cm"}],
    }


# --------------------------------------------------------------------------- compatibility

def test_the_format_is_version_1_1_and_everything_it_adds_is_optional():
    assert FORMAT.version == "1.1"
    added = [t for t in FORMAT.tables if t.since]
    assert [t.name for t in added] == ADDED_TABLES
    assert {(t.name, c.name) for t in FORMAT.tables for c in t.columns if c.since} == {
        ("patients", "race_ethnicity"), ("assessments", "disease_status"), ("assessments", "active_lesion_count")}
    assert not any(t.required for t in added)


def test_a_column_added_after_version_1_cannot_be_required_and_an_alias_cannot_name_two_choices():
    with pytest.raises(ValidationError, match="cannot be required"):
        ColumnSpec(name="x", type="text", required=True, since="1.1")
    with pytest.raises(ValidationError, match="spelled as the choice"):
        ColumnSpec(name="x", type="choice", choices=("a", "b"), aliases={"B": "a"})
    with pytest.raises(ValidationError, match="not one of the choices"):
        ColumnSpec(name="x", type="choice", choices=("a",), aliases={"z": "c"})


def test_the_demo_keeps_its_version_1_fingerprint_and_exports_the_same_files_and_bytes(tmp_path):
    data = load_dataset(demo_folder())
    assert dataset_fingerprint(data) == DEMO_FINGERPRINT
    out = export_dataset(data, tmp_path / "out")
    assert sorted(p.stem for p in out.iterdir()) == sorted(VERSION_1)
    assert folder_sha256(out) == DEMO_EXPORT_SHA256
    assert "race_ethnicity" not in read_csv_rows(out / "patients.csv")[0]
    assert "disease_status" not in read_csv_rows(out / "assessments.csv")[0]


def test_a_version_1_dataset_keeps_its_fingerprint_from_files_and_from_the_database(tmp_path, good_tables):
    folder = make_dataset(tmp_path, "v1", **{name: good_tables[name] for name in VERSION_1})
    data = load_dataset(folder)
    assert dataset_fingerprint(data) == GOOD_V1_FINGERPRINT
    with open_store(sqlite_url(tmp_path)) as store:
        import_dataset(data, store)
        assert dataset_fingerprint(read_store(store)) == GOOD_V1_FINGERPRINT
        assert folder_bytes(export_dataset(read_store(store), tmp_path / "out")) == folder_bytes(folder)


def test_an_empty_1_1_column_or_table_is_not_content_but_a_value_in_it_is(tmp_path):
    base = dataset_fingerprint(load_dataset(make_dataset(tmp_path, "a", patients=[{"patient_id": "P1", "sex": "F"}])))
    empty = make_dataset(tmp_path, "b", patients=[{"patient_id": "P1", "sex": "F", "race_ethnicity": None}],
                         manifestations=[["patient_id", "condition"]])
    assert dataset_fingerprint(load_dataset(empty)) == base
    coded = make_dataset(tmp_path, "c", patients=[{"patient_id": "P1", "sex": "F", "race_ethnicity": "04"}])
    assert dataset_fingerprint(load_dataset(coded)) != base
    ill = make_dataset(tmp_path, "d", patients=[{"patient_id": "P1", "sex": "F"}],
                       manifestations=[{"patient_id": "P1", "condition": "uveitis"}])
    assert dataset_fingerprint(load_dataset(ill)) != base


def test_a_version_1_row_keeps_the_row_hash_it_was_stored_with():
    frame = pl.DataFrame({"patient_id": ["P1"], "sex": ["F"], "birth_date": ["2005-01"], "onset_date": [None],
                          "diagnosis_date": [None], "center": ["Rome"], "synthetic": [None],
                          "race_ethnicity": [None]},
                         schema_overrides={"onset_date": pl.Date, "diagnosis_date": pl.Date, "synthetic": pl.Boolean,
                                           "race_ethnicity": pl.String})
    version_1 = [c for c in data_columns("patients") if c not in ("extra", "race_ethnicity")]
    legacy = pl.concat_str([pl.col(c).cast(pl.String).fill_null("\x00") for c in version_1], separator="\x1f")
    expected = frame.select(legacy.nchash.xxhash64().reinterpret(signed=True)).item()
    assert frame.select(row_hash("patients")).item() == expected
    coded = frame.with_columns(pl.lit("04").alias("race_ethnicity"))
    assert coded.select(row_hash("patients")).item() != expected


def test_migration_0011_adds_the_tables_with_their_triggers_and_goes_down_and_up_again(tmp_path):
    url = sqlite_url(tmp_path)
    with open_store(url) as store:
        import_dataset(load_dataset(demo_folder()), store)
    migrate(url, "0010", down=True)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert not names & set(ADDED_TABLES)
        assert "race_ethnicity" not in {c["name"] for c in sa.inspect(conn).get_columns("patients")}
    migrate(url, "0011")
    with engine.connect() as conn:
        assert set(ADDED_TABLES) <= set(sa.inspect(conn).get_table_names())
        triggers = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        indexes = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    engine.dispose()
    for name in ADDED_TABLES:
        assert {f"{name}_content_update", f"{name}_content_delete"} <= triggers
        assert {f"uq_{name}_key", f"ix_{name}_patient_id"} <= indexes
    with open_store(url) as store:
        again = import_dataset(load_dataset(demo_folder()), store)
        assert not again.changed
        assert dataset_fingerprint(read_store(store)) == DEMO_FINGERPRINT


# --------------------------------------------------------------------------- 1.1 data

def test_a_registry_dataset_with_every_1_1_field_reads_in_canonical_form(tmp_path):
    data = load_dataset(make_dataset(tmp_path, **registry_tables()))
    assert data["assessments"].sort("date")["disease_status"].to_list() == [
        "active", "inactive_on_treatment", "remission_off_treatment"]
    assert data["treatments"]["drug"].to_list() == ["zoledronic acid"]
    assert sorted(data["labs"]["test"].to_list()) == ["CRP", "LDH", "VITC"]
    assert sorted(data["manifestations"]["condition"].to_list()) == ["crohn_disease", "palmoplantar_pustulosis"]
    assert sorted(data["family_history"]["relative"].to_list()) == ["mother", "sibling"]
    assert data["biopsies"].sort("date").select("bone", "side", "result").row(0) == (
        "clavicle", "left", "inflammatory_sterile")
    assert data["administrations"]["drug"].unique().to_list() == ["pamidronate"]
    assert data["complications"].sort("patient_id").select("complication", "bone", "side").rows() == [
        ("vertebral_collapse", "T7", None), ("leg_length_discrepancy", "femur", "right")]


def test_a_registry_dataset_survives_import_and_export_byte_for_byte(tmp_path):
    source = make_dataset(tmp_path, "source", **registry_tables())
    out = round_trip(source, tmp_path)
    assert_identical_round_trips(out)
    files = {p.stem for p in out["csv1"].iterdir()}
    assert set(ADDED_TABLES) <= files
    assert read_csv_rows(out["csv1"] / "patients.csv")[0][-1] == "race_ethnicity"
    assert read_csv_rows(out["csv1"] / "assessments.csv")[0][-2:] == ["disease_status", "active_lesion_count"]
    again = make_dataset(tmp_path, "again", **{p.stem: p.read_bytes() for p in out["csv1"].iterdir()})
    assert dataset_fingerprint(load_dataset(again)) == dataset_fingerprint(load_dataset(source))


@pytest.mark.parametrize("table, row, column, value, message", [
    ("assessments", {"patient_id": "P1", "date": "2020-01-01", "disease_status": "flare"}, "disease_status", "flare",
     "not one of active, inactive_on_treatment, remission_off_treatment"),
    ("assessments", {"patient_id": "P1", "date": "2020-01-01", "active_lesion_count": "-1"}, "active_lesion_count",
     "-1", "below the minimum 0"),
    ("assessments", {"patient_id": "P1", "date": "2020-01-01", "active_lesion_count": "2.5"}, "active_lesion_count",
     "2.5", "not a whole number"),
    ("manifestations", {"patient_id": "P1", "condition": "gout"}, "condition", "gout", "not one of psoriasis"),
    ("manifestations", {"patient_id": "P9", "condition": "uveitis"}, "patient_id", "P9", "no such patient_id"),
    ("family_history", {"patient_id": "P1", "condition": "cno", "relative": "neighbour"}, "relative", "neighbour",
     "not one of mother, father, sibling, grandparent, other_relative"),
    ("biopsies", {"patient_id": "P1", "date": "2020-01-01", "side": "left"}, "side", "left",
     "is given without a bone"),
    ("biopsies", {"patient_id": "P1", "date": "2020-01-01", "bone": "sternum", "side": "left"}, "side", "left",
     "sternum is a midline bone: leave side empty"),
    ("biopsies", {"patient_id": "P1", "date": "2020-01-01", "result": "benign"}, "result", "benign",
     "not one of inflammatory_sterile, infection, malignancy, other"),
    ("biopsies", {"patient_id": "P1", "date": None, "bone": "tibia"}, "date", None, "a value is required here"),
    ("administrations", {"patient_id": "P1", "drug": "aspirina magica", "date": "2020-01-01"}, "drug",
     "aspirina magica", "not a drug of the vocabulary"),
    ("administrations", {"patient_id": "P1", "drug": "pamidronate", "date": "2020-01-01", "dose": "-3"}, "dose",
     "-3", "below the minimum 0"),
    ("complications", {"patient_id": "P1", "complication": "vertebral fracture", "bone": "femur", "side": "left"},
     "bone", "femur", "is not a vertebra"),
    ("labs", {"patient_id": "P1", "date": "2020-01-01", "test": "VITC", "value": "40", "unit": "mm/h"}, "unit", "mm/h",
     "is not a unit for VITC; use umol/L, mg/dL, mg/L"),
])
def test_every_1_1_field_is_validated_like_the_others(tmp_path, table, row, column, value, message):
    problems = check_dataset(make_dataset(tmp_path, patients=[{"patient_id": "P1", "sex": "F"}], **{table: [row]}))
    assert [(p.table, p.row, p.column, p.value) for p in problems] == [(f"{table}.csv", 2, column, value)]
    assert message in problems[0].message


def test_a_repeated_1_1_key_is_reported_on_the_second_row(tmp_path):
    rows = [{"patient_id": "P1", "condition": "psoriasis"}, {"patient_id": "P1", "condition": "Psoriasis vulgaris"}]
    problems = check_dataset(make_dataset(tmp_path, patients=[{"patient_id": "P1", "sex": "F"}], manifestations=rows))
    assert [(p.row, p.column) for p in problems] == [(3, "condition")]
    assert "duplicates row 2" in problems[0].message


def test_the_template_says_1_1_and_has_every_1_1_sheet_and_column(tmp_path):
    book = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))
    assert set(ADDED_TABLES) <= set(book.sheetnames)
    assert [c.value for c in book["biopsies"][1]] == ["patient_id", "date", "bone", "side", "result", "note"]
    assert "race_ethnicity" in [c.value for c in book["patients"][1]]
    readme = [r[0] for r in book["_README"].iter_rows(values_only=True)]
    assert readme[0].startswith("cnotrack exchange format, version 1.1")
    assert "manifestations (since 1.1)" in readme
    assert any(line.strip().startswith("disease_status: optional (since 1.1)") for line in readme if line)


# --------------------------------------------------------------------------- vocabularies

@pytest.mark.parametrize("vocabulary, spelling, canonical", [
    (drugs, "acido zoledronico", "zoledronic acid"), (drugs, "Zoledronsäure", "zoledronic acid"),
    (drugs, "acide zolédronique", "zoledronic acid"), (drugs, "ácido zoledrónico", "zoledronic acid"),
    (drugs, "acido pamidronico", "pamidronate"), (drugs, "naprossene", "naproxen"), (drugs, "naproxeno", "naproxen"),
    (drugs, "metotrexato", "methotrexate"), (drugs, "Methotrexat", "methotrexate"), (drugs, "prednisona", "prednisone"),
    (anatomy, "femore", "femur"), (anatomy, "Oberschenkelknochen", "femur"), (anatomy, "fémur", "femur"),
    (anatomy, "clavicola", "clavicle"), (anatomy, "Schlüsselbein", "clavicle"), (anatomy, "clavicule", "clavicle"),
    (anatomy, "clavícula", "clavicle"), (anatomy, "Schienbein", "tibia"), (anatomy, "BWK7", "T7"),
    (anatomy, "vertebra lombare 3", "L3"), (anatomy, "STEISSBEIN", "coccyx"), (anatomy, "perone", "fibula"),
    (lab_tests, "PCR", "CRP"), (lab_tests, "proteína C reactiva", "CRP"), (lab_tests, "LD", "LDH"),
    (lab_tests, "Laktatdehydrogenase", "LDH"), (lab_tests, "lactate déshydrogénase", "LDH"),
    (lab_tests, "lactato deshidrogenasa", "LDH"), (lab_tests, "ascorbic acid", "VITC"),
])
def test_registries_spellings_in_their_languages_are_read(vocabulary, spelling, canonical):
    assert vocabulary().lookup()[normalise_key(spelling)] == canonical


def test_every_local_name_has_a_language_and_a_source_and_the_four_languages_are_covered():
    for vocabulary in (anatomy(), drugs(), lab_tests()):
        names = local_names(vocabulary)
        assert {n.language for n in names} == {"it", "de", "fr", "es"}
        assert all(n.source and n.spelling == n.spelling.strip().lower() for n in names)
        assert all(vocabulary.lookup()[normalise_key(n.spelling)] == n.canonical for n in names)


def test_no_spelling_leads_to_two_values_and_a_clash_is_refused():
    for vocabulary in (anatomy(), drugs(), lab_tests()):
        assert vocabulary.lookup()  # built without a clash
    with pytest.raises(VocabularyError, match="'pcr' names both 'CRP' and 'PCR_TEST'"):
        _synonym_table("labs", [("CRP", ("CRP", "pcr")), ("PCR_TEST", ("PCR_TEST", "pcr"))])
    with pytest.raises(ValidationError, match="not keys of local_name_sources"):
        DrugVocabulary.model_validate({"source": "s", "classes": {"nsaid": "NSAID"},
                                       "drugs": [{"name": "x", "class": "nsaid", "local_names": {"pt": ["y"]}}]})


def test_the_pelvis_as_a_whole_is_no_bone_in_any_language():
    lookup = anatomy().lookup()
    assert not {"pelvis", "bacino", "becken", "bassin", "pelvis ósea"} & set(lookup)


def test_vitamin_c_converts_by_the_molar_mass_of_ascorbic_acid():
    vitamin_c = lab_tests().test("VITC")
    assert vitamin_c.canonical_unit == "umol/L"
    assert vitamin_c.units["mg/dL"] == pytest.approx(10_000 / 176.12, rel=1e-15)
    assert round(vitamin_c.units["mg/dL"], 2) == 56.78
    assert vitamin_c.units["mg/L"] == pytest.approx(1_000 / 176.12, rel=1e-15)
    assert vitamin_c.default_ref_high is None and vitamin_c.loinc is None
    assert lab_tests().test("LDH").default_ref_high is None and lab_tests().test("LDH").loinc is None


def test_a_version_1_file_keeps_the_stored_1_1_values_and_a_later_import_still_compares_them(tmp_path):
    coded = make_dataset(tmp_path, "coded", patients=PATIENTS)
    plain = make_dataset(tmp_path, "plain", patients=[{"patient_id": "P1", "sex": "F"}, {"patient_id": "P2", "sex": "M"}])
    with open_store(sqlite_url(tmp_path)) as store:
        import_dataset(load_dataset(coded), store)
        assert not import_dataset(load_dataset(plain), store).changed
        assert read_store(store)["patients"].sort("patient_id")["race_ethnicity"].to_list() == [
            "2 - White, not Hispanic", None]
        assert not import_dataset(load_dataset(coded), store).changed
        cleared = make_dataset(tmp_path, "cleared", patients=[dict(p, race_ethnicity=None) for p in PATIENTS])
        assert import_dataset(load_dataset(cleared), store).changed
        assert read_store(store)["patients"]["race_ethnicity"].null_count() == 2
        assert not import_dataset(load_dataset(plain), store).changed
