"""Synthetic registries: valid, deterministic, realistic enough, and useful for ``pardeo2017``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cnotrack import load_dataset
from cnotrack.cli import main
from cnotrack.engine import evaluate
from cnotrack.exchange.dataset import ROW
from cnotrack.protocols import load_protocol
from cnotrack.synth import SITE_FREQUENCIES, synthesize_registry, write_registry

from reference.pardeo2017_reference import evaluate_reference


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    return write_registry(200, 7, tmp_path_factory.mktemp("synth") / "registry")


def test_a_written_registry_loads_without_problems_and_reads_back_as_it_was_made(registry):
    made = synthesize_registry(200, 7)
    loaded = load_dataset(registry)
    for name, frame in made.tables.items():
        assert loaded[name].drop(ROW, strict=False).equals(frame), name   # a 1.1 table with no rows: no file
    counts = loaded.row_counts()
    for name in ("patients", "treatments", "assessments", "labs", "imaging", "lesions", "adverse_events"):
        assert counts[name] > 0, name
    assert counts["patients"] == 200


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_bytes(registry, tmp_path):
    again = write_registry(200, 7, tmp_path / "again")
    other = write_registry(200, 8, tmp_path / "other")
    assert files(again) == files(registry)
    assert files(other)["labs.csv"] != files(registry)["labs.csv"]
    assert files(other)["patients.csv"] != files(registry)["patients.csv"]


def test_pardeo2017_finds_eligible_patients_and_excludes_others_for_several_reasons(registry):
    evaluation = evaluate(load_dataset(registry), load_protocol("pardeo2017"))
    assert 0.25 * 200 <= evaluation.n <= 0.6 * 200
    reasons = set(evaluation.cohort.excluded["reason"])
    assert "no anakinra course" in reasons
    assert any("shorter than 182 days" in r for r in reasons)
    results = evaluation.as_json(detail=False)["endpoints"]
    assert results["month6.lesions.baseline_total"] > 0
    assert results["month6.lesions.resolved"] > 0 and results["month6.lesions.stable"] > 0
    assert results["baseline.esr_and_crp_elevated"]["n"] > 0


def test_the_engine_agrees_with_the_independent_reference_on_a_synthetic_registry(registry):
    engine = evaluate(load_dataset(registry), load_protocol("pardeo2017")).as_json(detail=False)
    reference = evaluate_reference(registry)
    assert [e["patient_id"] for e in engine["cohort"]["excluded"]] == \
        [e["patient_id"] for e in reference["cohort"]["excluded"]]
    for key, expected in reference["endpoints"].items():
        actual = engine["endpoints"][key]
        if isinstance(expected, dict):
            actual = {k: actual[k] for k in expected}
        assert actual == pytest.approx(expected, rel=1e-12), key


def test_the_registry_looks_like_a_cno_cohort():
    data = synthesize_registry(3000, 1)
    patients = data["patients"]
    assert 0.6 < (patients["sex"] == "F").mean() < 0.72
    birth = patients["birth_date"].str.slice(0, 7).str.to_date("%Y-%m")
    age = ((patients["onset_date"] - birth).dt.total_days() / 365.25).drop_nulls()
    assert 9 < age.mean() < 10.5 and age.min() >= 1.9 and age.max() <= 17.2
    lesions = data["lesions"].join(data["imaging"].select("study_id", "patient_id"), on="study_id")
    with_tibia = lesions.filter(pl.col("bone") == "tibia")["patient_id"].n_unique() / 3000
    assert abs(with_tibia - SITE_FREQUENCIES["tibia"][0]) < 0.05
    first_course = data["treatments"].sort("start_date").group_by("patient_id", maintain_order=True).first()
    assert (first_course["drug"].is_in(["naproxen", "ibuprofen", "indomethacin"])).mean() > 0.9


def test_cnotrack_synth_writes_a_valid_folder_and_prints_the_row_counts(tmp_path, monkeypatch, capsys):
    out = tmp_path / "registry"
    monkeypatch.setattr("sys.argv", ["cnotrack", "synth", "--patients", "25", "--seed", "3", "--out", str(out)])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "patients" in printed and "25" in printed and "lesions" in printed
    assert files(out) == files(write_registry(25, 3, tmp_path / "library"))
    assert load_dataset(out).patients.height == 25
