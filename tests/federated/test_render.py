"""The combined report reads like the single-centre report: a centres table, each centre's figure
beside the pooled one, approximate numbers marked with their bin width, suppressed cells shown as
suppressed, stratified tests named; the HTML is self-contained and the PDF is a PDF."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnotrack.errors import CnotrackError
from cnotrack.federated import centre_aggregates, combine
from cnotrack.federated.render import combined_markdown, combined_tables, combined_text
from cnotrack.federated.report import combined_html, write_combined_report
from cnotrack.protocols import load_protocol
from cnotrack.synth import synthesize_registry

from .cohorts import split


@pytest.fixture(scope="module")
def combined():
    parts, _ = split(synthesize_registry(150, 31), 3, np.random.default_rng(4))
    protocol = load_protocol("tnf_vs_anakinra")
    return combine([centre_aggregates(p, protocol, min_cell_count=m, centre=f"Site {i}")
                    for i, (p, m) in enumerate(zip(parts, (0, 0, 2)))])


def test_the_tables_put_each_centre_beside_the_pooled_figure(combined) -> None:
    tables = {t["id"]: t for t in combined_tables(combined)}
    assert list(tables)[:2] == ["centres", "outcomes"]
    assert [r[0] for r in tables["centres"]["rows"]] == ["Site 0", "Site 1", "Site 2"]
    outcomes = tables["outcomes"]
    assert outcomes["header"][-3:] == ["Site 0", "Site 1", "Site 2"]
    row = next(r for r in outcomes["rows"] if r[0] == "PGA none or minimal at 6 months")
    assert "Clopper-Pearson, exact" in row[2] or "not computable" in row[1]
    assert any("approximate (bins of" in r[2] for r in outcomes["rows"])
    assert any("suppressed" in cell for r in outcomes["rows"] for cell in r)
    comparison = tables["comparison-biologic"]
    assert any("van Elteren (stratified by centre)" in r[-1] for r in comparison["rows"])
    assert any(r[-1].startswith("Fisher's exact test, p = ") for r in comparison["rows"])
    assert any("log-rank test, approximate (bins of 30 days)" in r[-1] or "log-rank test not computable" in r[-1]
               for r in comparison["rows"])


def test_text_and_markdown_carry_the_synthetic_notice_and_the_no_advice_line(combined) -> None:
    for text in (combined_text(combined), combined_markdown(combined)):
        assert text.count("SYNTHETIC DATA: 150 of 150 patients are synthetic") == 1
        assert "gives no treatment advice" in text and "approximate (bins of 30 days)" in text


def test_the_html_report_is_self_contained_and_marks_what_is_approximate(combined, tmp_path) -> None:
    html = combined_html(combined, generated="2026-01-01 00:00 UTC")
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count('<section') >= 5 and 'id="centres"' in html and "Methods of combining" in html
    assert "approximate (bins of 30 days)" in html and "van Elteren" in html
    assert 'class="num suppressed"' in html and "SYNTHETIC DATA" in html
    path = write_combined_report(combined, tmp_path / "combined.pdf")
    assert path.read_bytes().startswith(b"%PDF-")
    with pytest.raises(CnotrackError, match=r"--report .*r.docx: write the report as .html or .pdf"):
        write_combined_report(combined, tmp_path / "r.docx")


def test_a_groups_median_is_marked_approximate_with_its_bin_width() -> None:
    """The groups' medians of a comparison come from the same bins as the pooled ones: each is
    labelled approximate with its bin width, in every output."""
    parts, _ = split(synthesize_registry(150, 31), 3, np.random.default_rng(4))
    protocol = load_protocol("tnf_vs_anakinra")
    unsuppressed = combine([centre_aggregates(p, protocol, min_cell_count=0, centre=f"Site {i}")
                            for i, p in enumerate(parts)])
    comparison = {t["id"]: t for t in combined_tables(unsuppressed)}["comparison-biologic"]
    medians = [cell for r in comparison["rows"] for cell in r[1:-1] if cell.startswith("median ")]
    assert medians, "the comparison shows groups' medians"
    assert all("approximate (bins of " in cell for cell in medians), medians
    assert any("approximate (bins of 30 days)" in cell for cell in medians)
    assert any("approximate (bins of 0.25 years)" in cell for cell in medians)


def test_a_changes_stratified_signed_rank_test_is_shown_and_named() -> None:
    """As the single-centre report gives a change's Wilcoxon signed-rank test, the combined one gives
    its centre-stratified version, named so."""
    parts, _ = split(synthesize_registry(120, 7), 2, np.random.default_rng(3))
    protocol = load_protocol("tnf_vs_anakinra")
    c = combine([centre_aggregates(p, protocol, min_cell_count=0, centre=f"S{i}") for i, p in enumerate(parts)])
    rows = {r[0]: r for r in {t["id"]: t for t in combined_tables(c)}["outcomes"]["rows"]}
    changes = [eid for eid, e in c.endpoints.items() if e["kind"] == "distribution" and e.get("test")]
    assert changes
    for eid in changes:
        row = rows[c.endpoints[eid]["label"]]
        assert "stratified Wilcoxon signed-rank (by centre), p" in row[1], row
