"""Paired comparisons of two timepoints: Wilcoxon signed-rank and the exact McNemar test.

Both tests use the pairs where the patient has a value at both timepoints; the others are
counted as dropped, never imputed.

**Wilcoxon signed-rank** (Wilcoxon F. Individual comparisons by ranking methods. Biometrics
Bulletin 1945;1:80-83), as R's default ``wilcox.test(before, after, paired = TRUE)``:

- the differences are ``d = before - after`` (R's ``x - y`` with ``x = before``); zero
  differences are dropped (Wilcoxon's convention, R's only behaviour), and the absolute values
  of the others are ranked, ties getting their average rank;
- the statistic is R's ``V``: the sum of the ranks of the positive differences, so a value that
  falls over time gives a large V;
- the p value (two-sided) is exact when fewer than 50 differences remain and there are neither
  ties nor zeros; otherwise it comes from the normal approximation with the tie-corrected
  variance and a continuity correction of 1/2 towards the mean.

The p value is SciPy's ``scipy.stats.wilcoxon(d, zero_method="wilcox", correction=True,
method=...)`` with ``method="exact"`` or ``"asymptotic"`` chosen by R's rule above (SciPy's own
``"auto"`` follows a different rule, and SciPy's statistic is ``min(V, n(n+1)/2 - V)``, so V is
computed here), computed by SciPy's algorithm in ``_distributions.py`` so that an evaluation
does not import ``scipy.stats`` (the tests compare the two). An ordinal scale such as the PGA
is coded 0, 1, 2, ... in its order
(none = 0 ... severe = 4) for the test.

**Exact McNemar test** (McNemar Q. Note on the sampling error of the difference between
correlated proportions or percentages. Psychometrika 1947;12:153-157): with ``b`` the pairs
true before and false after and ``c`` the pairs false before and true after, the two-sided p
value is the binomial test of b successes in b + c trials with probability 1/2, as R's
``binom.test(b, b + c)`` and ``exact2x2::mcnemar.exact`` (SciPy's ``binomtest``, computed exactly
in ``_distributions.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ._distributions import average_ranks, binomial_half_p_value, signed_rank_p_value

__all__ = ["PGA_LEVELS", "PairedTest", "mcnemar_exact", "wilcoxon_signed_rank"]

PGA_LEVELS = ("none", "minimal", "mild", "moderate", "severe")
WILCOXON = "wilcoxon_signed_rank"
MCNEMAR = "mcnemar_exact"


@dataclass(frozen=True)
class PairedTest:
    """A paired test with what it used: pairs, dropped pairs, statistic, p value and method.

    For the Wilcoxon test ``statistic`` is R's V, ``median_difference`` the median of
    ``before - after`` over the pairs used; for the McNemar test ``b`` and ``c`` are the
    discordant pairs (true -> false, false -> true).
    """

    test: str
    variable: str
    pairs: int
    dropped_missing: int
    p_value: float | None
    method: str
    unit: str = ""
    labels: tuple[str, str] | None = None
    statistic: float | None = None
    zero_differences: int = 0
    median_before: float | None = None
    median_after: float | None = None
    median_difference: float | None = None
    levels: tuple[str, ...] = ()
    b: int | None = None
    c: int | None = None
    before_true: int | None = None
    after_true: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "test": self.test, "variable": self.variable, "unit": self.unit,
            "labels": list(self.labels) if self.labels else None,
            "pairs": self.pairs, "dropped_missing": self.dropped_missing,
        }
        if self.test == WILCOXON:
            out |= {"statistic": self.statistic, "statistic_name": "V", "difference": "before - after",
                    "zero_differences": self.zero_differences, "median_before": self.median_before,
                    "median_after": self.median_after, "median_difference": self.median_difference,
                    "levels": list(self.levels) or None}
        else:
            out |= {"b": self.b, "c": self.c, "before_true": self.before_true, "after_true": self.after_true}
        out |= {"p_value": self.p_value, "method": self.method, "notes": list(self.notes),
                "sentence": self.sentence()}
        return out

    def sentence(self) -> str:
        """The result in words, e.g. "ESR fell from a median of 35 to 12 mm/h (Wilcoxon
        signed-rank, 8 pairs, V = 36, p = 0.008)"."""
        if self.test == WILCOXON:
            return self._wilcoxon_sentence()
        return self._mcnemar_sentence()

    def _when(self, i: int) -> str:
        return f" {self.labels[i]}" if self.labels else ""

    def _wilcoxon_sentence(self) -> str:
        if self.pairs == 0:
            return f"{self.variable}: no patient had a value at both timepoints, so no test was made."
        unit = f" {self.unit}" if self.unit else ""
        before, after = self._value(self.median_before), self._value(self.median_after)
        assert self.median_before is not None and self.median_after is not None
        if self.median_after == self.median_before:
            change = f"had a median of {after}{unit} at both timepoints"
        else:
            verb = "fell" if self.median_after < self.median_before else "rose"
            if self.labels:
                change = f"{verb} from a median of {before}{unit}{self._when(0)} to {after}{unit}{self._when(1)}"
            else:
                change = f"{verb} from a median of {before} to {after}{unit}"
        stat = "no non-zero difference" if self.p_value is None else (
            f"V = {_number(self.statistic)}, {format_p(self.p_value)}")
        return f"{self.variable} {change} (Wilcoxon signed-rank, {self.pairs} pairs, {stat})"

    def _mcnemar_sentence(self) -> str:
        if self.pairs == 0:
            return f"{self.variable}: no patient had a value at both timepoints, so no test was made."
        first, second = self.labels or ("before", "after")
        test = (f"{format_p(self.p_value)}" if self.p_value is not None else "no discordant pairs, no test")
        return (f"{self.variable}: {self.before_true} of {self.pairs} patients {first} and "
                f"{self.after_true} of {self.pairs} {second} (exact McNemar, {self.pairs} pairs, "
                f"b = {self.b}, c = {self.c}, {test})")

    def _value(self, x: float | None) -> str:
        if x is None:
            return "n/a"
        if not self.levels:
            return _number(x)
        low, high = math.floor(x), math.ceil(x)
        return self.levels[low] if low == high else f"{self.levels[low]}/{self.levels[high]}"


