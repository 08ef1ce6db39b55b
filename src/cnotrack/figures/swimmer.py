"""Swimmer plot: each eligible patient's treatment courses, visits and scans over time.

One lane per eligible patient, the longest follow-up on top; time is in years from the
patient's index date (the start of the index treatment, at 0). A treatment course is a bar
coloured by its drug class (the legend names the drugs of each class); courses that overlap
in time are stacked inside the lane so that none hides another. A course with no stop date
is ongoing: it is drawn to the patient's last assessment and ends in an arrow head. Visits
(assessments) are ticks above the bars; imaging studies are markers below them, one marker
shape per modality. The thin grey line is the follow-up, from the index date to the last
assessment.
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

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation
    from ..exchange.dataset import Dataset

__all__ = ["swimmer_svg"]

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


def swimmer_svg(evaluation: Evaluation, dataset: Dataset, *, title: str = "Treatments, visits and scans per patient") -> str:
    """The swimmer plot of the evaluation's eligible patients as an SVG document."""
    cohort = evaluation.cohort.eligible.select("patient_id", "index_date", "last_assessment_date")
    if cohort.is_empty():
        return message_svg(title, "no patients: nobody in the dataset is eligible for the protocol")
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
        for pid in order:
            y = lane[pid]
            ax.plot([0, follow_up[pid]], [y, y], color="#BBBBBB", lw=1, zorder=1)
            mine = by_patient.get(pid, [])
            tracks = _tracks(mine)
            height = _BAR_BAND / tracks
            for course in mine:
                colour = drug_class_colour(course["drug_class"])
                centre = y + _BAR_BAND / 2 - (course["track"] + 0.5) * height
                ax.barh(centre, max(course["end"] - course["start"], 0.01), left=course["start"], height=height * 0.9,
                        color=colour, edgecolor=INK, linewidth=0.4, zorder=2)
                if course["ongoing"]:
                    ax.plot([course["end"]], [centre], marker=">", markersize=7, color=colour,
                            markeredgecolor=INK, markeredgewidth=0.6, zorder=3, clip_on=False)
        for pid, t in visits.sort(["patient_id", "t"]).iter_rows():
            ax.plot([t], [lane[pid] + 0.36], marker="|", markersize=7, color=INK, markeredgewidth=1.1, zorder=4)
        modalities = sorted(set(scans["modality"].to_list()))
        for pid, t, modality in scans.sort(["patient_id", "t", "modality"]).iter_rows():
            ax.plot([t], [lane[pid] - 0.37], marker=MODALITY_MARKERS.get(modality, "X"), markersize=6,
                    markerfacecolor="#ffffff", markeredgecolor=INK, markeredgewidth=1, linestyle="none", zorder=4)
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
