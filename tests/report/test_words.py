"""Words and pages that read right for any n: singular and plural in every generated sentence,
an endpoint missing for every patient said in words, and the analyses that could not run listed
in every format."""

from __future__ import annotations

import dataclasses

import pytest

from cnotrack.protocols import load_protocol
from cnotrack.protocols.load import _VIEWS
from cnotrack.render.markdown import evaluation_markdown
from cnotrack.render.sentences import VIEWS, fill_sentence, summary_sentences
from cnotrack.render.text import result_cell
from cnotrack.words import counted, noun, verb
from cnotrack.report.build import _outcome
from cnotrack.results import CountResult, DistributionResult, ProportionResult


def count(eid: str, value: int) -> CountResult:
    return CountResult(eid, eid, value, "counted")


def proportion(eid: str, n: int, of: int, missing: int = 0) -> ProportionResult:
    return ProportionResult(eid, eid, n, of, missing, "proportion")


def test_a_noun_and_a_verb_agree_with_their_number():
    assert [counted(n, "patient") for n in (0, 1, 2)] == ["0 patients", "1 patient", "2 patients"]
    assert counted(1, "lesion") == "1 lesion" and counted(3, "study") == "3 studies"
    assert noun(1, "eligible patient") == "eligible patient" and noun(5, "eligible patient") == "eligible patients"
    assert [verb(n, "were") for n in (0, 1, 9)] == ["were", "was", "were"]
    assert verb(1, "have") == "has" and verb(2, "has") == "have"
    with pytest.raises(ValueError, match="verb 'goes'"):
        verb(1, "goes")


def test_the_loader_accepts_exactly_the_views_the_sentences_fill():
    assert _VIEWS == set(VIEWS)


@pytest.mark.parametrize(("n", "expected"), [
    (1, "1 patient was treated; 1 was female; 1 new lesion appeared; 1 of these 1 patient had one."),
    (2, "2 patients were treated; 2 were female; 2 new lesions appeared; 1 of these 2 patients had one."),
])
def test_plural_views_read_right_for_one_patient_and_for_two(n, expected):
    results = {"cohort.n": count("cohort.n", n), "cohort.female": count("cohort.female", n),
               "new": count("new", n), "sym": proportion("sym", 1, n)}
    template = ("{cohort.n|patients} {cohort.n|were} treated; {cohort.female} {cohort.female|was} female; "
                "{new} new lesion{new|s} appeared; {sym|n} of these {sym|of_patients} had one.")
    assert fill_sentence(template, results) == expected


def test_a_proportion_of_one_patient_says_patient():
    assert proportion("x", 1, 1).short() == "1 of 1 patient (100.0%)"
    assert proportion("x", 5, 9).short() == "5 of 9 patients (55.6%)"


def test_an_endpoint_missing_for_every_patient_says_so_with_no_ci():
    result = dataclasses.replace(proportion("month6.x", 0, 49, missing=49),
                                 ci95=(0.0, 0.073), ci_method="Clopper-Pearson")
    assert result.short() == "not known for any of the 49 patients"
    assert result.sentence() == "month6.x: not known for any of the 49 patients."
    assert result_cell(result) == "not known for any of the 49 patients"
    outcome = _outcome(result)
    assert outcome.value == "not known for any of the 49 patients" and outcome.ci95 == ""
    assert "0/49" not in outcome.value
    empty = DistributionResult("d", "d", 0, 3, None, None, None, None, None, "median")
    assert empty.short() == "not known for any of the 3 patients"


def test_the_demo_summary_reads_as_before_for_nine_patients(evaluation):
    p = evaluation.protocol
    sentences = summary_sentences(p.summary, evaluation.endpoints)
    assert sentences[0] == "9 patients were treated with anakinra for at least 6 months; 6 were female."
    assert " baseline lesions (" in sentences[3] and " were stable." in sentences[3]
    new = evaluation.endpoints["month6.lesions.new"].value
    assert sentences[4].startswith(f"{new} new lesion{'' if new == 1 else 's'} appeared, in ")
    assert "of these 2 patients had a symptomatic new lesion" in sentences[4] or " of these " in sentences[4]


def test_the_summary_of_a_cohort_of_one_reads_in_the_singular(evaluation):
    endpoints = dict(evaluation.endpoints)
    endpoints["cohort.n"] = dataclasses.replace(endpoints["cohort.n"], value=1)
    endpoints["cohort.female"] = dataclasses.replace(endpoints["cohort.female"], value=1)
    endpoints["month6.lesions.new"] = dataclasses.replace(endpoints["month6.lesions.new"], value=1)
    endpoints["month6.lesions.stable"] = dataclasses.replace(endpoints["month6.lesions.stable"], value=1)
    sym = endpoints["month6.patients_with_symptomatic_new_lesions"]
    endpoints[sym.id] = dataclasses.replace(sym, n=1, of=1, missing=0)
    sentences = summary_sentences(evaluation.protocol.summary, endpoints)
    assert sentences[0] == "1 patient was treated with anakinra for at least 6 months; 1 was female."
    assert "(" in sentences[3] and sentences[3].endswith("1 (" + endpoints["month6.lesions.stable"].percent()
                                                         + ") was stable.")
    assert sentences[4].startswith("1 new lesion appeared, in ")
    assert sentences[4].endswith("1 of these 1 patient had a symptomatic new lesion.")


