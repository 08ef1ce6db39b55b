"""PedCNO core set and response (Beck C et al., Arthritis Res Ther 2010), modelled on the
PRINTO/ACR paediatric 30 (Giannini 1997).

Five "lower is better" core variables are compared between baseline and follow-up:
ESR (mm/h), number of MRI lesions, physician's global (VAS 0-10), patient/parent's global
(VAS 0-10) and CHAQ disability index (0-3). PedCNO-X (X = 30, 50, 70, 90) is met when at
least 3 of the 5 improved by >= X % and no more than 1 worsened by more than the worsening
limit (default 30 %). A variable with baseline 0 is not evaluable for improvement and
worsens only if it rises above 0. The rule and its certainty: definitions/pedcno.yaml.

Output shape (``InstrumentResult.extra``, flattened into ``as_json()``):

- ``improved``: ``{"30": [variables], "50": [...], "70": [...], "90": [...]}``, the core
  variables improved by at least X % (a variable improved by 70 % is in the 30, 50 and 70
  lists); the count for a level is the length of its list;
- ``worsened``: ``[variables]`` that worsened by more than the worsening limit;
- ``not_evaluable``: ``[variables]`` with baseline 0;
- ``percent_change``: ``{variable: percent or null}`` (rounded to 2 decimals for display;
  decisions use the exact value);
- ``pedcno30``, ``pedcno50``, ``pedcno70``, ``pedcno90``: booleans;
- ``worsening_limit``: the limit used, in percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from fractions import Fraction

from cnotrack.errors import InstrumentInputError

from ._definitions import InstrumentDefinition, load_definition
from ._inputs import check_inputs, exact
from ._result import InstrumentResult, ItemResult, format_number, result_of

__all__ = ["PedcnoCoreSet", "pedcno_response"]

INSTRUMENT_ID = "pedcno"


@dataclass(frozen=True)
class PedcnoCoreSet:
    """The five PedCNO core variables at one visit."""

    esr: float
    mri_lesions: int
    physician_vas: float
    patient_vas: float
    chaq_di: float


def definition() -> InstrumentDefinition:
    return load_definition(INSTRUMENT_ID)


def pedcno_response(
    *,
    baseline: PedcnoCoreSet | Mapping[str, object],
    followup: PedcnoCoreSet | Mapping[str, object],
    worsening_limit: float | str | None = None,
) -> InstrumentResult:
    """Whether PedCNO-30, -50, -70 and -90 are met between ``baseline`` and ``followup``.

    Each visit is a :class:`PedcnoCoreSet` or a mapping with the keys ``esr``,
    ``mri_lesions``, ``physician_vas``, ``patient_vas`` and ``chaq_di``; all five are
    required at both visits. ``worsening_limit`` is in percent; None takes the definition's
    default (30).
    """
    flat: dict[str, object] = {"worsening_limit": worsening_limit}
    for visit, values in (("baseline", baseline), ("followup", followup)):
        if is_dataclass(values) and not isinstance(values, type):
            values = asdict(values)
        if not isinstance(values, Mapping):
            raise InstrumentInputError(
                f"pedcno: {visit} must be a PedcnoCoreSet or a mapping of the five core "
                f"variables, not {type(values).__name__}."
            )
        for key, value in values.items():
            flat[f"{visit}.{key}"] = value
    return score_inputs(flat)


def score_inputs(inputs: Mapping[str, object]) -> InstrumentResult:
    """Score from a mapping of key -> value: ``baseline.esr=40``, ``followup.esr=12``, ..."""
    spec = definition()
    values = check_inputs(spec, inputs)
    variables: tuple[str, ...] = spec.constant("variables")
    levels: tuple[int, ...] = spec.constant("levels")
    min_improved: int = spec.constant("min_improved")
    max_worsened: int = spec.constant("max_worsened")
    limit = values["worsening_limit"]
    limit_text = f"{format_number(limit)}%"

    improved: dict[str, list[str]] = {str(x): [] for x in levels}
    worsened: list[str] = []
    not_evaluable: list[str] = []
    percent_change: dict[str, float | None] = {}
    items: list[ItemResult] = []
    for var in variables:
        before, after = values[f"baseline.{var}"], values[f"followup.{var}"]
        if before == 0:
            change: Fraction | None = None
            not_evaluable.append(var)
            is_worse = after > 0
            note = "baseline 0: not evaluable for improvement; " + (
                "worsened (rose above 0)" if is_worse else "unchanged at 0"
            )
        else:
            change = (exact(after) - exact(before)) / exact(before) * 100
            met = [x for x in levels if change <= -x]
            for x in met:
                improved[str(x)].append(var)
            is_worse = change > exact(limit)
            rounded = _rounded(change)
            parts = [f"change {_signed(rounded)}%" if rounded is not None else "change too large to show"]
            if met:
                parts.append(f"improved by >= {max(met)}%")
            if is_worse:
                parts.append(f"worsened by more than {limit_text}")
            if not met and not is_worse:
                parts.append(f"neither improved by >= {levels[0]}% nor worsened by more than {limit_text}")
            note = "; ".join(parts)
        if is_worse:
            worsened.append(var)
        shown = None if change is None else _rounded(change)
        percent_change[var] = shown
        items.append(
            ItemResult(
                input=var,
                value={"baseline": before, "followup": after, "percent_change": shown},
                points=None,
                note=note,
            )
        )

    met_levels = {
        x: len(improved[str(x)]) >= min_improved and len(worsened) <= max_worsened for x in levels
    }
    extra = {
        "improved": improved,
        "worsened": worsened,
        "not_evaluable": not_evaluable,
        "percent_change": percent_change,
        **{f"pedcno{x}": met_levels[x] for x in levels},
        "worsening_limit": limit,
    }

    def reason(x: int) -> str:
        return (
            f"{len(improved[str(x)])} of {len(variables)} core variables improved by >= {x}%, "
            f"{len(worsened)} worsened by more than {limit_text}"
        )

    reached = [x for x in levels if met_levels[x]]
    if reached:
        top = max(reached)
        interpretation = f"PedCNO-{top} met ({reason(top)})"
        higher = [x for x in levels if x > top]
        if higher:
            interpretation += f"; PedCNO-{higher[0]} not met ({reason(higher[0])})"
        interpretation += "."
    else:
        interpretation = f"No PedCNO response: PedCNO-{levels[0]} not met ({reason(levels[0])})."

    notes = [
        f"PedCNO-X is met when at least {min_improved} of {len(variables)} core variables improved "
        f"by >= X% (percent change <= -X) and no more than {max_worsened} worsened by more than "
        f"{limit_text} (percent change > +{limit_text}); worsening_limit={format_number(limit)}."
    ]
    if not_evaluable:
        notes.append(
            f"Baseline 0 ({', '.join(not_evaluable)}): not evaluable for improvement, since no "
            "percent change exists; it counts as worsened only if the follow-up value is above 0, "
            f"and it still counts in the 'of {len(variables)}'."
        )
    return result_of(
        spec,
        score=None,
        interpretation=interpretation,
        items=tuple(items),
        extra=extra,
        notes=tuple(notes),
    )


def _rounded(change: Fraction) -> float | None:
    """The percent change to 2 decimals for display; None if a float cannot hold it
    (a baseline of, say, 1e-300); decisions always use the exact Fraction."""
    try:
        return round(float(change), 2)
    except OverflowError:
        return None


def _signed(change: float) -> str:
    text = format_number(change)
    return text if change < 0 else f"+{text}"
