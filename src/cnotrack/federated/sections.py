"""The sufficient statistics of each endpoint, paired test and comparison, from one centre's table.

Every count is registered with :class:`~cnotrack.federated.disclosure.Cells` under its path in
the document, with the relations that tie it to other counts, so that the disclosure rule can
suppress it and its complements. Nothing here writes a patient id, a row or a date: times are
whole bins of days from the endpoint's start, values are counts per bin.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from ..engine.changes import value_column
from ..engine.endpoints import distribution_values
from ..engine.lesion_filters import filter_key
from ..protocols.model import Count, Distribution, Proportion, Protocol, TimeToEvent
from ..statistics.stratified import rank_sum_part, signed_rank_part
from .disclosure import Cells

__all__ = ["BIN_WIDTHS", "TIME_BIN_DAYS", "bin_width", "comparison_section", "endpoint_section",
           "paired_section", "survival_section", "time_bins"]

TIME_BIN_DAYS = 30
SPAN = 20       # a distribution's bins start and end at a multiple of 20 bins
TIME_SPAN = 12  # time bins end at a multiple of 12 bins (360 days)
BIN_WIDTHS = {"follow_up_years": 0.25, "age": 0.25, "percent_change": 5.0, "assessment_value": 0.1}
COHORT_N = ("cohort", "n")


def bin_width(e: Distribution) -> float:
    """The bin width of a distribution endpoint, in its unit (1 unless ``BIN_WIDTHS`` says)."""
    return BIN_WIDTHS.get(e.measure.kind, 1.0)


def time_bins(days: np.ndarray, event: np.ndarray, width: int) -> tuple[list[int], list[int]]:
    """Events and censored patients per bin: bin 0 is day 0, bin ``j`` days ``((j-1) w, j w]``."""
    if days.size == 0:
        return [], []
    j = np.ceil(days.astype(float) / width).astype(np.int64)
    size = -(-(int(j.max()) + 1) // TIME_SPAN) * TIME_SPAN  # padded: the last bin does not show the longest time
    events = np.bincount(j[event], minlength=size)
    censored = np.bincount(j[~event], minlength=size)
    return events.tolist(), censored.tolist()


def _proportion_cells(values: pl.Series, among: pl.Series | None) -> dict[str, int]:
    among_missing = 0
    if among is not None:
        among_missing = int(among.is_null().sum())
        values = values.filter(among.fill_null(False))
    yes, missing = int(values.fill_null(False).sum()), int(values.is_null().sum())
    return {"yes": yes, "no": values.len() - yes - missing, "missing": missing, "of": values.len(),
            "among_missing": among_missing}


def _register_proportion(cells: Cells, at: tuple, counts: dict[str, int], total: tuple | None,
                         among: bool = False) -> None:
    for k in ("yes", "no", "missing", "of", "among_missing"):
        cells.count(at + (k,), counts[k])
    cells.relation([at + ("yes",), at + ("no",), at + ("missing",)], at + ("of",))
    if total is None:
        return
    if among:  # the patients known to be outside the 'among' group: the unwritten rest of the table
        cells.remainder([at + ("of",), at + ("among_missing",)], total, at + ("(not among)",))
    else:  # the denominator is the table itself: the same count as its size
        cells.relation([at + ("of",), at + ("among_missing",)], total)


def _tte_section(cells: Cells, at: tuple, days: np.ndarray, event: np.ndarray, excluded: int,
                 total: tuple | None, times_years: Any, median_rule: str) -> dict[str, Any]:
    events, censored = time_bins(days, event, TIME_BIN_DAYS)
    out = {"kind": "time_to_event", "bin_days": TIME_BIN_DAYS, "times_years": [float(t) for t in times_years],
           "median_rule": median_rule, "n": int(days.size), "events": int(event.sum()),
           "censored": int((~event).sum()), "excluded": excluded, "event_bins": events, "censored_bins": censored}
    for k in ("n", "events", "censored", "excluded"):
        cells.count(at + (k,), out[k])
    cells.relation([at + ("events",), at + ("censored",)], at + ("n",))
    for name, total_name in (("event_bins", "events"), ("censored_bins", "censored")):
        for j, c in enumerate(out[name]):
            cells.count(at + (name, j), c, histogram=True)
        cells.relation([at + (name, j) for j in range(len(out[name]))], at + (total_name,))
    if total is not None:
        cells.relation([at + ("n",), at + ("excluded",)], total)
    return out


def _tte_arrays(e: TimeToEvent, table: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    prefix = f"tte.{e.id}"
    used = table.filter(pl.col(f"{prefix}.excluded").is_null())
    return (used[f"{prefix}.days"].cast(pl.Float64).to_numpy(), used[f"{prefix}.event"].cast(pl.Boolean).to_numpy(),
            table.height - used.height)


def _signed_rank(e: Distribution, table: pl.DataFrame, protocol: Protocol,
                 values: pl.Series) -> list[float | None] | None:
    m = e.measure
    c = m.change or m.percent_change
    if c is None:
        return None
    key = filter_key(c, protocol.imaging_modality) if c.of == "lesions" else ""
    kept = table.filter(values.is_not_null())
    before = kept[value_column(c.of, c.from_, key)].cast(pl.Float64)
    after = kept[value_column(c.of, c.to, key)].cast(pl.Float64)
    return (before - after).to_list()


def _register_signs(cells: Cells, at: tuple, part: dict[str, Any]) -> None:
    """``v`` is the rank sum of the patients whose difference is positive, and ``n (n + 1) / 2 - v``
    that of the negative ones; m patients have a rank sum of at least ``m (m + 1) / 2``, so a small
    rank sum proves that only a few patients moved that way (a sum of 1 or 2: exactly one). The
    largest m a side's sum allows is registered as a virtual cell, on which ``v`` and the tie term
    depend: they are withheld when a side is proven to hold 0 < m < k patients."""
    n, v = int(part["n"]), float(part["v"])
    for name, rank_sum in (("(positive)", v), ("(negative)", n * (n + 1) / 2 - v)):
        at_most = int((math.sqrt(8 * max(rank_sum, 0.0) + 1) - 1) // 2)
        cells.count(at + (name,), at_most)
        cells.virtual.add(at + (name,))
    cells.depends([at + ("v",), at + ("ties",)], [at + ("(positive)",), at + ("(negative)",)])


def _distribution_section(cells: Cells, at: tuple, e: Distribution, table: pl.DataFrame,
                          protocol: Protocol, total: tuple | None) -> dict[str, Any]:
    values = distribution_values(e, table, protocol)
    known = values.drop_nulls().cast(pl.Float64).to_numpy()
    width = bin_width(e)
    bins = np.floor(known / width).astype(np.int64) if known.size else np.zeros(0, dtype=np.int64)
    # padded to whole spans of bins, so that the first and last bins do not show the smallest and largest value
    first = int(bins.min()) // SPAN * SPAN if bins.size else 0
    size = -(-(int(bins.max()) - first + 1) // SPAN) * SPAN if bins.size else 0
    counts = np.bincount(bins - first, minlength=size).tolist() if bins.size else []
    out: dict[str, Any] = {"kind": "distribution", "unit": e.unit, "n": int(known.size),
                           "missing": int(values.len() - known.size), "bin_width": width, "first_bin": first,
                           "counts": counts}
    cells.count(at + ("n",), out["n"])
    cells.count(at + ("missing",), out["missing"])
    for j, c in enumerate(counts):
        cells.count(at + ("counts", j), c, histogram=True)
    cells.relation([at + ("counts", j) for j in range(len(counts))], at + ("n",))
    if total is not None:
        cells.relation([at + ("n",), at + ("missing",)], total)
    differences = _signed_rank(e, table, protocol, values)
    if differences is not None:
        part = signed_rank_part(differences)
        out["signed_rank"] = part
        _register_signs(cells, at + ("signed_rank",), part)
        cells.count(at + ("signed_rank", "n"), part["n"])
        cells.count(at + ("signed_rank", "zeros"), part["zeros"])
        cells.relation([at + ("signed_rank", "n"), at + ("signed_rank", "zeros")], at + ("n",))
        cells.depends([at + ("signed_rank", "v"), at + ("signed_rank", "ties")],
                      [at + ("signed_rank", "n"), at + ("signed_rank", "zeros"), at + ("n",)])
    return out


def endpoint_section(cells: Cells, e: Any, table: pl.DataFrame, protocol: Protocol,
                     where: tuple | None = None, total: tuple | None = COHORT_N) -> dict[str, Any]:
    """One endpoint's sufficient statistics over ``table`` (the patients of the centre, or of a
    group), registered at ``where`` (default ``("endpoints", e.id)``); ``total`` is the path of
    the table's size."""
    where = ("endpoints", e.id) if where is None else where
    if isinstance(e, Proportion):
        counts = _proportion_cells(table[e.id], table[f"{e.id}.among"] if e.among is not None else None)
        _register_proportion(cells, where, counts, total, among=e.among is not None)
        return {"kind": "proportion"} | counts
    if isinstance(e, Distribution):
        return _distribution_section(cells, where, e, table, protocol, total)
    if isinstance(e, TimeToEvent):
        days, event, excluded = _tte_arrays(e, table)
        return _tte_section(cells, where, days, event, excluded, total, e.times_years, protocol.km_median)
    raise TypeError(f"endpoint {getattr(e, 'id', e)!r}: unknown kind")