def test_pedcno_summary_counts_the_cohort_in_words(demo):
    from cnotrack.engine import evaluate

    evaluation = evaluate(demo, load_protocol("pedcno"))
    sentences = summary_sentences(evaluation.protocol.summary, evaluation.endpoints)
    assert sentences[0].startswith(f"Of {evaluation.n} patients, ")


def test_every_format_lists_the_analyses_not_run(evaluation, demo, tmp_path):
    from cnotrack.report import build_report, write_report

    note = "No paired tests: the protocol declares no pair of timepoints."
    noted = dataclasses.replace(evaluation, notes=[*evaluation.notes, note])
    assert f"### Analyses not run\n\n- {note}" in evaluation_markdown(noted)
    report = build_report(noted, demo, generated_at="2024-05-01 12:00 UTC")
    assert note in report.not_run
    md = write_report(report, tmp_path / "r.md").read_text("utf-8")
    assert "Analyses not run" in md and note in md
    html = write_report(report, tmp_path / "r.html").read_text("utf-8")
    section = html[html.index('<section id="not-run">'):]
    assert "<h2>Analyses not run</h2>" in section and f"<li>{note}</li>" in section[:section.index("</section>")]
    import docx

    document = docx.Document(str(write_report(report, tmp_path / "r.docx")))
    texts = [p.text for p in document.paragraphs]
    assert "Analyses not run" in texts and texts[texts.index("Analyses not run") + 1] == note


def test_the_plain_text_of_evaluate_lists_the_analyses_not_run(evaluation):
    from rich.console import Console

    from cnotrack.render import print_evaluation

    note = "No paired tests: the protocol declares no pair of timepoints."
    console = Console(record=True, width=200)
    print_evaluation(dataclasses.replace(evaluation, notes=[note]), console)
    text = console.export_text()
    assert "Analyses not run" in text and note in text
    console = Console(record=True, width=200)
    print_evaluation(evaluation, console)
    assert ("Analyses not run" in console.export_text()) == bool(evaluation.notes or evaluation.statistics.notes)


def test_a_cohort_line_of_one_patient_reads_in_the_singular(evaluation):
    from cnotrack.report.build import cohort_sentence

    assert cohort_sentence(evaluation) == (f"{evaluation.n} eligible patients ({evaluation.female} female); "
                                           "0 patients excluded.")


def test_a_time_to_event_endpoint_shows_its_median_with_ci_and_events_in_the_outcomes():
    from cnotrack.results import TimeToEventResult

    result = TimeToEventResult("tte.flare", "Time to a flare", "Kaplan-Meier", n=9, events=1, censored=8,
                               excluded=1, median_years=0.5, median_ci95=(0.4, None), at_risk=[], curve=[])
    assert result_cell(result) == "median 0.5 years (95% CI 0.4 to not reached); 1 event in 9 patients"
    outcome = _outcome(result)
    assert outcome.value == result.short() and outcome.ci95 == "0.4 to not reached years"
    assert outcome.missing == 1


def test_an_endpoint_missing_for_every_patient_reads_so_in_markdown_html_and_word(evaluation, demo, tmp_path):
    from cnotrack.report import build_report, write_report

    eid = "month6.pga_none_or_minimal"
    endpoints = dict(evaluation.endpoints)
    endpoints[eid] = dataclasses.replace(endpoints[eid], n=0, missing=evaluation.n)
    unknown = dataclasses.replace(evaluation, endpoints=endpoints)
    words_ = f"not known for any of the {evaluation.n} patients"
    assert f"| {words_} |" in evaluation_markdown(unknown)
    report = build_report(unknown, demo, generated_at="2024-05-01 12:00 UTC")
    row = next(r for r in report.outcomes_table().rows if r[0].startswith("PGA none or minimal at 6"))
    assert row[1:3] == (words_, "—")
    html = write_report(report, tmp_path / "r.html").read_text("utf-8")
    assert f"<td>{words_}</td>" in html and f"0/{evaluation.n} (0.0%)" not in html.split('id="outcomes-table"')[1][:4000]
    import docx

    document = docx.Document(str(write_report(report, tmp_path / "r.docx")))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert words_ in cells
