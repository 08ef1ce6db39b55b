"""Tests stratified by centre, computed from what each centre shares (``cnotrack.federated``).

Each centre computes its own part locally from its own rows; the parts add up. Nothing here
needs a patient row of another centre, and nothing here imports the engine.

- **van Elteren test** (van Elteren PH. On the combination of independent two-sample tests of
  Wilcoxon. Bull Int Stat Inst 1960;37:351-361): two groups, stratified by centre. In centre
  ``s`` with ``N_s = n_a + n_b`` values ranked within the centre (average ranks for ties), ``R_s``
  is the rank sum of group a and ``T_s = sum(t^3 - t)`` over the tie groups. With the weights
  ``w_s = 1 / (N_s + 1)``::

      U = sum_s w_s R_s,   E = sum_s n_a,s / 2,
      Var = sum_s w_s^2 n_a,s n_b,s / 12 * ((N_s + 1) - T_s / (N_s (N_s - 1))),
      z = (U - E) / sqrt(Var),  p = 2 min(Phi(z), 1 - Phi(z)).

  This is the exact (not approximated) van Elteren statistic of the pooled rows with centre as
  stratum; its p value is the normal approximation the test always uses.
- **Stratified Wilcoxon signed-rank test** (the sum of within-centre signed-rank statistics,
  Lehmann EL. Nonparametrics, 1975, ch. 3): in centre ``s`` the ``n_s`` non-zero differences are
  ranked by absolute value within the centre, ``V_s`` is the sum of the ranks of the positive
  ones, ``E_s = n_s (n_s + 1) / 4`` and ``Var_s = n_s (n_s + 1)(2 n_s + 1) / 24 - T_s / 48``::

      z = (sum V_s - sum E_s - 0.5 sign(...)) / sqrt(sum Var_s)

  with R's continuity correction of 1/2 towards the mean. It is the stated alternative to the
  pooled signed-rank test (which would need every difference of every centre ranked together);
  with one centre it is R's ``wilcox.test(paired = TRUE, exact = FALSE)``.
- **Cochran's Q and I^2 for proportions** (Cochran WG. Biometrics 1954;10:101-129; Higgins JPT,
  Thompson SG. Stat Med 2002;21:1539-1558): with ``y_i`` of ``n_i`` in centre ``i`` and the pooled
  ``p = sum y / sum n``, ``Q = sum n_i (y_i / n_i - p)^2 / (p (1 - p))`` (the inverse-variance
  weights with the pooled variance, which is Pearson's chi-squared of the centres x yes/no
  table), on ``k - 1`` df, and ``I^2 = max(0, (Q - df) / Q)``.
- **Quantiles from binned counts**: every value is taken as the midpoint of its bin
  ``[j w, (j + 1) w)`` and the quantiles are computed as numpy's default (linear interpolation);
  each order statistic moves by at most ``w / 2``, so each quantile is within ``w / 2`` of the
  quantile of the values themselves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._distributions import average_ranks, normal_two_sided_p

__all__ = [
    "STRATIFIED_SIGNED_RANK",
    "VAN_ELTEREN",
    "binned_quantiles",
    "cochran_q",
    "rank_sum_part",
    "signed_rank_part",
    "stratified_signed_rank",
    "van_elteren",
]

VAN_ELTEREN = "van Elteren test (Wilcoxon rank-sum stratified by centre, weights 1/(N+1), normal approximation)"
STRATIFIED_SIGNED_RANK = ("stratified Wilcoxon signed-rank test (sum of within-centre V, tie-corrected variance, "
                          "normal approximation with continuity correction)")


def _present(values: Sequence[float | None]) -> np.ndarray:
    x = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return x[~np.isnan(x)]


def rank_sum_part(a: Sequence[float | None], b: Sequence[float | None]) -> dict[str, float | int]:
    """One centre's part of the van Elteren test: ``n_a``, ``n_b``, the within-centre rank sum of
    group a ``rank_sum_a`` and the tie term ``ties = sum(t^3 - t)`` (missing values left out)."""
    x, y = _present(a), _present(b)
    if x.size + y.size == 0:
        return {"n_a": 0, "n_b": 0, "rank_sum_a": 0.0, "ties": 0}
    ranks, counts = average_ranks(np.concatenate([x, y]))
    return {"n_a": int(x.size), "n_b": int(y.size), "rank_sum_a": float(ranks[: x.size].sum()),
            "ties": int((counts.astype(np.int64) ** 3 - counts).sum())}


def van_elteren(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The van Elteren test from the centres' ``rank_sum_part``s: ``statistic`` (z), ``p_value``
    (``None`` with a ``note`` when no centre has both groups or the variance is zero)."""
    u = e = var = 0.0
    used = 0
    for part in parts:
        na, nb = int(part["n_a"]), int(part["n_b"])
        n = na + nb
        if na == 0 or nb == 0:
            continue  # a centre with one group only carries no information on the difference
        w = 1.0 / (n + 1)
        u += w * float(part["rank_sum_a"])
        e += na / 2
        var += w * w * na * nb / 12 * ((n + 1) - float(part["ties"]) / (n * (n - 1)))
        used += 1
    out: dict[str, Any] = {"method": VAN_ELTEREN, "centres_used": used, "statistic_name": "z"}
    if used == 0 or var <= 0:
        note = "no centre has values in both groups" if used == 0 else "every value is the same within each centre"
        return out | {"statistic": None, "p_value": None, "note": note}
    z = (u - e) / math.sqrt(var)
    return out | {"statistic": z, "p_value": normal_two_sided_p(z), "note": None}