def count_section(cells: Cells, at: tuple, e: Count, value: int, missing: int, total: tuple = COHORT_N,
                  size: int | None = None) -> dict[str, Any]:
    """A count endpoint (the engine's value and missing count). A count of patients is tied to
    the size of its table (``total``, ``size`` patients): equal to it for ``patients: all``, else
    with its unwritten complement (the patients not counted) as a virtual cell."""
    cells.count(at + ("value",), value)
    cells.count(at + ("missing",), missing)
    of = e.of
    if e.lesions is None and size is not None:
        if e.patients == "all":
            cells.relation([at + ("value",)], total)
        else:
            cells.complement(at + ("value",), total, size - value)
    return {"kind": "count", "value": int(value), "missing": int(missing), "of": of}


def survival_section(cells: Cells, at: tuple, result: Any) -> dict[str, Any]:
    """A time-to-event analysis of the statistics (a ``SurvivalResult`` with its subjects), binned."""
    subjects = result.subjects
    rows = pl.DataFrame(list(subjects), schema={"patient_id": pl.String, "days": pl.Float64, "event": pl.Boolean},
                        orient="row") if len(subjects) else pl.DataFrame(
        schema={"patient_id": pl.String, "days": pl.Float64, "event": pl.Boolean})
    times = [row["time_years"] for row in result.at_risk] or [0.5, 1.0, 2.0]
    return _tte_section(cells, at, rows["days"].to_numpy(), rows["event"].to_numpy().astype(bool),
                        len(result.excluded), COHORT_N, times, "midpoint")


