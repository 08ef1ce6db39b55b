"""The report as Markdown: the evaluation's Markdown report (``cnotrack.render``) with the
statistical methods, a note on the figures, data completeness and provenance added."""

from __future__ import annotations

from ..errors import CnotrackError
from ..render.escape import markdown_code, markdown_text
from ..render.markdown import _table, evaluation_markdown
from .model import Report, ReportTable

__all__ = ["report_markdown"]

_FOOTER = "\n---\n"


def _md_table(table: ReportTable) -> list[str]:
    out = [f"### {markdown_text(table.title)}", "", _table(list(table.header), [list(r) for r in table.rows]), ""]
    return out + [f"{markdown_text(note)}  " for note in table.notes] + [""]


def report_markdown(report: Report) -> str:
    if report.evaluation is None:
        raise CnotrackError("report_markdown: the report has no evaluation; make it with build_report")
    base = evaluation_markdown(report.evaluation, banner=report.banner, compare_published=report.has_published,
                               not_run=report.not_run)
    cut = base.rfind(_FOOTER)
    body, footer = (base[:cut], base[cut:]) if cut >= 0 else (base, f"{_FOOTER}{report.footer}\n")
    body = _before(body, "## Results", ["## Statistical analysis", "", markdown_text(report.statistical_methods), ""])
    figures = ["## Figures", "", "Figures: see the HTML/PDF report (`cnotrack report --out FILE.html` or "
               "`--out FILE.pdf`), which has:", ""]
    figures += [f"- Figure {f.number}. {markdown_text(f.title)}." for f in report.figures] + [""]
    completeness = ["## Data completeness", ""] + _md_table(report.completeness)[2:]
    notes = ["## Notes", ""] + [f"- {markdown_text(note)}" for note in report.notes] + [""] if report.notes else []
    body = _before(body, "## Per patient", figures + completeness + notes)
    provenance = ["## Provenance", "",
                  f"- Protocol: {markdown_code(report.protocol_id)}",
                  f"- Dataset: {markdown_code(report.dataset_source)}",
                  f"- Dataset SHA-256: {markdown_code(report.dataset_sha256)}",
                  *[f"- Source file {markdown_code(name)}: SHA-256 {markdown_code(sha)}"
                    for name, sha in report.source_files],
                  f"- cnotrack version: {markdown_text(report.cnotrack_version)}",
                  f"- Generated: {markdown_text(report.generated_at)}", ""]
    return body.rstrip("\n") + "\n\n" + "\n".join(provenance) + footer


def _before(text: str, heading: str, lines: list[str]) -> str:
    """``lines`` inserted before the line ``heading`` (at the end when there is none)."""
    at = text.find(f"\n{heading}\n")
    block = "\n".join(lines)
    if at < 0:
        return text.rstrip("\n") + "\n\n" + block
    return text[: at + 1] + block + "\n" + text[at + 1:]
