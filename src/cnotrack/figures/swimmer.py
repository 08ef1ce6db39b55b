"""Swimmer plot: each eligible patient's treatment courses, visits and scans over time.

One lane per eligible patient, the longest follow-up on top; time is in years from the
patient's index date (the start of the index treatment, at 0). A treatment course is a bar
coloured by its drug class (the legend names the drugs of each class); courses that overlap
in time are stacked inside the lane so that none hides another. A course with no stop date
is ongoing: it is drawn to the patient's last assessment and ends in an arrow head. Visits
(assessments) are ticks above the bars; imaging studies are markers below them, one marker
shape per modality. The thin grey line is the follow-up, from the index date to the last
assessment.

Above :data:`SWIMMER_MAX_PATIENTS` (50) eligible patients the figure is a summary instead
(:mod:`cnotrack.figures.swimmer_summary`): patients in follow-up and on each drug class over
time, visits and scans per quarter year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..engine.cohort import drug_table
from ..vocabulary import drugs
from ._svg import figure_style, figure_svg, message_svg, modality_label
from .palette import INK, MODALITY_MARKERS, drug_class_colour
from .swimmer_summary import SWIMMER_MAX_PATIENTS, swimmer_summary_svg

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation
    from ..exchange.dataset import Dataset

__all__ = ["SWIMMER_MAX_PATIENTS", "swimmer_svg"]

_YEAR = 365.25
_BAR_BAND = 0.5          # the part of a lane's height that the bars share


def _years(column: str) -> pl.Expr:
    return (pl.col(column) - pl.col("index_date")).dt.total_days() / _YEAR


def _tracks(courses: list[dict]) -> int:
    """Give each course (sorted by start) the first track free at its start; return the count."""
    ends: list[float] = []
    for course in courses:
        for k, end in enumerate(ends):
            if end <= course["start"]:
                ends[k] = course["end"]
                course["track"] = k
                break
        else:
            course["track"] = len(ends)
            ends.append(course["end"])
    return max(len(ends), 1)


def swimmer_svg(evaluation: Evaluation, dataset: Dataset, *, title: str = "Treatments, visits and scans per patient",
                max_patients: int = SWIMMER_MAX_PATIENTS) -> str:
    """The swimmer plot of the evaluation's eligible patients as an SVG document; with more
    than ``max_patients`` of them (default :data:`SWIMMER_MAX_PATIENTS`) the summary of
    :func:`cnotrack.figures.swimmer_summary.swimmer_summary_svg` instead."""
    cohort = evaluation.cohort.eligible.select("patient_id", "index_date", "last_assessment_date")
    if cohort.is_empty():
        return message_svg(title, "no patients: nobody in the dataset is eligible for the protocol")
    if cohort.height > max_patients:
        return swimmer_summary_svg(evaluation, dataset, cohort, title, max_patients)
    index_name = evaluation.protocol.index_treatment.name
    patients = (cohort.with_columns(_years("last_assessment_date").fill_null(0.0).alias("follow_up"))
                .sort(["follow_up", "patient_id"], descending=[True, False]))
    order = patients["patient_id"].to_list()
    lane = {pid: len(order) - 1 - i for i, pid in enumerate(order)}
    follow_up = dict(patients.select("patient_id", "follow_up").iter_rows())

    courses = (dataset["treatments"].join(cohort, on="patient_id", how="inner")
               .join(drug_table(), on="drug", how="left")
               .with_columns(_years("start_date").alias("start"), _years("stop_date").alias("stop"))
               .sort(["patient_id", "start", "drug"]).to_dicts())
    visits = (dataset["assessments"].join(cohort, on="patient_id", how="inner")
              .with_columns(_years("date").alias("t")).select("patient_id", "t"))
    scans = (dataset["imaging"].join(cohort, on="patient_id", how="inner")
             .with_columns(_years("date").alias("t")).select("patient_id", "t", "modality"))

    by_patient: dict[str, list[dict]] = {}
    for course in courses:
        course["ongoing"] = course["stop"] is None
        course["end"] = max(follow_up[course["patient_id"]], course["start"]) if course["ongoing"] else course["stop"]
        by_patient.setdefault(course["patient_id"], []).append(course)

    n = len(order)
    with figure_style():
        fig = Figure(figsize=(11.5, 1.6 + 0.5 * n))
        ax = fig.add_subplot()
        # one artist per kind of mark (not one per course or visit): matplotlib's cost is per artist
        nan = float("nan")
        ax.plot([v for pid in order for v in (0.0, follow_up[pid], nan)],
                [v for pid in order for v in (lane[pid], lane[pid], nan)], color="#BBBBBB", lw=1, zorder=1)
        bars, arrows = [], {}
        for pid in order:
            mine = by_patient.get(pid, [])
            height = _BAR_BAND / _tracks(mine)
            for course in mine:
                colour = drug_class_colour(course["drug_class"])
                centre = lane[pid] + _BAR_BAND / 2 - (course["track"] + 0.5) * height
                bars.append((centre, max(course["end"] - course["start"], 0.01), course["start"], height * 0.9, colour))
                if course["ongoing"]:
                    arrows.setdefault(colour, []).append((course["end"], centre))
        if bars:
            centres, widths, lefts, heights, colours = zip(*bars)
            ax.barh(centres, widths, left=lefts, height=heights, color=colours, edgecolor=INK, linewidth=0.4, zorder=2)
        for colour, points in arrows.items():
            ax.plot([x for x, _ in points], [y for _, y in points], marker=">", markersize=7, color=colour,
                    markeredgecolor=INK, markeredgewidth=0.6, linestyle="none", zorder=3, clip_on=False)
        visit_rows = visits.sort(["patient_id", "t"]).with_columns(
            pl.col("patient_id").replace_strict(lane, return_dtype=pl.Float64).alias("lane"))
        if visit_rows.height:
            ax.plot(visit_rows["t"].to_list(), (visit_rows["lane"] + 0.36).to_list(), marker="|", markersize=7,
                    color=INK, markeredgewidth=1.1, linestyle="none", zorder=4)
        modalities = sorted(set(scans["modality"].to_list()))
        scan_rows = scans.with_columns(pl.col("patient_id").replace_strict(lane, return_dtype=pl.Float64).alias("lane"))
        for modality in modalities:
            mine = scan_rows.filter(pl.col("modality") == modality).sort(["patient_id", "t"])
            ax.plot(mine["t"].to_list(), (mine["lane"] - 0.37).to_list(), marker=MODALITY_MARKERS.get(modality, "X"),
                    markersize=6, markerfacecolor="#ffffff", markeredgecolor=INK, markeredgewidth=1, linestyle="none",
                    zorder=4)
        ax.axvline(0, color=INK, linestyle="--", linewidth=1, zorder=0)
        ax.text(0, n - 0.2, f"index: start of {index_name}", fontsize=8, va="bottom", ha="center", color=INK,
                clip_on=False)
        times = [0.0, *follow_up.values(), *(c["start"] for c in courses), *(c["end"] for c in courses),
                 *visits["t"].to_list(), *scans["t"].to_list()]
        ax.set_xlim(min(times) - 0.15, max(times) + 0.25)

        ax.set_yticks(range(n), [pid for pid in reversed(order)])
        ax.set_ylim(-0.7, n - 0.2)
        ax.set_xlabel(f"Years from index date (start of {index_name})")
        ax.set_ylabel("Patient (longest follow-up on top)")
        ax.set_title(title, fontsize=12, fontweight="bold", loc="left", pad=16)
        ax.grid(axis="x", color="#EEEEEE", linewidth=0.8, zorder=0)
        ax.set_axisbelow(True)

        handles = _legend_handles(courses, modalities)
        handles.append(Line2D([], [], color=INK, linestyle="--", linewidth=1, label=f"index date: start of {index_name}"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  title="Legend", title_fontsize=9, alignment="left")
        fig.subplots_adjust(left=0.09, right=0.70, top=1 - 0.6 / fig.get_figheight(),
                            bottom=0.65 / fig.get_figheight())
        return figure_svg(fig, title, desc=f"Swimmer plot of {n} eligible patients, years from the start of {index_name}")


def _legend_handles(courses: list[dict], modalities: list[str]) -> list:
    classes = drugs().classes
    used: dict[str, list[str]] = {}
    for course in courses:
        names = used.setdefault(course["drug_class"] or "other", [])
        if course["drug"] not in names:
            names.append(course["drug"])
    handles: list = []
    for drug_class in [c for c in classes if c in used] + (["other"] if "other" in used else []):
        label = f"{classes.get(drug_class, 'Other')}: {', '.join(sorted(used[drug_class]))}"
        handles.append(Patch(facecolor=drug_class_colour(drug_class), edgecolor=INK, linewidth=0.4, label=label))
    handles.append(Line2D([], [], marker=">", color="#999999", markeredgecolor=INK, linestyle="none",
                          label="ongoing at the last visit"))
    handles.append(Line2D([], [], marker="|", color=INK, markersize=7, markeredgewidth=1.1, linestyle="none",
                          label="visit (assessment)"))
    for modality in modalities:
        handles.append(Line2D([], [], marker=MODALITY_MARKERS.get(modality, "X"), markerfacecolor="#ffffff",
                              markeredgecolor=INK, linestyle="none", label=f"scan: {modality_label(modality)}"))
    handles.append(Line2D([], [], color="#BBBBBB", lw=1, label="follow-up to the last visit"))
    return handles
