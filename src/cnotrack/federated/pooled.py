"""Pooling the centres' sufficient statistics, with the single-centre statistics functions.

Exact (the same numbers as the evaluation of the pooled rows): counts; proportions with their
Clopper-Pearson interval (``clopper_pearson`` of the summed counts); the exact McNemar test (the
summed 2 x 2 paired table, ``mcnemar_exact``); Fisher's exact and the chi-squared test of a
comparison (the summed 2 x k table). Centre-stratified, labelled so: van Elteren for two groups,
the stratified signed-rank test for a change. Approximate, labelled with the bin width:
quantiles from binned values (within half a bin), Kaplan-Meier from times rounded up to the end
of their bin. A statistic that needs a suppressed cell is not given; the note names the centres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..results import ProportionResult
from ..statistics.intervals import CLOPPER_PEARSON, clopper_pearson
from ..statistics.paired import mcnemar_exact
from ..statistics.stratified import (
    binned_quantiles,
    cochran_q,
    stratified_signed_rank,
    van_elteren,
)
from ..statistics.survival import kaplan_meier
from ..statistics.two_group import chi_squared, fisher_exact, log_rank
from .disclosure import is_suppressed

__all__ = ["oriented_rank_sum", "pool_comparison", "pool_endpoint", "pool_paired", "summed"]

Sections = Sequence[tuple[str, Mapping[str, Any]]]   # (centre name, its section)


def summed(sections: Sections, key: str) -> tuple[int | None, list[str]]:
    """The sum of ``key`` over the centres, or ``None`` with the centres where it is suppressed."""
    hidden = [name for name, s in sections if is_suppressed(s.get(key))]
    if hidden:
        return None, hidden
    return sum(int(s.get(key, 0)) for _, s in sections), []


def _all(sections: Sections, keys: Sequence[str]) -> tuple[dict[str, int] | None, list[str]]:
    out, hidden = {}, []
    for k in keys:
        out[k], h = summed(sections, k)
        hidden += [c for c in h if c not in hidden]
    return (None, hidden) if hidden else (out, [])


def _bins(sections: Sections, key: str, first_key: str | None = None) -> tuple[np.ndarray | None, int, list[str]]:
    """The summed bins (aligned by ``first_key`` when given), the first bin, the hiding centres."""
    hidden = [name for name, s in sections if any(is_suppressed(c) for c in s.get(key, []))]
    if hidden:
        return None, 0, hidden
    starts = [int(s.get(first_key, 0)) if first_key else 0 for _, s in sections if s.get(key)]
    first = min(starts) if starts else 0
    size = max([int(s.get(first_key, 0) if first_key else 0) - first + len(s[key]) for _, s in sections
                if s.get(key)] or [0])
    total = np.zeros(size, dtype=np.int64)
    for _, s in sections:
        if s.get(key):
            start = (int(s.get(first_key, 0)) if first_key else 0) - first
            total[start:start + len(s[key])] += np.asarray(s[key], dtype=np.int64)
    return total, first, []


def _not_given(hidden: list[str]) -> str:
    return f"not computable: suppressed cells in {', '.join(dict.fromkeys(hidden))}"


def _proportion(label: str, sections: Sections) -> dict[str, Any]:
    """The pooled proportion: needs every centre's ``yes`` and ``of``; a suppressed ``missing``
    leaves only the missing count (and the percent of known) not given."""
    counts, hidden = _all(sections, ("yes", "of"))
    out: dict[str, Any] = {"exact": True, "approximate": None}
    if counts is None:
        return out | {"pooled": None, "note": _not_given(hidden)}
    missing, hidden_missing = summed(sections, "missing")
    among_missing, _ = summed(sections, "among_missing")
    ci = clopper_pearson(counts["yes"], counts["of"])
    result = ProportionResult("", label, counts["yes"], counts["of"], missing or 0, "", None,
                              among_missing or 0, ci95=ci, ci_method=CLOPPER_PEARSON if ci is not None else None)
    pooled = result.as_json() | {"among_missing": among_missing}
    note = None
    if missing is None:
        pooled |= {"missing": None, "percent_of_known": None}
        note = "missing count " + _not_given(hidden_missing)
    known = [(int(s["yes"]), int(s["of"])) for _, s in sections]
    return out | {"pooled": pooled, "method": "summed counts; Clopper-Pearson exact 95% interval of the pooled "
                                              "proportion", "heterogeneity": cochran_q(known), "note": note}


def _distribution(sections: Sections) -> dict[str, Any]:
    width = float(sections[0][1]["bin_width"])
    n, hidden_n = summed(sections, "n")
    missing, hidden_m = summed(sections, "missing")
    bins, first, hidden = _bins(sections, "counts", "first_bin")
    out: dict[str, Any] = {"exact": False, "bin_width": width,
                           "approximate": f"approximate (bins of {width:g} {sections[0][1].get('unit') or 'units'})",
                           "bound": width / 2}
    pooled: dict[str, Any] | None = None
    note = None
    if n is not None and missing is not None:
        pooled = {"n": n, "missing": missing, "unit": sections[0][1].get("unit", "")}
        if bins is None:
            note = "median and quartiles " + _not_given(hidden)
        else:
            pooled |= binned_quantiles(bins.tolist(), width, first)
    else:
        note = _not_given(hidden_n + hidden_m)
    out |= {"pooled": pooled, "note": note,
            "method": f"median and quartiles of the values taken at their bin's midpoint (bins of {width:g}); "
                      f"each within {width / 2:g} of the pooled rows' value"}
    parts = [s.get("signed_rank") for _, s in sections]
    if all(p is not None for p in parts) and parts:
        hidden = [name for name, s in sections if any(is_suppressed(v) for v in s["signed_rank"].values())]
        out["test"] = (stratified_signed_rank(parts) if not hidden else {"p_value": None, "note": _not_given(hidden)})
    return out


def _time_to_event(label: str, sections: Sections) -> dict[str, Any]:
    first = sections[0][1]
    w = int(first["bin_days"])
    out: dict[str, Any] = {"exact": False, "bin_days": w, "approximate": f"approximate (bins of {w} days)",
                           "method": (f"Kaplan-Meier of the pooled times rounded up to the end of their {w}-day bin "
                                      "(exactly the estimate of the rounded times); when no bin holds both an event and "
                                      "a censored time the curve at each bin's end is the rows' curve, and a median "
                                      f"is never earlier than the rows' median and less than {w} days later")}
    counts, hidden = _all(sections, ("n", "events", "censored", "excluded"))
    events, _, hidden_e = _bins(sections, "event_bins")
    censored, _, hidden_c = _bins(sections, "censored_bins")
    if counts is None or events is None or censored is None:
        return out | {"pooled": None, "note": _not_given(hidden + hidden_e + hidden_c)}
    size = max(events.size, censored.size)
    events, censored = np.pad(events, (0, size - events.size)), np.pad(censored, (0, size - censored.size))
    days = np.concatenate([np.repeat(np.arange(size) * w, events), np.repeat(np.arange(size) * w, censored)])
    flags = np.concatenate([np.ones(int(events.sum()), dtype=bool), np.zeros(int(censored.sum()), dtype=bool)])
    km = kaplan_meier(days, flags, label=label, times_years=tuple(first["times_years"]),
                      median_rule=first["median_rule"])
    return out | {"pooled": {"n": km.n, "events": km.events, "censored": km.censored, "excluded": counts["excluded"],
                             "median_years": km.median_years, "median_ci95": list(km.median_ci95),
                             "at_risk": km.at_risk, "curve": km.curve}, "note": None}


def pool_endpoint(kind: str, label: str, sections: Sections) -> dict[str, Any]:
    """One endpoint pooled over the centres' sections (all of the same ``kind``)."""
    if kind == "proportion":
        return _proportion(label, sections)
    if kind == "count":
        counts, hidden = _all(sections, ("value", "missing"))
        return {"exact": True, "approximate": None, "method": "summed counts",
                "pooled": counts, "note": None if counts is not None else _not_given(hidden)}
    if kind == "distribution":
        return _distribution(sections)
    return _time_to_event(label, sections)


