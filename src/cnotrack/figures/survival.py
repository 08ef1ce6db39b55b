"""Kaplan-Meier curves with censoring ticks and a numbers-at-risk table under the time axis.

The statistics are computed elsewhere; this module only draws them. Each curve is a mapping
(or any object with these attributes)::

    {
        "label": "anakinra",                     # the group, shown in the legend and the table
        "times": [0.0, 0.5, 1.2],                # years; the times at which survival changes
        "survival": [1.0, 0.89, 0.78],           # S(t) from each time on (a step function)
        "censor_times": [0.8, 1.6],              # optional: years at which a patient was censored
        "at_risk": [[0, 9], [1, 7], [2, 3]],     # optional: (time, number at risk) rows
    }

A curve that does not start at time 0 is drawn from (0, 1). It is drawn as a step function to
its last event or censoring time; a censored patient is a vertical tick on the curve (one tick
per distinct censoring time to 0.01 year, so that a registry's figure does not carry a mark per
patient). The
numbers at risk are printed under the axis at their times, one row per curve, and those times
become the axis ticks.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from ._svg import FigureInputError, figure_style, figure_svg, message_svg
from .palette import SERIES_COLOURS

__all__ = ["KaplanMeierCurve", "km_svg"]

_TICK_DECIMALS = 2   # censor ticks are drawn once per 0.01 year


class KaplanMeierCurve(TypedDict, total=False):
    """The shape of one curve given to :func:`km_svg` (``label``, ``times`` and ``survival`` required)."""

    label: str
    times: Sequence[float]
    survival: Sequence[float]
    censor_times: Sequence[float]
    at_risk: Sequence[Sequence[float]]


def _field(curve: Any, name: str, default: Any = None) -> Any:
    if isinstance(curve, Mapping):
        return curve.get(name, default)
    return getattr(curve, name, default)


def _checked(curves: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for i, curve in enumerate(curves):
        where = f"km_svg: curves[{i}]"
        label = _field(curve, "label")
        times = [float(t) for t in (_field(curve, "times") or [])]
        survival = [float(s) for s in (_field(curve, "survival") or [])]
        if not isinstance(label, str) or not label:
            raise FigureInputError(f"{where}.label must be a non-empty text (got {label!r})")
        if not times or len(times) != len(survival):
            raise FigureInputError(f"{where} ({label}): times and survival must be non-empty lists of the same "
                                   f"length (got {len(times)} times and {len(survival)} survival values)")
        if any(b < a for a, b in zip(times, times[1:])) or times[0] < 0:
            raise FigureInputError(f"{where} ({label}).times must be non-negative and in increasing order (got {times})")
        if any(not 0 <= s <= 1 for s in survival):
            raise FigureInputError(f"{where} ({label}).survival must lie between 0 and 1 (got {survival})")
        if times[0] > 0:
            times, survival = [0.0, *times], [1.0, *survival]
        at_risk = []
        for row in _field(curve, "at_risk") or []:
            if len(row) != 2:
                raise FigureInputError(f"{where} ({label}).at_risk rows must be [time, n at risk] (got {row!r})")
            at_risk.append((float(row[0]), int(row[1])))
        # one tick per distinct time (to 0.01 year, under 4 days: closer ticks coincide on the
        # figure); a registry's figure would otherwise carry one mark per censored patient
        censor = sorted({round(float(t), _TICK_DECIMALS) for t in (_field(curve, "censor_times") or [])})
        out.append({"label": label, "times": times, "survival": survival, "censor_times": censor,
                    "at_risk": at_risk})
    return out


def _survival_at(curve: dict[str, Any], t: float) -> float:
    k = bisect_right(curve["times"], t) - 1
    return curve["survival"][max(k, 0)]


def km_svg(curves: Sequence[Any], *, title: str = "Kaplan-Meier estimate", xlabel: str = "Years",
           ylabel: str = "Probability without the event") -> str:
    """Kaplan-Meier curves (see the module docstring for the shape of a curve) as an SVG document."""
    checked = _checked(curves)
    if not checked:
        return message_svg(title, "no curves to draw")
    rows = len(checked)
    with figure_style():
        fig = Figure(figsize=(8.0, 4.6 + 0.28 * rows))
        ax = fig.add_subplot()
        height = fig.get_figheight()
        fig.subplots_adjust(left=0.2, right=0.97, top=1 - 0.45 / height, bottom=(0.75 + 0.22 * (rows + 1)) / height)
        ends = []
        for curve, colour in zip(checked, SERIES_COLOURS * (1 + rows // len(SERIES_COLOURS))):
            end = max([curve["times"][-1], *curve["censor_times"]])
            ends.append(end)
            xs, ys = [*curve["times"], end], [*curve["survival"], curve["survival"][-1]]
            ax.step(xs, ys, where="post", color=colour, lw=1.8, label=curve["label"], zorder=3)
            if curve["censor_times"]:
                ax.plot(curve["censor_times"], [_survival_at(curve, t) for t in curve["censor_times"]],
                        linestyle="none", marker="|", markersize=9, markeredgewidth=1.4, color=colour, zorder=4)
            curve["colour"] = colour
        risk_times = sorted({t for curve in checked for t, _ in curve["at_risk"]})
        right = max([*ends, *risk_times, 0.0]) or 1.0
        ax.set_xlim(0, right * 1.03)
        ax.set_ylim(0, 1.04)
        if risk_times:
            ax.set_xticks(risk_times)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
        ax.grid(color="#EEEEEE", lw=0.8)
        ax.set_axisbelow(True)
        ax.plot([], [], linestyle="none", marker="|", markersize=9, color="#555555", label="censored")
        ax.legend(loc="lower left", fontsize=8.5)

        line = 0.22 / (height * ax.get_position().height)   # one table row, in axes fractions
        top = -0.62 / (height * ax.get_position().height)
        if any(curve["at_risk"] for curve in checked):
            trans = blended_transform_factory(ax.transData, ax.transAxes)
            ax.text(-0.02, top, "Number at risk", transform=ax.transAxes, ha="right", fontsize=8.5,
                    fontweight="bold")
            for i, curve in enumerate(checked):
                y = top - (i + 1) * line
                ax.text(-0.02, y, curve["label"], transform=ax.transAxes, ha="right", fontsize=8.5,
                        color=curve["colour"])
                for t, n in curve["at_risk"]:
                    ax.text(t, y, str(n), transform=trans, ha="center", fontsize=8.5, clip_on=False)
        return figure_svg(fig, title, desc=f"Kaplan-Meier curves of {', '.join(c['label'] for c in checked)}")

