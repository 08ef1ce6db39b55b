"""The report as a Word document (python-docx), ready to paste into a manuscript: headings,
the methods, the results sentences, Table 1 and the outcomes as real Word tables, the figures
as PNG (converted from their SVG by CairoSVG), completeness, reference limits and, on
landscape pages, the per-patient listing. Every page carries the banner (when given) at the
top and the no-advice line with the page number at the bottom."""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..render.text import ALL_RAN, NOT_RUN_HEADING
from .attachments import listing_note
from .model import Figure, Report, ReportTable

__all__ = ["figure_png", "inline_uses", "report_docx"]

_BANNER_COLOUR = RGBColor(0x8A, 0x5A, 0x00)
_MUTED = RGBColor(0x5B, 0x64, 0x73)
_VIEWBOX = re.compile(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"')


def figure_png(svg: str, width_px: int = 1600) -> bytes | None:
    """The figure as PNG bytes, or ``None`` when CairoSVG (or the Cairo library) is missing."""
    try:
        import cairosvg
    except (ImportError, OSError):
        return None
    return cairosvg.svg2png(bytestring=inline_uses(svg).encode("utf-8"), output_width=width_px)


_SVG, _XLINK = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"


def inline_uses(svg: str) -> str:
    """``svg`` with every ``<use>`` replaced by a copy of the element it names, in a group moved
    by its ``x``/``y``. CairoSVG re-reads the whole document for each ``<use>`` (a figure with
    thousands of markers took minutes); inlined, the conversion is linear in the figure."""
    if "<use" not in svg:
        return svg
    import copy
    import xml.etree.ElementTree as ET

    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", _XLINK)
    root = ET.fromstring(svg)
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    for parent in list(root.iter()):
        for i, child in enumerate(list(parent)):
            if child.tag != f"{{{_SVG}}}use":
                continue
            ref = (child.get(f"{{{_XLINK}}}href") or child.get("href") or "").lstrip("#")
            target = by_id.get(ref)
            group = ET.Element(f"{{{_SVG}}}g", {k: v for k, v in child.attrib.items()
                                                if k not in ("x", "y", "href", f"{{{_XLINK}}}href")})
            x, y = child.get("x", "0"), child.get("y", "0")
            moved = f"translate({x} {y})"
            group.set("transform", f"{group.get('transform')} {moved}" if group.get("transform") else moved)
            if target is not None:
                clone = copy.deepcopy(target)
                clone.attrib.pop("id", None)
                group.append(clone)
            parent[i] = group
    return ET.tostring(root, encoding="unicode")


def _field(run, instruction: str) -> None:
    """A Word field (``PAGE``, ``NUMPAGES``) inside ``run``."""
    begin, text, end = OxmlElement("w:fldChar"), OxmlElement("w:instrText"), OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text.set(qn("xml:space"), "preserve")
    text.text = instruction
    end.set(qn("w:fldCharType"), "end")
    run._r.append(begin)
    run._r.append(text)
    run._r.append(end)


def _small(paragraph, text: str, *, size: float = 8, colour: RGBColor | None = _MUTED, bold: bool = False):
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold
    if colour is not None:
        run.font.color.rgb = colour
    return run


def _page_furniture(document, report: Report) -> None:
    section = document.sections[0]
    if report.banner:
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _small(header, report.banner, size=7, colour=_BANNER_COLOUR, bold=True)
    footer = section.footer.paragraphs[0]
    _small(footer, report.footer + "   Page ")
    _field(_small(footer, ""), "PAGE")
    _small(footer, " of ")
    _field(_small(footer, ""), "NUMPAGES")


def _repeat_header(row) -> None:
    props = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    props.append(flag)


def _cell(cell, text: str, *, bold: bool = False, italic: bool = False, right: bool = False, size: float = 9) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)