def pool_paired(sections: Sections) -> dict[str, Any]:
    """A paired test pooled: the exact McNemar test of the summed paired table, or the stratified
    signed-rank test."""
    first = sections[0][1]
    labels = tuple(first.get("labels") or ()) or None
    if first["test"] == "mcnemar_exact":
        cells, hidden = _all(sections, ("both_true", "true_false", "false_true", "both_false", "dropped_missing"))
        if cells is None:
            return {"exact": True, "pooled": None, "note": _not_given(hidden)}
        order = ("both_true", "true_false", "false_true", "both_false")
        counts = [cells[k] for k in order]
        before = np.repeat([True, True, False, False], counts)
        after = np.repeat([True, False, True, False], counts)
        test = mcnemar_exact(before, after, variable=first["variable"], labels=labels)
        return {"exact": True, "pooled": test.as_json() | {"dropped_missing": cells["dropped_missing"]},
                "method": "exact McNemar test of the summed paired table", "note": None}
    hidden = [name for name, s in sections if any(is_suppressed(v) for v in s["part"].values())]
    if hidden:
        return {"exact": False, "stratified": True, "pooled": None, "note": _not_given(hidden)}
    return {"exact": False, "stratified": True, "approximate": None,
            "pooled": stratified_signed_rank([s["part"] for _, s in sections]) | {"variable": first["variable"]},
            "note": None}


