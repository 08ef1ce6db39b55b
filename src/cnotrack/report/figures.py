"""The report's figures, each an SVG document with a number and a caption.

- the cohort body map of the lesion fates from baseline to 6 months (when the protocol has those
  timepoints; otherwise the first pair of timepoints whose lesions were tracked);
- the lesion flow of the same pair;
- the swimmer plot of treatments, visits and scans;
- the trajectories of ESR, CRP and PGA;
- the Kaplan-Meier curves of both time-to-event analyses on one figure.

A registry's figures stay readable and linear in cost: the body map aggregates crowded places
(``SITE_MARKER_LIMIT``), the swimmer plot and the trajectories become summaries above
``SWIMMER_MAX_PATIENTS`` / ``TRAJECTORY_MAX_PATIENTS`` eligible patients, a comparison's
Kaplan-Meier curves are split over figures of ``KM_MAX_CURVES`` groups; each caption says so.
"""

from __future__ import annotations

import re

from ..engine.evaluate import Evaluation
from ..exchange.dataset import Dataset
from ..figures import (SITE_MARKER_LIMIT, SWIMMER_MAX_PATIENTS, TRAJECTORY_MAX_PATIENTS, body_map_svg, crowded_sites,
                       fate_sites, km_svg, lesion_flow_svg, swimmer_svg, trajectories_svg)
from ..figures.palette import SERIES_COLOURS
from ..words import counted
from ..render.comparisons import by_words
from .comparisons import comparison_curves
from .model import Figure

__all__ = ["KM_MAX_CURVES", "lesion_pair", "prefix_ids", "report_figures"]

#: At most this many curves share one Kaplan-Meier figure of a comparison (one colour each);
#: a comparison with more groups gets several figures.
KM_MAX_CURVES = len(SERIES_COLOURS)


def lesion_pair(evaluation: Evaluation) -> tuple[str, str] | None:
    """The pair of timepoints the lesion figures show: baseline -> month6 when the protocol has
    both and the evaluation tracked the lesions between them, else the first pair it tracked,
    else ``None`` (the protocol tracks no lesions)."""
    if evaluation.lesions.is_empty():
        return None
    tracked = evaluation.lesions.select("from", "to").unique().sort(["from", "to"]).rows()
    return ("baseline", "month6") if ("baseline", "month6") in tracked else tracked[0]


