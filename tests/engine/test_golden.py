"""Golden fixtures: each folder of ``tests/golden/`` is a dataset, an optional protocol and the
expected part of the evaluation JSON, worked by hand from the specification (see its README.md).

``expected.json`` holds only the keys a case is about. Integers are compared exactly, floats to
1e-9; ``cohort.excluded`` is given as a list of patient ids.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import cnotrack
from cnotrack.engine import evaluate
from cnotrack.protocols import load_protocol

from reference.pardeo2017_reference import evaluate_reference

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.json").is_file())
PARDEO_CASES = [c for c in CASES if not (GOLDEN / c / "protocol.yaml").is_file()]


def protocol_of(folder: Path):
    path = folder / "protocol.yaml"
    return load_protocol(path if path.is_file() else "pardeo2017")


def evaluation_json(dataset_path: Path, folder: Path) -> dict:
    return evaluate(cnotrack.load_dataset(dataset_path), protocol_of(folder)).as_json(detail=False)


def differences(expected, actual, where: str = "") -> list[str]:
    """Where ``actual`` departs from the ``expected`` subset (ints exact, floats to 1e-9)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {actual!r}"]
        out = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{where}.{key}: missing from the evaluation")
                continue
            got = actual[key]
            if key == "excluded" and where.endswith("cohort"):
                got = sorted(item["patient_id"] for item in got)
                value = sorted(value)
            out += differences(value, got, f"{where}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {expected!r}, got {actual!r}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{where}[{i}]")]
    if isinstance(expected, float):
        if not isinstance(actual, (int, float)) or isinstance(actual, bool) \
                or not math.isclose(expected, actual, rel_tol=0, abs_tol=1e-9):
            return [f"{where}: expected {expected!r}, got {actual!r}"]
        return []
    if isinstance(expected, int) and not isinstance(expected, bool):
        if type(actual) is not int or actual != expected:
            return [f"{where}: expected the integer {expected!r}, got {actual!r}"]
        return []
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


@pytest.mark.parametrize("case", CASES)
def test_the_engine_gives_the_hand_worked_numbers_of_each_golden_case(case: str) -> None:
    folder = GOLDEN / case
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    problems = differences(expected, evaluation_json(folder, folder))
    assert not problems, f"{case}:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", PARDEO_CASES)
def test_the_independent_reference_agrees_with_each_hand_worked_pardeo2017_case(case: str) -> None:
    """A check of the fixtures themselves: a second implementation reads them the same way."""
    folder = GOLDEN / case
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    problems = differences(expected, evaluate_reference(folder))
    assert not problems, f"{case}:\n" + "\n".join(problems)


def test_every_golden_case_explains_itself_in_a_short_readme() -> None:
    for case in CASES:
        readme = GOLDEN / case / "README.md"
        assert readme.is_file(), case
        lines = [line for line in readme.read_text("utf-8").splitlines() if line.strip()]
        assert 2 <= len(lines) <= 5, f"{case}: README has {len(lines)} lines"
        assert (GOLDEN / case / "patients.csv").is_file(), case


def test_there_is_a_golden_case_for_every_endpoint_of_pardeo2017() -> None:
    protocol = load_protocol("pardeo2017")
    covered = set()
    for case in PARDEO_CASES:
        expected = json.loads((GOLDEN / case / "expected.json").read_text("utf-8"))
        covered |= set(expected.get("endpoints", {}))
    missing = [e.id for e in protocol.endpoints if e.id not in covered]
    assert len(protocol.endpoints) == 18
    assert not missing


EXCLUSION_REASONS = {
    "cohort_excluded_no_anakinra": {"P2": "anakinra"},
    "cohort_excluded_no_nsaid_before": {"P2": "NSAID", "P3": "NSAID"},
    "cohort_excluded_topical_glucocorticoid_only": {"P2": "glucocorticoid"},
    "cohort_excluded_course_181_days": {"P2": "182 days"},
    "cohort_excluded_ongoing_without_day_182_assessment": {"P2": "assessment", "P4": "assessment"},
    "cohort_second_anakinra_course_ignored": {"P1": "182 days"},
    "custom_protocol": {"A3": "300 days", "A4": "adalimumab", "A5": "NSAID"},
}


@pytest.mark.parametrize("case", sorted(EXCLUSION_REASONS))
def test_each_excluded_patient_carries_a_reason_that_names_the_rule_it_failed(case: str) -> None:
    folder = GOLDEN / case
    excluded = {e["patient_id"]: e["reason"] for e in evaluation_json(folder, folder)["cohort"]["excluded"]}
    for patient_id, phrase in EXCLUSION_REASONS[case].items():
        assert phrase in excluded[patient_id], (patient_id, excluded[patient_id])


@pytest.mark.parametrize("case", CASES)
def test_the_same_dataset_as_an_xlsx_workbook_gives_the_same_evaluation(case: str, tmp_path: Path) -> None:
    folder = GOLDEN / case
    workbook = cnotrack.export_dataset(cnotrack.load_dataset(folder), tmp_path / "dataset.xlsx")
    from_csv, from_xlsx = evaluation_json(folder, folder), evaluation_json(workbook, folder)
    assert from_xlsx["cohort"] == from_csv["cohort"]
    assert from_xlsx["endpoints"] == from_csv["endpoints"]
