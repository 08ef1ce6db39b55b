"""The evaluation as a Markdown report: methods, results, excluded patients, per-patient detail."""

from __future__ import annotations

import polars as pl

from ..engine.evaluate import Evaluation
from .escape import markdown_code, markdown_text
from .sentences import summary_sentences
from .comparisons import by_words, comparison_header, comparison_notes, comparison_rows
from ..words import counted
from .text import ALL_RAN, DIAGNOSIS_HEADER, NOT_RUN_HEADING, analyses_not_run, diagnosis_rows, published_agrees, result_cell

__all__ = ["evaluation_markdown"]


def _table(header: list[str], rows: list[list[str]], *, markdown: frozenset[int] = frozenset()) -> str:
    """A Markdown table; every header and cell is escaped (``markdown_text``) except the cells
    of the columns in ``markdown``, which the caller has already written as Markdown."""
    def cell(i: int, value: object) -> str:
        return str(value) if i in markdown else markdown_text(value)

    lines = ["| " + " | ".join(markdown_text(h) for h in header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(i, c) for i, c in enumerate(row)) + " |" for row in rows]
    return "\n".join(lines)


def evaluation_markdown(evaluation: Evaluation, *, banner: str | None = None,
                        compare_published: bool = False, not_run: list[str] | None = None) -> str:
    """The evaluation as Markdown. The banner is ``evaluation.banner(banner)``: ``banner`` when
    given, and the synthetic-data notice whenever a patient is marked synthetic. Every text
    from the data or the protocol is escaped (``markdown_text``)."""
    p = evaluation.protocol
    banner = evaluation.banner(banner)
    out = [f"# {markdown_text(p.title)}", ""]
    if banner:
        out += [f"> **{markdown_text(banner)}**", ""]
    out += [f"Protocol {markdown_code(p.id)}; dataset {markdown_code(evaluation.source)} "
            f"(SHA-256 {evaluation.dataset_sha256[:16]}...).", ""]
    out += ["## Methods", "", markdown_text(evaluation.methods()), ""]
    out += ["## Results", ""]
    if p.summary:
        out += [markdown_text(" ".join(summary_sentences(p.summary, evaluation.endpoints))), ""]
    header = ["endpoint", "definition", "computed"] + (["published", "agrees"] if compare_published else [])
    rows = []
    for r in evaluation.endpoints.values():
        row = [markdown_code(r.id), r.label, result_cell(r)]
        if compare_published:
            agree = published_agrees(r)
            row += [r.published or "", {True: "yes", False: "NO", None: ""}[agree]]
        rows.append(row)
    out += [_table(header, rows, markdown=frozenset({0})), ""]
    stats = evaluation.statistics
    if stats is not None:
        if stats.table_one.rows:
            out += [f"### Table 1 (n = {stats.table_one.n})", "",
                    _table(["section", "characteristic", "value", "n", "missing"],
                           [[r.section, r.variable, r.value, str(r.n), str(r.missing)] for r in stats.table_one.rows]),
                    ""]
        if stats.paired:
            out += ["### Baseline versus 6 months", ""]
            out += [f"- {markdown_text(t.sentence())}" for t in stats.paired.values()] + [""]
        if stats.survival:
            out += ["### Time to event", ""]
            out += [f"- {markdown_text(k.sentence())}" for k in stats.survival.values()] + [""]
    if evaluation.comparisons:
        labels = {r.id: r.label for r in evaluation.endpoints.values()}
        out += ["### Comparisons of groups", ""]
        for c in evaluation.comparisons.values():
            out += [f"#### Outcomes {markdown_text(by_words(c))}", "",
                    _table(list(comparison_header(c)), [list(r) for r in comparison_rows(c, labels)]), ""]
            out += [f"{markdown_text(note)}  " for note in comparison_notes(c)] + [""]
    out += [f"### {NOT_RUN_HEADING}", ""]
    not_run = analyses_not_run(evaluation) if not_run is None else not_run
    out += [f"- {markdown_text(note)}" for note in not_run] if not_run else [ALL_RAN]
    out += [""]
    out += ["### How each number was made", ""]
    out += [f"- {markdown_code(r.id)}: {markdown_text(r.method)}" for r in evaluation.endpoints.values()] + [""]
    out += ["## Cohort", "", f"{counted(evaluation.n, 'eligible patient')} ({evaluation.female} female).", ""]
    if evaluation.cohort.excluded.height:
        out += [_table(["patient", "reason excluded"], [list(r) for r in evaluation.cohort.excluded.iter_rows()]), ""]
    else:
        out += ["No patient was excluded.", ""]
    limits = evaluation.reference_limits_used()
    if limits:
        out += ["## Reference limits used", ""]
        out += [_table(["test", "default upper limit", "judged by laboratory limit", "judged by default",
                        "without limit"],
                       [[l["test"], f"{l['default_upper_limit']:g} {l['unit']}" if l["default_upper_limit"] else "none",
                         str(l["values_judged_by_laboratory_limit"]), str(l["values_judged_by_default_limit"]),
                         str(l["values_without_limit"])] for l in limits]), ""]
    if evaluation.diagnosis.height:
        out += ["## Diagnostic criteria per patient", "",
                "Research aids computed from the diagnosis table; they do not make or exclude a diagnosis.", "",
                _table(DIAGNOSIS_HEADER, diagnosis_rows(evaluation)), ""]
    out += ["## Per patient", "", _patients_table(evaluation), ""]
    if evaluation.lesions.height:
        out += ["## Lesion fates", "", _lesions_table(evaluation.lesions), ""]
    out += ["---", "cnotrack supports research; it gives no treatment advice.", ""]
    return "\n".join(out)


def _patients_table(evaluation: Evaluation) -> str:
    frame = evaluation.patients
    skip = (".date", ".censor", ".limit", ".limit_source", ".among")
    cols = [c for c in frame.columns if not c.endswith(skip) and not c.startswith("study@")
            and c not in ("index_stop_date",)]
    rows = [[_cell(v) for v in row] for row in frame.select(cols).iter_rows()]
    return _table(cols, rows)


def _lesions_table(lesions: pl.DataFrame) -> str:
    cols = ["patient_id", "from", "to", "fate", "matched_by", "bone_earlier", "side_earlier", "segment_earlier",
            "bone_later", "side_later", "segment_later", "symptomatic_later"]
    rows = [[_cell(v) for v in row] for row in lesions.select(cols).iter_rows()]
    return _table(cols, rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
