"""The PDF, Word and Markdown reports, and writing by suffix."""

from __future__ import annotations

import io
import re

import docx
import pytest
from PIL import Image

from cnotrack import CnotrackError
from cnotrack.demo import DEMO_BANNER
from cnotrack.engine import evaluate
from cnotrack.protocols import load_protocol
from cnotrack.report import NO_ADVICE, build_report, format_generated_at, report_bytes, write_report

from .conftest import GENERATED_AT, require_tool, run, words

# ------------------------------------------------------------------------------------- PDF


@pytest.fixture(scope="session")
def pdf_pages(pdf_path) -> list[str]:
    text = run(require_tool("pdftotext"), "-layout", str(pdf_path), "-").stdout
    return [words(page) for page in text.split("\f") if page.strip()]


def test_the_pdf_is_an_a4_document_with_numbered_pages(pdf_path):
    assert pdf_path.read_bytes()[:5] == b"%PDF-" and pdf_path.stat().st_size > 50_000
    info = run(require_tool("pdfinfo"), str(pdf_path)).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 5


def test_the_pdf_has_the_same_text_as_the_html(pdf_pages, evaluation):
    text = " ".join(pdf_pages)
    for needle in ("Table 1. Eligible patients at the index date (n = 9)", "5/9 (55.6%)", "21.2 to 86.3",
                   "42/77 (54.5%)", "Data completeness", "Upper reference limits of the laboratory tests",
                   "Per-patient listing", "SYN-P09", evaluation.dataset_sha256,
                   next(iter(evaluation.statistics.paired.values())).sentence()):
        assert needle in text, needle


def test_every_pdf_page_has_the_banner_the_no_advice_line_and_its_number(pdf_pages):
    for number, page in enumerate(pdf_pages, 1):
        assert "SYNTHETIC DATA: the demo cohort is a synthetic reconstruction" in page
        assert NO_ADVICE in page
        assert f"Page {number} of {len(pdf_pages)}" in page


def test_no_pdf_figure_is_split_from_its_caption(pdf_pages, report):
    for figure in report.figures:
        caption = f"Figure {figure.number}. {figure.title}."
        pages = [page for page in pdf_pages if caption in page]
        assert len(pages) == 1, caption
        assert pages[0].count(figure.title) >= 2, f"the drawing of {figure.title!r} is not on its caption's page"


# ------------------------------------------------------------------------------------ Word


@pytest.fixture(scope="session")
def word(docx_path):
    return docx.Document(str(docx_path))


def test_the_word_document_has_table_one_as_a_real_table(word):
    table = next(t for t in word.tables if t.rows[0].cells[0].text == "Characteristic")
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert ["Female", "6 (66.7%)", "9", "0"] in rows
    assert ["Male", "3 (33.3%)", "9", "0"] in rows
    assert rows[1][0] == "Demographics", "sections are merged rows"


def test_the_word_document_has_the_outcomes_table_the_methods_and_the_sentences(word, report, evaluation):
    table = next(t for t in word.tables if t.rows[0].cells[0].text == "Outcome")
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows}
    assert rows["PGA none or minimal at 6 months"][1:] == ["5/9 (55.6%)", "21.2 to 86.3", "0", "5/9", "yes"]
    text = "\n".join(p.text for p in word.paragraphs)
    assert report.design in text
    assert "After 6 months, 42 of 77 baseline lesions (54.5%) had resolved and 35 (45.5%) were stable." in text
    assert next(iter(evaluation.statistics.survival.values())).sentence() in text
    assert word.paragraphs[0].text == DEMO_BANNER
    assert word.sections[0].header.paragraphs[0].text == DEMO_BANNER
    assert word.sections[0].footer.paragraphs[0].text.startswith(NO_ADVICE)


def test_the_word_figures_are_pngs_that_open(word):
    blobs = [rel.target_part.blob for rel in word.part.rels.values() if "image" in rel.reltype]
    assert len(blobs) == 5 and len(word.inline_shapes) == 5
    for blob in blobs:
        image = Image.open(io.BytesIO(blob))
        image.verify()
        assert image.format == "PNG" and image.size[0] >= 1000


# -------------------------------------------------------------------------------- Markdown


def test_the_markdown_report_has_every_section(markdown, evaluation):
    headings = re.findall(r"^#{2,3} (.+)$", markdown, re.M)
    for heading in ("Methods", "Statistical analysis", "Results", "Table 1 (n = 9)", "Baseline versus 6 months",
                    "Time to event", "Figures", "Data completeness", "Reference limits used", "Per patient",
                    "Lesion fates", "Provenance"):
        assert heading in headings, heading
    assert markdown.startswith(f"# {evaluation.protocol.title}\n\n> **{DEMO_BANNER}**")
    assert "Figures: see the HTML/PDF report" in markdown
    assert f"- Dataset SHA-256: `{evaluation.dataset_sha256}`" in markdown
    assert markdown.rstrip().endswith(NO_ADVICE)


