"""Edge cases of the FHIR and OMOP exports that a review found wrong once: seriousness as R4
spells it, one BodyStructure per lesion followed across studies (a lesion_id in one study only, a
segment missing later), the dosage text's every digit, and DuckDB's rounding said, not silent."""

from __future__ import annotations

import polars as pl
import pytest

from cnotrack.engine import lesion_fates
from cnotrack.exchange import load_dataset
from cnotrack.interop.fhir import fhir_bundle

from conftest import make_dataset


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


PATIENT = [{"patient_id": "P1", "sex": "F", "birth_date": "2008-05", "diagnosis_date": "2014-01-01"}]
STUDIES = [{"patient_id": "P1", "study_id": "S1", "date": "2015-01-01", "modality": "wb_mri"},
           {"patient_id": "P1", "study_id": "S2", "date": "2016-01-01", "modality": "wb_mri"}]


# ---------------------------------------------------------------- 1. AdverseEvent.seriousness spelling
def test_adverse_event_seriousness_uses_the_r4_codes(tmp_path):
    """FHIR R4 4.0.1's CodeSystem adverse-event-seriousness spells its codes ``Serious`` and
    ``Non-serious`` (capitalised: R4's own AdverseEvent example codes ``"Non-serious"``); the
    lower-case ``serious``/``non-serious`` are the later THO/R5 spelling. Codes are case-sensitive."""
    folder = make_dataset(tmp_path, patients=PATIENT, adverse_events=[
        {"patient_id": "P1", "onset_date": "2016-02-01", "term": "rash", "serious": "yes"},
        {"patient_id": "P1", "onset_date": "2016-03-01", "term": "cough", "serious": "no"}])
    codes = sorted(c["code"] for e in resources(fhir_bundle(load_dataset(folder)), "AdverseEvent")
                   for c in e["seriousness"]["coding"])
    assert codes == ["Non-serious", "Serious"]


# ---------------------------------------------------------------- 2. lesion identity vs the exchange format's rules
def _lesion_case(tmp_path, lesions):
    folder = make_dataset(tmp_path, patients=PATIENT, imaging=STUDIES, lesions=lesions)
    dataset = load_dataset(folder)
    structures = resources(fhir_bundle(dataset), "BodyStructure")
    frame = dataset["lesions"]
    fates = lesion_fates(frame.filter(pl.col("study_id") == "S1"), frame.filter(pl.col("study_id") == "S2"))
    return structures, fates


def test_a_lesion_id_given_in_one_study_only_is_still_one_body_structure(tmp_path):
    """docs/exchange-format.md, 'Matching a lesion across two studies', rule 2: the same bone,
    side and segment are the same lesion unless the two rows carry *different* lesion_ids. A row
    with lesion_id L1 and a later row at the same site without a lesion_id are one lesion
    (cnotrack's own lesion_fates matches them), so FHIR must give one BodyStructure."""
    structures, fates = _lesion_case(tmp_path, [
        {"study_id": "S1", "bone": "femur", "side": "left", "segment": "distal_metaphysis",
         "activity": "active", "lesion_id": "L1"},
        {"study_id": "S2", "bone": "femur", "side": "left", "segment": "distal_metaphysis", "activity": "active"}])
    assert fates["matched_by"].to_list() == ["site"]          # cnotrack: one lesion
    assert len(structures) == 1                                 # FHIR: must be one BodyStructure


def test_a_lesion_whose_segment_is_missing_later_is_still_one_body_structure(tmp_path):
    """Rule 3: same bone and side, one side without a segment, unique on each side: same lesion."""
    structures, fates = _lesion_case(tmp_path, [
        {"study_id": "S1", "bone": "tibia", "side": "right", "segment": "distal_metaphysis", "activity": "active"},
        {"study_id": "S2", "bone": "tibia", "side": "right", "activity": "active"}])
    assert fates["matched_by"].to_list() == ["bone_and_side"]  # cnotrack: one lesion
    assert len(structures) == 1                                 # FHIR: must be one BodyStructure


# ---------------------------------------------------------------- 3. dose text truncated
def test_the_dosage_text_does_not_round_the_dose(tmp_path):
    """Dosage.text is what a reader sees; ``f'{dose:g}'`` keeps 6 significant digits, so a dose of
    1234567 mg reads '1.23457e+06 mg' and 2.3333333 mg/kg reads '2.33333 mg/kg'."""
    folder = make_dataset(tmp_path, patients=PATIENT, treatments=[
        {"patient_id": "P1", "drug": "anakinra", "start_date": "2015-01-01", "dose": "2.3333333", "dose_unit": "mg/kg"}])
    statement = resources(fhir_bundle(load_dataset(folder)), "MedicationStatement")[0]
    assert statement["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 2.3333333
    assert statement["dosage"][0]["text"].startswith("2.3333333")


# ---------------------------------------------------------------- 4. DuckDB load rounds silently
def test_a_duckdb_load_reports_values_it_rounds(tmp_path):
    """The official DuckDB DDL types value_as_number NUMERIC = DECIMAL(18,3): 0.0004 loads as 0
    and 12.3456 as 12.346, silently (the load report says nothing; only docs mention it)."""
    duckdb = pytest.importorskip("duckdb")
    from pathlib import Path
    from cnotrack.interop.omop import load_omop, write_omop
    ddl = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "omop" / "duckdb"
    if not ddl.is_dir():
        pytest.skip("no official DDL")
    folder = make_dataset(tmp_path, patients=PATIENT, labs=[
        {"patient_id": "P1", "date": "2016-03-03", "test": "ESR", "value": "12.3456", "unit": "mm/h"},
        {"patient_id": "P1", "date": "2016-03-04", "test": "CRP", "value": "0.0004", "unit": "mg/L"}])
    export = write_omop(load_dataset(folder), tmp_path / "omop")
    report = load_omop(export, f"duckdb:{tmp_path / 'cdm.duckdb'}", ddl_dir=ddl)
    with duckdb.connect(str(tmp_path / "cdm.duckdb")) as con:
        loaded = [float(v) for (v,) in con.execute(
            "SELECT value_as_number FROM measurement ORDER BY measurement_date").fetchall()]
    rounded = loaded != [12.3456, 0.0004]
    assert not rounded or any("round" in str(x).lower() for x in vars(report).values()), \
        f"DuckDB holds {loaded}, the export 12.3456 and 0.0004, and the load report {report} says nothing"