def format_p(p: float | None) -> str:
    if p is None:
        return "p not computed"
    if p < 0.001:
        return "p < 0.001"
    return "p = 1" if p >= 0.9995 else f"p = {p:.3f}"


def _number(x: float | None) -> str:
    if x is None:
        return "n/a"
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def _series(values: Sequence[Any]) -> pl.Series:
    """``values`` (a list, an array or a Polars Series) as one Polars Series."""
    if isinstance(values, pl.Series):
        return values
    return pl.Series("values", values if isinstance(values, np.ndarray) else list(values), strict=False)


def _coded(values: Sequence[Any], levels: Sequence[str] | None, variable: str) -> np.ndarray:
    """The values as floats, NaN where missing (None or NaN); with ``levels``, each value coded
    by its position among them (a value not among them is an error)."""
    series = _series(values)
    if levels is None:
        return series.cast(pl.Float64).fill_null(float("nan")).to_numpy()
    series = series.cast(pl.String)
    unknown = series.filter(series.is_not_null() & ~series.is_in(list(levels)))
    if unknown.len():
        raise ValueError(f"{variable}: {unknown[0]!r} is not one of the levels {list(levels)}")
    codes = series.replace_strict(list(levels), [float(i) for i in range(len(levels))], default=None,
                                  return_dtype=pl.Float64)
    return codes.fill_null(float("nan")).to_numpy()


def _same_length(before: Sequence[Any], after: Sequence[Any], variable: str) -> None:
    if len(before) != len(after):
        raise ValueError(f"{variable}: {len(before)} values before but {len(after)} after; "
                         "give one value (or None) per patient at each timepoint")


