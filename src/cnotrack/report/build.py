"""``build_report``: gather every section of the report once, from an evaluation and its dataset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from .. import __version__
from ..engine.evaluate import Evaluation
from ..exchange.dataset import Dataset
from ..protocols.describe import endpoint_sentence
from ..render.sentences import summary_sentences
from ..render.text import analyses_not_run, published_agrees, result_cell
from ..words import counted
from ..results import CountResult, DistributionResult, EndpointResult, ProportionResult, TimeToEventResult
from ..statistics import CLOPPER_PEARSON, clopper_pearson
from .attachments import capped_listing
from .comparisons import comparison_tables
from .completeness import completeness_table
from .figures import report_figures
from .listing import patient_listing
from .model import Outcome, Report, ReportTable

__all__ = ["build_report", "cohort_sentence", "format_generated_at"]

TIMESTAMP = "%Y-%m-%d %H:%M UTC"


def format_generated_at(when: dt.datetime | str | None = None) -> str:
    """``when`` (default: now) as ``YYYY-MM-DD HH:MM UTC``; a naive datetime is taken as UTC,
    a string is kept as given."""
    if isinstance(when, str):
        return when
    when = when or dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime(TIMESTAMP)


def build_report(evaluation: Evaluation, dataset: Dataset, *, banner: str | None = None,
                 generated_at: dt.datetime | str | None = None,
                 progress: Callable[[str], object] | None = None) -> Report:
    """The report of ``evaluation`` (made from ``dataset``): methods, Table 1, outcomes with
    95% CIs and published values, paired tests, Kaplan-Meier analyses, figures, data
    completeness, reference limits, the per-patient listing and provenance.

    ``banner`` is shown at the top of every format (the demo passes ``DEMO_BANNER``); whenever a
    patient of the evaluation is marked synthetic, the synthetic-data notice is shown there too,
    given a banner or not (``Evaluation.banner``);
    ``generated_at`` fixes the date printed (default: now, UTC). When the evaluation was made
    without statistics they are computed here (the evaluation itself is not changed).

    ``progress``, when given, is called with the name of each stage as it starts:
    ``"statistics"``, ``"tables"``, ``"figures"`` (the web app's background reports show it);
    it changes nothing in the report."""
    step = progress or (lambda stage: None)
    step("statistics")
    stats = evaluation.statistics
    if stats is None:
        from ..analysis import statistics_for

        stats = statistics_for(evaluation, dataset)
    p = evaluation.protocol
    excluded = evaluation.cohort.excluded
    step("tables")
    listing, listing_full = capped_listing(patient_listing(evaluation))
    excluded_table = None
    if excluded.height:   # a registry excludes thousands: the first rows here, all in a CSV
        whole = ReportTable("excluded-patients", "Excluded patients", ("Patient", "Reason excluded"),
                            tuple(excluded.select(pl.all().cast(pl.String).fill_null("")).rows()))
        (excluded_table,), cut = capped_listing([whole])
        listing_full = cut + listing_full
    step("figures")
    figures, figure_notes = report_figures(evaluation, dataset, stats)
    not_run = list(dict.fromkeys([*analyses_not_run(evaluation, stats), *figure_notes]))
    notes = [note for note in dict.fromkeys(stats.table_one.notes) if note not in not_run]
    methods = evaluation.methods()
    definitions = [endpoint_sentence(e, p) for e in p.endpoints]
    tail = " ".join(definitions)
    design = methods[: len(methods) - len(tail)].rstrip() if tail and methods.endswith(tail) else methods
    return Report(
        title=p.title,
        protocol_id=p.id,
        banner=evaluation.banner(banner),
        generated_at=format_generated_at(generated_at),
        cnotrack_version=__version__,
        dataset_source=evaluation.source,
        dataset_sha256=evaluation.dataset_sha256,
        methods=methods,
        design=design,
        endpoint_definitions=[_definition(d) for d in definitions] if design != methods else [],
        statistical_methods=_statistical_methods(stats),
        cohort=cohort_sentence(evaluation),
        excluded=excluded_table,
        summary=summary_sentences(p.summary, evaluation.endpoints) if p.summary else [],
        outcomes=[_outcome(r) for r in evaluation.endpoints.values()],
        table_one=_table_one(stats.table_one) if stats.table_one.rows else None,
        paired=[t.sentence() + "." for t in stats.paired.values()],
        survival=[*(s.sentence() for s in stats.survival.values()),
                  *(r.sentence() for r in evaluation.endpoints.values() if isinstance(r, TimeToEventResult))],
        figures=figures,
        completeness=completeness_table(evaluation, dataset),
        reference_limits=_reference_limits(evaluation),
        listing=listing,
        listing_full=listing_full,
        notes=notes,
        not_run=not_run,
        comparisons=comparison_tables(evaluation),
        evaluation=evaluation,
        source_files=sorted(evaluation.source_files.items()),
    )


def cohort_sentence(evaluation: Evaluation) -> str:
    """"9 eligible patients (6 female); 0 patients excluded.", in words that agree with each number."""
    excluded = evaluation.cohort.excluded.height
    return (f"{counted(evaluation.n, 'eligible patient')} ({evaluation.female} female); "
            f"{counted(excluded, 'patient')} excluded.")


def _definition(sentence: str) -> tuple[str, str]:
    eid, text = sentence.split(": ", 1)
    return eid, text[:1].upper() + text[1:]


def _outcome(result: EndpointResult) -> Outcome:
    ci = ""
    missing = getattr(result, "missing", 0)
    if isinstance(result, ProportionResult) and result.not_known:
        value = result.short()
    elif isinstance(result, ProportionResult):
        value = f"{result.n}/{result.of} ({100 * result.n / result.of:.1f}%)" if result.of else f"{result.n}/0"
        interval = result.ci95 if result.ci95 is not None else clopper_pearson(result.n, result.of)
        if interval is not None:
            ci = f"{100 * interval[0]:.1f} to {100 * interval[1]:.1f}"
    elif isinstance(result, CountResult):
        value = (f"{result.value}/{result.of_value} ({result.percent()})" if result.of_value is not None
                 else str(result.value))
    elif isinstance(result, DistributionResult):
        value = result.short()
        test = result.extra.get("test") if isinstance(result.extra, dict) else None
        if test and test.get("sentence"):
            value += f"; {test['sentence']}"
    elif isinstance(result, TimeToEventResult):
        value, missing = result.short(), result.excluded
        low, high = result.median_ci95
        if result.median_years is not None:
            ci = f"{'not reached' if low is None else f'{low:.1f}'} to {'not reached' if high is None else f'{high:.1f}'} years"
    else:  # pragma: no cover - every endpoint result is one of the four
        value = result_cell(result)
    return Outcome(result.id, result.label, value, ci, result.published or "", published_agrees(result),
                   missing, result.method)


def _table_one(table) -> ReportTable:
    rows, sections, previous = [], [], None
    for row in table.rows:
        sections.append(row.section if row.section != previous else None)
        previous = row.section
        rows.append((row.variable, row.value, str(row.n), str(row.missing)))
    return ReportTable("table-one", f"Table 1. Eligible patients at the index date (n = {table.n})",
                       ("Characteristic", "Value", "n", "Missing"), tuple(rows), sections=tuple(sections),
                       notes=(table.method, "n: patients with a known value (the denominator of a percentage)."))


def _reference_limits(evaluation: Evaluation) -> ReportTable | None:
    limits = evaluation.reference_limits_used()
    if not limits:
        return None
    rows = tuple((l["test"],
                  f"{l['default_upper_limit']:g} {l['unit']}" if l["default_upper_limit"] is not None else "none",
                  l["default_source"] or "—", str(l["values_judged_by_laboratory_limit"]),
                  str(l["values_judged_by_default_limit"]), str(l["values_without_limit"])) for l in limits)
    return ReportTable("reference-limits-table", "Upper reference limits of the laboratory tests",
                       ("Test", "Default upper limit", "Default from", "Judged by the laboratory's limit",
                        "Judged by the default", "Without a limit"), rows,
                       notes=("A value is elevated when above its laboratory's upper reference limit, or, "
                              "where the laboratory gave none, the default.",))


def _statistical_methods(stats) -> str:
    parts = [f"Proportions are given with their {CLOPPER_PEARSON} (Clopper CJ, Pearson ES. Biometrika "
             "1934;26:404-413); patients with missing data stay in the denominator."]
    if stats.paired:
        methods = list(dict.fromkeys(t.method for t in stats.paired.values()))
        parts.append("Baseline and 6 months were compared in the patients with a value at both (no "
                     "imputation): " + "; ".join(methods) + ".")
    if stats.survival:
        parts.append("Time to event: " + next(iter(stats.survival.values())).method)
    parts.append("Table 1: " + stats.table_one.method)
    return " ".join(parts)