def paired_section(cells: Cells, at: tuple, test: Any, differences: list[float | None] | None) -> dict[str, Any]:
    """A paired test: the McNemar table's four cells, or the signed-rank part of the differences."""
    if test.test == "mcnemar_exact":
        tt = test.before_true - test.b
        cells_ = {"both_true": tt, "true_false": test.b, "false_true": test.c,
                  "both_false": test.pairs - tt - test.b - test.c, "pairs": test.pairs,
                  "dropped_missing": test.dropped_missing}
        for k, v in cells_.items():
            cells.count(at + (k,), v)
        cells.relation([at + (k,) for k in ("both_true", "true_false", "false_true", "both_false")], at + ("pairs",))
        cells.relation([at + ("pairs",), at + ("dropped_missing",)], COHORT_N)
        return {"test": "mcnemar_exact", "variable": test.variable, "labels": list(test.labels or ())} | cells_
    part = signed_rank_part(differences or [])
    _register_signs(cells, at + ("part",), part)
    out = {"test": "wilcoxon_signed_rank", "variable": test.variable, "unit": test.unit,
           "labels": list(test.labels or ()), "pairs": test.pairs, "dropped_missing": test.dropped_missing,
           "part": part}
    cells.count(at + ("pairs",), test.pairs)
    cells.count(at + ("dropped_missing",), test.dropped_missing)
    cells.relation([at + ("pairs",), at + ("dropped_missing",)], COHORT_N)
    cells.count(at + ("part", "n"), part["n"])
    cells.count(at + ("part", "zeros"), part["zeros"])
    cells.relation([at + ("part", "n"), at + ("part", "zeros")], at + ("pairs",))
    cells.depends([at + ("part", "v"), at + ("part", "ties")], [at + ("part", "n"), at + ("part", "zeros")])
    return out


ADDITIVE = {"proportion": ("yes", "no", "missing", "of", "among_missing"), "count": ("value", "missing"),
            "distribution": ("n", "missing"), "time_to_event": ("n", "events", "censored", "excluded")}
