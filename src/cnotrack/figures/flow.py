"""Lesion flow: where the lesions of the earlier study went by the later one, and what was new.

A Sankey-like figure drawn as plain SVG. On the left, the lesions of the earlier study (and,
below them, the new lesions, which the earlier study did not have); on the right, the five
fates. Each band is as thick as its number of lesions and is labelled with the count and, for
the earlier study's lesions, the share of them (resolved + improved + stable + worsened =
lesions of the earlier study). A fate with no lesion keeps its place, drawn as a thin line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ._svg import attrs, document, message_svg, modality_label, num, pair_labels, text
from .palette import FATE_COLOURS, FATE_ORDER, INK

if TYPE_CHECKING:
    from ..engine.evaluate import Evaluation

__all__ = ["lesion_flow_counts", "lesion_flow_svg"]

_WIDTH, _HEIGHT = 760.0, 470.0
_LEFT_X, _RIGHT_X, _BAR = 170.0, 460.0, 22.0   # room on the right for "improved: 1702 (33% of 5229)"
_TOP, _SPAN, _GAP = 96.0, 290.0, 16.0


def lesion_flow_counts(evaluation: Evaluation, pair: tuple[str, str] = ("baseline", "month6")) -> dict[str, int]:
    """Lesions of ``pair`` by fate (every fate, zero included) and ``baseline`` (the earlier
    study's lesions: all fates but new); ``not_assessed`` too when some lesion of the earlier
    study was not assessed at the later one (not part of ``baseline``)."""
    pair_labels(evaluation.protocol, pair, "lesion_flow_counts")
    counts = {fate: 0 for fate in FATE_ORDER}
    lesions = evaluation.lesions
    if lesions.height and "fate" in lesions.columns:
        rows = lesions.filter((pl.col("from") == pair[0]) & (pl.col("to") == pair[1]))
        for fate, n in rows.group_by("fate").len().iter_rows():
            counts[fate] = int(n)
    counts["baseline"] = sum(n for fate, n in counts.items() if fate in FATE_ORDER and fate != "new")
    return counts


def _patients_with_both(evaluation: Evaluation, pair: tuple[str, str]) -> int | None:
    columns = [f"study@{pair[0]}", f"study@{pair[1]}"]
    if not all(c in evaluation.patients.columns for c in columns):
        return None
    return int(evaluation.patients.filter(pl.col(columns[0]).is_not_null() & pl.col(columns[1]).is_not_null()).height)


def _band(x0: float, y0: float, x1: float, y1: float, thickness: float, colour: str, fate: str) -> str:
    """A band of constant ``thickness`` from (x0, y0) to (x1, y1) (top edges), as a filled path."""
    mid = (x0 + x1) / 2
    d = (f"M{num(x0)},{num(y0)} C{num(mid)},{num(y0)} {num(mid)},{num(y1)} {num(x1)},{num(y1)} "
         f"L{num(x1)},{num(y1 + thickness)} C{num(mid)},{num(y1 + thickness)} {num(mid)},{num(y0 + thickness)} "
         f"{num(x0)},{num(y0 + thickness)} Z")
    return f"<path{attrs(class_=f'flow fate-{fate}', d=d, fill=colour, fill_opacity='0.45', stroke=colour, stroke_opacity='0.8', stroke_width='0.8')}/>"


def lesion_flow_svg(evaluation: Evaluation, pair: tuple[str, str] = ("baseline", "month6"), *,
                    title: str | None = None) -> str:
    """The lesion flow of ``pair`` (two timepoint ids of the protocol) as an SVG document."""
    earlier, later = pair_labels(evaluation.protocol, pair, "lesion_flow_svg")
    title = title or f"Lesion fates from {earlier} to {later}"
    counts = lesion_flow_counts(evaluation, pair)
    base, new = counts["baseline"], counts["new"]
    if base + new == 0:
        return message_svg(title, f"no lesions at {earlier} or {later}")
    modality = modality_label(evaluation.protocol.imaging_modality)
    both = _patients_with_both(evaluation, pair)
    subtitle = modality[0].upper() + modality[1:]
    if both is not None:
        subtitle += (f"; lesions of the {both} patient{'s' if both != 1 else ''} with a study at both "
                     f"{earlier} and {later}")

    scale = (_SPAN - _GAP * (len(FATE_ORDER) - 1)) / (base + new)
    body = [text(_WIDTH / 2, 30, title, size=18, anchor="middle", weight="bold", class_="figure-title"),
            text(_WIDTH / 2, 52, subtitle, size=12, anchor="middle", fill="#444444"),
            text(_LEFT_X + _BAR / 2, _TOP - 18, earlier, size=14, anchor="middle", weight="bold", class_="column-label"),
            text(_RIGHT_X + _BAR / 2, _TOP - 18, later, size=14, anchor="middle", weight="bold", class_="column-label")]

    # right column: the five fates in order, each at least a thin line
    right_y, y = {}, _TOP
    for fate in FATE_ORDER:
        right_y[fate] = y
        y += counts[fate] * scale + _GAP
    # left column: the earlier study's lesions beside their fates, new lesions beside "new"
    left_top = _TOP + (right_y["worsened"] + counts["worsened"] * scale - _TOP - base * scale) / 2
    new_top = right_y["new"]

    y = left_top
    for fate in FATE_ORDER:
        n = counts[fate]
        if fate == "new":
            if n:
                body.append(_band(_LEFT_X + _BAR, new_top, _RIGHT_X, right_y[fate], n * scale, FATE_COLOURS[fate], fate))
            continue
        if n:
            body.append(_band(_LEFT_X + _BAR, y, _RIGHT_X, right_y[fate], n * scale, FATE_COLOURS[fate], fate))
        y += n * scale

    if base:
        body.append(f"<rect{attrs(class_='node', x=num(_LEFT_X), y=num(left_top), width=num(_BAR), height=num(base * scale), fill=FATE_COLOURS['baseline'])}/>")
    body.append(text(_LEFT_X - 10, left_top + base * scale / 2 - 2, f"{base} lesions", size=14, anchor="end", weight="bold"))
    body.append(text(_LEFT_X - 10, left_top + base * scale / 2 + 15, f"seen at {earlier}", size=12, anchor="end", fill="#444444"))
    if new:
        body.append(f"<rect{attrs(class_='node', x=num(_LEFT_X), y=num(new_top), width=num(_BAR), height=num(new * scale), fill='#ffffff', stroke=FATE_COLOURS['new'], stroke_dasharray='4 3', stroke_width='1.5')}/>")
    body.append(text(_LEFT_X - 10, new_top + new * scale / 2 - 2, f"{new} not seen", size=13, anchor="end"))
    body.append(text(_LEFT_X - 10, new_top + new * scale / 2 + 14, f"at {earlier}", size=12, anchor="end", fill="#444444"))

    for fate in FATE_ORDER:
        n, top = counts[fate], right_y[fate]
        height = max(n * scale, 1.5)
        body.append(f"<rect{attrs(class_=f'node fate-{fate}', x=num(_RIGHT_X), y=num(top), width=num(_BAR), height=num(height), fill=FATE_COLOURS[fate])}/>")
        share = f" ({100 * n / base:.0f}% of {base})" if fate != "new" and base else ""
        body.append(text(_RIGHT_X + _BAR + 10, top + height / 2 + 5, f"{fate}: {n}{share}", size=14,
                         weight="bold" if n else None, fill=INK if n else "#777777", class_="fate-label"))

    seen_later = base - counts["resolved"] + new
    notes = [f"{earlier}: {base} lesions = {counts['resolved']} resolved + {counts['improved']} improved + "
             f"{counts['stable']} stable + {counts['worsened']} worsened.",
             f"{later}: {seen_later} lesions seen = {counts['improved']} improved + {counts['stable']} stable + "
             f"{counts['worsened']} worsened + {new} new."]
    if counts.get("not_assessed"):  # format 1.1: in no fate, not drawn
        notes.append(f"{counts['not_assessed']} more {earlier} lesion(s) not assessed at {later}: in no fate, "
                     "not drawn.")
    body += [text(40, _HEIGHT - 40 + 18 * k, line, size=12, fill="#444444", class_="note") for k, line in enumerate(notes)]
    desc = f"{title}: " + ", ".join(f"{fate} {counts[fate]}" for fate in FATE_ORDER) + f" of {base} {earlier} lesions"
    return document(_WIDTH, _HEIGHT, title, body, desc=desc, root_class="cnotrack-figure cnotrack-lesion-flow")