# ------------------------------------------------------------------------ writing and building


@pytest.mark.parametrize("name", ["report.txt", "report", "report.htm"])
def test_an_unknown_suffix_is_an_error_naming_the_formats(name, report, tmp_path):
    with pytest.raises(CnotrackError, match=r"give a file ending in \.html, \.pdf, \.docx or \.md"):
        write_report(report, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_write_report_makes_the_folder_and_reads_the_suffix_in_any_case(report, tmp_path):
    path = write_report(report, tmp_path / "new" / "folder" / "Report.HTML")
    assert path.read_bytes() == report_bytes(report, ".html")


def test_the_same_report_renders_to_the_same_bytes(evaluation, demo, report):
    again = build_report(evaluation, demo, banner=DEMO_BANNER, generated_at=GENERATED_AT)
    assert report_bytes(again, ".html") == report_bytes(report, ".html")
    assert report_bytes(again, ".md") == report_bytes(report, ".md")


def test_the_date_generated_is_utc_in_a_fixed_format():
    import datetime as dt

    assert format_generated_at(dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))) \
        == "2024-05-01 12:30 UTC"
    assert format_generated_at(dt.datetime(2024, 5, 1, 12, 30)) == "2024-05-01 12:30 UTC"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", format_generated_at())


def test_an_evaluation_without_statistics_gets_them_in_the_report(demo):
    bare = evaluate(demo, load_protocol("pardeo2017"), statistics=False)
    built = build_report(bare, demo)
    assert bare.statistics is None
    assert built.table_one is not None and len(built.paired) == 7
    assert {o.id: o.ci95 for o in built.outcomes}["month6.pga_none_or_minimal"] == "21.2 to 86.3"
    # no banner was given, but the demo's patients are marked synthetic: the report says so
    assert built.banner == bare.notice and "SYNTHETIC DATA: 9 of 9 patients" in report_bytes(built, ".html").decode()


def test_a_protocol_that_tracks_no_lesions_leaves_out_the_lesion_figures_and_says_so(demo):
    evaluation = evaluate(demo, load_protocol("pedcno"))
    built = build_report(evaluation, demo)
    assert [f.id for f in built.figures][:2] == ["swimmer", "trajectories"]
    assert any("tracks no lesions" in note for note in built.not_run)
    assert not any(f.id == "body-map" for f in built.figures)


def test_the_report_api_is_what_its_all_says():
    import cnotrack.report as module

    assert sorted(module.__all__) == sorted([
        "FORMATS", "LISTING_MAX_ROWS", "NO_ADVICE", "Figure", "Outcome", "Report", "ReportTable", "build_report",
        "format_generated_at", "listing_csv", "listing_files", "report_bytes", "write_report"])
    for name in module.__all__:
        assert hasattr(module, name), name


def test_word_figures_inline_svg_uses_and_render_the_same_pixels() -> None:
    """CairoSVG re-reads the document for every ``<use>`` (matplotlib draws each marker as one),
    which made Word reports of large cohorts take minutes; ``inline_uses`` copies the referenced
    marker into place, and the PNG is pixel for pixel the one CairoSVG draws from the original."""
    import io

    import cairosvg
    from PIL import Image, ImageChops

    from cnotrack.report.docx import figure_png, inline_uses

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           'width="60" height="40" viewBox="0 0 60 40"><defs><path id="m" d="M -3 0 L 3 0 M 0 -3 L 0 3" '
           'style="stroke: #d55e00; stroke-width: 1.5"/></defs><rect width="60" height="40" fill="#fff"/>'
           '<g><use xlink:href="#m" x="10" y="10"/><use xlink:href="#m" x="30" y="20" style="fill: #0072b2"/>'
           '<use href="#m" x="50" y="30"/></g></svg>')
    inlined = inline_uses(svg)
    assert "<use" not in inlined and inlined.count("<path") == 4  # the definition and three copies
    original = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg.encode(), output_width=240))).convert("RGB")
    ours = Image.open(io.BytesIO(figure_png(svg, 240))).convert("RGB")
    assert ImageChops.difference(original, ours).getbbox() is None
    assert (213, 94, 0) in {colour for _, colour in original.getcolors(10000)}  # the markers were drawn