def report_figures(evaluation: Evaluation, dataset: Dataset, statistics) -> tuple[list[Figure], list[str]]:
    """The figures, and notes on those left out."""
    notes: list[str] = []
    labels = {t.id: t.label for t in evaluation.protocol.timepoints}
    modality = evaluation.protocol.imaging_modality.replace("_", " ")
    made: list[tuple[str, str, str, str]] = []   # id, title, caption, svg
    pair = lesion_pair(evaluation)
    if pair is not None:
        earlier, later = labels[pair[0]], labels[pair[1]]
        sites = fate_sites(evaluation, pair=pair)
        title = f"Lesion sites by fate, {earlier} to {later}"
        patients = sites["patient_id"].n_unique()
        crowded = crowded_sites(sites)
        aggregated = (f" At {counted(crowded, 'site')} with more than {SITE_MARKER_LIMIT} lesions the lesions of each "
                      "fate are drawn as one numbered circle (the number: how many; a dark ring: at least one "
                      "symptomatic)." if crowded else "")
        made.append(("body-map", title,
                     f"Every lesion of the {patients} patients with a {modality} at {earlier} and at {later}, on a "
                     "skeleton in anterior view, coloured by its fate; a dark ring marks a symptomatic lesion. "
                     f"Lesions that resolved, improved, stayed stable or worsened are drawn at their site at {earlier}, "
                     f"new lesions at their site at {later}.{aggregated}",
                     body_map_svg(sites, title=title,
                                  subtitle=f"{modality[0].upper()}{modality[1:]}; {patients} patients, "
                                           f"{sites.height} lesions")))
        made.append(("lesion-flow", f"Lesion fates from {earlier} to {later}",
                     f"Where the lesions of the {modality} at {earlier} went by {later}, and the lesions new at "
                     f"{later}.",
                     lesion_flow_svg(evaluation, pair)))
    else:
        notes.append("The protocol tracks no lesions between two timepoints: the body map and the lesion flow "
                     "are left out.")
    n = evaluation.cohort.eligible.height
    made.append(("swimmer", "Treatments, visits and scans per patient",
                 "One row per eligible patient from the index date: treatment courses by drug class, visits "
                 "and imaging studies." if n <= SWIMMER_MAX_PATIENTS else
                 f"A summary of the {n} eligible patients (above {SWIMMER_MAX_PATIENTS} patients a row per patient "
                 "is not drawn): from the index date, the patients in follow-up and on each drug class per quarter "
                 "year, and the visits and imaging studies per quarter year.", swimmer_svg(evaluation, dataset)))
    made.append(("trajectories", "ESR, CRP and physician global assessment over time",
                 ("Thin lines: one patient each; " if n <= TRAJECTORY_MAX_PATIENTS else
                  f"Bands: the 25th to 75th (dark) and 10th to 90th (light) percentiles of the {n} eligible "
                  f"patients' values per quarter year (above {TRAJECTORY_MAX_PATIENTS} patients no line per "
                  "patient is drawn); ")
                 + "bold line: the cohort median at the protocol's timepoints; "
                 "dashed line: the default upper reference limit.", trajectories_svg(evaluation, dataset)))
    analyses = [s for s in statistics.survival.values() if s.n and s.plot_curve()["times"]]
    if analyses:  # an analysis without patients has no curve to draw; its sentence says so
        made.append(("kaplan-meier", "Time to event (Kaplan-Meier)",
                     " ".join(_sentence(f"{s.label}: {s.definition}" if s.definition else s.label) for s in analyses)
                     + " Ticks mark censored patients; the table gives the number at risk.",
                     km_svg([_short_label(s.plot_curve()) for s in analyses], title="Time to event (Kaplan-Meier)",
                            ylabel="Probability of no event yet")))
    else:
        notes.append("No time-to-event analysis has patients: the Kaplan-Meier figure is left out.")
    for comparison in getattr(evaluation, "comparisons", {}).values():
        for eid, label, all_curves in comparison_curves(comparison):
            pages = [all_curves[k:k + KM_MAX_CURVES] for k in range(0, len(all_curves), KM_MAX_CURVES)]
            for page, curves in enumerate(pages, 1):
                part = f" (groups {KM_MAX_CURVES * (page - 1) + 1} to {KM_MAX_CURVES * (page - 1) + len(curves)} " \
                       f"of {len(all_curves)})" if len(pages) > 1 else ""
                made.append((f"kaplan-meier-{comparison.key}-{eid}".replace(".", "-").replace("_", "-")
                             + (f"-{page}" if len(pages) > 1 else ""),
                             f"{label} {by_words(comparison)}{part} (Kaplan-Meier)",
                             f"One curve per group, {by_words(comparison)}; ticks mark censored patients; the table "
                             "gives the number at risk in each group. The log-rank test is in the comparison table."
                             + (f" With more than {KM_MAX_CURVES} groups the curves are split over several figures "
                                f"of {KM_MAX_CURVES}." if len(pages) > 1 else ""),
                             km_svg(curves, title=f"{label} {by_words(comparison)}{part}",
                                    ylabel="Probability of no event yet")))
    return [Figure(fid, i, title, caption, prefix_ids(svg, f"fig{i}-"))
            for i, (fid, title, caption, svg) in enumerate(made, 1)], notes


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def _short_label(curve: dict) -> dict:
    """A curve labelled by its event alone ("PGA none or minimal", not "Time to PGA none or
    minimal"), so that the numbers-at-risk labels fit left of the axis."""
    label = re.sub(r"^(?:time to )(?:an? |the )?", "", curve["label"], flags=re.I)
    return curve | {"label": label[:1].upper() + label[1:]}


_ID = re.compile(r'\bid="([^"]+)"')


def prefix_ids(svg: str, prefix: str) -> str:
    """``svg`` with every ``id`` (and every reference to one: ``href="#..."``, ``url(#...)``)
    prefixed, so that several figures inlined in one HTML page keep their own clip paths,
    markers and glyphs."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def ref(match: re.Match) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}{name}" if name in ids else match.group(0)

    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href="#)([^"]+)(?=")', ref, svg)
    return re.sub(r"(url\(#)([^)]+)(?=\))", ref, svg)
