"""Group comparisons, time-to-event endpoints and a change's paired test in every report format:
per endpoint a row with each group's value and the test with its p value, and a per-group
Kaplan-Meier figure with the numbers at risk of each group and a legend.

The fixture is the demo cohort with pardeo2017 plus ``compare: by sex`` (6 girls, 3 boys), a
time-to-event endpoint and a change in ESR; the numbers are the engine's (checked against R in
tests/engine and tests/statistics), so these tests check where and how they are shown."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from rich.console import Console

from cnotrack.demo import DEMO_BANNER
from cnotrack.engine import evaluate
from cnotrack.protocols import parse_protocol
from cnotrack.render import evaluation_markdown, print_evaluation
from cnotrack.render.escape import markdown_text
from cnotrack.report import build_report, write_report
from cnotrack.results import TimeToEventResult

from .conftest import GENERATED_AT, require_tool, run, visible_text, words

PARDEO = (Path(__file__).parents[2] / "src/cnotrack/protocols/builtin/pardeo2017.yaml").read_text("utf-8")
EXTRA = """
  - {id: tte.remission, kind: time_to_event, label: Time to PGA none or minimal, event: {pga_reached: {in: [none, minimal]}}}
  - {id: esr_change, kind: distribution, label: Change in ESR from baseline to 6 months, unit: mm/h, measure: {change: {of: ESR, from: baseline, to: month6}}}
"""
PROTOCOL = (PARDEO.replace("id: pardeo2017", "id: pardeo_by_sex").replace("\nendpoints:\n", "\nendpoints:" + EXTRA, 1)
            + "\ncompare:\n  - {by: sex, groups: [F, M], group_labels: {F: girls, M: boys}}\n")


@pytest.fixture(scope="module")
def grouped(demo):
    return evaluate(demo, parse_protocol(PROTOCOL))


@pytest.fixture(scope="module")
def grouped_report(grouped, demo):
    return build_report(grouped, demo, banner=DEMO_BANNER, generated_at=GENERATED_AT)


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def expected_rows(grouped) -> dict[str, tuple[str, str]]:
    """Per endpoint label: (test name start, p) from the engine's GroupedEndpoint."""
    c = grouped.comparisons["sex"]
    out = {}
    for eid, g in c.endpoints.items():
        test = g.test.as_json() if hasattr(g.test, "as_json") else g.test
        label = grouped.endpoints[eid].label
        out[label[:1].upper() + label[1:]] = (None, "—") if not test or test["p_value"] is None else \
            (test["test"], _p(test["p_value"]))
    return out


def test_the_report_has_one_comparison_table_with_each_group_and_the_test(grouped, grouped_report):
    (table,) = grouped_report.comparisons
    assert table.title == "Outcomes by sex"
    assert table.header == ("Outcome", "girls (n = 6)", "boys (n = 3)", "Test", "p")
    rows = {row[0]: row for row in table.rows}
    assert len(rows) == len(grouped.endpoints)
    for label, (_, p) in expected_rows(grouped).items():
        assert rows[label][-1] == p, label
    assert rows["Time to PGA none or minimal"][3] == "log-rank test"
    assert rows["PGA none or minimal at 6 months"][1:4] == (
        "3/6 (50.0%) [95% CI 11.8 to 88.2]", "2/3 (66.7%) [95% CI 9.4 to 99.2]", "Fisher's exact test")
    assert rows["Change in ESR from baseline to 6 months"][3] == "Mann-Whitney U test"
    assert rows["New lesions at 6 months"][3].startswith("none: lesions of one patient are not independent")
    girls = grouped.comparisons["sex"].endpoints["tte.remission"].groups["F"]
    assert rows["Time to PGA none or minimal"][1] == girls.short()


def test_a_time_to_event_endpoint_and_a_change_with_its_test_are_in_the_outcomes(grouped, grouped_report):
    outcomes = {o.id: o for o in grouped_report.outcomes}
    tte = grouped.endpoints["tte.remission"]
    assert isinstance(tte, TimeToEventResult)
    assert outcomes["tte.remission"].value == tte.short()
    assert re.fullmatch(r"median \d+\.\d years \(95% CI .+\); \d+ events in 9 patients", tte.short())
    low, high = tte.median_ci95
    assert outcomes["tte.remission"].ci95.startswith(f"{low:.1f} to ")
    assert tte.sentence() in grouped_report.survival
    change = grouped.endpoints["esr_change"]
    test = change.extra["test"]
    assert test["test"] == "wilcoxon_signed_rank" and test["pairs"] == 9
    assert outcomes["esr_change"].value == f"{change.short()}; {test['sentence']}"
    assert change.sentence().endswith(f"; {test['sentence']}.")


def test_the_per_group_kaplan_meier_figure_has_a_curve_and_numbers_at_risk_per_group(grouped, grouped_report):
    figure = next(f for f in grouped_report.figures if f.id.startswith("kaplan-meier-sex"))
    assert figure.title == "Time to PGA none or minimal by sex (Kaplan-Meier)"
    texts = [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<text\b[^>]*>(.*?)</text>", figure.svg, re.S)]
    assert {"girls", "boys", "censored", "Number at risk"} <= set(texts)
    groups = grouped.comparisons["sex"].endpoints["tte.remission"].groups
    assert str(groups["F"].n) in texts and str(groups["M"].n) in texts


def test_the_markdown_report_and_the_evaluation_markdown_show_the_comparison(grouped, grouped_report, tmp_path):
    for text in (evaluation_markdown(grouped), write_report(grouped_report, tmp_path / "r.md").read_text("utf-8")):
        assert "#### Outcomes by sex" in text
        assert "| Outcome | girls (n = 6) | boys (n = 3) | Test | p |" in text
        p = expected_rows(grouped)["PGA none or minimal at 6 months"][1]
        assert f"| Fisher's exact test | {markdown_text(p)} |" in text


def test_the_html_report_shows_the_comparison_table_and_the_figure(grouped_report, tmp_path):
    html = write_report(grouped_report, tmp_path / "r.html").read_text("utf-8")
    assert '<section id="comparisons">' in html and 'id="comparison-sex"' in html
    assert '<a href="#comparisons">Comparisons of groups</a>' in html
    text = visible_text(html)
    assert "Outcomes by sex Outcome girls (n = 6) boys (n = 3) Test p" in text
    assert "Figure 6. Time to PGA none or minimal by sex (Kaplan-Meier)." in text


def test_the_word_report_has_the_comparison_as_a_table(grouped_report, tmp_path):
    document = docx.Document(str(write_report(grouped_report, tmp_path / "r.docx")))
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    assert ["Outcome", "girls (n = 6)", "boys (n = 3)", "Test", "p"] in headers
    assert "Comparisons of groups" in [p.text for p in document.paragraphs]


def test_the_pdf_report_shows_the_comparison_and_the_figure(grouped_report, tmp_path):
    path = write_report(grouped_report, tmp_path / "r.pdf")
    text = words(run(require_tool("pdftotext"), "-layout", str(path), "-").stdout)
    assert "Outcomes by sex" in text and "girls (n = 6)" in text and "log-rank test" in text
    assert "Figure 6. Time to PGA none or minimal by sex (Kaplan-Meier)." in text


def test_the_terminal_shows_the_comparison(grouped):
    console = Console(record=True, width=250)
    print_evaluation(grouped, console)
    text = console.export_text()
    assert "Outcomes by sex" in text and "girls (n = 6)" in text and "log-rank test" in text
