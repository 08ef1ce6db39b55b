"""Combining refuses what would not give the pooled result: another protocol definition, an
incompatible version, a malformed file (the schema violation named), the same dataset twice;
and the Done-when case: three centres of different sizes, one with no eligible patient, one with
suppressed cells, combine to the pooled result wherever no needed cell is suppressed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from cnotrack.engine import evaluate
from cnotrack.errors import CnotrackError
from cnotrack.exchange.dataset import subset
from cnotrack.federated import (
    AggregatesError,
    aggregates_of,
    combine,
    protocol_definition_sha256,
    read_aggregates,
    validate_aggregates,
    write_aggregates,
)
from cnotrack.protocols import load_protocol
from cnotrack.synth import synthesize_registry


@pytest.fixture(scope="module")
def three_centres():
    """A (60 patients, threshold 5), B (25 patients, threshold 5), C (no eligible patient)."""
    dataset = synthesize_registry(130, 8)
    protocol = load_protocol("pardeo2017")
    full = evaluate(dataset, protocol)
    eligible = full.cohort.eligible["patient_id"].to_list()
    ineligible = [i for i in dataset.patients["patient_id"].to_list() if i not in set(eligible)]
    ids = {"A": eligible[:34] + ineligible[:26], "B": eligible[34:] + ineligible[26:30], "C": ineligible[30:]}
    parts = {k: subset(dataset, v) for k, v in ids.items()}
    docs = {k: aggregates_of(evaluate(p, protocol), p, min_cell_count=5, centre=k) for k, p in parts.items()}
    pooled = evaluate(subset(dataset, [i for part in ids.values() for i in part]), protocol)
    return protocol, docs, pooled


def test_three_centres_combine_to_the_pooled_result_where_no_cell_is_suppressed(three_centres, tmp_path) -> None:
    _, docs, pooled = three_centres
    assert docs["C"]["cohort"]["n"] == 0 and docs["C"]["disclosure"]["suppressed"] == 0
    assert docs["B"]["disclosure"]["suppressed"] > 0
    paths = [write_aggregates(d, tmp_path / f"{k}.json") for k, d in docs.items()]
    by_files, by_dicts = combine(paths), combine(list(docs.values()))
    assert by_files.as_json()["endpoints"] == by_dicts.as_json()["endpoints"]
    assert by_files.cohort["n"] == pooled.n
    exact, withheld = 0, 0
    for eid, result in pooled.endpoints.items():
        ours = by_files.endpoints[eid]
        if result.kind != "proportion":
            continue
        if ours["pooled"] is None:
            assert "suppressed cells in" in ours["note"]
            withheld += 1
            continue
        expected = result.as_json()
        for key in ("n", "of", "percent", "ci95", "ci_method"):
            assert ours["pooled"][key] == expected[key], (eid, key)
        exact += 1
    assert exact >= 2 and withheld >= 1


def _docs(three_centres):
    return [copy.deepcopy(d) for d in three_centres[1].values()]


def test_another_protocol_definition_is_refused(three_centres) -> None:
    protocol = three_centres[0]
    changed = protocol.model_copy(update={"title": protocol.title + " (edited)"})
    assert protocol_definition_sha256(changed) != protocol_definition_sha256(protocol)
    docs = _docs(three_centres)
    docs[1]["protocol"]["definition_sha256"] = protocol_definition_sha256(changed)
    with pytest.raises(AggregatesError, match=r"aggregates #2: protocol 'pardeo2017' with definition .* differs"):
        combine(docs)


def test_an_incompatible_version_is_refused(three_centres) -> None:
    docs = _docs(three_centres)
    docs[2]["format_version"] = "2.0"
    with pytest.raises(AggregatesError, match=r"aggregates #3: aggregates format 2.0"):
        combine(docs)
    docs = _docs(three_centres)
    docs[1]["cnotrack_version"] = "0.9.0"
    with pytest.raises(AggregatesError, match=r"written by cnotrack 0.9.0.*MAJOR.MINOR"):
        combine(docs)


def test_a_malformed_file_names_the_file_and_the_violation(three_centres, tmp_path: Path) -> None:
    doc = _docs(three_centres)[0]
    doc["endpoints"]["month6.pga_none_or_minimal"]["yes"] = -3
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(AggregatesError) as info:
        combine([path, tmp_path / "other.json"])
    message = str(info.value)
    assert str(path) in message and "endpoints/month6.pga_none_or_minimal/yes" in message
    (tmp_path / "rows.json").write_text(json.dumps({"patients": [{"patient_id": "P0001"}]}), encoding="utf-8")
    with pytest.raises(AggregatesError, match=r"rows.json: not a cnotrack aggregates file"):
        read_aggregates(tmp_path / "rows.json")
    (tmp_path / "text.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CnotrackError, match=r"text.json: not JSON \(line 1"):
        read_aggregates(tmp_path / "text.json")


def test_the_same_dataset_twice_is_refused(three_centres) -> None:
    docs = _docs(three_centres)
    with pytest.raises(AggregatesError, match=r"aggregates #2: the same dataset .* counted twice"):
        combine([docs[0], copy.deepcopy(docs[0])])


def test_different_bins_are_refused(three_centres) -> None:
    docs = _docs(three_centres)
    docs[1]["bins"]["time_days"] = 7
    with pytest.raises(AggregatesError, match=r"aggregates #2: bins"):
        combine(docs)


def test_a_suppressed_cell_is_valid_and_a_patient_row_is_not(three_centres) -> None:
    doc = _docs(three_centres)[1]
    validate_aggregates(doc)
    doc["endpoints"]["cohort.n"]["patient_ids"] = ["P0001"]
    with pytest.raises(AggregatesError, match=r"endpoints/cohort.n.*patient_ids"):
        validate_aggregates(doc)


def test_suppressed_cells_show_in_the_centres_figures(three_centres) -> None:
    combined = combine(_docs(three_centres))
    figures = [e["centres"]["B"] for e in combined.endpoints.values() if e["kind"] == "proportion"]
    assert any(any(isinstance(v, dict) and v.get("suppressed") for v in f.values()) for f in figures)
    assert np.isfinite(combined.cohort["n"])


def test_a_file_whose_counts_do_not_add_up_is_refused(three_centres) -> None:
    docs = _docs(three_centres)
    eid, section = next((k, e) for k, e in docs[0]["endpoints"].items() if e["kind"] == "proportion"
                        and all(isinstance(e[x], int) for x in ("yes", "no", "missing", "of")))
    section["yes"] += 1
    with pytest.raises(AggregatesError, match=rf"aggregates #1: at endpoints/{eid}: yes \+ no \+ missing do not add "
                                              rf"up to of = {section['of']}; the file was changed"):
        combine(docs)
    docs = _docs(three_centres)
    docs[0]["endpoints"]["cohort.n"]["value"] = 10 ** 9
    with pytest.raises(AggregatesError, match=r"endpoints/cohort.n/value: 1000000000 is not valid"):
        combine(docs)


def test_a_comparison_whose_group_missing_count_is_withheld_gives_no_test_and_no_crash() -> None:
    """Fisher's test counts the patients with a known value (of - missing): when a centre withheld
    a group's missing count the pooled proportion is given but the test is not (with the reason)."""
    from cnotrack.federated.pooled import pool_comparison
    from cnotrack.statistics.two_group import fisher_exact

    hidden = {"suppressed": True}
    x = {"kind": "proportion", "yes": 6, "no": 9, "missing": 5, "of": 20, "among_missing": 0}
    y = {"kind": "proportion", "yes": 7, "no": 8, "missing": 5, "of": 20, "among_missing": 0}
    groups = [("x", "X"), ("y", "Y")]
    withheld = {"groups": {"x": x | {"no": hidden, "missing": hidden}, "y": y}}
    out = pool_comparison("L", "proportion", groups, [("A", withheld), ("B", {"groups": {"x": x, "y": y}})])
    assert out["test"] is None and "group X" in out["note"] and "A" in out["note"]
    assert out["groups"]["x"]["pooled"]["n"] == 12
    shown = pool_comparison("L", "proportion", groups, [("A", {"groups": {"x": x, "y": y}}),
                                                          ("B", {"groups": {"x": x, "y": y}})])
    assert shown["test"]["p_value"] == fisher_exact(12, 30, 14, 30, variable="L", labels=("X", "Y")).p_value


