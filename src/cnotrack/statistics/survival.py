"""Kaplan-Meier estimates with R's confidence intervals and R's median.

The survival curve is the Kaplan-Meier product-limit estimate (Kaplan EL, Meier P.
Nonparametric estimation from incomplete observations. J Am Stat Assoc 1958;53:457-481),
computed with NumPy as lifelines' ``KaplanMeierFitter`` computes it (``S(t) = exp(sum log(1 - d / n))``
over the event table; ``tests/statistics/test_survival.py`` checks the two agree to the bit), so
that evaluating a protocol imports neither lifelines nor pandas. What is reported around it follows R's
``survival::survfit(Surv(time, status) ~ 1)`` defaults, not lifelines':

- **Confidence intervals** use R's default ``conf.type = "log"``: ``S(t) exp(+-z se)`` with
  ``se`` the square root of Greenwood's sum ``sum d / (n (n - d))`` (Greenwood M. The natural
  duration of cancer. Reports on Public Health and Medical Subjects 1926;33), the upper limit
  cut at 1 and both limits missing where S(t) = 0. lifelines' own intervals (the log(-log)
  "exponential Greenwood" form, R's ``conf.type = "log-log"``) are not used.
- **The median and its interval** follow R's ``quantile.survfit``: the first time at which the
  curve (for the interval: its lower, then its upper limit) falls to 0.5 or below; where the
  curve lies at exactly 0.5 (within sqrt(machine epsilon)) over an interval, the rule is chosen
  with ``median_rule``:

  - ``"midpoint"`` (the default): the midpoint of that interval, i.e. of the time the curve
    reaches 0.5 and the next event time (the last observed time when the curve ends at 0.5).
    In R 4.2.2 with survival 3.5.3 *both* ``print(survfit)`` and ``quantile(survfit)`` give
    this midpoint (6.5 for the ``flat`` case of the tests, where S = 0.5 from day 5 to day 8);
    the claim that ``quantile()`` takes the first time is not what survival 3.5.3 does.
  - ``"first"``: the first time the curve is at or below 0.5, R's
    ``min(fit$time[fit$surv <= 0.5 + sqrt(.Machine$double.eps)])`` (5 in the ``flat`` case),
    which is also lifelines' ``median_survival_time_``; the limits of the interval take the
    first time their curve is at or below 0.5 in the same way.

  The two rules differ only where the curve is flat at exactly 0.5. A limit never reached is
  reported as ``None`` ("not reached", R's ``NA``). The method text names the rule used.
- **The at-risk table** at given times is R's ``summary(fit, times = ...)``: the number at risk
  at t (followed at least until t), and the events and censored observations since the
  previous time of the table (inclusive of t). Times after the last observation are left out,
  as R does without ``extend = TRUE``.

Times are given in days and reported in years (days / 365.25). The per-cohort analyses of the
protocol (time to PGA none or minimal, time to a new lesion) are in ``events.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["DAYS_PER_YEAR", "MEDIAN_RULES", "PatientRows", "SurvivalResult", "first_at_or_below", "kaplan_meier",
           "kaplan_meier_by_group", "r_quantile"]

DAYS_PER_YEAR = 365.25
_TOL = float(np.sqrt(np.finfo(float).eps))  # R: sqrt(.Machine$double.eps)
_Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), the 95% interval's z

MEDIAN_RULES = ("midpoint", "first")
_MEDIAN_WORDS = {
    "midpoint": ("median and its interval as R's quantile.survfit and print(survfit): the first time the "
                 "curve (or its limit) is at or below 0.5, or, where it is flat at exactly 0.5, the midpoint "
                 "of that interval (median rule \"midpoint\")"),
    "first": ("median and its interval: the first time the curve (or its limit) is at or below 0.5, R's "
              "min(fit$time[fit$surv <= 0.5 + sqrt(.Machine$double.eps)]), also where it is flat at exactly "
              "0.5 (median rule \"first\", not R's midpoint)"),
}


def method_text(median_rule: str = "midpoint") -> str:
    """The method sentence of a Kaplan-Meier result, naming the median rule."""
    return ("Kaplan-Meier product-limit estimate, time in years (days / 365.25); "
            "95% confidence intervals on the log scale with Greenwood's variance (R survfit's default "
            f"conf.type = \"log\"); {_MEDIAN_WORDS[median_rule]}; number at risk as "
            "R's summary(fit, times = ...).")


METHOD = method_text()


class PatientRows(Sequence):
    """The rows of a table (a Polars DataFrame) as dicts, made on first use.

    A cohort's analysis lists every patient it used and left out; the summary JSON shows only
    their number, and making tens of thousands of dicts costs more than the Kaplan-Meier fit, so
    the dicts are made only when the rows are read (``--detail``, the report). It reads as a
    list of dicts: ``len``, indexing, iteration and ``==`` with a list."""

    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self._rows: list[dict[str, Any]] | None = None

    def _listed(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = self._frame.to_dicts()
        return self._rows

    def __len__(self) -> int:
        return self._frame.height if self._rows is None else len(self._rows)

    def __getitem__(self, index):
        return self._listed()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._listed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PatientRows):
            other = other._listed()
        return self._listed() == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # a list is not hashable either

    def __repr__(self) -> str:
        return repr(self._listed())


@dataclass(frozen=True)
class SurvivalResult:
    """A Kaplan-Meier analysis: counts, median with its 95% interval, at-risk table and curve.

    ``median_ci95`` is ``(lower, upper)`` in years, either of them ``None`` when not reached.
    ``at_risk`` and ``curve`` are lists of dicts (``time_years``, ``n_risk``, ``events``,
    ``censored``, ``survival``, ``lower``, ``upper``). ``subjects`` and ``excluded`` list the
    patients used (``patient_id``, ``days``, ``event``) and left out (``patient_id``, ``reason``)
    when the analysis was made from a cohort.
    """

    label: str
    n: int
    events: int
    censored: int
    median_years: float | None
    median_ci95: tuple[float | None, float | None]
    at_risk: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    method: str
    definition: str = ""
    subjects: Sequence[dict[str, Any]] = field(default_factory=list)  # a list or PatientRows
    excluded: Sequence[dict[str, Any]] = field(default_factory=list)

    def as_json(self, *, detail: bool = True) -> dict[str, Any]:
        """Plain values; ``detail`` adds the per-patient ``subjects`` and ``excluded_patients``."""
        out = {
            "label": self.label, "definition": self.definition, "n": self.n, "events": self.events,
            "censored": self.censored, "excluded": len(self.excluded),
            "median_years": self.median_years,
            "median_ci95": list(self.median_ci95), "at_risk": self.at_risk, "curve": self.curve,
            "method": self.method, "sentence": self.sentence(),
        }
        if detail:
            out |= {"subjects": list(self.subjects), "excluded_patients": list(self.excluded)}
        return out

    def plot_curve(self) -> dict[str, Any]:
        """The curve in the shape ``cnotrack.figures.km_svg`` draws: ``label``, ``times`` and
        ``survival`` (from time 0, at each event time), ``censor_times`` and ``at_risk`` rows
        ``[time, n at risk]`` (time 0 and the times of the at-risk table)."""
        steps = [p for p in self.curve if p["time_years"] == 0 or p["events"] > 0]
        censor = [p["time_years"] for p in self.curve for _ in range(p["censored"])]
        rows = ([[0.0, self.n]] if self.n else []) + [[r["time_years"], r["n_risk"]] for r in self.at_risk]
        return {"label": self.label, "times": [p["time_years"] for p in steps],
                "survival": [p["survival"] for p in steps], "censor_times": censor, "at_risk": rows}

    def sentence(self) -> str:
        def years(x: float | None) -> str:
            return "not reached" if x is None else f"{x:.2f}"

        if self.n == 0:
            return f"{self.label}: no patients to analyse."
        low, high = self.median_ci95
        median = ("the median was not reached" if self.median_years is None else
                  f"median {years(self.median_years)} years (95% CI {years(low)} to {years(high)})")
        return (f"{self.label}: {self.events} events and {self.censored} censored among {self.n} patients; "
                f"{median} (Kaplan-Meier).")


def kaplan_meier(durations_days: Sequence[float], observed: Sequence[bool], *, label: str,
                 times_years: Sequence[float] = (0.5, 1, 2), definition: str = "",
                 median_rule: Literal["midpoint", "first"] = "midpoint") -> SurvivalResult:
    """The Kaplan-Meier estimate of ``durations_days`` (event when ``observed`` is true, else
    censored), reported as R's ``survfit`` would; ``median_rule`` chooses the median where the
    curve is flat at exactly 0.5 (see the module's docstring)."""
    if median_rule not in MEDIAN_RULES:
        raise ValueError(f"{label}: median_rule {median_rule!r} is not one of {list(MEDIAN_RULES)}")
    method = method_text(median_rule)
    days = np.asarray(_listed(durations_days), dtype=float)
    event = np.asarray(_listed(observed), dtype=bool)
    if days.shape != event.shape:
        raise ValueError(f"{label}: {days.size} durations but {event.size} event flags; give one of each per patient")
    if np.isnan(days).any() or (days < 0).any():
        raise ValueError(f"{label}: durations must be numbers of days, 0 or more (got {days.tolist()})")
    if days.size == 0:
        return SurvivalResult(label, 0, 0, 0, None, (None, None), [], [], method, definition)
    years = days / DAYS_PER_YEAR
    time, removed, d, censored, at_risk = event_table(years, event)
    surv = _product_limit(d, at_risk)
    lower, upper = _log_interval(surv, d, at_risk)
    curve = [
        {"time_years": t, "n_risk": int(r), "events": int(e), "censored": c,
         "survival": s, "lower": None if lo != lo else lo, "upper": None if hi != hi else hi}
        for t, r, e, c, s, lo, hi in zip(time.tolist(), at_risk.tolist(), d.tolist(), censored.tolist(),
                                         surv.tolist(), lower.tolist(), upper.tolist())
    ]
    # R's curve starts at time 0 with S = 1 (survfit0); the event table has a time-0 row always
    observed_rows = removed > 0
    t_obs, s_obs = time[observed_rows], surv[observed_rows]
    quantile = r_quantile if median_rule == "midpoint" else first_at_or_below
    median = quantile(0.5, t_obs, s_obs)
    ci = (quantile(0.5, t_obs, lower[observed_rows]), quantile(0.5, t_obs, upper[observed_rows]))
    return SurvivalResult(
        label=label, n=int(days.size), events=int(event.sum()), censored=int((~event).sum()),
        median_years=median, median_ci95=ci, at_risk=_at_risk(years, event, t_obs, s_obs,
                                                              lower[observed_rows], upper[observed_rows],
                                                              times_years),
        curve=curve, method=method, definition=definition,
    )


def kaplan_meier_by_group(durations_days: Sequence[float], observed: Sequence[bool], group: Sequence[str], *,
                          label: str, times_years: Sequence[float] = (0.5, 1, 2), definition: str = "",
                          median_rule: Literal["midpoint", "first"] = "midpoint") -> dict[str, SurvivalResult]:
    """One Kaplan-Meier fit per group (R's ``survfit(Surv(time, status) ~ group)``), keyed by the
    group in sorted order, each labelled ``"<label>: <group>"``; patients without a group are
    left out."""
    days = np.asarray(list(durations_days), dtype=float)
    event = np.asarray(list(observed), dtype=bool)
    groups = np.array(list(group), dtype=object)
    if not days.size == event.size == groups.size:
        raise ValueError(f"{label}: {days.size} durations, {event.size} event flags and {groups.size} groups; "
                         "give one of each per patient")
    names = sorted({g for g in groups.tolist() if g is not None})
    return {g: kaplan_meier(days[groups == g], event[groups == g], label=f"{label}: {g}",
                            times_years=times_years, definition=definition, median_rule=median_rule)
            for g in names}


def _listed(values: Sequence[Any]) -> Sequence[Any]:
    """``values`` as NumPy takes them: a list, an array or a Series as it is, any other iterable listed."""
    return values if hasattr(values, "__len__") else list(values)


def event_table(years: np.ndarray, event: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """lifelines' ``survival_table_from_events``: per distinct time (and time 0, always) the
    time, the observations ``removed``, the events, the censored and the number at risk
    (everyone at time 0, less those removed before)."""
    time, inverse = np.unique(np.concatenate([[0.0], years]), return_inverse=True)
    inverse = inverse[1:]
    removed = np.bincount(inverse, minlength=time.size).astype(np.int64)
    d = np.bincount(inverse, weights=event.astype(float), minlength=time.size).astype(np.int64)
    at_risk = years.size - np.concatenate([[0], np.cumsum(removed)[:-1]])
    return time, removed, d.astype(float), removed - d, at_risk.astype(float)


def _product_limit(d: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """``exp(cumsum(log(n - d) - log(n)))`` with lifelines' handling of an empty risk set (its
    NaN skipped in the sum, then the last value carried forward)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.log(at_risk - d) - np.log(at_risk)
    missing = np.isnan(terms)
    log_s = np.cumsum(np.where(missing, 0.0, terms))
    if missing.any():  # pandas' cumsum leaves NaN where the term is NaN; lifelines then pads
        log_s[missing] = np.nan
        index = np.where(~missing, np.arange(log_s.size), 0)
        log_s = log_s[np.maximum.accumulate(index)]
    return np.exp(log_s)


def first_at_or_below(p: float, time: np.ndarray, surv: np.ndarray) -> float | None:
    """The first time at which the curve ``surv`` is at or below ``1 - p`` (within sqrt(machine
    epsilon)): R's ``min(fit$time[fit$surv <= 0.5 + sqrt(.Machine$double.eps)])`` for p = 0.5;
    ``None`` when never reached (NaN limits never reach it)."""
    surv = np.asarray(surv, dtype=float)
    reached = np.flatnonzero(~np.isnan(surv) & (surv <= 1 - p + _TOL))
    return None if reached.size == 0 else float(np.asarray(time, dtype=float)[reached[0]])


def _log_interval(surv: np.ndarray, d: np.ndarray, n: np.ndarray, level: float = 0.95
                  ) -> tuple[np.ndarray, np.ndarray]:
    """R's ``conf.type = "log"`` limits: NaN where S = 0 (R's NA)."""
    if level == 0.95:
        z = _Z95
    else:
        from scipy.stats import norm

        z = float(norm.ppf(1 - (1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
        se = np.sqrt(np.cumsum(term))
        log_s = np.log(np.where(surv > 0, surv, np.nan))
        lower = np.exp(log_s - z * se)
        upper = np.minimum(np.exp(log_s + z * se), 1.0)
    return lower, upper


def r_quantile(p: float, time: np.ndarray, surv: np.ndarray, first: float = 0.0) -> float | None:
    """The time at which the curve ``surv`` (at ``time``) reaches ``1 - p``: R's
    ``survival:::findq(c(first, time), c(0, 1 - surv), p, sqrt(eps))``; ``None`` for R's NA."""
    x = np.concatenate([[first], np.asarray(time, dtype=float)])
    y = np.concatenate([[0.0], 1 - np.asarray(surv, dtype=float)])
    finite = ~np.isnan(y)
    if not finite.any() or y[finite].max() < p - _TOL:  # R's surv is exact where ours is 0.5 + 1 ulp
        return None
    xmax = x[-1]
    # drop repeated y values (the first is kept; R's duplicated() treats all NAs as one)
    keep, seen, seen_nan = [], set(), False
    for i, v in enumerate(y):
        if np.isnan(v):
            if not seen_nan:
                keep.append(i)
            seen_nan = True
        elif v not in seen:
            seen.add(v)
            keep.append(i)
    x, y = x[keep], y[keep]
    positions = np.arange(y.size)
    ok = ~np.isnan(y)  # approx() drops the NA points but keeps the positions of the others
    i1 = _approx_constant_right(y[ok] + _TOL, positions[ok], p)
    i2 = _approx_constant_right(y[ok] - _TOL, positions[ok], p)
    quant = None if i1 is None or i2 is None else (x[i1] + x[i2]) / 2
    if p == 0:
        quant = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOL and i1 is not None:
        quant = (x[i1] + xmax) / 2
    return None if quant is None else float(quant)


def _approx_constant_right(xs: np.ndarray, values: np.ndarray, at: float) -> int | None:
    """R's ``approx(xs, values, at, method = "constant", f = 1)``: the value at the first
    ``xs >= at``; NA (None) outside the range of ``xs``."""
    order = np.argsort(xs, kind="stable")
    xs, values = xs[order], values[order]
    if xs.size == 0 or at < xs[0] or at > xs[-1]:
        return None
    return int(values[int(np.searchsorted(xs, at, side="left"))])


def _at_risk(years: np.ndarray, event: np.ndarray, t_obs: np.ndarray, s_obs: np.ndarray,
             lower: np.ndarray, upper: np.ndarray, times: Sequence[float]) -> list[dict[str, Any]]:
    rows = []
    previous = -np.inf
    for t in sorted(float(t) for t in times):
        if t > years.max():
            continue  # R's summary(fit, times) leaves out times after the last observation
        since = (years > previous) & (years <= t)
        index = int(np.searchsorted(t_obs, t, side="right")) - 1  # last observed time <= t
        rows.append({
            "time_years": t, "n_risk": int((years >= t).sum()),
            "events": int((since & event).sum()), "censored": int((since & ~event).sum()),
            "survival": 1.0 if index < 0 else float(s_obs[index]),
            "lower": 1.0 if index < 0 else _num(lower[index]),
            "upper": 1.0 if index < 0 else _num(upper[index]),
        })
        previous = t
    return rows


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)
