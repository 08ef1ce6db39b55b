"""Trajectories: ESR, CRP and physician global assessment over time, per patient and cohort.

Three panels share the time axis (years from each patient's index date). Each eligible patient
is one thin line. The bold line joins the cohort median at the protocol's windowed timepoints
(baseline, 6 months, ...), where each patient's value is chosen exactly as the engine chooses it
(``engine.timepoints.at_timepoint``: the value closest to the target day inside the window); a
median is drawn at the timepoint's target day. Laboratory values are in their canonical units
(CRP in mg/L, converted from mg/dL where needed); a censored value such as ``<0.5 mg/dL`` is
drawn at its limit. The dashed line is the protocol's default upper reference limit. PGA is
ordinal (none, minimal, mild, moderate, severe): patient lines are offset slightly up or down
so that patients with the same grades stay apart, and its median is the median grade.

Above :data:`TRAJECTORY_MAX_PATIENTS` (50) eligible patients a line per patient is unreadable
and makes the figure grow with the cohort: the patients' values are then summarised per quarter
year by two bands (the 10th to 90th and the 25th to 75th percentiles), and the note says so.
"""

from __future__ import annotations

from statistics import median
from typing import TYPE_CHECKING

import polars as pl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..engine.labs import canonical_labs, protocol_limits
from ..engine.timepoints import at_timepoint
from ..protocols.model import PGA_ORDER
from ..vocabulary import lab_tests
from ._svg import figure_style, figure_svg, message_svg
from .palette import INK, OKABE_ITO

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation
    from ..exchange.dataset import Dataset

__all__ = ["TRAJECTORY_MAX_PATIENTS", "trajectories_svg"]

_YEAR = 365.25
#: Up to this many eligible patients each is a line; above, percentile bands summarise them.
TRAJECTORY_MAX_PATIENTS = 50
_STEP = 0.25                     # years: the time step of the bands
_PATIENT_COLOUR = OKABE_ITO["sky_blue"]
_MEDIAN_COLOUR = INK
_LIMIT_COLOUR = OKABE_ITO["vermillion"]


def _series(evaluation: Evaluation, dataset: Dataset) -> dict[str, pl.DataFrame]:
    """``patient_id, date, value`` per measure (ESR, CRP, PGA), for eligible patients."""
    eligible = evaluation.cohort.eligible.select("patient_id")
    labs = canonical_labs(dataset["labs"], evaluation.protocol).join(eligible, on="patient_id", how="inner")
    out = {test: labs.filter((pl.col("test") == test) & pl.col("value").is_not_null())
           .select("patient_id", "date", "value", "censor") for test in ("ESR", "CRP")}
    codes = pl.DataFrame({"pga": list(PGA_ORDER), "value": [float(i) for i in range(len(PGA_ORDER))]})
    out["PGA"] = (dataset["assessments"].join(eligible, on="patient_id", how="inner")
                  .filter(pl.col("pga").is_not_null()).join(codes, on="pga", how="inner")
                  .select("patient_id", "date", "value", pl.lit(None, dtype=pl.String).alias("censor")))
    return out


def _medians(rows: pl.DataFrame, evaluation: Evaluation) -> list[tuple[float, float, int, str]]:
    """(years, median, n, label) at each windowed timepoint anchored on the index date."""
    out = []
    for timepoint in evaluation.protocol.timepoints:
        if timepoint.anchor != "index" or timepoint.window is None:
            continue
        chosen = at_timepoint(rows, evaluation.cohort.eligible, timepoint)
        values = chosen["value"].to_list()
        if values:
            out.append((timepoint.target_day / _YEAR, float(median(values)), len(values), timepoint.label))
    return out


def _bands(ax, rows: pl.DataFrame) -> None:
    """The 10th-90th and 25th-75th percentiles of the values in each time step, as bands."""
    steps = (rows.with_columns(((pl.col("t") / _STEP).floor() * _STEP + _STEP / 2).alias("t"))
             .group_by("t").agg(*(pl.col("value").quantile(q, "linear").alias(f"q{int(q * 100)}")
                                  for q in (0.1, 0.25, 0.75, 0.9))).sort("t"))
    if steps.is_empty():
        return
    t = steps["t"].to_list()
    ax.fill_between(t, steps["q10"].to_list(), steps["q90"].to_list(), color=_PATIENT_COLOUR, alpha=0.25, lw=0,
                    zorder=2)
    ax.fill_between(t, steps["q25"].to_list(), steps["q75"].to_list(), color=_PATIENT_COLOUR, alpha=0.55, lw=0,
                    zorder=2)