HISTOGRAMS = {"distribution": (("counts", "first_bin"),),
              "time_to_event": (("event_bins", None), ("censored_bins", None))}


def _tie_to_whole(cells: Cells, whole_at: tuple, whole: dict[str, Any], here: tuple, order: list[str],
                  per: dict[str, dict[str, Any]], ungrouped: int) -> None:
    """The groups' counts of an endpoint and the ungrouped patients' (unwritten) part add up to
    the whole centre's count: register each such relation, so that the whole minus the other
    groups does not give back a withheld group cell (nor a small ungrouped part)."""
    kind = whole["kind"]
    rest = here + ("(ungrouped)",)
    keys = [(k,) for k in ADDITIVE[kind]]
    if all("signed_rank" in per[g] for g in order) and "signed_rank" in whole:
        keys += [("signed_rank", "n"), ("signed_rank", "zeros")]
    for key in keys:
        cells.remainder([here + ("groups", g) + key for g in order], whole_at + key, rest + key)
    for name, first_key in HISTOGRAMS.get(kind, ()):
        start = int(whole[first_key]) if first_key else 0
        for j in range(len(whole[name])):
            parts = []
            for g in order:
                i = start + j - (int(per[g][first_key]) if first_key else 0)
                if 0 <= i < len(per[g][name]):  # outside a group's (padded) range its count is 0
                    parts.append(here + ("groups", g, name, i))
            cells.remainder(parts, whole_at + (name, j), rest + (name, j), histogram=ungrouped > 0)


def comparison_section(cells: Cells, at: tuple, comparison: Any, result: Any, table: pl.DataFrame,
                       protocol: Protocol, whole: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``compare`` entry (``result``: the engine's ``ComparisonResult``): the group sizes and,
    per endpoint, its statistics in each group (a 2 x k table for a proportion, the van Elteren
    part for a distribution of two groups, the engine's value for a count). ``whole``: the
    centre's endpoint sections (``("endpoints", id)``), to which the groups add up."""
    column = f"group.{comparison.key}"
    order = [g["id"] for g in result.groups]
    groups = []
    for i, g in enumerate(result.groups):
        cells.count(at + ("groups", i, "n"), g["n"])
        groups.append({"id": g["id"], "label": g["label"], "n": g["n"]})
    ungrouped = cells.count(at + ("ungrouped",), len(result.ungrouped))
    cells.relation([at + ("groups", i, "n") for i in range(len(order))] + [at + ("ungrouped",)], COHORT_N)
    endpoints: dict[str, Any] = {}
    tables = {g: table.filter(pl.col(column) == g) for g in order}
    for e in protocol.endpoints:
        here = at + ("endpoints", e.id)
        per: dict[str, Any] = {}
        for i, g in enumerate(order):
            size = at + ("groups", i, "n")
            if isinstance(e, Count):
                r = result.endpoints[e.id].groups[g]
                per[g] = count_section(cells, here + ("groups", g), e, r.value, r.missing, size,
                                       result.groups[i]["n"])
            else:
                per[g] = endpoint_section(cells, e, tables[g], protocol, here + ("groups", g), size)
        entry: dict[str, Any] = {"groups": per}
        if whole is not None and e.id in whole:
            _tie_to_whole(cells, ("endpoints", e.id), whole[e.id], here, order, per, ungrouped)
        if isinstance(e, Distribution) and len(order) == 2:
            a, b = (distribution_values(e, tables[g], protocol).cast(pl.Float64).to_list() for g in order)
            entry["rank_sum"] = rank_sum_part(a, b) | {"groups": list(order)}
            cells.count(here + ("rank_sum", "n_a"), entry["rank_sum"]["n_a"])
            cells.count(here + ("rank_sum", "n_b"), entry["rank_sum"]["n_b"])
            for g, k in zip(order, ("n_a", "n_b")):  # the same count as the group's n
                cells.relation([here + ("rank_sum", k)], here + ("groups", g, "n"))
            cells.depends([here + ("rank_sum", k) for k in ("n_a", "n_b", "rank_sum_a", "ties")],
                          [here + ("rank_sum", "n_a"), here + ("rank_sum", "n_b")]
                          + [at + ("groups", i, "n") for i in range(2)])
        endpoints[e.id] = entry
    return {"label": result.label, "by": result.by, "groups": groups, "ungrouped": ungrouped,
            "endpoints": endpoints}
