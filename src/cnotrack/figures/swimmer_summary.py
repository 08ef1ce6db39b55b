"""The swimmer plot of a large cohort, as a summary: above :data:`SWIMMER_MAX_PATIENTS`
eligible patients one lane per patient is neither readable nor cheap (the figure would grow by
a lane per patient), so :func:`swimmer_svg` draws this instead.

Two panels share the time axis (years from each patient's index date, in steps of a quarter
year). The upper one counts, at each step, the patients in follow-up (grey: from the index date to the last assessment) and the
patients on a course of each drug class (the class's colour; a patient on two drugs of one class
counts once; an ongoing course runs to the last assessment). The lower one counts the visits
(assessments) and the imaging studies of each modality in each quarter. Every count is computed
with Polars over the whole cohort; the figure's size does not depend on the number of patients.
"""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure

from ..engine.cohort import drug_table
from ..vocabulary import drugs
from ._svg import figure_style, figure_svg, modality_label
from .palette import INK, SERIES_COLOURS, drug_class_colour

__all__ = ["SWIMMER_MAX_PATIENTS", "STEP_YEARS", "swimmer_summary_svg"]

#: Up to this many eligible patients the swimmer plot has one lane per patient; above, it is
#: the summary of this module.
SWIMMER_MAX_PATIENTS = 50
#: The time step of the summary, in years (a quarter).
STEP_YEARS = 0.25
_YEAR = 365.25


def _years(column: str) -> pl.Expr:
    return (pl.col(column) - pl.col("index_date")).dt.total_days() / _YEAR


def _on_treatment(courses: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """``drug_class, t, patients``: patients on a course of the class at each step."""
    return (courses.join(grid, how="cross").filter((pl.col("start") <= pl.col("t")) & (pl.col("t") < pl.col("end")))
            .group_by("drug_class", "t").agg(pl.col("patient_id").n_unique().alias("patients")))


def swimmer_summary_svg(evaluation, dataset, cohort: pl.DataFrame, title: str,
                        max_patients: int = SWIMMER_MAX_PATIENTS) -> str:
    """The summary swimmer plot of ``cohort`` (``patient_id, index_date, last_assessment_date``);
    ``max_patients`` is the limit it was drawn for, which its note names."""
    index_name = evaluation.protocol.index_treatment.name
    n = cohort.height
    follow = cohort.select("patient_id", _years("last_assessment_date").fill_null(0.0).alias("follow_up"))
    courses = (dataset["treatments"].join(cohort, on="patient_id", how="inner")
               .join(drug_table(), on="drug", how="left")
               .join(follow, on="patient_id", how="left")
               .select("patient_id", pl.col("drug_class").fill_null("other"), _years("start_date").alias("start"),
                       pl.coalesce(_years("stop_date"), pl.max_horizontal(pl.col("follow_up"), _years("start_date")))
                       .alias("end")))
    events = pl.concat([
        dataset["assessments"].join(cohort, on="patient_id", how="inner").select(
            _years("date").alias("t"), pl.lit("visit").alias("kind")),
        dataset["imaging"].join(cohort, on="patient_id", how="inner").select(
            _years("date").alias("t"), pl.col("modality").alias("kind")),
    ])
    low = min(0.0, *(v for v in (courses["start"].min(), events["t"].min()) if v is not None))
    high = max(STEP_YEARS, *(v for v in (follow["follow_up"].max(), courses["end"].max(), events["t"].max())
                             if v is not None))
    first, last = int(low // STEP_YEARS), int(high // STEP_YEARS) + 1
    grid = pl.DataFrame({"t": [k * STEP_YEARS for k in range(first, last + 1)]})
    in_follow_up = grid.join(follow, how="cross").filter(pl.col("t").is_between(0.0, pl.col("follow_up"))).group_by("t").len()
    in_follow_up = grid.join(in_follow_up, on="t", how="left").fill_null(0).sort("t")
    treated = _on_treatment(courses, grid)
    binned = (events.with_columns((pl.col("t") / STEP_YEARS).floor().mul(STEP_YEARS).alias("t"))
              .group_by("kind", "t").len())
    classes = drugs().classes
    used = set(treated["drug_class"].to_list())
    order = [c for c in classes if c in used] + (["other"] if "other" in used else [])

    with figure_style():
        fig = Figure(figsize=(11.5, 7.2))
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        top.step(in_follow_up["t"].to_list(), in_follow_up["len"].to_list(), where="post", color="#999999", lw=2,
                 label="in follow-up (to the last visit)")
        for drug_class in order:
            rows = grid.join(treated.filter(pl.col("drug_class") == drug_class), on="t", how="left").fill_null(0).sort("t")
            top.step(rows["t"].to_list(), rows["patients"].to_list(), where="post", lw=1.6,
                     color=drug_class_colour(drug_class), label=f"on {classes.get(drug_class, 'other drugs')}")
        top.set_ylabel("Patients")
        top.set_ylim(bottom=0)
        top.set_title(title, fontsize=12, fontweight="bold", loc="left", pad=16)
        top.text(0, 1.01, f"Summary of {n} eligible patients (above {max_patients} patients the plot "
                 "counts patients instead of drawing a lane for each)", transform=top.transAxes, fontsize=8,
                 color="#444444", va="bottom")
        kinds = ["visit", *sorted(k for k in set(binned["kind"].to_list()) if k != "visit")]
        width = STEP_YEARS / (len(kinds) + 1)
        for k, kind in enumerate(kinds):
            rows = binned.filter(pl.col("kind") == kind).sort("t")
            colour = INK if kind == "visit" else SERIES_COLOURS[(k - 1) % len(SERIES_COLOURS)]
            label = "visits (assessments)" if kind == "visit" else f"scans: {modality_label(kind)}"
            bottom.bar([t + (k + 0.5) * width for t in rows["t"].to_list()], rows["len"].to_list(), width=width,
                       align="edge", color=colour, label=label)
        bottom.set_ylabel(f"Per {STEP_YEARS:g} year")
        bottom.set_xlabel(f"Years from index date (start of {index_name})")
        for ax in (top, bottom):
            ax.axvline(0, color=INK, linestyle="--", linewidth=1, zorder=0)
            ax.grid(axis="x", color="#EEEEEE", linewidth=0.8, zorder=0)
            ax.set_axisbelow(True)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, alignment="left")
        top.plot([], [], color=INK, linestyle="--", linewidth=1, label=f"index date: start of {index_name}")
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, alignment="left", title="Legend",
                   title_fontsize=9)
        fig.subplots_adjust(left=0.08, right=0.72, top=0.9, bottom=0.09, hspace=0.12)
        return figure_svg(fig, title, desc=f"Swimmer summary of {n} eligible patients: patients in follow-up and on "
                                            f"each drug class, visits and scans per quarter, years from the start "
                                            f"of {index_name}")
