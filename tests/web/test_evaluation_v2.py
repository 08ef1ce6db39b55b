"""Issue 10 on the web: the evaluation page of protocol language v2.

The page shows, besides the overall endpoints, a table per ``compare`` entry (each group's value
per endpoint, the test and its p value, the patients in no compared group counted per reason),
the time-to-event endpoints and the paired tests of changes in the endpoints table, and the
section "Analyses not run". The evaluation runs on the patients the user may see: a user of one
center evaluating a protocol compared by center sees only their own center's group, and no
other center's patient ids, counts or group names reach the page, the downloads or the API.

The protocols the tests add (compared by center, by sex and by a criterion, a group label
that looks like markup) are the built-in ``tnf_vs_anakinra`` with another ``compare:``, made
known to the web in place of a file (the web evaluates only named built-in protocols).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources

import polars as pl
import pytest
import yaml

from cnotrack.demo import demo_folder
from cnotrack.engine import evaluate
from cnotrack.exchange import load_dataset
from cnotrack.protocols import builtin_protocols, parse_protocol
from cnotrack.render import comparisons as render_comparisons
from cnotrack.render.comparisons import TESTS_NOTE, comparison_header
from cnotrack.render.text import ALL_RAN, result_cell
from cnotrack.results import TimeToEventResult
from cnotrack.store import import_dataset
from cnotrack.web import services

from .centers_fixtures import GENOA_WORDS

ROME_DEMO = ("SYN-P01", "SYN-P02", "SYN-P03", "SYN-P04", "SYN-P05")
GENOA_DEMO = ("SYN-P06", "SYN-P07", "SYN-P08", "SYN-P09")


def words(text: str) -> str:
    return " ".join(text.split())


def section(page: str, element_id: str) -> str:
    """The HTML of the ``<section>`` with ``id=element_id`` (sections do not nest here)."""
    found = re.search(rf'<section[^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</section>', page, re.S)
    assert found, f"no section {element_id!r} in the page"
    return found.group(1)


def cell_text(fragment: str) -> list[list[str]]:
    """The rows of a table fragment as lists of cell texts (tags dropped, entities read)."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", fragment, re.S)
    return [[words(html.unescape(re.sub(r"<[^>]+>", " ", cell)))
             for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)] for row in rows]


def demo_dataset(centers: bool = False):
    """The demo's nine synthetic patients; with ``centers``, SYN-P01..05 of Rome and
    SYN-P06..09 of Genoa (the centers of the web fixture's users)."""
    dataset = load_dataset(demo_folder())
    if centers:
        dataset.tables["patients"] = dataset.patients.with_columns(
            center=pl.when(pl.col("patient_id").is_in(ROME_DEMO)).then(pl.lit("Rome")).otherwise(pl.lit("Genoa")))
    return dataset


def tnf_with(compare) -> dict:
    """``tnf_vs_anakinra`` with ``compare`` in place of its own (and another id)."""
    text = resources.files("cnotrack.protocols.builtin").joinpath("tnf_vs_anakinra.yaml").read_text()
    data = yaml.safe_load(text)
    data["compare"] = compare
    return data


@pytest.fixture
def extra_protocols(monkeypatch):
    """Make protocols (id -> protocol dict) known to the web as if they were built in."""
    real_names, real_load = services.builtin_protocols, services.load_protocol

    def add(**protocols):
        parsed = {}
        for pid, data in protocols.items():
            parsed[pid] = parse_protocol(yaml.safe_dump({**data, "id": pid}), source=pid)
        monkeypatch.setattr(services, "builtin_protocols", lambda: [*real_names(), *parsed])
        monkeypatch.setattr(services, "load_protocol", lambda name: parsed[name] if name in parsed else real_load(name))
        return parsed

    return add


