"""The HTML report: every published figure of the seed study, Table 1, the statistics, the
figures, the listing, completeness, reference limits and provenance, in one file that
refers to nothing outside itself."""

from __future__ import annotations

import html as htmllib
import re

from cnotrack import __version__
from cnotrack.demo import DEMO_BANNER
from cnotrack.report import NO_ADVICE

from .conftest import svg_titles

FIGURE_TITLES = [
    "Lesion sites by fate, baseline to 6 months",
    "Lesion fates from baseline to 6 months",
    "Treatments, visits and scans per patient",
    "ESR, CRP and physician global assessment over time",
    "Time to event (Kaplan-Meier)",
]


def _row(html: str, first_cell: str) -> str:
    """The text of the table row whose first cell is ``first_cell``."""
    match = re.search(r"<tr>\s*<td[^>]*>" + re.escape(first_cell) + r"</td>(.*?)</tr>", html, re.S)
    assert match, f"no row {first_cell!r}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_outcomes_table_shows_every_published_figure_of_the_seed_study(html):
    assert _row(html, "Eligible patients").startswith("9 ")
    assert _row(html, "Female patients").startswith("6/9 (66.7%)")
    assert _row(html, "Lesions on the baseline bone scintigraphy").startswith("77 ")
    assert _row(html, "Baseline lesions resolved at 6 months").startswith("42/77 (54.5%)")
    assert _row(html, "Baseline lesions stable at 6 months").startswith("35/77 (45.5%)")
    assert _row(html, "New lesions at 6 months").startswith("20 ")
    assert _row(html, "PGA none or minimal at 6 months") == "5/9 (55.6%) 21.2 to 86.3 0 5/9 yes"
    assert _row(html, "PGA mild, moderate or severe at baseline") == "9/9 (100.0%) 66.4 to 100.0 0 9/9 yes"
    assert "2/7 (28.6%)" in _row(html, "Patients with a symptomatic new lesion, of those with a new lesion")
    assert "median 1.7, range 0.8 to 2.8" in _row(html, "Follow-up to the last visit")
    assert ">NO<" not in html, "a computed value differs from the published one"


def test_the_results_sentences_say_what_the_paper_said(html_text):
    assert "After 6 months, 42 of 77 baseline lesions (54.5%) had resolved and 35 (45.5%) were stable." in html_text
    assert "PGA was none or minimal in 5 of 9 patients (55.6%)" in html_text


def test_table_one_is_there_with_its_sections_and_rows(html, html_text, report):
    assert 'id="table-one"' in html
    assert "Table 1. Eligible patients at the index date (n = 9)" in html_text
    for section in ("Demographics", "Disease", "Treatment before the index date", "Baseline imaging",
                    "Baseline laboratory", "Baseline PGA"):
        assert f'<tr class="section"><th colspan="4">{section}</th></tr>' in html
    assert _row(html, "Female").startswith("6 (66.7%) 9 0")
    assert len(report.table_one.rows) == html.split('id="table-one"')[1].split("</table>")[0].count("<tr>") - 1


def test_every_paired_test_and_kaplan_meier_sentence_is_in_the_report(html_text, evaluation):
    stats = evaluation.statistics
    assert len(stats.paired) == 7 and len(stats.survival) == 2
    for sentence in [t.sentence() for t in stats.paired.values()] + [s.sentence() for s in stats.survival.values()]:
        assert sentence in html_text
    assert "ESR fell from a median of 33 mm/h at baseline to 18 mm/h at 6 months" in html_text


def test_the_methods_are_generated_from_the_protocol(html_text, evaluation):
    assert "The index treatment is each patient's first course of anakinra" in html_text
    assert "month6.pga_none_or_minimal The proportion of eligible patients with PGA none or minimal at 6 months." \
        in html_text
    assert "Clopper-Pearson exact 95% interval" in html_text
    assert "Wilcoxon signed-rank test" in html_text and "exact McNemar test" in html_text


def test_the_five_kinds_of_figure_are_inline_svg_with_their_titles(html):
    assert len(re.findall(r"<svg\b", html)) == 5
    assert svg_titles(html) == FIGURE_TITLES
    for number, title in enumerate(FIGURE_TITLES, 1):
        assert f"<strong>Figure {number}. {htmllib.escape(title)}.</strong>" in html
    assert html.count('class="lesion fate-') == 97, "one marker per lesion of baseline and 6 months"


def test_the_figures_keep_their_own_ids_inside_one_page(html):
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate id attributes"
    for ref in set(re.findall(r'href="#([^"]+)"', html)) | set(re.findall(r"url\(#([^)]+)\)", html)):
        assert ref in ids, f"reference to a missing id #{ref}"


def test_the_per_patient_listing_has_values_statuses_and_lesion_fates(html, html_text):
    listing = html.split('<section id="listing"')[1]
    for table in ("listing-values", "listing-endpoints", "listing-fates-baseline-month6"):
        assert f'id="{table}"' in listing
    for k in range(1, 10):
        assert listing.count(f"<td>SYN-P0{k}</td>") == 3
    assert _row(listing, "SYN-P01").startswith("moderate 27 38 10 none 2 10 3 none")
    assert "E2: PGA none or minimal at 6 months (month6.pga_none_or_minimal)" in html_text


def test_data_completeness_counts_patients_with_and_without_a_value(html, html_text):
    block = html.split('id="completeness-table"')[1].split("</table>")[0]
    assert block.count("<tr>") == 1 + 9, "header + (4 baseline, 4 month-6, 1 last follow-up) rows"
    assert "Data completeness (n = 9 eligible patients)" in html_text
    assert "Missing: none in the window" in html_text and "Missing: none at all" in html_text


def test_the_reference_limits_used_are_listed(html):
    block = html.split('id="reference-limits-table"')[1].split("</table>")[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", block).split())
    assert "CRP 5 mg/L protocol default 10 8 0" in text
    assert "ESR 20 mm/h protocol default 8 10 0" in text


def test_the_version_dataset_hash_protocol_and_date_are_stated(html_text, evaluation):
    assert len(evaluation.dataset_sha256) == 64
    assert evaluation.dataset_sha256 in html_text
    assert f"cnotrack version {__version__}" in html_text
    assert "Generated 2024-05-01 12:00 UTC" in html_text
    assert "pardeo2017" in html_text


def test_the_banner_comes_first_and_the_footer_says_no_treatment_advice(html, html_text):
    assert html.index(htmllib.escape(DEMO_BANNER)) < html.index("<h1>")
    assert html_text.index(DEMO_BANNER) < html_text.index("Results in brief")
    assert NO_ADVICE in html.split('<footer class="report-footer">')[1]


def test_the_page_refers_to_nothing_outside_itself(html):
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', html))
    assert all(u.startswith(("#", "data:")) for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html))
