"""Issue 11, item 2: ``cnotrack evaluate --format json`` prints the summary; ``--detail`` adds the
rows per patient, per lesion and per diagnostic criterion, streamed; ``--detail-out`` writes
them as JSON Lines or Parquet (``cnotrack.render.detail``); statistics libraries are imported
only when an evaluation needs them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import cnotrack
from cnotrack.cli import app
from cnotrack.demo import demo_folder
from cnotrack.engine import evaluate
from cnotrack.protocols import load_protocol
from cnotrack.render.detail import check_detail_path, detail_paths, write_detail, write_evaluation_json

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CNOTRACK = Path(sys.executable).with_name("cnotrack")
runner = CliRunner()
DETAIL_KEYS = {"patients", "lesions", "diagnostic_criteria"}


@pytest.fixture(scope="module")
def demo_evaluation():
    return evaluate(cnotrack.load_dataset(demo_folder()), load_protocol("pardeo2017"))


def strict(value):
    """``value`` as JSON text parses (dates as ISO text)."""
    return json.loads(json.dumps(value, default=str))


def test_the_json_summary_carries_everything_the_spec_lists_and_no_rows_per_patient() -> None:
    folder = GOLDEN / "cohort_excluded_ongoing_without_day_182_assessment"
    result = runner.invoke(app, ["evaluate", str(folder), "--format", "json"], catch_exceptions=False)
    body = json.loads(result.stdout)
    assert {"protocol", "cohort", "endpoints", "methods", "reference_limits", "statistics", "provenance",
            "synthetic"} <= set(body)
    assert not DETAIL_KEYS & set(body)
    assert [e["patient_id"] for e in body["cohort"]["excluded"]] == ["P2", "P4"]
    for analysis in body["statistics"]["survival"].values():
        assert "subjects" not in analysis and "excluded_patients" not in analysis and "n" in analysis


def test_detail_adds_the_rows_of_the_evaluation_as_the_library_gives_them(demo_evaluation) -> None:
    result = runner.invoke(app, ["evaluate", str(demo_folder()), "--format", "json", "--detail"],
                           catch_exceptions=False)
    body = json.loads(result.stdout)
    assert body == strict(demo_evaluation.as_json(detail=True))
    assert len(body["patients"]) == 9 and len(body["lesions"]) == demo_evaluation.lesions.height > 50
    assert body["statistics"]["survival"]["time_to_first_new_lesion"]["subjects"]


@pytest.mark.parametrize("batch_rows", [1, 7, 100_000])
def test_the_streamed_detail_is_the_same_json_whatever_the_batch_size(demo_evaluation, batch_rows: int) -> None:
    out = io.StringIO()
    write_evaluation_json(demo_evaluation, out, detail=True, batch_rows=batch_rows)
    assert json.loads(out.getvalue()) == strict(demo_evaluation.as_json(detail=True))


def test_detail_out_jsonl_writes_one_record_per_line_each_with_its_kind(tmp_path: Path, demo_evaluation) -> None:
    target = tmp_path / "detail.jsonl"
    assert write_detail(demo_evaluation, target, batch_rows=4) == [target]
    records = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    kinds = [r.pop("record") for r in records]
    n_patients, n_lesions = demo_evaluation.patients.height, demo_evaluation.lesions.height
    assert kinds == ["patient"] * n_patients + ["lesion"] * n_lesions
    full = strict(demo_evaluation.as_json(detail=True))
    assert records == full["patients"] + full["lesions"]


def test_detail_out_jsonl_carries_diagnostic_criteria_records(tmp_path: Path) -> None:
    folder = GOLDEN / "cohort_excluded_ongoing_without_day_182_assessment"
    evaluation = evaluate(cnotrack.load_dataset(folder), load_protocol("pardeo2017"), statistics=False)
    evaluation.diagnosis = pl.DataFrame({"patient_id": ["P1", "P2"], "jansson_score": [41, 12]})
    write_detail(evaluation, tmp_path / "d.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text("utf-8").splitlines()]
    assert lines[-2:] == [{"record": "diagnostic_criteria", "patient_id": "P1", "jansson_score": 41},
                          {"record": "diagnostic_criteria", "patient_id": "P2", "jansson_score": 12}]


def test_detail_out_parquet_writes_one_file_per_table(tmp_path: Path, demo_evaluation) -> None:
    target = tmp_path / "run.parquet"
    written = write_detail(demo_evaluation, target)
    assert written == [target, tmp_path / "run.lesions.parquet", tmp_path / "run.diagnostic_criteria.parquet"]
    assert pl.read_parquet(target).equals(demo_evaluation.patients)
    assert pl.read_parquet(written[1]).equals(demo_evaluation.lesions)


def test_the_cli_writes_the_detail_file_beside_any_output(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["evaluate", str(demo_folder()), "--detail-out", str(target)],
                           catch_exceptions=False)
    assert result.exit_code == 0
    assert sum(1 for _ in target.open("rb")) == 9 + json.loads(
        runner.invoke(app, ["evaluate", str(demo_folder()), "--format", "json", "--detail"]).stdout
    )["lesions"].__len__()


@pytest.mark.parametrize(("args", "words"), [
    (["--detail-out", "{tmp}/detail.csv"], ["--detail-out", "detail.csv", ".jsonl", ".parquet"]),
    (["--detail-out", "{tmp}/missing/detail.jsonl"], ["--detail-out", "does not exist"]),
    (["--detail-out", "{tmp}"], ["--detail-out", "detail format"]),
    (["--detail"], ["--detail", "--format json"]),
])
def test_a_bad_detail_option_is_an_error_naming_the_option_and_the_fix(tmp_path: Path, args, words) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = subprocess.run([str(CNOTRACK), "evaluate", str(demo_folder()), *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Error: ")
    for word in words:
        assert word in done.stderr


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_detail_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(cnotrack.CnotrackError, match="cannot be written"):
            check_detail_path(folder / "d.jsonl")
    finally:
        folder.chmod(0o700)


def test_parquet_detail_paths_keep_the_folder_and_stem() -> None:
    assert detail_paths(Path("a/b.parquet")) == [Path("a/b.parquet"), Path("a/b.lesions.parquet"),
                                                 Path("a/b.diagnostic_criteria.parquet")]
    assert detail_paths(Path("a/b.jsonl")) == [Path("a/b.jsonl")]


HEAVY = ("scipy.stats", "lifelines", "statsmodels", "matplotlib", "pandas")


def imported_after(code: str) -> set[str]:
    """The heavy packages (``HEAVY``) imported by running ``code`` in a fresh interpreter."""
    script = (f"import sys\n{code}\n"
              f"print('HEAVY:', *sorted(({{m.split('.')[0] for m in sys.modules}} | set(sys.modules)) & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.rsplit("HEAVY:", 1)[1].split())


def test_help_and_validate_import_no_statistics_library() -> None:
    run = ("from cnotrack.cli import app\n"
           "try:\n    app(args={args}, standalone_mode=False)\nexcept SystemExit:\n    pass\n")
    assert imported_after(run.format(args=["--help"])) == set()
    assert imported_after(run.format(args=["validate", str(demo_folder())])) == set()


def test_an_evaluation_without_statistics_imports_no_statistics_library() -> None:
    code = ("import cnotrack\nfrom cnotrack.engine import evaluate\nfrom cnotrack.protocols import load_protocol\n"
            f"e = evaluate(cnotrack.load_dataset({str(demo_folder())!r}), load_protocol('pardeo2017'), "
            "statistics=False)\nimport json\njson.dumps(e.as_json(detail=False), default=str)")
    assert imported_after(code) == set()


def test_the_seed_evaluation_with_statistics_imports_no_statistics_library() -> None:
    """The paired tests are computed on NumPy (``statistics/_distributions.py``): no
    ``scipy.stats``."""
    code = ("import cnotrack\nfrom cnotrack.engine import evaluate\nfrom cnotrack.protocols import load_protocol\n"
            f"evaluate(cnotrack.load_dataset({str(demo_folder())!r}), load_protocol('pardeo2017'))")
    assert imported_after(code) == set()
