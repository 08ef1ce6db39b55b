"""The per-patient listing of a large cohort: the report shows its first rows and says how many
there are and where they all are; the whole table goes to a CSV attached to the PDF or written
beside an HTML or Word report, with exactly the listing's columns, spreadsheet-safe.

The limit is lowered to 4 rows here, so that the demo's 9 eligible patients are "many"."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from docx import Document
from typer.testing import CliRunner

import cnotrack.report.attachments as attachments
from cnotrack.cli import app
from cnotrack.demo import demo_folder
from cnotrack.exchange import spreadsheet_safe, spreadsheet_text
from cnotrack.report import LISTING_MAX_ROWS, build_report, listing_csv, listing_files, write_report
from cnotrack.exchange.spreadsheet import spreadsheet_safe_expr
from cnotrack.report.attachments import capped_listing
from cnotrack.report.model import ReportTable

from .conftest import GENERATED_AT, require_tool, run


@pytest.fixture()
def few(monkeypatch):
    monkeypatch.setattr(attachments, "LISTING_MAX_ROWS", 4)


@pytest.fixture()
def cut_report(few, evaluation, demo):
    return build_report(evaluation, demo, generated_at=GENERATED_AT)


def _table(n: int) -> ReportTable:
    return ReportTable("listing-x", "X per patient", ("Patient", "Value"), tuple((f"P{i:03d}", str(i)) for i in range(n)))


def test_the_listing_limit_is_a_documented_hundred_rows_and_a_table_at_the_limit_is_not_cut():
    assert LISTING_MAX_ROWS == 100
    shown, full = capped_listing([_table(100)])
    assert shown[0].total_rows is None and len(shown[0].rows) == 100 and full == []


def test_a_table_of_one_row_more_than_the_limit_shows_the_first_rows_and_keeps_the_whole_table():
    shown, full = capped_listing([_table(101)])
    assert len(shown[0].rows) == 100 and shown[0].total_rows == 101
    assert shown[0].rows == _table(101).rows[:100] and full == [_table(101)]


def test_the_report_of_many_patients_cuts_every_listing_table_and_says_where_the_rest_is(cut_report, evaluation):
    assert {len(t.rows) for t in cut_report.listing} == {4}
    assert {t.total_rows for t in cut_report.listing} == {evaluation.n}
    assert [t.id for t in cut_report.listing_full] == [t.id for t in cut_report.listing]
    assert all(len(t.rows) == evaluation.n for t in cut_report.listing_full)


def test_the_html_report_names_the_csv_beside_it_and_writing_it_writes_them(cut_report, tmp_path, evaluation):
    path = write_report(cut_report, tmp_path / "out" / "cohort.html")
    html = path.read_text("utf-8")
    sides = listing_files(cut_report, path)
    assert [p.name for p in sides] == [f"cohort.{t.id}.csv" for t in cut_report.listing]
    for side in sides:
        assert side.exists()
        assert (f"This table shows the first 4 of its {evaluation.n} rows (patients sorted by id); all "
                f"{evaluation.n} rows are in the file {side.name} written beside this report.") in html
    assert listing_files(cut_report, tmp_path / "cohort.md") == [] == listing_files(cut_report, tmp_path / "c.pdf")


def test_each_csv_holds_the_whole_listing_table_and_nothing_else(cut_report, tmp_path):
    write_report(cut_report, tmp_path / "cohort.html")
    for table in cut_report.listing_full:
        rows = list(csv.reader(io.StringIO((tmp_path / f"cohort.{table.id}.csv").read_text("utf-8"))))
        assert len(rows) == 1 + len(table.rows)
        assert [r[0] for r in rows[1:]] == [r[0] for r in table.rows]
        assert [tuple(spreadsheet_text(c) for c in r) for r in rows[1:]] == list(table.rows)
        assert len(rows[0]) == len(table.header) and len(set(rows[0])) == len(rows[0])
        assert not any("birth" in h.lower() or "sex" in h.lower() for h in rows[0])
    values = next(t for t in cut_report.listing_full if t.id == "listing-values")
    header = next(csv.reader(io.StringIO(listing_csv(values).decode("utf-8"))))
    assert header[0] == "Patient" and header[1].startswith(values.header_groups[1][0] + " ")


def test_listing_cells_are_escaped_like_every_csv_cnotrack_writes():
    cells = ["=1+2", "+5", "-1e-05", "-x", "@SUM(A1)", "\tx", "\r=x", "'=x", "''", "'t was", "plain", "", "—",
             "<0.5", "+", "-", "=", "1.5", ".5", "+.5e3", "-—"]
    got = pl.DataFrame({"c": cells}).select(spreadsheet_safe_expr(pl.col("c")))["c"].to_list()
    assert got == [spreadsheet_safe(c) for c in cells]
    table = ReportTable("listing-x", "X", ("=Patient", "Value"), (("=HYPERLINK(\"x\")", "-3"), ("P2", "@x")))
    assert listing_csv(table).decode("utf-8").splitlines() == ["'=Patient,Value", '"\'=HYPERLINK(""x"")",-3', "P2,'@x"]


def test_the_pdf_carries_the_whole_listing_as_attachments_and_says_so(cut_report, tmp_path, evaluation):
    require_tool("pdfdetach")
    path = write_report(cut_report, tmp_path / "cohort.pdf")
    listed = run("pdfdetach", "-list", str(path)).stdout
    for table in cut_report.listing_full:
        assert f"{table.id}.csv" in listed
    out = tmp_path / "detached"
    out.mkdir()
    run("pdfdetach", "-saveall", "-o", str(out), str(path))
    for table in cut_report.listing_full:
        assert (out / f"{table.id}.csv").read_bytes() == listing_csv(table)
    text = " ".join(run("pdftotext", str(path), "-").stdout.split())
    assert f"all {evaluation.n} rows are in the file listing-values.csv attached to this PDF" in text
    assert not list(tmp_path.glob("cohort.*.csv"))


def test_the_word_report_names_the_csv_beside_it(cut_report, tmp_path, evaluation):
    path = write_report(cut_report, tmp_path / "cohort.docx")
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert f"all {evaluation.n} rows are in the file cohort.listing-values.csv written beside this report" in text
    assert (tmp_path / "cohort.listing-values.csv").exists()


def test_a_small_cohort_gets_no_listing_file(report, tmp_path):
    write_report(report, tmp_path / "cohort.html")
    assert report.listing_full == [] and sorted(p.name for p in tmp_path.iterdir()) == ["cohort.html"]


def test_the_report_command_prints_the_listing_files_it_writes(few, tmp_path, monkeypatch):
    monkeypatch.setenv("CNOTRACK_DB", f"sqlite:///{tmp_path / 'private.db'}")
    html = tmp_path / "cohort.html"
    result = CliRunner().invoke(app, ["report", str(demo_folder()), "--out", str(html)], catch_exceptions=False,
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    words = result.stdout.split()
    assert words[:2] == ["Report:", str(html)]
    assert words[2::2] == ["Listing:"] * ((len(words) - 2) // 2) and len(words) > 2
    assert all((tmp_path / w).exists() or w.startswith("Listing") for w in words[2:])


def test_the_excluded_patients_of_a_registry_are_cut_like_the_listing(few, tmp_path):
    from cnotrack.engine import evaluate
    from cnotrack.protocols import load_protocol
    from cnotrack.synth import synthesize_registry

    data = synthesize_registry(40, seed=3)
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    excluded = evaluation.cohort.excluded
    assert excluded.height > 4
    built = build_report(evaluation, data, generated_at=GENERATED_AT)
    assert len(built.excluded.rows) == 4 and built.excluded.total_rows == excluded.height
    path = write_report(built, tmp_path / "r.html")
    rows = list(csv.reader(io.StringIO((tmp_path / "r.excluded-patients.csv").read_text("utf-8"))))
    assert rows[0] == ["Patient", "Reason excluded"]
    assert [tuple(r) for r in rows[1:]] == [tuple(r) for r in excluded.rows()]
    assert f"all {excluded.height} rows are in the file r.excluded-patients.csv" in path.read_text("utf-8")


def test_a_comparison_with_more_groups_than_colours_is_split_over_several_kaplan_meier_figures(monkeypatch):
    import cnotrack.report.figures as report_figures
    from cnotrack.engine import evaluate
    from cnotrack.protocols import load_protocol
    from cnotrack.report.comparisons import comparison_curves
    from cnotrack.synth import synthesize_registry

    data = synthesize_registry(120, seed=5)
    evaluation = evaluate(data, load_protocol("tnf_vs_anakinra"))
    curves = [c for comparison in evaluation.comparisons.values() for _, _, c in comparison_curves(comparison)]
    assert curves and max(len(c) for c in curves) == 2 and report_figures.KM_MAX_CURVES == 8
    monkeypatch.setattr(report_figures, "KM_MAX_CURVES", 1)
    split = [f for f in build_report(evaluation, data, generated_at=GENERATED_AT).figures
             if f.id.startswith("kaplan-meier-") and f.id != "kaplan-meier"]
    assert len(split) == sum(len(c) for c in curves)
    second = next(f for f in split if f.id.endswith("-2"))
    assert "(groups 2 to 2 of 2)" in second.title
    assert "With more than 1 groups the curves are split over several figures of 1." in second.caption
