"""Confidence intervals for proportions.

The Clopper-Pearson interval (Clopper CJ, Pearson ES. The use of confidence or fiducial limits
illustrated in the case of the binomial. Biometrika 1934;26:404-413) inverts two one-sided
binomial tests. Its limits are quantiles of beta distributions,

    lower = B(alpha/2; k, n - k + 1)          (0 when k = 0)
    upper = B(1 - alpha/2; k + 1, n - k)      (1 when k = n)

which is exactly what R's ``binom.test(k, n)$conf.int`` reports; the tests check the two
against each other.
"""

from __future__ import annotations


__all__ = ["CLOPPER_PEARSON", "clopper_pearson"]

CLOPPER_PEARSON = "Clopper-Pearson exact 95% interval"


def clopper_pearson(n: int, of: int, level: float = 0.95) -> tuple[float, float] | None:
    """The exact (Clopper-Pearson) interval for ``n`` successes out of ``of``.

    Returns ``(lower, upper)`` as proportions between 0 and 1, or ``None`` when ``of`` is 0:
    with no one in the denominator there is no proportion and so no interval (R's
    ``binom.test`` refuses such a call too). ``n`` must lie between 0 and ``of``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level {level!r} must lie strictly between 0 and 1, for example 0.95")
    if of < 0 or n < 0 or n > of:
        raise ValueError(f"n = {n} and of = {of}: give 0 <= n <= of")
    if of == 0:
        return None
    alpha = 1 - level
    ppf = _beta_ppf()
    lower = 0.0 if n == 0 else float(ppf(alpha / 2, n, of - n + 1))
    upper = 1.0 if n == of else float(ppf(1 - alpha / 2, n + 1, of - n))
    return lower, upper


def _beta_ppf():
    """The beta quantile function of ``scipy.stats.beta.ppf``: the Boost ufunc it calls, taken
    from ``scipy.special`` so that an interval does not import all of ``scipy.stats`` (about a
    second); ``scipy.stats.beta.ppf`` itself where SciPy does not have it there."""
    try:
        from scipy.special._ufuncs import _beta_ppf
    except ImportError:  # another SciPy
        from scipy.stats import beta

        return beta.ppf
    return _beta_ppf