def wilcoxon_signed_rank(before: Sequence[Any], after: Sequence[Any], *, variable: str, unit: str = "",
                         levels: Sequence[str] | None = None, labels: tuple[str, str] | None = None,
                         notes: Sequence[str] = ()) -> PairedTest:
    """R's ``wilcox.test(before, after, paired = TRUE)``: V, p value and the method R would use.

    ``before`` and ``after`` hold one value per patient (None when missing); with ``levels``
    they are category names coded by their position (``levels=PGA_LEVELS`` for the PGA).
    """
    x, y = _coded(before, levels, variable), _coded(after, levels, variable)
    _same_length(x, y, variable)
    both = ~(np.isnan(x) | np.isnan(y))
    x, y, used = x[both], y[both], int(both.sum())
    common = dict(test=WILCOXON, variable=variable, unit=unit, labels=labels, levels=tuple(levels or ()),
                  pairs=used, dropped_missing=int(both.size - used), notes=tuple(notes))
    if not used:
        return PairedTest(p_value=None, method="Wilcoxon signed-rank test: no pairs, no test", **common)
    d = x - y
    nonzero = d[d != 0]
    n = nonzero.size
    zeros = int(d.size - n)
    medians = dict(median_before=float(np.median(x)), median_after=float(np.median(y)),
                   median_difference=float(np.median(d)), zero_differences=zeros)
    if n == 0:
        return PairedTest(p_value=None, statistic=0.0, method=(
            "Wilcoxon signed-rank test: every difference is zero, no test"), **common, **medians)
    if np.isnan(nonzero).any():  # an infinite value before and after (inf - inf): no ranks, as SciPy's
        exact = n == 1 and zeros == 0
        reasons = " and ".join(r for r, on in (("ties", n > 1), ("zeros", zeros > 0)) if on)
        statistic = math.nan if (nonzero > 0).any() else 0.0  # the sum of the NaN ranks of the positive ones
        return PairedTest(p_value=math.nan, statistic=statistic, method=(
            "Wilcoxon signed-rank test, exact" if exact else
            "Wilcoxon signed-rank test with normal approximation and continuity correction (" + reasons + ")"),
            **common, **medians)
    ranks, tie_counts = average_ranks(np.abs(nonzero))  # average ranks for ties, as R's rank()
    v = float(ranks[nonzero > 0].sum())
    ties = bool((tie_counts > 1).any())
    exact = n < 50 and not ties and zeros == 0
    p_value = signed_rank_p_value(v, n, tie_counts, exact=exact)
    if exact:
        method = "Wilcoxon signed-rank test, exact"
    else:
        reasons = [r for r, on in (("ties", ties), ("zeros", zeros > 0), ("50 or more pairs", n >= 50)) if on]
        method = ("Wilcoxon signed-rank test with normal approximation and continuity correction ("
                  + " and ".join(reasons) + ")")
    return PairedTest(p_value=float(p_value), statistic=v, method=method, **common, **medians)


def mcnemar_exact(before: Sequence[bool | None], after: Sequence[bool | None], *, variable: str,
                  labels: tuple[str, str] | None = None) -> PairedTest:
    """The exact McNemar test of a yes/no state at two timepoints (R: ``binom.test(b, b + c)``)."""
    x, y = _series(before), _series(after)
    _same_length(x, y, variable)
    both = x.is_not_null() & y.is_not_null()
    x, y = x.filter(both).cast(pl.Boolean), y.filter(both).cast(pl.Boolean)
    b, c = int((x & ~y).sum()), int((~x & y).sum())
    common = dict(test=MCNEMAR, variable=variable, labels=labels, pairs=x.len(),
                  dropped_missing=both.len() - x.len(), b=b, c=c,
                  before_true=int(x.sum()), after_true=int(y.sum()))
    if b + c == 0:
        return PairedTest(p_value=None, method="exact McNemar test: no discordant pairs, no test", **common)
    p = binomial_half_p_value(b, b + c)
    return PairedTest(p_value=p, method="exact McNemar test (two-sided binomial test of b of b + c discordant "
                                        "pairs, probability 1/2)", **common)