def assert_no_inline_code(page: str) -> None:
    """The CSP allows scripts and styles from files only: no inline script, handler or style."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "an inline script"
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", page), "an inline event handler"
    assert not re.search(r"<[a-z][^>]*\sstyle\s*=", page) and "<style" not in page, "an inline style"


# ---- every built-in protocol on the demo data ---------------------------------------------------

@pytest.mark.parametrize("protocol", builtin_protocols())
def test_the_page_shows_every_builtin_protocol_on_the_demo_data(web, protocol):
    import_dataset(demo_dataset(), web.store)
    response = web.client("admin").get("/evaluation", params={"protocol": protocol})
    assert response.status_code == 200, response.text
    page = response.text
    assert_no_inline_code(page)
    evaluation = services.evaluate_for(web.store, web.accounts["admin"], protocol)
    assert html.escape(evaluation.protocol.title) in page
    assert f'<strong id="cohort-n">{evaluation.n}</strong>' in page
    endpoints = {row[0]: row for row in cell_text(section(page, "evaluation-endpoints"))[1:]}
    assert list(endpoints) == list(evaluation.endpoints)
    for eid, result in evaluation.endpoints.items():
        assert endpoints[eid][1].startswith(result.label), eid
        assert endpoints[eid][2].startswith(result_cell(result)), eid
    assert "Analyses not run" in section(page, "not-run")
    assert bool(evaluation.comparisons) == ('class="card comparison"' in page)


def test_time_to_event_endpoints_and_paired_tests_read_in_the_endpoints_table(web):
    import_dataset(demo_dataset(), web.store)
    page = web.client("admin").get("/evaluation", params={"protocol": "tnf_vs_anakinra"}).text
    evaluation = services.evaluate_for(web.store, web.accounts["admin"], "tnf_vs_anakinra")
    rows = {row[0]: row for row in cell_text(section(page, "evaluation-endpoints"))[1:]}
    tte = evaluation.endpoints["time_to_pga_none_or_minimal"]
    assert isinstance(tte, TimeToEventResult) and tte.n == 9 and tte.events == 7
    assert rows["time_to_pga_none_or_minimal"][1] == "time to PGA none or minimal time to event"
    assert rows["time_to_pga_none_or_minimal"][2] == (
        f"{tte.short()} Kaplan-Meier; {tte.censored} censored")
    assert rows["time_to_pga_none_or_minimal"][2].startswith("median 0.5 years (95% CI 0.5 to not reached); "
                                                              "7 events in 9 patients")
    assert 'data-endpoint="time_to_pga_none_or_minimal" data-kind="time_to_event"' in page
    pain = evaluation.endpoints["month6.pain_change"]
    assert rows["month6.pain_change"][2] == words(f"{result_cell(pain)} {pain.extra['test']['sentence']}")
    assert "Wilcoxon signed-rank, 9 pairs, V = 45, p = 0.009" in rows["month6.pain_change"][2]


# ---- the comparison tables -----------------------------------------------------------------------

def test_the_tnf_vs_anakinra_page_has_its_comparison_table(web):
    import_dataset(demo_dataset(), web.store)
    page = web.client("admin").get("/evaluation", params={"protocol": "tnf_vs_anakinra"}).text
    evaluation = services.evaluate_for(web.store, web.accounts["admin"], "tnf_vs_anakinra")
    table = section(page, "comparison-biologic")
    assert "<h2>Outcomes by first biologic</h2>" in table
    rows = cell_text(table)
    assert rows[0] == ["Outcome", "TNF inhibitor (n = 0)", "anakinra (n = 9)", "Test", "p"]
    assert rows[0] == list(comparison_header(evaluation.comparisons["biologic"]))
    assert len(rows) == 1 + len(evaluation.protocol.endpoints)
    by_label = {row[0]: row for row in rows[1:]}
    assert by_label["PGA none or minimal at 6 months"] == [
        "PGA none or minimal at 6 months", "0/0", "5/9 (55.6%) [95% CI 21.2 to 86.3]",
        "none: no patient in TNF inhibitor", "—"]
    assert by_label["Time to PGA none or minimal"][3] == "none: fewer than two groups to compare"
    assert "Every eligible patient is in a compared group." in table
    assert TESTS_NOTE in html.unescape(table)


def test_a_comparison_by_sex_shows_each_groups_value_the_test_and_its_p_value(web, extra_protocols):
    extra_protocols(by_sex=tnf_with([
        {"by": "sex"},
        {"id": "pga12", "label": "PGA none or minimal at 12 months",
         "by": {"pga": {"at": "month12", "in": ["none", "minimal"]}}}]))
    import_dataset(demo_dataset(), web.store)
    page = web.client("admin").get("/evaluation", params={"protocol": "by_sex"}).text
    evaluation = services.evaluate_for(web.store, web.accounts["admin"], "by_sex")
    sex = evaluation.comparisons["sex"]
    assert [(g["label"], g["n"]) for g in sex.groups] == [("female", 6), ("male", 3)]
    rows = cell_text(section(page, "comparison-sex"))
    assert rows[0] == ["Outcome", "female (n = 6)", "male (n = 3)", "Test", "p"]
    by_label = {row[0]: row for row in rows[1:]}
    for eid, grouped in sex.endpoints.items():
        label = evaluation.endpoints[eid].label
        row = by_label[label[:1].upper() + label[1:]]
        assert row[1:3] == [result_cell(grouped.groups["F"]), result_cell(grouped.groups["M"])], eid
        assert tuple(row[3:]) == render_comparisons.test_cell(grouped), eid
    pga6 = sex.endpoints["month6.pga_none_or_minimal"].test.as_json()
    assert pga6["test"] == "fisher_exact" and pga6["p_value"] is not None
    assert by_label["PGA none or minimal at 6 months"][3:] == ["Fisher's exact test", f"{pga6['p_value']:.3f}"]
    assert "Every eligible patient is in a compared group." in section(page, "comparison-sex")
    # by a criterion: the patient without a 12-month PGA is in no group, counted with the reason
    pga12 = section(page, "comparison-pga12")
    assert evaluation.comparisons["pga12"].ungrouped == [{"patient_id": "SYN-P09",
                                                          "reason": "missing data for the criterion"}]
    assert words(re.sub(r"<[^>]+>", "", pga12)).count("1 eligible patient in no compared group: "
                                                      "missing data for the criterion (1).") == 1
    assert "SYN-P09" not in pga12  # the reasons are summarised, not listed per patient


def test_text_from_the_data_and_the_protocol_is_escaped(web, extra_protocols):
    """A group label and a center that look like markup are shown as text."""
    extra_protocols(marked=tnf_with({"by": "center", "groups": ["Rome"],
                                     "group_labels": {"Rome": "<b onclick=x()>Rome</b>"}}))
    dataset = demo_dataset(centers=True)
    dataset.tables["patients"] = dataset.patients.with_columns(
        center=pl.when(pl.col("center") == "Genoa").then(pl.lit("<i>Genoa</i>")).otherwise(pl.col("center")))
    import_dataset(dataset, web.store)
    page = web.client("admin").get("/evaluation", params={"protocol": "marked"}).text
    table = section(page, "comparison-center")
    assert "&lt;b onclick=x()&gt;Rome&lt;/b&gt; (n = 5)" in table
    assert ("<strong>4</strong> eligible patients in no compared group: center &lt;i&gt;Genoa&lt;/i&gt; is not "
            "among the compared groups (4).") in words(table)
    assert "<b onclick" not in page and "<i>Genoa" not in page
    assert_no_inline_code(page)


# ---- analyses not run ------------------------------------------------------------------------------

def test_the_page_lists_the_analyses_that_could_not_run(web):
    import_dataset(demo_dataset(), web.store)
    client = web.client("admin")
    courses = section(client.get("/evaluation", params={"protocol": "courses"}).text, "not-run")
    evaluation = services.evaluate_for(web.store, web.accounts["admin"], "courses")
    assert evaluation.statistics.notes == ["No paired tests: the protocol's paired_tests is empty."]
    assert "<h2>Analyses not run</h2>" in courses
    assert "<li>No paired tests: the protocol&#39;s paired_tests is empty.</li>" in courses
    assert ALL_RAN not in courses
    pardeo = section(client.get("/evaluation", params={"protocol": "pardeo2017"}).text, "not-run")
    assert f"<p>{ALL_RAN}</p>" in pardeo and "<li>" not in pardeo


# ---- isolation of centers -------------------------------------------------------------------------

def _bodies(client, protocol: str) -> dict[str, str]:
    return {
        "page": client.get("/evaluation", params={"protocol": protocol}),
        "api": client.get("/api/v1/evaluation", params={"protocol": protocol}),
        "json": client.get("/evaluation/download", params={"protocol": protocol, "format": "json"}),
        "markdown": client.get("/evaluation/download", params={"protocol": protocol, "format": "markdown"}),
    }


def _only_rome(dataset):
    """The tables of ``dataset`` cut to the Rome patients (lesions through their studies)."""
    tables = {}
    for name, frame in dataset.tables.items():
        if "patient_id" in frame.columns:
            tables[name] = frame.filter(pl.col("patient_id").is_in(ROME_DEMO))
    studies = tables["imaging"]["study_id"].implode()
    tables["lesions"] = dataset["lesions"].filter(pl.col("study_id").is_in(studies))
    return type(dataset)(tables)


@pytest.mark.parametrize("username", ["rome", "viewer"])
def test_a_center_user_comparing_by_center_sees_only_their_centers_group(web, extra_protocols, username):
    extra_protocols(by_center=tnf_with({"by": "center"}))
    dataset = demo_dataset(centers=True)
    import_dataset(dataset, web.store)
    admin = web.client("admin").get("/api/v1/evaluation", params={"protocol": "by_center"}).json()
    assert admin["comparisons"]["center"]["groups"] == [{"id": "Genoa", "label": "Genoa", "n": 4},
                                                        {"id": "Rome", "label": "Rome", "n": 5}]
    responses = _bodies(web.client(username), "by_center")
    for where, response in responses.items():
        assert response.status_code == 200, (where, response.text)
        body = response.text
        assert "Genoa" not in body, where
        assert not GENOA_WORDS.search(body), where
        for pid in GENOA_DEMO:
            assert pid not in body, (where, pid)
        if where in ("api", "json"):
            assert all(pid in body for pid in ROME_DEMO), where
    page = responses["page"].text
    rows = cell_text(section(page, "comparison-center"))
    assert rows[0] == ["Outcome", "Rome (n = 5)", "Test", "p"]
    assert '<strong id="cohort-n">5</strong>' in page
    assert "SYNTHETIC DATA: 5 of 7 patients are synthetic" in words(page)  # R1, R2 and the five
    assert "9 patients" not in words(page) and "(n = 4)" not in page
    mine = responses["api"].json()
    assert mine["cohort"]["n"] == 5 and mine["synthetic"]["patients"] == 5
    assert mine["comparisons"]["center"]["groups"] == [{"id": "Rome", "label": "Rome", "n": 5}]
    alone = evaluate(_only_rome(dataset), services.load_protocol("by_center")).as_json()
    assert mine["comparisons"] == json.loads(json.dumps(alone["comparisons"]))
    assert mine["endpoints"] == json.loads(json.dumps(alone["endpoints"]))
    assert json.loads(responses["json"].text)["comparisons"] == mine["comparisons"]


def test_the_genoa_user_sees_only_genoas_group(web, extra_protocols):
    extra_protocols(by_center=tnf_with({"by": "center"}))
    import_dataset(demo_dataset(centers=True), web.store)
    page = web.client("genoa").get("/evaluation", params={"protocol": "by_center"}).text
    assert cell_text(section(page, "comparison-center"))[0] == ["Outcome", "Genoa (n = 4)", "Test", "p"]
    assert "Rome" not in page and not any(pid in page for pid in ROME_DEMO)


def test_a_viewer_may_view_the_evaluation_but_not_write(web):
    import_dataset(demo_dataset(centers=True), web.store)
    viewer = web.client("viewer")
    assert viewer.get("/evaluation", params={"protocol": "tnf_vs_anakinra"}).status_code == 200
    assert viewer.get("/import").status_code == 403
    assert viewer.get("/api/v1/evaluation", params={"protocol": "tnf_vs_anakinra"}).json()["cohort"]["n"] == 5


# ---- the JSON API ---------------------------------------------------------------------------------

def test_the_api_evaluation_of_tnf_vs_anakinra_has_its_comparisons(web):
    import_dataset(demo_dataset(), web.store)
    body = web.client("admin").get("/api/v1/evaluation", params={"protocol": "tnf_vs_anakinra"}).json()
    biologic = body["comparisons"]["biologic"]
    assert biologic["label"] == "first biologic" and biologic["by"] == "target of the index drug"
    assert biologic["groups"] == [{"id": "TNF", "label": "TNF inhibitor", "n": 0},
                                  {"id": "IL-1", "label": "anakinra", "n": 9}]
    assert biologic["ungrouped"] == []
    assert set(biologic["endpoints"]) == set(body["endpoints"])
    tte = biologic["endpoints"]["time_to_pga_none_or_minimal"]["groups"]["IL-1"]
    assert (tte["n"], tte["events"]) == (9, 7)
    assert "comparisons" not in web.client("admin").get("/api/v1/evaluation",
                                                       params={"protocol": "pardeo2017"}).json()