def pool_comparison(label: str, kind: str, groups: list[tuple[str, str]], sections: Sections) -> dict[str, Any]:
    """One endpoint of a comparison pooled: per group, and the test between the groups."""
    per = {}
    for gid, _ in groups:
        here = [(name, s["groups"][gid]) for name, s in sections if gid in s["groups"]]
        per[gid] = pool_endpoint(kind, label, here) if here else {"pooled": None, "note": "no centre has this group"}
    out: dict[str, Any] = {"groups": per, "test": None, "note": None}
    if len(groups) < 2:
        return out | {"note": "fewer than two groups: no test"}
    if kind == "proportion":
        known = {}
        for gid, glabel in groups:
            p = per[gid].get("pooled")
            if p is None:
                return out | {"note": "no test: " + (per[gid].get("note") or "a group has no pooled value")}
            if p["missing"] is None:  # the test counts the patients with a known value: needs the missing
                return out | {"note": f"no test: group {glabel}: " + (per[gid].get("note") or "missing count suppressed")}
            known[glabel] = (p["n"], p["of"] - p["missing"])
        if len(groups) == 2:
            (ya, na), (yb, nb) = known.values()
            test = fisher_exact(ya, na, yb, nb, variable=label, labels=tuple(known))
        else:
            test = chi_squared(known, variable=label)
        return out | {"test": test.as_json(), "exact": True}
    if kind == "distribution" and len(groups) == 2:
        hidden = [name for name, s in sections if s.get("rank_sum") and any(is_suppressed(v) for v in s["rank_sum"].values())]
        if hidden:
            return out | {"note": "van Elteren test " + _not_given(hidden)}
        order = [gid for gid, _ in groups]
        parts = [oriented_rank_sum(s["rank_sum"], order) for _, s in sections if s.get("rank_sum") is not None]
        return out | {"test": van_elteren(parts), "exact": False, "stratified": True}
    if kind == "time_to_event":
        return out | _binned_log_rank(label, groups, sections)
    if kind == "count":
        return out | {"note": "a count has no test between groups (as in the single-centre evaluation)"}
    return out | {"note": "the Kruskal-Wallis test of more than two groups is not combined from aggregates"}


def oriented_rank_sum(part: Mapping[str, Any], order: list[str]) -> Mapping[str, Any]:
    """A centre's van Elteren part with group a the pooled first group (``R_b = N (N + 1) / 2 - R_a``)."""
    if list(part["groups"]) == order:
        return part
    n = int(part["n_a"]) + int(part["n_b"])
    return {"n_a": part["n_b"], "n_b": part["n_a"], "rank_sum_a": n * (n + 1) / 2 - float(part["rank_sum_a"]),
            "ties": part["ties"], "groups": list(order)}


def _binned_log_rank(label: str, groups: list[tuple[str, str]], sections: Sections) -> dict[str, Any]:
    """The log-rank test of the pooled times rounded up to the end of their bin (approximate)."""
    days, flags, names = [], [], []
    w = None
    for gid, glabel in groups:
        here = [(name, s["groups"][gid]) for name, s in sections if gid in s["groups"]]
        events, _, hidden_e = _bins(here, "event_bins")
        censored, _, hidden_c = _bins(here, "censored_bins")
        if events is None or censored is None:
            return {"note": "log-rank test " + _not_given(hidden_e + hidden_c)}
        w = int(here[0][1]["bin_days"]) if here else w
        for counts, flag in ((events, True), (censored, False)):
            times = np.repeat(np.arange(counts.size) * (w or 1), counts)
            days.append(times)
            flags.append(np.full(times.size, flag))
            names += [glabel] * times.size
    test = log_rank(np.concatenate(days).tolist(), np.concatenate(flags).tolist(), names, variable=label)
    return {"test": test.as_json(), "exact": False, "approximate": f"approximate (bins of {w} days)"}
