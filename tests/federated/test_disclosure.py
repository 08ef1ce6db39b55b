"""Disclosure: an aggregates file holds no patient identifier, no date, no count 0 < n < threshold,
and its suppression is complementary (no suppressed cell follows from the published ones).

The checks read the JSON itself, not the suppression code: every patient id and every date of
the source data is searched for in the file's text, every whole number that counts patients is
compared with the threshold, and every relation of parts and their total is checked to have
none or at least two suppressed members.
"""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest

from cnotrack.federated import centre_aggregates, is_suppressed
from cnotrack.federated.disclosure import Cells
from cnotrack.protocols import load_protocol
from cnotrack.synth import synthesize_registry

from .cohorts import split

NOT_COUNTS = {"first_bin", "bin_days", "time_days", "min_cell_count", "ties", "times_years"}


@pytest.fixture(scope="module")
def documents():
    dataset = synthesize_registry(90, 21)
    parts, _ = split(dataset, 4, np.random.default_rng(5))
    out = []
    for name in ("pardeo2017", "tnf_vs_anakinra"):
        protocol = load_protocol(name)
        out += [(part, centre_aggregates(part, protocol, min_cell_count=5, centre=f"C{i}"))
                for i, part in enumerate(parts)]
    return dataset, out


def _dates(dataset) -> set[str]:
    found = set()
    for frame in dataset.tables.values():
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                found |= {d.isoformat() for d in frame[column].drop_nulls().to_list()}
    return found


