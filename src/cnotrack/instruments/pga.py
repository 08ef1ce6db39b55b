"""Physician global assessment (PGA) of disease activity, on the scale it was recorded on.

Two scales, never converted into each other: the 5-level ordinal scale none / minimal /
mild / moderate / severe (the seed study, Pardeo 2017) and the 0-10 numeric scale of the
German registry, where PGA >= 4 defines a severe disease course (Reiser 2023).

Output (``extra``): ``value`` (as recorded: a level, or a number), ``scale`` ("ordinal" or
"vas"), ``severe_course`` (vas: PGA >= 4; ordinal: null, no threshold defined) and
``none_or_minimal`` (ordinal: the seed study's favourable grouping; vas: null).
``score`` is the number on the 0-10 scale and None on the ordinal scale.
"""

from __future__ import annotations

from collections.abc import Mapping

from cnotrack.errors import InstrumentInputError

from ._definitions import InstrumentDefinition, load_definition
from ._inputs import check_inputs
from ._result import InstrumentResult, ItemResult, format_number, result_of
from ._scoring import interpret

__all__ = ["pga_assessment"]

INSTRUMENT_ID = "pga"
_SCALE_NAMES = {"ordinal": "5-level ordinal scale", "vas": "0-10 numeric scale"}


def definition() -> InstrumentDefinition:
    return load_definition(INSTRUMENT_ID)


def pga_assessment(value: str | float | int, scale: str) -> InstrumentResult:
    """Check a PGA ``value`` against its ``scale`` ("ordinal" or "vas") and return it, unconverted."""
    return score_inputs({"value": value, "scale": scale})


def score_inputs(inputs: Mapping[str, object]) -> InstrumentResult:
    """Score from a mapping with ``value`` and ``scale``."""
    spec = definition()
    values = check_inputs(spec, inputs)
    scale: str = values["scale"]
    if scale == "ordinal":
        return _ordinal(spec, values["value"])
    return _vas(spec, values["value"])


def _ordinal(spec: InstrumentDefinition, raw: object) -> InstrumentResult:
    levels: tuple[str, ...] = spec.constant("ordinal_levels")
    favourable: tuple[str, ...] = spec.constant("favourable_levels")
    level = str(raw).strip().lower()
    if level not in levels:
        numeric = _as_number(raw) is not None
        fix = (
            " If it is a 0-10 numeric value, give scale=vas; it is never converted to a level."
            if numeric
            else ""
        )
        raise InstrumentInputError(
            f"pga: value={raw} is not a level of the ordinal scale: it must be one of "
            f"{', '.join(levels)}.{fix} Fix: e.g. value=mild scale=ordinal."
        )
    good = level in favourable
    interpretation = (
        f"PGA {level} on the 5-level ordinal scale ({' / '.join(levels)}): "
        + (
            "in the seed study's favourable grouping (none or minimal)."
            if good
            else "not in the seed study's favourable grouping (none or minimal)."
        )
    )
    return _result(spec, None, level, "ordinal", interpretation, severe=None, none_or_minimal=good)


def _vas(spec: InstrumentDefinition, raw: object) -> InstrumentResult:
    lo, hi = spec.constant("vas_minimum"), spec.constant("vas_maximum")
    number = _as_number(raw)
    if number is None or not lo <= number <= hi:
        levels = spec.constant("ordinal_levels")
        word = str(raw).strip().lower()
        fix = (
            " It is a level of the ordinal scale: give scale=ordinal; it is never converted to a number."
            if word in levels
            else ""
        )
        raise InstrumentInputError(
            f"pga: value={raw} is not on the 0-10 numeric scale: it must be a number from {lo} to {hi}."
            f"{fix} Fix: e.g. value=3 scale=vas."
        )
    cut = interpret(spec, number, applies_to="vas")
    severe = cut.id == "severe_course"
    interpretation = f"PGA {format_number(number)} on the 0-10 scale: {cut.interpretation}."
    return _result(spec, number, number, "vas", interpretation, severe=severe, none_or_minimal=None)


def _result(
    spec: InstrumentDefinition,
    score: float | None,
    value: str | float,
    scale: str,
    interpretation: str,
    *,
    severe: bool | None,
    none_or_minimal: bool | None,
) -> InstrumentResult:
    # The 0-10 scale and its threshold come from the German registry, not the seed study.
    source = spec.references[0] if scale == "vas" else spec
    return result_of(
        spec,
        score=score,
        interpretation=interpretation,
        items=(
            ItemResult(
                input="value",
                value=value,
                points=None,
                note=f"recorded on the {_SCALE_NAMES[scale]}; returned as recorded, never converted",
            ),
            ItemResult(input="scale", value=scale, points=None, note="the scale the value was recorded on"),
        ),
        extra={"value": value, "scale": scale, "severe_course": severe, "none_or_minimal": none_or_minimal},
        notes=("The ordinal and the 0-10 scales are never converted into each other.",),
        citation=source.citation,
        doi=source.doi,
    )


def _as_number(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    try:
        number = float(str(raw).strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None