def _widths(table: ReportTable, total_cm: float, size: float) -> list[Cm]:
    """Column widths that fill ``total_cm``: no header word and no short value (14 characters
    or fewer, such as "66.4 to 100.0") is broken; the text columns share what is left in
    proportion to their typical cell (the third quartile of the lengths, so that one long
    value does not take the room of a column of labels)."""
    char, pad = 0.021 * size, 0.5            # cm per character at ``size`` pt; cell padding
    minimum, natural = [], []
    for i, head in enumerate(table.header):
        lengths = sorted(len(row[i]) for row in table.rows) or [1]
        typical = lengths[(3 * len(lengths)) // 4 if len(lengths) > 1 else 0]
        floor = max(len(w) for w in head.split()) * char * 1.1 + pad
        if lengths[-1] <= 14:
            floor = max(floor, lengths[-1] * char + pad)
        minimum.append(floor)
        natural.append(max(floor, min(typical, 40) * char + pad))
    if sum(natural) <= total_cm:
        extra = total_cm - sum(natural)
        return [Cm(n + extra * n / sum(natural)) for n in natural]
    room = max(total_cm - sum(minimum), 0.0)
    flexible = [n - m for n, m in zip(natural, minimum)]
    return [Cm(m + (room * f / sum(flexible) if sum(flexible) else 0.0)) for m, f in zip(minimum, flexible)]


def _table(document, table: ReportTable, *, size: float = 9, width_cm: float = 17.0, place: str | None = None) -> None:
    title = document.add_paragraph()
    title.paragraph_format.keep_with_next = True
    title.add_run(table.title).bold = True
    numeric = table.numeric_columns()
    columns = len(table.header)
    word = document.add_table(rows=0, cols=columns)
    word.style = "Table Grid"
    word.alignment = WD_TABLE_ALIGNMENT.CENTER
    if table.header_groups:
        row = word.add_row()
        _repeat_header(row)
        start = 0
        for label, span in table.header_groups:
            cell = row.cells[start]
            if span > 1:
                cell = cell.merge(row.cells[start + span - 1])
            _cell(cell, label, bold=True, size=size)
            start += span
    row = word.add_row()
    _repeat_header(row)
    for i, text in enumerate(table.header):
        _cell(row.cells[i], text, bold=True, right=numeric[i], size=size)
    for i, values in enumerate(table.rows):
        section = table.section_before(i)
        if section:
            merged = word.add_row()
            cell = merged.cells[0].merge(merged.cells[columns - 1])
            _cell(cell, section, italic=True, bold=True, size=size)
        row = word.add_row()
        for j, text in enumerate(values):
            _cell(row.cells[j], text, right=numeric[j], size=size)
    word.autofit = False
    for column, width in zip(word.columns, _widths(table, width_cm, size)):
        column.width = width
        for cell in column.cells:
            cell.width = width
    notes = [*table.notes, *([listing_note(table, place)] if table.total_rows is not None else [])]
    for note in notes:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(2)
        _small(paragraph, note)


def _figure(document, figure: Figure, width: Cm) -> bool:
    png = figure_png(figure.svg)
    if png is None:
        return False
    match = _VIEWBOX.search(figure.svg)
    if match:  # keep a tall figure (the body map) within the page's height
        ratio = float(match.group(2)) / float(match.group(1))
        width = min(width, Cm(21.0 / ratio))
    document.add_picture(io.BytesIO(png), width=width)
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.paragraphs[-1].paragraph_format.keep_with_next = True
    caption = document.add_paragraph()
    caption.add_run(f"Figure {figure.number}. {figure.title}. ").bold = True
    caption.add_run(figure.caption)
    return True


def report_docx(report: Report, *, place: str | None = None) -> bytes:
    """The report as a Word document; ``place`` names the report file, so that a listing table
    cut to its first rows says where its CSV is (``attachments.listing_note``)."""
    document = Document()
    for section in document.sections:
        section.left_margin = section.right_margin = Cm(2.0)
        section.top_margin = section.bottom_margin = Cm(2.0)
    document.styles["Normal"].font.size = Pt(10)
    _page_furniture(document, report)
    if report.banner:
        banner = document.add_paragraph()
        run = banner.add_run(report.banner)
        run.bold = True
        run.font.color.rgb = _BANNER_COLOUR
    document.add_heading(report.title, level=0)
    meta = document.add_paragraph()
    _small(meta, f"Protocol {report.protocol_id} · dataset {report.dataset_source} · SHA-256 "
                 f"{report.dataset_sha256} · cnotrack {report.cnotrack_version} · generated {report.generated_at}")

    document.add_heading("Methods", level=1)
    document.add_paragraph(report.design)
    if report.endpoint_definitions:
        document.add_heading("Endpoints", level=2)
        for eid, text in report.endpoint_definitions:
            item = document.add_paragraph(style="List Bullet")
            item.add_run(f"{eid}: ").bold = True
            item.add_run(text)
    document.add_heading("Statistical analysis", level=2)
    document.add_paragraph(report.statistical_methods)

    document.add_heading("Results", level=1)
    document.add_paragraph(report.cohort)
    for sentence in report.summary:
        document.add_paragraph(sentence)
    if report.table_one is not None:
        _table(document, report.table_one)
    if report.excluded is not None:
        _table(document, report.excluded, place=place)
    _table(document, report.outcomes_table())
    if report.comparisons:
        document.add_heading("Comparisons of groups", level=2)
        for table in report.comparisons:
            _table(document, table)
    if report.paired:
        document.add_heading("Baseline versus 6 months", level=2)
        for sentence in report.paired:
            document.add_paragraph(sentence, style="List Bullet")
    if report.survival:
        document.add_heading("Time to event", level=2)
        for sentence in report.survival:
            document.add_paragraph(sentence, style="List Bullet")

    document.add_heading("Figures", level=1)
    drawn = [_figure(document, f, Cm(16.5)) for f in report.figures]
    if not all(drawn):
        document.add_paragraph("Figures: see the HTML/PDF report (the figures could not be converted to PNG: "
                               "CairoSVG or the Cairo library is missing).")

    document.add_heading("Data completeness", level=1)
    _table(document, report.completeness)
    document.add_heading("Reference limits used", level=1)
    if report.reference_limits is not None:
        _table(document, report.reference_limits)
    else:
        document.add_paragraph("The protocol judges no laboratory value against a reference limit.")
    document.add_heading(NOT_RUN_HEADING, level=1)
    for note in report.not_run:
        document.add_paragraph(note, style="List Bullet")
    if not report.not_run:
        document.add_paragraph(ALL_RAN)
    if report.notes:
        document.add_heading("Notes", level=1)
        for note in report.notes:
            document.add_paragraph(note, style="List Bullet")

    landscape = document.add_section(WD_SECTION.NEW_PAGE)
    landscape.orientation = WD_ORIENT.LANDSCAPE
    landscape.page_width, landscape.page_height = landscape.page_height, landscape.page_width
    document.add_heading("Per-patient listing", level=1)
    for table in report.listing:
        _table(document, table, size=8, width_cm=25.7, place=place)

    document.add_heading("Provenance", level=1)
    for label, value in (("Protocol", report.protocol_id), ("Dataset", report.dataset_source),
                         ("Dataset SHA-256", report.dataset_sha256),
                         *((f"Source file {name}", f"SHA-256 {sha}") for name, sha in report.source_files),
                         ("cnotrack version", report.cnotrack_version), ("Generated", report.generated_at)):
        item = document.add_paragraph(style="List Bullet")
        item.add_run(f"{label}: ").bold = True
        item.add_run(value)
    closing = document.add_paragraph()
    closing.add_run(report.footer).bold = True
    core = document.core_properties
    core.title, core.author = report.title, f"cnotrack {report.cnotrack_version}"
    core.comments = f"protocol {report.protocol_id}; dataset SHA-256 {report.dataset_sha256}"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
