"""``cnotrack evaluate --aggregates`` and ``cnotrack combine`` on the command line (in process)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from cnotrack.cli import main
from cnotrack.exchange.writer import write_csv_folder
from cnotrack.synth import synthesize_registry

from .cohorts import split


def run(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("centres")
    parts, _ = split(synthesize_registry(70, 17), 2, np.random.default_rng(2))
    folders = [root / f"site{i}" for i in range(len(parts))]
    for part, folder in zip(parts, folders):
        write_csv_folder(part, folder)
    return folders


def test_evaluate_writes_aggregates_and_combine_pools_them(monkeypatch, capsys, folders, tmp_path) -> None:
    outs = []
    for i, folder in enumerate(folders):
        out = tmp_path / f"site{i}.json"
        code, stdout, err = run(monkeypatch, capsys, "evaluate", folder, "--protocol", "pardeo2017",
                                "--aggregates", out, "--centre", f"Site {i}", "--min-cell-count", "0")
        assert code == 0, err
        assert f"Wrote the aggregates to {out}" in err
        assert "eligible" in stdout.lower()  # the centre still sees its own evaluation
        outs.append(out)
    first = json.loads(outs[0].read_text(encoding="utf-8"))
    assert first["centre"] == "Site 0" and first["disclosure"]["min_cell_count"] == 0
    code, stdout, err = run(monkeypatch, capsys, "combine", *outs, "--format", "json", "--report", tmp_path / "r.html")
    assert code == 0, err
    combined = json.loads(stdout)
    assert combined["format"] == "cnotrack-combined" and [c["name"] for c in combined["centres"]] == ["Site 0", "Site 1"]
    assert combined["cohort"]["n"] == sum(json.loads(p.read_text())["cohort"]["n"] for p in outs)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Centres" in html and "Site 1" in html and "approximate (bins of 30 days)" in html
    assert "Clopper-Pearson" in html and "gives no treatment advice" in html and "<script" not in html
    code, markdown, _ = run(monkeypatch, capsys, "combine", *outs, "--format", "markdown")
    assert code == 0 and markdown.startswith("# Combined evaluation: pardeo2017") and "| Site 0 |" in markdown
    code, text, _ = run(monkeypatch, capsys, "combine", *outs)
    assert code == 0 and "Outcomes, pooled and per centre" in text


def test_the_default_threshold_is_five(monkeypatch, capsys, folders, tmp_path) -> None:
    out = tmp_path / "a.json"
    code, _, err = run(monkeypatch, capsys, "evaluate", folders[0], "--protocol", "pardeo2017", "--aggregates", out)
    assert code == 0, err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["disclosure"]["min_cell_count"] == 5 and doc["disclosure"]["suppressed"] > 0
    assert doc["centre"] == "centre"


@pytest.mark.parametrize("args, message", [
    (["--min-cell-count", "3"], "Error: --min-cell-count: belongs to the aggregates file; add --aggregates OUT.json"),
    (["--centre", "X"], "Error: --centre: belongs to the aggregates file"),
    (["--aggregates", "out.csv"], "Error: --aggregates out.csv: write the aggregates as a .json file"),
    (["--aggregates", "a.json", "--min-cell-count", "-1"], "Error: --min-cell-count -1: give 0 or more"),
])
def test_evaluate_refuses_bad_aggregates_options(monkeypatch, capsys, folders, args, message) -> None:
    code, _, err = run(monkeypatch, capsys, "evaluate", folders[0], *args)
    assert code == 1 and message in err


def test_combine_errors_are_one_line(monkeypatch, capsys, tmp_path) -> None:
    missing = tmp_path / "none.json"
    code, _, err = run(monkeypatch, capsys, "combine", missing)
    assert code == 1 and err.startswith(f"Error: {missing}: cannot be read")
    (tmp_path / "x.json").write_text("[]", encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "combine", tmp_path / "x.json", "--report", tmp_path / "r.docx")
    assert code == 1 and "Error: " in err and "not a cnotrack aggregates file" in err
