"""Every built-in protocol evaluates on the demo and on a synthetic registry, gives JSON, and is
reported in every format; the numbers of the v2 built-ins are checked where they follow from the
data by a rule simple enough to recount here (cohort sizes, group sizes, per-group counts)."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from rich.console import Console

from cnotrack.demo import demo_dataset
from cnotrack.engine import evaluate
from cnotrack.protocols import builtin_protocols, load_protocol
from cnotrack.render.markdown import evaluation_markdown
from cnotrack.render.text import print_evaluation
from cnotrack.report import build_report
from cnotrack.report.write import report_bytes
from cnotrack.synth import synthesize_registry


@pytest.fixture(scope="module")
def datasets():
    return {"demo": demo_dataset(), "synth": synthesize_registry(400, 11)}


def test_the_built_ins_include_the_v2_protocols() -> None:
    assert {"pardeo2017", "pedcno", "courses", "tnf_vs_anakinra", "bisphosphonate_wbmri"} <= set(builtin_protocols())


@pytest.mark.parametrize("name", builtin_protocols())
def test_a_built_in_protocol_evaluates_and_renders_everywhere(name: str, datasets) -> None:
    for label, dataset in datasets.items():
        evaluation = evaluate(dataset, load_protocol(name))
        data = json.loads(json.dumps(evaluation.as_json()))
        assert set(data["endpoints"]) == {e.id for e in evaluation.protocol.endpoints}, label
        console = Console(file=io.StringIO(), width=160)
        print_evaluation(evaluation, console)
        assert evaluation.protocol.title[:30] in console.file.getvalue()
        assert "## " in evaluation_markdown(evaluation)
        report = build_report(evaluation, dataset, generated_at="2026-12-01 12:00 UTC")
        for suffix in (".md", ".html", ".docx"):
            assert len(report_bytes(report, suffix)) > 1000, (name, label, suffix)


def test_tnf_vs_anakinra_groups_are_the_first_biologics_by_target(datasets) -> None:
    dataset = datasets["synth"]
    evaluation = evaluate(dataset, load_protocol("tnf_vs_anakinra"))
    # recount: each patient's first biologic course (earliest start); TNF inhibitors or anakinra
    biologics = {"anakinra": "IL-1", "etanercept": "TNF", "adalimumab": "TNF", "infliximab": "TNF",
                 "golimumab": "TNF", "certolizumab": "TNF", "canakinumab": "IL-1", "rilonacept": "IL-1",
                 "secukinumab": "IL-17", "ustekinumab": "IL-12/23"}
    first = (dataset["treatments"].filter(pl.col("drug").is_in(list(biologics)))
             .sort("patient_id", "start_date").group_by("patient_id", maintain_order=True).first())
    eligible = set(evaluation.cohort.eligible["patient_id"])
    groups = {row["id"]: row["n"] for row in evaluation.comparisons["biologic"].as_json()["groups"]}
    tnf = {p for p, d in first.select("patient_id", "drug").iter_rows() if biologics[d] == "TNF"}
    anakinra = {p for p, d in first.select("patient_id", "drug").iter_rows() if d == "anakinra"}
    assert eligible <= tnf | anakinra
    assert groups == {"TNF": len(eligible & tnf), "IL-1": len(eligible & anakinra)}
    assert groups["TNF"] > 0 and groups["IL-1"] > 0
    per_group = evaluation.comparisons["biologic"].endpoints["cohort.n"].groups
    assert {g: r.value for g, r in per_group.items()} == groups
    test = evaluation.comparisons["biologic"].endpoints["month6.pga_none_or_minimal"].test
    assert test.test == "fisher_exact" and 0 <= test.p_value <= 1