def _counts(node, key=None):
    """Every (key, whole number) of the document that counts patients, lesions or events."""
    if isinstance(node, dict):
        if key == "disclosure":
            return
        for k, v in node.items():
            yield from _counts(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _counts(v, key)
    elif isinstance(node, int) and not isinstance(node, bool) and key not in NOT_COUNTS:
        yield key, node


def test_no_file_holds_a_patient_id_or_a_date(documents) -> None:
    dataset, docs = documents
    ids = dataset.patients["patient_id"].to_list()
    dates = _dates(dataset)
    assert len(ids) == 90 and len(dates) > 100
    for _, doc in docs:
        text = json.dumps(doc)
        assert not [i for i in ids if i in text]
        assert not [d for d in dates if d in text]
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
        assert "P00" not in text and "patient_id" not in text


def test_no_unsuppressed_count_below_the_threshold(documents) -> None:
    _, docs = documents
    seen_suppressed = 0
    for _, doc in docs:
        small = [(k, v) for k, v in _counts(doc) if 0 < v < 5]
        assert small == [], doc["centre"]
        assert doc["disclosure"]["min_cell_count"] == 5 and "min_cell_count" in doc["disclosure"]["rule"]
        seen_suppressed += doc["disclosure"]["suppressed"]
    assert seen_suppressed > 50  # small centres: the rule had work to do


def _relations(doc):
    """The relations of parts and their total, read from the file's layout."""
    n = doc["cohort"]["n"]
    for e in list(doc["endpoints"].values()) + [g for c in doc["comparisons"].values()
                                                 for x in c["endpoints"].values() for g in x["groups"].values()]:
        if e["kind"] == "proportion":
            yield [e["yes"], e["no"], e["missing"], e["of"]]
        elif e["kind"] == "distribution":
            yield list(e["counts"]) + [e["n"]]
        elif e["kind"] == "time_to_event":
            yield list(e["event_bins"]) + [e["events"]]
            yield list(e["censored_bins"]) + [e["censored"]]
            yield [e["events"], e["censored"], e["n"]]
    for p in doc["paired"].values():
        yield [p["pairs"], p["dropped_missing"], n]
        if p["test"] == "mcnemar_exact":
            yield [p["both_true"], p["true_false"], p["false_true"], p["both_false"], p["pairs"]]
    for c in doc["comparisons"].values():
        yield [g["n"] for g in c["groups"]] + [c["ungrouped"], n]


def _histograms(doc):
    sections = list(doc["endpoints"].values()) + list(doc["survival"].values())
    sections += [g for c in doc["comparisons"].values() for x in c["endpoints"].values() for g in x["groups"].values()]
    for e in sections:
        if e["kind"] == "distribution":
            yield e["counts"], e["first_bin"], 20
        elif e["kind"] == "time_to_event":
            yield e["event_bins"], 0, 12
            yield e["censored_bins"], 0, 12


def test_a_histogram_shows_neither_where_a_few_patients_are_nor_its_range(documents) -> None:
    """A bin's position tells the value: below the threshold a zero is withheld like a 3, and the
    bins run over whole spans (20 value bins, 12 time bins), not from the smallest to the largest value."""
    _, docs = documents
    seen = 0
    for _, doc in docs:
        for counts, first, span in _histograms(doc):
            assert all(is_suppressed(c) or c >= 5 for c in counts)
            assert first % span == 0 and len(counts) % span == 0
            seen += len(counts)
    assert seen > 1000


def test_suppression_is_complementary(documents) -> None:
    _, docs = documents
    relations = 0
    for _, doc in docs:
        for members in _relations(doc):
            hidden = sum(is_suppressed(m) for m in members)
            assert hidden != 1, (doc["centre"], members)
            if not hidden:
                assert sum(members[:-1]) == members[-1]
            relations += 1
    assert relations > 100


def test_an_unwritten_complement_counts_as_a_cell(documents) -> None:
    """35 female patients of 38 would tell that 3 are not female: one of the two is withheld."""
    _, docs = documents
    for _, doc in docs:
        n, female = doc["cohort"]["n"], doc["cohort"]["female"]
        counted = doc["endpoints"]["cohort.female"]["value"] if "cohort.female" in doc["endpoints"] else female
        for value in (female, counted):
            if not (is_suppressed(n) or is_suppressed(value)):
                assert not 0 < n - value < 5, doc["centre"]
    cells = Cells()
    doc = {"cohort": {"n": 38, "female": 35}}
    cells.count(("cohort", "n"), 38)
    cells.count(("cohort", "female"), 35)
    cells.complement(("cohort", "female"), ("cohort", "n"), 3)
    assert cells.apply(doc, 5) == 1
    assert doc == {"cohort": {"n": 38, "female": {"suppressed": True}}}


def test_a_cell_below_the_threshold_takes_a_complement_with_it() -> None:
    cells = Cells()
    doc = {"t": {"yes": 3, "no": 20, "missing": 0, "of": 23}}
    for k, v in doc["t"].items():
        cells.count(("t", k), v)
    cells.relation([("t", "yes"), ("t", "no"), ("t", "missing")], ("t", "of"))
    assert cells.apply(doc, 5) == 2
    assert doc["t"] == {"yes": {"suppressed": True}, "no": {"suppressed": True}, "missing": 0, "of": 23}


def test_a_threshold_of_zero_suppresses_nothing() -> None:
    dataset = synthesize_registry(20, 3)
    doc = centre_aggregates(dataset, load_protocol("pardeo2017"), min_cell_count=0)
    assert doc["disclosure"]["suppressed"] == 0
    assert "suppressed\": true" not in json.dumps(doc)
    assert any(0 < v < 5 for _, v in _counts(doc))


ADDITIVE = {"proportion": ("yes", "no", "missing", "of", "among_missing"), "count": ("value", "missing"),
            "distribution": ("n", "missing"), "time_to_event": ("n", "events", "censored", "excluded")}


def _across_groups(doc):
    """Per comparison, endpoint and count: the groups' values, the whole centre's value, and
    whether the ungrouped patients are none (then the groups add up to the whole)."""
    for c in doc["comparisons"].values():
        for eid, x in c["endpoints"].items():
            whole = doc["endpoints"][eid]
            groups = list(x["groups"].values())
            keys = [(k,) for k in ADDITIVE[whole["kind"]]]
            if whole["kind"] == "distribution" and "signed_rank" in whole:
                keys += [("signed_rank", "n"), ("signed_rank", "zeros")]
            for key in keys:
                def at(s, key=key):
                    for k in key:
                        s = s[k]
                    return s
                yield [at(g) for g in groups], at(whole), c["ungrouped"]
            for name, first in (("counts", "first_bin"), ("event_bins", None), ("censored_bins", None)):
                if name not in whole:
                    continue
                start = whole[first] if first else 0
                for j, total in enumerate(whole[name]):
                    parts = [g[name][start + j - (g[first] if first else 0)] for g in groups
                             if 0 <= start + j - (g[first] if first else 0) < len(g[name])]
                    yield parts, total, c["ungrouped"]


def test_a_group_cell_does_not_follow_from_the_whole_centre_and_the_other_groups(documents) -> None:
    """The groups of a comparison add up to the centre's endpoint (with the ungrouped patients'
    part): the whole centre's count minus the other groups' must not give back a withheld cell,
    nor a count of the ungrouped patients below the threshold."""
    _, docs = documents
    checked = 0
    for _, doc in docs:
        for parts, total, ungrouped in _across_groups(doc):
            members = parts + [total]
            hidden = sum(is_suppressed(m) for m in members)
            if ungrouped == 0:
                assert hidden != 1, (doc["centre"], members)
            if hidden == 0 and not is_suppressed(ungrouped):
                assert not 0 < total - sum(parts) < 5, (doc["centre"], members, ungrouped)
            checked += 1
        for c in doc["comparisons"].values():  # a van Elteren part's sizes are the groups' n
            for x in c["endpoints"].values():
                if "rank_sum" in x:
                    for g, k in zip(x["rank_sum"]["groups"], ("n_a", "n_b")):
                        if is_suppressed(x["groups"][g]["n"]):
                            assert is_suppressed(x["rank_sum"][k]), (doc["centre"], x["rank_sum"])
                        checked += 1
    assert checked > 200


@pytest.mark.parametrize("seed", [30, 31])
def test_the_patients_outside_an_among_group_are_a_cell(seed) -> None:
    """A proportion ``among`` a group has the group as denominator (``of``); the cohort minus the
    group and the patients whose membership is unknown (``among_missing``) are the patients
    outside the group: never given back as 0 < c < k."""
    doc = centre_aggregates(synthesize_registry(60, seed), load_protocol("bisphosphonate_wbmri"), min_cell_count=5)
    n = doc["cohort"]["n"]
    among = [e for e in doc["endpoints"].values() if e["kind"] == "proportion" and e["among_missing"] != 0]
    assert among
    for e in among:
        if not any(is_suppressed(x) for x in (n, e["of"], e["among_missing"])):
            assert not 0 < n - e["of"] - e["among_missing"] < 5, e


def _signed_rank_parts(doc):
    for p in doc["paired"].values():
        if p["test"] == "wilcoxon_signed_rank":
            yield p["part"]
    sections = list(doc["endpoints"].values()) + [g for c in doc["comparisons"].values()
                                                  for x in c["endpoints"].values() for g in x["groups"].values()]
    yield from (e["signed_rank"] for e in sections if "signed_rank" in e)


def test_a_signed_rank_sum_does_not_prove_that_a_few_patients_moved_one_way(documents) -> None:
    """m patients have a rank sum of at least m (m + 1) / 2: a published V (or n (n + 1) / 2 - V)
    of 1 to 14 would prove that 1 to 4 patients got worse (or better), a V of 1 or 2 exactly one."""
    _, docs = documents
    shown = 0
    for _, doc in docs:
        for part in _signed_rank_parts(doc):
            if is_suppressed(part["v"]) or is_suppressed(part["n"]):
                continue
            n = part["n"]
            for side in (part["v"], n * (n + 1) / 2 - part["v"]):
                assert not 0 < side < 5 * 6 / 2, (doc["centre"], part)
            shown += 1
    assert shown >= 1
