"""The report as one self-contained HTML page (Jinja2): inline CSS, inline SVG figures, no
script and no reference to anything outside the file, so that it opens offline and can be
archived or mailed as it is. The PDF is made from the same page with its print styles."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..render.text import ALL_RAN
from .attachments import listing_note
from .model import Report

__all__ = ["inline_svg", "report_html"]

SECTIONS = (
    ("results-summary", "Results in brief"),
    ("methods", "Methods"),
    ("patients", "Patients"),
    ("outcomes", "Outcomes"),
    ("comparisons", "Comparisons of groups"),
    ("statistics", "Paired comparisons and time to event"),
    ("figures", "Figures"),
    ("completeness", "Data completeness"),
    ("reference-limits", "Reference limits used"),
    ("not-run", "Analyses not run"),
    ("notes", "Notes"),
    ("provenance", "Provenance"),
    ("listing", "Per-patient listing"),
)

_XML_DECLARATION = re.compile(r"<\?xml[^>]*\?>\s*")
_NAMESPACE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ROOT = re.compile(r"<svg\b[^>]*>", re.S)
_SIZE = re.compile(r'\s+(?:width|height)="[^"]*"')
_MPL_STYLE = re.compile(r'\s*<style type="text/css">\*\{stroke-linejoin: round; stroke-linecap: butt\}</style>')


def inline_svg(svg: str) -> Markup:
    """A standalone SVG document ready to sit inside HTML: no XML declaration, no namespace
    declarations (the HTML parser gives SVG its namespace), ``xlink:href`` as ``href``, and a
    root sized by CSS from its ``viewBox``. Matplotlib's page-wide style becomes the class
    ``mpl`` that the report's stylesheet scopes to the figure."""
    svg = _XML_DECLARATION.sub("", svg, count=1)
    mpl = bool(_MPL_STYLE.search(svg))
    svg = _MPL_STYLE.sub("", svg)
    root = _ROOT.search(svg)
    assert root is not None, "not an SVG document"
    opening = _SIZE.sub("", _NAMESPACE.sub("", root.group(0)))
    if mpl:
        opening = (opening.replace('class="', 'class="mpl ', 1) if 'class="' in opening
                   else opening[:-1].rstrip("/") + ' class="mpl">')
    opening = opening[:-1] + ' role="img">'
    body = svg[root.end():].replace("xlink:href=", "href=")
    return Markup(opening + body)


def _cell_class(cell: str, numeric: bool) -> str:
    classes = ["num"] if numeric else []
    if cell == "NO":
        classes.append("flag-no")
    return " ".join(classes)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("cnotrack.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
                      undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)
    env.filters["inline_svg"] = inline_svg
    env.globals["cell_class"] = _cell_class
    return env


def _css() -> str:
    return resources.files("cnotrack.report").joinpath("templates").joinpath("report.css").read_text("utf-8")


def report_html(report: Report, *, place: str | None = None) -> str:
    """The report as an HTML document (a string). ``place`` tells a cut listing table where its
    CSV is (``"pdf"``: attached; a file name: beside that report; see ``attachments.listing_note``)."""
    template = _environment().get_template("report.html.j2")
    sections = [s for s in SECTIONS if (s[0] != "notes" or report.notes)
                and (s[0] != "comparisons" or report.comparisons)]
    return template.render(r=report, css=Markup(_css()), outcomes=report.outcomes_table(), sections=sections,
                           all_ran=ALL_RAN, listing_note=lambda table: listing_note(table, place))
