"""The evaluation in the terminal: Rich tables and results sentences."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..engine.evaluate import Evaluation
from ..results import CountResult, DistributionResult, ProportionResult, TimeToEventResult
from .sentences import summary_sentences

__all__ = ["ALL_RAN", "NOT_RUN_HEADING", "analyses_not_run", "print_evaluation", "result_cell"]

#: The heading under which every format lists the analyses that could not run, and why.
NOT_RUN_HEADING = "Analyses not run"
#: What the reports say under that heading when every analysis ran.
ALL_RAN = "Every analysis of the protocol ran."


def analyses_not_run(evaluation: Evaluation, statistics=None) -> list[str]:
    """Each analysis of the protocol that could not run, with why (``evaluation.notes`` and the
    statistics' notes, e.g. "No paired tests: ..."), once each, in order."""
    stats = statistics if statistics is not None else evaluation.statistics
    return list(dict.fromkeys([*evaluation.notes, *(stats.notes if stats is not None else [])]))


def result_cell(result) -> str:
    if isinstance(result, ProportionResult) and result.not_known:
        return result.short()
    if isinstance(result, ProportionResult):
        text = f"{result.n}/{result.of} ({100 * result.n / result.of:.1f}%)" if result.of else f"{result.n}/0"
        if result.ci95 is not None:
            text += f" [95% CI {100 * result.ci95[0]:.1f} to {100 * result.ci95[1]:.1f}]"
        return text + (f", {result.missing} missing" if result.missing else "")
    if isinstance(result, CountResult):
        return str(result.value) + (f" ({result.percent()})" if result.of_value is not None else "")
    if isinstance(result, DistributionResult):
        return result.short()
    if isinstance(result, TimeToEventResult):
        return result.short()
    return str(result)


def print_evaluation(evaluation: Evaluation, console: Console, *, banner: str | None = None,
                     compare_published: bool = False) -> None:
    """The evaluation in the terminal; the banner is ``evaluation.banner(banner)`` (the
    synthetic-data notice whenever a patient is marked synthetic). Text from the data or a
    protocol is printed as text, never read as Rich markup."""
    p = evaluation.protocol
    banner = evaluation.banner(banner)
    if banner:
        console.print(Panel(Text(banner, style="bold"), border_style="yellow"))
    console.print(Text.assemble((p.title, "bold"), f"  (protocol {p.id})"))
    console.print(f"Eligible patients: {evaluation.n} ({evaluation.female} female); "
                  f"excluded: {evaluation.cohort.excluded.height}")
    table = Table(title="Endpoints", show_lines=False)
    table.add_column("endpoint")
    table.add_column("definition")
    table.add_column("computed", justify="right")
    if compare_published:
        table.add_column("published", justify="right")
        table.add_column("", justify="center")
    for result in evaluation.endpoints.values():
        row = [Text(result.id), Text(result.label), Text(result_cell(result))]
        if compare_published:
            agree = published_agrees(result)
            row += [Text(result.published or ""), {True: "[green]=[/green]", False: "[red]differs[/red]",
                                             None: ""}[agree]]
        table.add_row(*row)
    console.print(table)
    if evaluation.cohort.excluded.height:
        ex = Table(title="Excluded patients")
        ex.add_column("patient")
        ex.add_column("reason")
        for pid, reason in evaluation.cohort.excluded.iter_rows():
            ex.add_row(Text(pid), Text(reason))
        console.print(ex)
    if p.summary:
        console.print(Panel(Group(*[Text(s) for s in summary_sentences(p.summary, evaluation.endpoints)]),
                            title="Results", border_style="blue"))
    stats = evaluation.statistics
    if stats is not None:
        if stats.table_one.rows:
            console.print(table_one_table(stats.table_one))
        lines = [t.sentence() for t in stats.paired.values()] + [k.sentence() for k in stats.survival.values()]
        if lines:
            console.print(Panel(Group(*[Text(s) for s in lines]), title="Tests and time to event",
                                border_style="blue"))
    if evaluation.comparisons:
        from .comparisons import by_words, comparison_header, comparison_notes, comparison_rows  # (it uses result_cell)

        labels = {r.id: r.label for r in evaluation.endpoints.values()}
        for c in evaluation.comparisons.values():
            grouped = Table(title=f"Outcomes {by_words(c)}", caption=" ".join(comparison_notes(c)))
            for column in comparison_header(c):
                grouped.add_column(column, overflow="fold")
            for row in comparison_rows(c, labels):
                grouped.add_row(*(Text(cell) for cell in row))
            console.print(grouped)
    not_run = analyses_not_run(evaluation)
    if not_run:
        console.print(Panel(Group(*[Text(f"- {note}") for note in not_run]), title=NOT_RUN_HEADING,
                            border_style="yellow"))
    if evaluation.diagnosis.height:
        console.print(diagnosis_table(evaluation))
    limits = evaluation.reference_limits_used()
    if limits:
        console.print("Reference limits: " + "; ".join(
            f"{l['test']}: laboratory limit for {l['values_judged_by_laboratory_limit']} value(s), "
            f"default {l['default_upper_limit']:g} {l['unit']} for {l['values_judged_by_default_limit']}"
            if l["default_upper_limit"] is not None else
            f"{l['test']}: laboratory limit for {l['values_judged_by_laboratory_limit']} value(s), no default"
            for l in limits))


def diagnosis_rows(evaluation: Evaluation) -> list[list[str]]:
    """Per patient: the Jansson score, NBODS and the Bristol criteria, or what they lack."""
    rows = []
    for r in evaluation.diagnosis.iter_rows(named=True):
        def scored(name: str) -> str:
            if r[f"{name}_score"] is None:
                return f"missing {r[f'{name}_missing']}"
            return f"{r[f'{name}_score']}: {r[f'{name}_interpretation']}"

        bristol = r["bristol_status"] + (f" (branch {r['bristol_branch']})" if r["bristol_branch"] else "")
        if r["bristol_missing"]:
            bristol += f"; missing {r['bristol_missing']}"
        rows.append([r["patient_id"], scored("jansson"), scored("nbods"), bristol,
                     r["derived_from_study"] or ""])
    return rows


DIAGNOSIS_HEADER = ["patient", "Jansson score", "NBODS", "Bristol criteria", "sites derived from"]


def diagnosis_table(evaluation: Evaluation) -> Table:
    table = Table(title="Diagnostic criteria per patient (research aid, not a diagnosis)")
    for column in DIAGNOSIS_HEADER:
        table.add_column(column, overflow="fold")
    for row in diagnosis_rows(evaluation):
        table.add_row(*(Text(cell) for cell in row))
    return table


def table_one_table(table_one) -> Table:
    table = Table(title=f"Table 1: eligible patients (n = {table_one.n})")
    for column in ("", "characteristic", "value", "n", "missing"):
        table.add_column(column, overflow="fold")
    section = None
    for row in table_one.rows:
        table.add_row(Text(row.section if row.section != section else ""), Text(row.variable), Text(row.value),
                      str(row.n), str(row.missing))
        section = row.section
    return table


def published_agrees(result) -> bool | None:
    """Whether the computed value shows as the published one (None when nothing was published)."""
    if not result.published:
        return None
    if isinstance(result, ProportionResult):
        return result.published == f"{result.n}/{result.of}"
    if isinstance(result, CountResult):
        return result.published == str(result.value)
    if isinstance(result, DistributionResult) and result.n:
        return result.published == (f"median {result.median:.1f}, range {result.minimum:.1f} "
                                    f"to {result.maximum:.1f}")
    return False
