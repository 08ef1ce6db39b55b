"""What a report holds: every section's content, gathered once, in plain values.

``build_report`` fills a :class:`Report`; the renderers (HTML, PDF, Word, Markdown) only lay it
out. Text is text, tables are :class:`ReportTable` (rows of strings), figures are SVG documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation

__all__ = ["NO_ADVICE", "Figure", "Outcome", "Report", "ReportTable"]

#: The sentence every report ends with, in every format.
NO_ADVICE = "cnotrack supports research; it gives no treatment advice."

_NUMBER = re.compile(r"^(?:[<>]?-?\d[\d.,]*(?:/\d+)?(?: \(\d[\d.]*%\))?|—|n/a)$")


@dataclass(frozen=True)
class ReportTable:
    """A table as rows of display strings.

    ``sections[i]``, when given, names a section that starts before row ``i`` (Table 1's
    "Demographics", ...; ``None`` where no new section starts). ``header_groups`` is an
    optional row above ``header`` as ``(label, number of columns)``.
    """

    id: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    sections: tuple[str | None, ...] = ()
    header_groups: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    total_rows: int | None = None       # set when the report shows only the first rows (the listing)

    def section_before(self, i: int) -> str | None:
        return self.sections[i] if i < len(self.sections) else None

    def numeric_columns(self) -> tuple[bool, ...]:
        """Per column: whether every cell is a number ("9", "<0.5", "6 (66.7%)", "5/9", "—"),
        so that renderers align it right; the first column never is."""
        return tuple(i > 0 and bool(self.rows) and all(_NUMBER.match(row[i]) for row in self.rows)
                     for i in range(len(self.header)))


@dataclass(frozen=True)
class Outcome:
    """One endpoint as the outcomes table shows it."""

    id: str
    label: str
    value: str              # "5/9 (55.6%)", "42/77 (54.5%)", "median 1.7 years (...)"
    ci95: str               # "21.2 to 86.3" (percent), or "" when there is none
    published: str          # the seed study's value, or ""
    agrees: bool | None     # None when nothing was published
    missing: int
    method: str


@dataclass(frozen=True)
class Figure:
    """An SVG figure with its number and caption; ``id`` names it in HTML (``figure-<id>``)."""

    id: str
    number: int
    title: str
    caption: str
    svg: str


@dataclass
class Report:
    """Everything a report shows; see ``docs/report.md`` for the sections in order."""

    title: str
    protocol_id: str
    banner: str | None
    generated_at: str                   # "2024-05-01 12:00 UTC"
    cnotrack_version: str
    dataset_source: str
    dataset_sha256: str
    methods: str                        # generated from the protocol, one paragraph
    design: str                         # the same without the endpoint definitions
    endpoint_definitions: list[tuple[str, str]]   # (endpoint id, definition)
    statistical_methods: str            # generated from the methods the results carry
    cohort: str                         # "9 eligible patients (6 female); 0 excluded."
    excluded: ReportTable | None
    summary: list[str]                  # the protocol's results sentences, filled in
    outcomes: list[Outcome]
    table_one: ReportTable | None
    paired: list[str]                   # one sentence per paired test
    survival: list[str]                 # one sentence per Kaplan-Meier analysis
    figures: list[Figure]
    completeness: ReportTable
    reference_limits: ReportTable | None
    listing: list[ReportTable]          # values, endpoint statuses, lesion fates, diagnostic criteria
                                        # (each cut to its first rows above LISTING_MAX_ROWS)
    notes: list[str] = field(default_factory=list)          # other notes (Table 1's, ...)
    not_run: list[str] = field(default_factory=list)        # analyses that could not run, and why
    comparisons: list[ReportTable] = field(default_factory=list)   # outcomes per group, one per compare
    footer: str = NO_ADVICE
    source_files: list[tuple[str, str]] = field(default_factory=list)   # (file name, SHA-256 of its bytes)
    listing_full: list[ReportTable] = field(default_factory=list)   # the listing tables that were cut, whole
    evaluation: Evaluation | None = field(default=None, repr=False, compare=False)

    @property
    def has_published(self) -> bool:
        return any(o.published for o in self.outcomes)

    def outcomes_table(self) -> ReportTable:
        """The outcomes as a table: n/of (%), 95% CI, missing and, when any, the published value."""
        header = ("Outcome", "Result", "95% CI (%)", "Missing")
        published = self.has_published
        if published:
            header += ("Published", "Agrees")
        rows = []
        for o in self.outcomes:
            row = (o.label[:1].upper() + o.label[1:], o.value, o.ci95 or "—", str(o.missing))
            if published:
                row += (o.published or "—", {True: "yes", False: "NO", None: ""}[o.agrees])
            rows.append(row)
        n = self.evaluation.n if self.evaluation is not None else None
        title = "Table 2. Outcomes" + (f" of the eligible patients (n = {n})" if n is not None else "")
        return ReportTable("outcomes-table", title, header, tuple(rows),
                           notes=("95% CI: Clopper-Pearson exact interval of a proportion of patients, in "
                                  "percent; none is given for counts (lesions of one patient are not "
                                  "independent) or for distributions.",))