def signed_rank_part(differences: Sequence[float | None]) -> dict[str, float | int]:
    """One centre's part of the stratified signed-rank test from its ``before - after``
    differences: ``n`` (non-zero), ``zeros``, ``v`` (sum of the ranks of the positive ones) and
    the tie term ``ties = sum(t^3 - t)``."""
    d = _present(differences)
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return {"n": 0, "zeros": int(d.size), "v": 0.0, "ties": 0}
    ranks, counts = average_ranks(np.abs(nonzero))
    return {"n": int(nonzero.size), "zeros": int(d.size - nonzero.size), "v": float(ranks[nonzero > 0].sum()),
            "ties": int((counts.astype(np.int64) ** 3 - counts).sum())}


def stratified_signed_rank(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The stratified signed-rank test from the centres' ``signed_rank_part``s."""
    v = sum(float(p["v"]) for p in parts)
    e = sum(int(p["n"]) * (int(p["n"]) + 1) / 4 for p in parts)
    var = sum(int(p["n"]) * (int(p["n"]) + 1) * (2 * int(p["n"]) + 1) / 24 - float(p["ties"]) / 48 for p in parts)
    out: dict[str, Any] = {"method": STRATIFIED_SIGNED_RANK, "statistic_name": "V", "statistic": v,
                           "pairs": sum(int(p["n"]) + int(p["zeros"]) for p in parts)}
    if var <= 0:
        return out | {"p_value": None, "z": None, "note": "every difference is zero: no test"}
    diff = v - e
    z = (diff - math.copysign(0.5, diff) if diff != 0 else 0.0) / math.sqrt(var)
    return out | {"z": z, "p_value": normal_two_sided_p(z), "note": None}


def cochran_q(yes_of: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Cochran's Q (on ``k - 1`` df, with its p value) and I^2 (percent) of the centres'
    proportions ``(yes, of)``; centres with ``of == 0`` are left out. ``None`` values when fewer
    than two centres remain or the pooled proportion is 0 or 1 (no variation to test)."""
    from scipy.stats import chi2  # SciPy is imported when a test is made

    kept = [(int(y), int(n)) for y, n in yes_of if n > 0]
    out: dict[str, Any] = {"method": "Cochran's Q (inverse-variance weights, pooled variance) and I^2",
                           "centres": len(kept), "df": max(0, len(kept) - 1)}
    total = sum(n for _, n in kept)
    p = sum(y for y, _ in kept) / total if total else 0.0
    if len(kept) < 2 or p in (0.0, 1.0):
        why = "fewer than two centres with patients" if len(kept) < 2 else "every centre has the same proportion"
        return out | {"q": None, "p_value": None, "i2_percent": None, "note": why}
    q = sum(n * (y / n - p) ** 2 for y, n in kept) / (p * (1 - p))
    df = len(kept) - 1
    i2 = 0.0 if q <= 0 else max(0.0, (q - df) / q) * 100
    return out | {"q": q, "p_value": float(chi2.sf(q, df)), "i2_percent": i2, "note": None}


def binned_quantiles(counts: Sequence[int], width: float, first: int = 0) -> dict[str, float | None]:
    """Median, quartiles, minimum and maximum from the counts per bin (bin ``first + j`` holding
    the values in ``[(first + j) w, (first + j + 1) w)``), each within ``w / 2`` of the value
    from the rows (module docstring)."""
    c = np.asarray(counts, dtype=np.int64)
    if c.sum() == 0:
        return {"median": None, "q1": None, "q3": None, "minimum": None, "maximum": None}
    mid = (np.arange(c.size) + first + 0.5) * width
    values = np.repeat(mid, c)
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3), "minimum": float(values[0]),
            "maximum": float(values[-1])}
