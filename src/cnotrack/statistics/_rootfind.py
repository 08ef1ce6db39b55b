"""R's root finder, so that estimates found by ``uniroot`` come out as R's to the last digit.

R's ``uniroot(f, c(lower, upper))`` stops at its default tolerance ``.Machine$double.eps^0.25``
(about 1.2e-4), so a statistic R finds with it (the conditional odds ratio of
``fisher.test`` and its exact interval) differs from the exact root in the fourth or fifth
digit. ``uniroot`` below is a line-by-line port of R's ``R_zeroin2`` (``src/library/stats/
src/zeroin.c``, Brent's method as in Forsythe, Malcolm and Moler, Computer Methods for
Mathematical Computations, 1977), called as ``uniroot`` calls it, so that the same function
gives the same root as R.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["R_UNIROOT_TOL", "uniroot"]

EPSILON = sys.float_info.epsilon
R_UNIROOT_TOL = EPSILON ** 0.25  # uniroot's default tol


def uniroot(f: Callable[[float], float], lower: float, upper: float, *, tol: float = R_UNIROOT_TOL,
            maxiter: int = 1000) -> float:
    """R's ``uniroot(f, c(lower, upper))$root``; raises ValueError when f does not change sign."""
    fa, fb = f(lower), f(upper)
    if fa * fb > 0:
        raise ValueError(f"f() values at the end points ({fa}, {fb}) are not of opposite sign")
    a, b = lower, upper
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
