"""The ``evaluate``, ``protocols``, ``protocol show`` and ``demo`` commands.

The installed ``cnotrack`` script runs in a subprocess where its exit code and its error output
matter; the rest goes through ``typer.testing.CliRunner`` on ``cnotrack.cli:app``. Every
database is a temporary SQLite file (``--db`` or ``$CNOTRACK_DB``, see ``conftest.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import cnotrack
from cnotrack.cli import app
from cnotrack.demo import demo_folder

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CNOTRACK = Path(sys.executable).with_name("cnotrack")
runner = CliRunner()

PUBLISHED = {
    "cohort.n": 9, "cohort.female": 6, "month6.lesions.baseline_total": 77, "month6.lesions.resolved": 42,
    "month6.lesions.stable": 35, "month6.lesions.improved": 0, "month6.lesions.worsened": 0,
    "month6.lesions.new": 20,
    "baseline.pga_mild_or_worse": (9, 9), "month6.pga_none_or_minimal": (5, 9),
    "baseline.esr_and_crp_elevated": (8, 9), "month6.esr_and_crp_normalized": (5, 9),
    "month6.esr_and_crp_decreased": (8, 9), "month6.patients_with_new_lesions": (7, 9),
    "month6.patients_with_symptomatic_new_lesions": (2, 7), "last_followup.pga_none_or_minimal": (6, 9),
}


def cnotrack_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert CNOTRACK.is_file(), f"the cnotrack script is not installed beside {sys.executable}"
    return subprocess.run([str(CNOTRACK), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def invoke(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def words(text: str) -> str:
    """Text with the terminal's line wrapping undone: panel borders dropped, whitespace runs as one space."""
    return " ".join(text.replace("\u2502", " ").split())


def assert_published_figures(body: dict) -> None:
    endpoints = body["endpoints"]
    for endpoint_id, value in PUBLISHED.items():
        if isinstance(value, tuple):
            assert (endpoints[endpoint_id]["n"], endpoints[endpoint_id]["of"]) == value, endpoint_id
            assert endpoints[endpoint_id]["missing"] == 0
        else:
            assert endpoints[endpoint_id] == value, endpoint_id
    years = endpoints["last_followup.years"]
    assert (round(years["median"], 1), round(years["min"], 1), round(years["max"], 1)) == (1.7, 0.8, 2.8)


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of a SQLite database, in a stable order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {name: sorted(map(repr, conn.execute(sa.text(f'SELECT * FROM "{name}"')).all()))
                    for name in names}
    finally:
        engine.dispose()


# ---------------------------------------------------------------- evaluate


