"""``cnotrack report`` and the reports ``cnotrack demo`` writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnotrack.cli import app
from cnotrack.demo import demo_folder

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every command of these tests falls back to a fresh SQLite file, never the user's database."""
    url = f"sqlite:///{tmp_path / 'private.db'}"
    monkeypatch.setenv("CNOTRACK_DB", url)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return url


def test_report_writes_every_out_file_and_prints_the_paths(tmp_path):
    html, md = tmp_path / "out" / "cohort.html", tmp_path / "cohort.md"
    result = runner.invoke(app, ["report", str(demo_folder()), "--protocol", "pardeo2017",
                                 "--out", str(html), "--out", str(md)], catch_exceptions=False,
                           env={"COLUMNS": "40"})  # a narrow terminal must not wrap a path
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["Report:", str(html), "Report:", str(md)]
    assert "42/77 (54.5%)" in html.read_text("utf-8")
    assert md.read_text("utf-8").startswith("# Anakinra in children with CNO")


def test_report_with_an_unknown_suffix_names_the_option_and_the_fix_and_writes_nothing(tmp_path):
    result = runner.invoke(app, ["report", str(demo_folder()), "--out", str(tmp_path / "a.html"),
                                 "--out", str(tmp_path / "b.txt")])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    message = str(result.exception)
    assert message.startswith("--out ") and "'.txt' is not a report format" in message
    assert "give a file ending in .html, .pdf, .docx or .md" in message
    assert not (tmp_path / "a.html").exists(), "the suffixes are checked before any work"


def test_report_from_the_database_after_the_demo_and_with_both_sources_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = runner.invoke(app, ["demo", "--db", url], catch_exceptions=False)
    assert demo.exit_code == 0, demo.output
    folder = tmp_path / "cnotrack-demo"
    for suffix in (".md", ".html", ".pdf"):
        path = Path("cnotrack-demo") / f"pardeo2017-demo{suffix}"
        assert f"Report: {path}" in demo.stdout
        assert (tmp_path / path).stat().st_size > 1000
    assert (folder / "pardeo2017-demo.pdf").read_bytes()[:5] == b"%PDF-"
    assert "SYNTHETIC DATA" in (folder / "pardeo2017-demo.html").read_text("utf-8")

    from_db = runner.invoke(app, ["report", "--db", url, "--out", "db.md"], catch_exceptions=False)
    assert from_db.exit_code == 0, from_db.output
    assert "42 of 77 baseline lesions (54.5%) had resolved" in (tmp_path / "db.md").read_text("utf-8")

    both = runner.invoke(app, ["report", str(demo_folder()), "--db", url, "--out", "x.md"])
    assert both.exit_code != 0 and "give a dataset or --db, not both" in str(both.exception)


def test_the_installed_command_prints_the_error_and_exits_1(tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).with_name("cnotrack")
    done = subprocess.run([str(script), "report", str(demo_folder()), "--out", "report.doc"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert " ".join(done.stderr.split()).startswith("Error: --out 'report.doc': '.doc' is not a report format;")