def _first(doc, part, kind):
    return next(k for k, e in doc[part].items() if e.get("kind", e.get("test")) == kind)


TAMPERINGS = {
    "an endpoint dropped": (lambda d: d["endpoints"].pop(_first(d, "endpoints", "proportion")),
                            r"its endpoints differ from aggregates #1's"),
    "an endpoint added": (lambda d: d["endpoints"].update(extra=copy.deepcopy(
        d["endpoints"][_first(d, "endpoints", "proportion")])), r"its endpoints differ .*\(extra\)"),
    "a paired test dropped": (lambda d: d["paired"].pop(next(iter(d["paired"]))), r"its paired differ"),
    "an analysis dropped": (lambda d: d["survival"].pop(next(iter(d["survival"]))), r"its survival differ"),
    "a kind changed": (lambda d: d["endpoints"].update({_first(d, "endpoints", "proportion"): copy.deepcopy(
        d["endpoints"][_first(d, "endpoints", "distribution")])}), r"kind 'distribution', not 'proportion'"),
    "a bin width changed": (lambda d: d["endpoints"][_first(d, "endpoints", "distribution")].update(bin_width=99.0),
                            r"bin_width 99.0 is not the file's bins"),
    "McNemar's cells changed": (lambda d: d["paired"][_first(d, "paired", "mcnemar_exact")].update(
        both_true=5, true_false=5, false_true=5, both_false=5, pairs=21), r"the four cells do not add up to pairs = 21"),
    "a far first bin": (lambda d: d["endpoints"][_first(d, "endpoints", "distribution")].update(first_bin=10 ** 12),
                        r"first_bin: 1000000000000 is greater than the maximum"),
}


@pytest.mark.parametrize("what", list(TAMPERINGS))
def test_a_file_changed_by_hand_is_refused_naming_it(three_centres, what) -> None:
    """Not a KeyError or a MemoryError half-way through combining: a cnotrack error naming the file."""
    docs = _docs(three_centres)
    change, message = TAMPERINGS[what]
    change(docs[0])
    with pytest.raises(AggregatesError, match=r"^aggregates #2: .*" + message):
        combine([docs[1], docs[0]])
