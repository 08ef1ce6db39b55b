"""The benchmark's own code is right (bench/): the pandas baseline computes pardeo2017 as cnotrack
does, the process timer reports what a child used, the doc keeps its hand-written parts.

No timing is asserted: the benchmark itself (``make bench``) is no test.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(BENCH))

pd = pytest.importorskip("pandas")  # the bench extra

import check  # noqa: E402
import measure  # noqa: E402
import pandas_baseline  # noqa: E402
import pandas_reader  # noqa: E402
import report_md  # noqa: E402

PARDEO_CASES = sorted(p.name for p in GOLDEN.iterdir()
                      if (p / "expected.json").is_file() and not (p / "protocol.yaml").is_file())


def _departures(expected, actual, where: str = "") -> list[str]:
    """Where ``actual`` departs from the ``expected`` subset (``cohort.excluded`` as patient ids)."""
    if isinstance(expected, dict):
        found = []
        for key, value in expected.items():
            if key == "excluded" and where.endswith("cohort"):
                ids = [e["patient_id"] for e in actual["excluded"]]
                found += [] if ids == value else [f"{where}.excluded: {value} != {ids}"]
            elif key not in actual:
                found.append(f"{where}.{key}: missing")
            else:
                found += _departures(value, actual[key], f"{where}.{key}")
        return found
    if isinstance(expected, float):
        ok = isinstance(actual, float) and math.isclose(expected, actual, rel_tol=0, abs_tol=1e-9)
        return [] if ok else [f"{where}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


@pytest.mark.parametrize("case", PARDEO_CASES)
def test_the_pandas_baseline_gives_the_hand_worked_numbers_of_each_golden_case(case: str) -> None:
    folder = GOLDEN / case
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    problems = _departures(expected, pandas_baseline.evaluate_folder(folder))
    assert not problems, f"{case}:\n" + "\n".join(problems)


def test_the_pandas_reader_accepts_the_spellings_cnotrack_accepts() -> None:
    from cnotrack.vocabulary import anatomy, drugs, lab_tests

    assert pandas_reader._table("treatments", "drug", "drug") == drugs().lookup()
    assert pandas_reader._table("lesions", "bone", "bone") == anatomy().lookup()
    assert pandas_reader._table("labs", "test", "lab_test") == lab_tests().lookup()
    for test in pandas_reader._lab_tests():
        assert pandas_reader._unit_lookup(test) == lab_tests().test(test["code"]).unit_lookup()


def test_the_pandas_baseline_agrees_with_cnotrack_on_a_varied_registry(tmp_path: Path) -> None:
    """bench/registry.py respells a synth registry the way centres do; both read it alike."""
    import cnotrack
    from cnotrack.engine import evaluate
    from cnotrack.protocols import load_protocol
    from registry import write_varied_registry

    folder = write_varied_registry(150, tmp_path / "registry", seed=3)
    text = (folder / "labs.csv").read_bytes()
    assert b"\r\n" in text and b"mg/dL" in text and b"<0.5" in text  # the registry is varied
    assert b'"female"' in (folder / "patients.csv").read_bytes()
    mine = evaluate(cnotrack.load_dataset(folder), load_protocol("pardeo2017")).as_json(detail=False)
    theirs = pandas_baseline.evaluate_folder(folder)
    assert theirs["cohort"]["n"] > 0
    assert check.differences(mine, theirs) == []


def test_the_check_names_a_differing_endpoint_and_tolerates_the_last_bit_of_a_float() -> None:
    mine = {"cohort": {"n": 2, "female": 1, "excluded": [{"patient_id": "P3", "reason": "no anakinra course"}]},
            "endpoints": {"cohort.n": 2, "month6.pga_none_or_minimal": {"n": 1, "of": 2, "missing": 0, "ci95": [0, 1]},
                          "last_followup.years": {"n": 2, "median": 1.0000000000000002}}}
    theirs = json.loads(json.dumps(mine))
    del theirs["endpoints"]["month6.pga_none_or_minimal"]["ci95"]
    theirs["endpoints"]["last_followup.years"]["median"] = 1.0
    assert check.differences(mine, theirs) == []
    theirs["endpoints"]["month6.pga_none_or_minimal"]["missing"] = 1
    theirs["cohort"]["excluded"][0]["reason"] = "no course of an NSAID before anakinra"
    found = check.differences(mine, theirs)
    assert found[0].startswith("cohort.excluded") and found[1] == "month6.pga_none_or_minimal.missing: 0 != 1"


def test_a_measured_process_reports_its_own_peak_memory_cpu_and_exit_code() -> None:
    burn = "x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); sum(range(3_000_000))"
    run = measure.run_process([sys.executable, "-c", burn])
    assert run.ok and run.peak_mb > 300 and run.cpu > 0
    failed = measure.run_process([sys.executable, "-c", "import sys; sys.exit('Error: bad row 3')"])
    assert failed.returncode == 1 and not failed.ok and failed.error == "Error: bad row 3"


def test_a_process_past_its_time_limit_is_stopped_and_reported_so() -> None:
    run = measure.run_process([sys.executable, "-c", "import signal; signal.pause()"], timeout=0.5)
    assert run.timed_out and not run.ok
    assert measure.best([run]) is run  # no successful run: the failure is what is shown


def test_writing_the_doc_replaces_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nBy hand.\n\n{report_md.BEGIN}\nold numbers\n{report_md.END}\n\n"
                   "## What v2 costs\n\nBy hand too.\n", "utf-8")
    report_md.write(doc, f"{report_md.BEGIN}\nnew numbers\n{report_md.END}", "unused preamble")
    text = doc.read_text("utf-8")
    assert "new numbers" in text and "old numbers" not in text and "unused preamble" not in text
    assert text.startswith("# Performance\n\nBy hand.") and text.endswith("## What v2 costs\n\nBy hand too.\n")


def test_duckdb_parses_every_csv_file_of_the_folder(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    import duckdb_floor

    (tmp_path / "patients.csv").write_bytes(b'"patient_id","sex"\r\n"P1","female"\r\n"P2","M"\r\n')
    (tmp_path / "labs.csv").write_text("patient_id,date,test,value\nP1,2020-01-01,CRP,<0.5\n", "utf-8")
    assert duckdb_floor.parse_folder(tmp_path) == {"labs": 1, "patients": 2}
