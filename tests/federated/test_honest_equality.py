"""Honest equality: generated cohorts split at random into 2 to 6 centres, each centre's aggregates
(no suppression) combined, against the evaluation of all the rows at once.

Exact statistics must be equal (counts, proportions, Clopper-Pearson intervals, McNemar, Fisher
and chi-squared p values to 1e-9); approximate ones within their stated bound (quantiles within
half a bin; Kaplan-Meier exactly the estimate of the times rounded up to their 30-day bin, and
its median not earlier than the rows' median and at most one bin later; the log-rank test of a
comparison exactly that of the rounded times); stratified tests equal
to an independent computation from the pooled rows with the centre as stratum (SciPy's ranks).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2_contingency, norm, rankdata

from cnotrack.analysis._values import analysis_table
from cnotrack.engine import evaluate
from cnotrack.engine.changes import value_column
from cnotrack.engine.endpoints import distribution_values
from cnotrack.federated import combine
from cnotrack.protocols import load_protocol
from cnotrack.protocols.model import Distribution
from cnotrack.statistics.survival import kaplan_meier
from cnotrack.statistics.two_group import log_rank
from cnotrack.synth import synthesize_registry

from .cohorts import centre_documents, split

EXAMPLES = [(seed, ["pardeo2017", "tnf_vs_anakinra"][seed % 2]) for seed in range(8)]
BIN_DAYS = 30


@pytest.fixture(scope="module", params=EXAMPLES, ids=[f"seed{s}-{p}" for s, p in EXAMPLES])
def example(request):
    seed, name = request.param
    rng = np.random.default_rng(1000 + seed)
    dataset = synthesize_registry(int(rng.integers(50, 110)), seed)
    protocol = load_protocol(name)
    parts, centre_of = split(dataset, int(rng.integers(2, 7)), rng)
    combined = combine(centre_documents(parts, protocol))
    return dataset, protocol, evaluate(dataset, protocol), combined, centre_of


def _z_p(z: float) -> float:
    return float(2 * norm.sf(abs(z)))


def _signed_rank_direct(d: np.ndarray, strata: np.ndarray) -> float | None:
    """The stratified signed-rank p value computed directly from the rows (SciPy's ranks)."""
    keep = ~np.isnan(d) & (d != 0)
    v = e = var = 0.0
    for s in np.unique(strata[keep]):
        x = d[keep & (strata == s)]
        r = rankdata(np.abs(x))
        n = x.size
        _, t = np.unique(np.abs(x), return_counts=True)
        v += r[x > 0].sum()
        e += n * (n + 1) / 4
        var += n * (n + 1) * (2 * n + 1) / 24 - (t ** 3 - t).sum() / 48
    if var <= 0:
        return None
    diff = v - e
    return _z_p((diff - math.copysign(0.5, diff) if diff else 0.0) / math.sqrt(var))


def _km_rounded(days: np.ndarray, event: np.ndarray, like):
    rounded = np.ceil(days / BIN_DAYS) * BIN_DAYS
    return kaplan_meier(rounded, event, label="rounded", times_years=tuple(r["time_years"] for r in like.at_risk)
                        or (0.5, 1, 2))


def test_exact_endpoints_equal_the_pooled_evaluation(example) -> None:
    _, _, full, combined, _ = example
    checked = 0
    for eid, result in full.endpoints.items():
        pooled = combined.endpoints[eid]["pooled"]
        if result.kind == "proportion":
            expected = result.as_json()
            assert {k: pooled[k] for k in expected} == expected, eid
            checked += 1
        elif result.kind == "count":
            assert (pooled["value"], pooled["missing"]) == (result.value, result.missing), eid
            checked += 1
    assert combined.cohort["n"] == full.n and combined.cohort["female"] == full.female
    assert checked >= 5


def test_heterogeneity_is_pearsons_chi_squared_of_the_centres(example) -> None:
    _, protocol, full, combined, centre_of = example
    eid = next(e.id for e in protocol.endpoints if e.kind == "proportion" and e.among is None)
    rows = full.patients.select("patient_id", pl.col(eid).fill_null(False).alias("yes"))
    centre = np.array([centre_of[i] for i in rows["patient_id"]])
    yes = rows["yes"].to_numpy()
    table = np.array([[yes[centre == c].sum(), (~yes[centre == c]).sum()] for c in np.unique(centre)])
    table = table[table.sum(axis=1) > 0]
    h = combined.endpoints[eid]["heterogeneity"]
    if table.shape[0] < 2 or table[:, 0].sum() in (0, table.sum()):
        assert h["q"] is None
        return
    expected = chi2_contingency(table, correction=False)
    assert h["q"] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    assert h["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)
    assert h["i2_percent"] == pytest.approx(max(0.0, (h["q"] - h["df"]) / h["q"]) * 100 if h["q"] else 0.0)


def test_distributions_are_within_half_a_bin_and_changes_are_stratified(example) -> None:
    _, protocol, full, combined, centre_of = example
    strata = np.array([centre_of[i] for i in full.patients["patient_id"]])
    for e in protocol.endpoints:
        if not isinstance(e, Distribution):
            continue
        result, pooled = full.endpoints[e.id], combined.endpoints[e.id]
        assert (pooled["pooled"]["n"], pooled["pooled"]["missing"]) == (result.n, result.missing)
        bound = pooled["bound"] + 1e-9
        assert pooled["approximate"].startswith("approximate (bins of ")
        for ours, theirs in (("median", result.median), ("q1", result.q1), ("q3", result.q3),
                             ("minimum", result.minimum), ("maximum", result.maximum)):
            if theirs is not None:
                assert abs(pooled["pooled"][ours] - theirs) <= bound, (e.id, ours)
        change = e.measure.change or e.measure.percent_change
        if change is not None:
            values = distribution_values(e, full.patients, protocol)
            key = "" if change.of != "lesions" else pytest.skip("lesion changes are not in these protocols")
            before = full.patients[value_column(change.of, change.from_, key)].cast(pl.Float64)
            after = full.patients[value_column(change.of, change.to, key)].cast(pl.Float64)
            d = np.where(values.is_not_null().to_numpy(), (before - after).fill_null(np.nan).to_numpy(), np.nan)
            expected = _signed_rank_direct(d, strata)
            got = pooled["test"]["p_value"]
            assert (got is None) == (expected is None)
            if expected is not None:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-15), e.id


def test_paired_tests_mcnemar_exact_and_signed_rank_stratified(example) -> None:
    dataset, protocol, full, combined, centre_of = example
    table = analysis_table(full, dataset, timepoints=[t for pair in protocol.pairs() for t in pair])
    strata = np.array([centre_of[i] for i in table["patient_id"]])
    assert full.statistics.paired, "the protocol has paired tests"
    for key, test in full.statistics.paired.items():
        pooled = combined.paired[key]["pooled"]
        if test.test == "mcnemar_exact":
            assert (pooled["b"], pooled["c"], pooled["pairs"]) == (test.b, test.c, test.pairs)
            assert (pooled["p_value"] is None) == (test.p_value is None)
            if test.p_value is not None:
                assert abs(pooled["p_value"] - test.p_value) <= 1e-9, key
            continue
        pair, what = key.split(".")
        first, second = pair.split("_vs_")
        column = {"PGA": "pga"}.get(what, what)
        x, y = (table[f"{column}@{tp}"] for tp in (first, second))
        if what == "PGA":
            levels = ["none", "minimal", "mild", "moderate", "severe"]
            x, y = (s.replace_strict(levels, list(range(5)), default=None, return_dtype=pl.Float64) for s in (x, y))
        d = (x.cast(pl.Float64) - y.cast(pl.Float64)).fill_null(np.nan).to_numpy()
        expected = _signed_rank_direct(d, strata)
        assert pooled["p_value"] == pytest.approx(expected, rel=1e-9, abs=1e-15), key
        assert pooled["pairs"] == test.pairs


def test_kaplan_meier_is_the_estimate_of_the_binned_times(example) -> None:
    _, _, full, combined, _ = example
    analyses = [(s, combined.survival[k]["pooled"], s.subjects) for k, s in full.statistics.survival.items()]
    for eid, r in full.endpoints.items():
        if r.kind == "time_to_event":
            analyses.append((r, combined.endpoints[eid]["pooled"], r.subjects))
    for result, pooled, subjects in analyses:
        days = np.array([s["days"] for s in subjects], dtype=float)
        event = np.array([s["event"] for s in subjects], dtype=bool)
        assert (pooled["n"], pooled["events"]) == (result.n, result.events)
        if not days.size:
            continue
        rounded = _km_rounded(days, event, result)
        assert pooled["median_years"] == rounded.median_years
        assert pooled["curve"] == rounded.curve
        if result.median_years is not None and pooled["median_years"] is not None:
            late = (pooled["median_years"] - result.median_years) * 365.25
            assert -1e-6 <= late <= BIN_DAYS + 1e-6, result.label


def test_comparisons_fisher_exact_and_van_elteren_stratified(example) -> None:
    _, protocol, full, combined, centre_of = example
    if not protocol.compare:
        pytest.skip("this protocol compares no groups")
    for key, comparison in full.comparisons.items():
        column = f"group.{key}"
        order = [g["id"] for g in comparison.groups]
        for eid, grouped in comparison.endpoints.items():
            ours = combined.comparisons[key]["endpoints"][eid]
            e = protocol.endpoint(eid) if hasattr(protocol, "endpoint") else next(x for x in protocol.endpoints
                                                                                 if x.id == eid)
            if e.kind == "time_to_event" and len(order) >= 2:
                prefix = f"tte.{eid}"
                rows = full.patients.filter(pl.col(column).is_in(order) & pl.col(f"{prefix}.excluded").is_null())
                labels = {g["id"]: g["label"] for g in comparison.groups}
                rounded = (np.ceil(rows[f"{prefix}.days"].cast(pl.Float64).to_numpy() / BIN_DAYS) * BIN_DAYS).tolist()
                expected = log_rank(rounded, rows[f"{prefix}.event"].to_list(),
                                    [labels[g] for g in rows[column].to_list()], variable=e.label)
                if expected.p_value is None:
                    assert ours["test"]["p_value"] is None
                else:
                    assert ours["test"]["p_value"] == pytest.approx(expected.p_value, rel=1e-9), eid
                assert ours["approximate"] == "approximate (bins of 30 days)"
            if e.kind == "proportion" and grouped.test is not None:
                assert ours["test"]["p_value"] == pytest.approx(grouped.test.p_value, abs=1e-9), eid
                assert ours["test"]["test"] == grouped.test.test
            if isinstance(e, Distribution) and len(order) == 2:
                rows = full.patients.filter(pl.col(column).is_in(order))
                values = distribution_values(e, rows, protocol).cast(pl.Float64).to_numpy()
                group = rows[column].to_numpy()
                strata = np.array([centre_of[i] for i in rows["patient_id"]])
                u = ex = var = 0.0
                for s in np.unique(strata):
                    keep = (strata == s) & ~np.isnan(values)
                    a, b = (keep & (group == g) for g in order)
                    na, nb = int(a.sum()), int(b.sum())
                    if na == 0 or nb == 0:
                        continue
                    n = na + nb
                    r = rankdata(values[keep])
                    _, t = np.unique(values[keep], return_counts=True)
                    u += r[(group[keep] == order[0])].sum() / (n + 1)
                    ex += na / 2
                    var += na * nb / 12 * ((n + 1) - (t ** 3 - t).sum() / (n * (n - 1))) / (n + 1) ** 2
                got = ours["test"]
                assert ours["stratified"] is True
                if var > 0:
                    assert got["p_value"] == pytest.approx(_z_p((u - ex) / math.sqrt(var)), rel=1e-9), eid
                else:
                    assert got["p_value"] is None