def trajectories_svg(evaluation: Evaluation, dataset: Dataset, *,
                     title: str = "ESR, CRP and physician global assessment over time",
                     max_patients: int = TRAJECTORY_MAX_PATIENTS) -> str:
    """Three panels (ESR mm/h, CRP mg/L, PGA) of per-patient lines and cohort medians, as SVG;
    with more than ``max_patients`` eligible patients (default :data:`TRAJECTORY_MAX_PATIENTS`)
    bands of the 10th-90th and 25th-75th percentiles per quarter year replace the patients' lines."""
    eligible = evaluation.cohort.eligible
    if eligible.is_empty():
        return message_svg(title, "no patients: nobody in the dataset is eligible for the protocol")
    series = _series(evaluation, dataset)
    limits = dict(protocol_limits(evaluation.protocol).select("test", "default_limit").iter_rows())
    index_name = evaluation.protocol.index_treatment.name
    index = eligible.select("patient_id", "index_date")
    patients = eligible["patient_id"].sort().to_list()
    panels = [("ESR", "Erythrocyte sedimentation rate", f"ESR ({lab_tests().test('ESR').canonical_unit})"),
              ("CRP", "C-reactive protein", f"CRP ({lab_tests().test('CRP').canonical_unit})"),
              ("PGA", "Physician global assessment", "PGA (ordinal grade)")]
    censored = any(series[t]["censor"].drop_nulls().len() for t in ("ESR", "CRP"))
    summary = len(patients) > max_patients

    with figure_style():
        fig = Figure(figsize=(13.5, 4.9))
        axes = fig.subplots(1, 3, sharex=True)
        for ax, (measure, heading, label) in zip(axes, panels):
            rows = series[measure].join(index, on="patient_id", how="inner").with_columns(
                ((pl.col("date") - pl.col("index_date")).dt.total_days() / _YEAR).alias("t")).sort(["patient_id", "date"])
            if summary:
                _bands(ax, rows)
            else:
                by_patient = rows.partition_by("patient_id", as_dict=True)
                for k, pid in enumerate(patients):
                    mine = by_patient.get((pid,))
                    if mine is None:
                        continue
                    shift = ((k % 5) - 2) * 0.05 if measure == "PGA" else 0.0
                    ax.plot(mine["t"].to_list(), [v + shift for v in mine["value"].to_list()], color=_PATIENT_COLOUR,
                            lw=0.9, alpha=0.85, marker="o", markersize=2.2, zorder=2)
            medians = _medians(rows.select("patient_id", "date", "value"), evaluation)
            if medians:
                ax.plot([m[0] for m in medians], [m[1] for m in medians], color=_MEDIAN_COLOUR, lw=2.8,
                        marker="o", markersize=6, zorder=4)
                for x, y, n, tp_label in medians:
                    shown = PGA_ORDER[int(y)] if measure == "PGA" and float(y).is_integer() else f"{y:g}"
                    ax.annotate(f"{tp_label}: {shown} (n={n})", (x, y), textcoords="offset points", xytext=(6, 7),
                                fontsize=7.5, color=_MEDIAN_COLOUR, zorder=5,
                                bbox=dict(boxstyle="round,pad=0.15", facecolor="#ffffff", edgecolor="none", alpha=0.8))
            if measure in limits:
                ax.axhline(limits[measure], color=_LIMIT_COLOUR, linestyle="--", lw=1.2, zorder=3)
                unit = lab_tests().test(measure).canonical_unit
                ax.annotate(f"upper limit {limits[measure]:g} {unit}", (1.0, limits[measure]),
                            xycoords=("axes fraction", "data"), textcoords="offset points", xytext=(-2, 3),
                            ha="right", fontsize=7.5, color=_LIMIT_COLOUR)
            if measure == "PGA":
                ax.set_yticks(range(len(PGA_ORDER)), list(PGA_ORDER))
                ax.set_ylim(-0.4, len(PGA_ORDER) - 0.6)
            else:
                ax.set_ylim(bottom=0)
            ax.axvline(0, color="#777777", lw=0.8, linestyle=":", zorder=1)
            ax.set_title(heading, fontsize=10, loc="left")
            ax.set_ylabel(label)
            ax.set_xlabel(f"Years from index date (start of {index_name})")
            ax.grid(color="#EEEEEE", lw=0.8)
            ax.set_axisbelow(True)
        patient_handles = ([Patch(facecolor=_PATIENT_COLOUR, alpha=0.55, label="middle half of the values (quartiles)"),
                            Patch(facecolor=_PATIENT_COLOUR, alpha=0.25, label="10th to 90th percentile")]
                           if summary else
                           [Line2D([], [], color=_PATIENT_COLOUR, lw=0.9, marker="o", markersize=2.2, label="one patient")])
        handles = [*patient_handles,
                   Line2D([], [], color=_MEDIAN_COLOUR, lw=2.8, marker="o", label="cohort median at the protocol's timepoints"),
                   Line2D([], [], color=_LIMIT_COLOUR, lw=1.2, linestyle="--", label="upper reference limit (protocol default)"),
                   Line2D([], [], color="#777777", lw=0.8, linestyle=":", label="index date")]
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8.5, bbox_to_anchor=(0.5, 0.0))
        fig.suptitle(title, fontsize=12, fontweight="bold", x=0.01, y=0.985, ha="left")
        note = f"{len(patients)} eligible patients."
        if summary:
            note += (f" Above {max_patients} patients the values are summarised per {_STEP:g} year (bands) "
                     "instead of a line per patient.")
        if censored:
            note += " Values reported as below a limit (e.g. <0.5 mg/dL) are drawn at the limit."
        if not summary:
            note += " PGA lines are offset slightly so patients with equal grades stay apart."
        fig.text(0.01, 0.905, note, fontsize=8, color="#444444", ha="left")
        fig.subplots_adjust(left=0.06, right=0.99, top=0.83, bottom=0.2, wspace=0.28)
        return figure_svg(fig, title, desc=f"Per-patient ESR, CRP and PGA with cohort medians; {len(patients)} patients")
