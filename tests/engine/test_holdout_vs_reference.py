"""The engine against the independent reference implementation, on random adversarial cohorts.

``tests/reference/holdout.py`` writes a valid CSV folder full of the cases where an
implementation of pardeo2017 can go wrong (window edges, ties, censored and converted labs,
lesion matching rules, odd spellings); ``tests/reference/pardeo2017_reference.py`` evaluates it
with the standard library only, patient by patient. The two must agree on every endpoint and
on who is excluded.
"""

from __future__ import annotations

import csv
import math
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnotrack
from cnotrack.engine import evaluate
from cnotrack.protocols import load_protocol
from reference.holdout import make_holdout_cohort
from reference.pardeo2017_reference import evaluate_reference

SEEDS = range(30)
N_PATIENTS = 40
PARDEO = load_protocol("pardeo2017")


def engine_json(path: Path) -> dict:
    return evaluate(cnotrack.load_dataset(path), PARDEO).as_json(detail=False)


def disagreements(reference: dict, engine: dict) -> list[str]:
    """Every endpoint value and excluded id where the engine departs from the reference."""
    out = []
    assert set(reference["endpoints"]) <= set(engine["endpoints"])
    for endpoint_id, expected in reference["endpoints"].items():
        got = engine["endpoints"][endpoint_id]
        if isinstance(expected, dict):
            for key, value in expected.items():
                other = got[key]
                same = (value is None and other is None) or (
                    value is not None and other is not None
                    and (math.isclose(value, other, rel_tol=0, abs_tol=1e-9) if isinstance(value, float)
                         else value == other and type(other) is int))
                if not same:
                    out.append(f"{endpoint_id}.{key}: reference {value!r}, engine {other!r}")
        elif got != expected or type(got) is not int:
            out.append(f"{endpoint_id}: reference {expected!r}, engine {got!r}")
    for key in ("n", "female"):
        if reference["cohort"][key] != engine["cohort"][key]:
            out.append(f"cohort.{key}: reference {reference['cohort'][key]}, engine {engine['cohort'][key]}")
    ids = [e["patient_id"] for e in reference["cohort"]["excluded"]]
    engine_ids = [e["patient_id"] for e in engine["cohort"]["excluded"]]
    if ids != engine_ids:
        out.append(f"excluded: reference {ids}, engine {engine_ids}")
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_the_engine_agrees_with_the_reference_on_a_random_holdout_cohort(seed: int, tmp_path: Path) -> None:
    folder = tmp_path / f"holdout-{seed}"
    make_holdout_cohort(seed, N_PATIENTS, folder)
    engine = engine_json(folder)
    problems = disagreements(evaluate_reference(folder), engine)
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)
    assert engine["cohort"]["excluded"], "the hold-out cohort always has excluded patients"
    assert all(e["reason"] for e in engine["cohort"]["excluded"])


@pytest.mark.parametrize("seed", [0, 7, 19])
def test_the_holdout_cohort_as_an_xlsx_workbook_gives_the_same_evaluation(seed: int, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    make_holdout_cohort(seed, N_PATIENTS, folder)
    workbook = cnotrack.export_dataset(cnotrack.load_dataset(folder), tmp_path / "x.xlsx")
    from_csv, from_xlsx = engine_json(folder), engine_json(workbook)
    assert from_xlsx["cohort"] == from_csv["cohort"]
    assert from_xlsx["endpoints"] == from_csv["endpoints"]
    assert not disagreements(evaluate_reference(folder), from_xlsx)


def write_shuffled(source: Path, target: Path, rng: random.Random) -> None:
    """Copy every CSV of ``source`` with its data rows in a random order (header kept first)."""
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        rng.shuffle(rows)
        with (target / path.name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(list(SEEDS)), shuffle_seed=st.integers(0, 2**32 - 1))
def test_shuffling_the_rows_of_every_table_changes_nothing_in_the_results(
        seed: int, shuffle_seed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("shuffle")
    make_holdout_cohort(seed, 25, base / "original")
    write_shuffled(base / "original", base / "shuffled", random.Random(shuffle_seed))
    original, shuffled = engine_json(base / "original"), engine_json(base / "shuffled")
    assert shuffled["cohort"] == original["cohort"]
    assert shuffled["endpoints"] == original["endpoints"]


def test_bug_two_scintigraphies_of_one_patient_on_one_date_give_the_same_result_in_any_row_order(
        tmp_path: Path) -> None:
    """BUG (engine/timepoints.py, at_timepoint): two studies of a patient on the same date tie on
    distance and on date, and the engine keeps whichever row comes first, so the result depends
    on the order of the rows; exporting the dataset (rows sorted by study_id) changes it.

    Minimal case: P1 with the standard courses; scintigraphies S2 and S1 both on day 0 (S2 first
    in the file; S2 has 2 lesions, S1 has 1) and S3 on day 182. The baseline lesion count is 2 for
    the file as written and 1 for the same rows in the other order.
    """
    original = tmp_path / "original"
    shutil.copytree(Path(__file__).resolve().parent.parent / "golden" / "endpoint_cohort_n", original)
    (original / "imaging.csv").write_text(
        "patient_id,study_id,date,modality\nP1,S2,2020-01-01,bone_scintigraphy\n"
        "P1,S1,2020-01-01,bone_scintigraphy\nP1,S3,2020-07-01,bone_scintigraphy\n", "utf-8")
    (original / "lesions.csv").write_text(
        "study_id,bone,side,segment\nS1,femur,left,diaphysis\nS2,sacrum,,\nS2,T7,,body\nS3,sacrum,,\n", "utf-8")
    reordered = cnotrack.export_dataset(cnotrack.load_dataset(original), tmp_path / "reordered")
    first = engine_json(original)["endpoints"]["month6.lesions.baseline_total"]
    second = engine_json(reordered)["endpoints"]["month6.lesions.baseline_total"]
    assert first == second
