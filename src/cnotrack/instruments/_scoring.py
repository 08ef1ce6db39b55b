"""Computing from a definition: items that add points, and cut-offs on a total.

Comparisons are exact (see ``_inputs.exact``): a CRP of 10 mg/L meets ">= 10" however it
was typed, and a change of exactly -30 % meets "<= -30".
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from ._definitions import Comparison, CutOff, InstrumentDefinition, ScoringItem
from ._inputs import exact
from ._result import InstrumentResult, ItemResult, result_of

__all__ = ["additive_result", "compare", "interpret", "item_met", "score_items"]


def compare(value: int | float | Fraction, comparison: Comparison, threshold: int | float) -> bool:
    v = value if isinstance(value, Fraction) else exact(value)
    t = exact(threshold)
    if comparison is Comparison.GE:
        return v >= t
    if comparison is Comparison.GT:
        return v > t
    if comparison is Comparison.LE:
        return v <= t
    if comparison is Comparison.LT:
        return v < t
    raise ValueError(f"{comparison.value!r} is not a numeric comparison")


def item_met(item: ScoringItem, value: Any) -> bool:
    if item.condition is Comparison.IS_TRUE:
        return value is True
    assert item.threshold is not None  # checked when the definition was loaded
    return compare(value, item.condition, item.threshold)


def score_items(definition: InstrumentDefinition, values: Mapping[str, Any]) -> tuple[int, list[ItemResult]]:
    """Sum the points of the items whose condition is met; explain each item."""
    total = 0
    explained: list[ItemResult] = []
    for item in definition.items:
        value = values[item.input]
        met = item_met(item, value)
        points = item.points if met else 0
        total += points
        odds = f"; odds ratio {item.odds_ratio:.1f}" if item.odds_ratio is not None else ""
        verdict = "met" if met else "not met"
        explained.append(
            ItemResult(
                input=item.input,
                value=value,
                points=points,
                note=f"{item.label}: {verdict} ({item.rule()} earns {item.points}{odds})",
            )
        )
    return total, explained


def interpret(definition: InstrumentDefinition, total: int | float, applies_to: str | None = None) -> CutOff:
    """The first cut-off that applies to ``total`` (an 'otherwise' cut-off always applies)."""
    for cut in definition.cutoffs_for(applies_to):
        if cut.comparison is Comparison.OTHERWISE:
            return cut
        assert cut.threshold is not None
        if compare(total, cut.comparison, cut.threshold):
            return cut
    raise LookupError(f"{definition.id}: no cut-off applies to {total}")


def additive_result(
    definition: InstrumentDefinition, values: Mapping[str, Any], notes: list[str] | None = None
) -> InstrumentResult:
    """The result of a points score: the total, the cut-off it falls under, each item."""
    total, items = score_items(definition, values)
    cut = interpret(definition, total)
    maximum = definition.max_points
    return result_of(
        definition,
        score=total,
        interpretation=f"{total} of {maximum} points: {cut.interpretation}.",
        items=tuple(items),
        extra={"category": cut.id, "cutoff": cut.rule(), "max_points": maximum},
        notes=tuple([*(notes or []), *([definition.scope_note] if definition.scope_note else [])]),
    )