def test_evaluate_as_json_gives_the_structure_of_the_spec(tmp_path: Path) -> None:
    folder = GOLDEN / "cohort_excluded_ongoing_without_day_182_assessment"
    done = cnotrack_script("evaluate", str(folder), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["protocol"] == "pardeo2017"
    cohort = body["cohort"]
    assert (cohort["n"], cohort["female"]) == (2, 2)
    assert [e["patient_id"] for e in cohort["excluded"]] == ["P2", "P4"]
    assert all(set(e) >= {"patient_id", "reason"} and e["reason"] for e in cohort["excluded"])
    endpoints = body["endpoints"]
    assert len(endpoints) == 18
    for endpoint_id, value in endpoints.items():
        if endpoint_id == "last_followup.years":
            assert set(value) >= {"n", "median", "min", "max", "q1", "q3"}
            assert type(value["n"]) is int
        elif isinstance(value, dict):
            assert set(value) >= {"n", "of", "missing"}, endpoint_id
            assert all(type(value[k]) is int for k in ("n", "of", "missing")), endpoint_id
        else:
            assert type(value) is int, endpoint_id
    assert endpoints["cohort.n"] == 2 and endpoints["month6.lesions.patients_missing"] == 2


def test_evaluate_as_json_on_the_demo_folder_gives_the_published_figures() -> None:
    result = invoke("evaluate", str(demo_folder()), "--format", "json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert_published_figures(body)
    assert body["cohort"]["excluded"] == []


def test_evaluate_as_markdown_gives_methods_results_and_excluded_patients() -> None:
    result = invoke("evaluate", str(GOLDEN / "cohort_excluded_course_181_days"), "--format", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("# ")
    for heading in ("## Methods", "## Results", "## Cohort"):
        assert heading in text
    assert "| `cohort.n` | eligible patients | 1 |" in text
    assert "| P2 | anakinra course shorter than 182 days |" in text
    assert "window day -90 to 14" in words(text)


def test_evaluate_as_text_shows_the_cohort_and_the_endpoints() -> None:
    result = invoke("evaluate", str(demo_folder()))
    assert result.exit_code == 0
    text = words(result.stdout)
    assert "Eligible patients: 9 (6 female); excluded: 0" in text
    assert "month6.lesions.resolved" in text
    assert "After 6 months, 42 of 77 baseline lesions (54.5%) had resolved and 35 (45.5%) were stable." in text


def test_evaluate_with_a_protocol_yaml_path_evaluates_that_protocol() -> None:
    folder = GOLDEN / "custom_protocol"
    result = invoke("evaluate", str(folder), "--protocol", str(folder / "protocol.yaml"), "--format", "json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["protocol"] == "custom_adalimumab"
    assert body["cohort"]["n"] == 3
    assert body["endpoints"]["month12.pga_vas_at_most_2"]["n"] == 2
    assert "month6.pga_none_or_minimal" not in body["endpoints"]


def test_evaluate_on_a_dataset_with_errors_exits_non_zero_and_prints_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(GOLDEN / "endpoint_month6_esr_and_crp_decreased", bad)
    labs = (bad / "labs.csv").read_text("utf-8").replace("P1,2020-01-01,ESR,40,mm/h", "P1,2020-01-01,ESR,40,mg/L")
    (bad / "labs.csv").write_text(labs, "utf-8")
    (bad / "patients.csv").write_text("patient_id,sex\nP1,F\nP2,X\nP3,F\nP4,F\n", "utf-8")
    done = cnotrack_script("evaluate", str(bad), "--format", "json", cwd=tmp_path)
    assert done.returncode != 0
    assert done.stdout.strip() == "", "no evaluation may be printed for a dataset with errors"
    problems = words(done.stderr)
    assert "Error:" in problems and "2 problem(s)" in problems
    assert "patients.csv" in problems and "sex" in problems and "X" in problems
    assert "labs.csv" in problems and "mg/L" in problems


def test_evaluate_with_an_unknown_protocol_exits_non_zero_naming_the_builtin_ones(tmp_path: Path) -> None:
    done = cnotrack_script("evaluate", str(demo_folder()), "--protocol", "pardeo2099", cwd=tmp_path)
    assert done.returncode != 0
    assert "Error:" in done.stderr and "pardeo2017" in done.stderr
    assert done.stdout.strip() == ""


def test_evaluate_with_a_broken_protocol_file_exits_non_zero_naming_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (GOLDEN / "custom_protocol" / "protocol.yaml").read_text("utf-8")
    broken.write_text(text.replace("window: [60, 120]", "window: [120, 60]"), "utf-8")
    done = cnotrack_script("evaluate", str(demo_folder()), "--protocol", str(broken), cwd=tmp_path)
    assert done.returncode != 0
    assert "Error:" in done.stderr and "month3" in words(done.stderr) and "[120, 60]" in done.stderr


# ---------------------------------------------------------------- protocols


def test_protocols_lists_pardeo2017_with_its_title() -> None:
    result = invoke("protocols")
    assert result.exit_code == 0
    assert "pardeo2017" in result.stdout
    assert "18" in result.stdout


def test_protocol_show_prints_the_methods_paragraph() -> None:
    result = invoke("protocol", "show", "pardeo2017")
    assert result.exit_code == 0
    text = words(result.stdout)
    assert text.startswith("Protocol pardeo2017:")
    for phrase in ("window day -90 to 14", "182 days", "ESR 20 mm/h", "CRP 5 mg/L"):
        assert phrase in text


def test_protocol_show_accepts_a_protocol_file() -> None:
    result = invoke("protocol", "show", str(GOLDEN / "custom_protocol" / "protocol.yaml"))
    assert result.exit_code == 0
    assert "first course of adalimumab" in words(result.stdout)


# ---------------------------------------------------------------- demo


def test_demo_as_json_with_a_temporary_database_prints_the_published_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    done = cnotrack_script("demo", "--format", "json", "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert_published_figures(body)
    assert "SYNTHETIC" in body["notice"]
    assert (tmp_path / "d.db").is_file()
    assert not (tmp_path / "private.db").exists(), "--db must be used, not $CNOTRACK_DB"


def test_running_the_demo_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    first = invoke("demo", "--db", url, "--out", str(tmp_path / "reports"))
    assert first.exit_code == 0
    assert "Demo cohort imported" in words(first.stdout)
    before = table_rows(url)
    second = invoke("demo", "--db", url, "--out", str(tmp_path / "reports"))
    assert second.exit_code == 0
    assert "already in the database" in words(second.stdout)
    assert table_rows(url) == before
    assert (tmp_path / "reports" / "pardeo2017-demo.md").is_file()


def test_demo_export_writes_a_valid_dataset_that_reproduces_the_published_figures(tmp_path: Path) -> None:
    target = tmp_path / "exported"
    result = invoke("demo", "--export", str(target))
    assert result.exit_code == 0
    assert (target / "patients.csv").is_file()
    assert cnotrack.check_dataset(target) == []
    evaluated = invoke("evaluate", str(target), "--format", "json")
    assert_published_figures(json.loads(evaluated.stdout))
    assert not (tmp_path / "private.db").exists(), "exporting the demo needs no database"


def test_demo_export_to_a_workbook_writes_a_valid_xlsx(tmp_path: Path) -> None:
    result = invoke("demo", "--export", str(tmp_path / "demo.xlsx"))
    assert result.exit_code == 0
    dataset = cnotrack.load_dataset(tmp_path / "demo.xlsx")
    assert dataset.patients.height == 9


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_demo_in_text_and_markdown_shows_the_synthetic_data_banner(fmt: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    result = invoke("demo", "--format", fmt, "--db", url, "--out", str(tmp_path / "reports"))
    assert result.exit_code == 0
    assert "SYNTHETIC DATA" in result.stdout
    assert "differs" not in result.stdout and "| NO |" not in result.stdout


def test_evaluate_without_a_dataset_evaluates_the_database_like_the_folder_it_came_from(
        tmp_path: Path, private_database: str) -> None:
    folder = GOLDEN / "endpoint_month6_lesions_patients_missing"
    imported = invoke("import", str(folder))
    assert imported.exit_code == 0
    from_database = json.loads(invoke("evaluate", "--format", "json").stdout)
    from_explicit_db = json.loads(invoke("evaluate", "--db", private_database, "--format", "json").stdout)
    from_folder = json.loads(invoke("evaluate", str(folder), "--format", "json").stdout)
    assert from_database["endpoints"] == from_folder["endpoints"] == from_explicit_db["endpoints"]
    assert from_database["cohort"] == from_folder["cohort"]
    assert (tmp_path / "private.db").is_file(), "the database of $CNOTRACK_DB was used"


def test_evaluate_refuses_a_dataset_and_a_database_together(tmp_path: Path) -> None:
    done = cnotrack_script("evaluate", str(demo_folder()), "--db", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert done.returncode != 0
    assert "Error:" in done.stderr and "not both" in done.stderr
