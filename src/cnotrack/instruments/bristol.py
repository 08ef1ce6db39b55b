"""Bristol diagnostic criteria for CNO (Roderick MR et al., Pediatr Rheumatol 2016).

Met when all of 1 (typical clinical findings), 2 (typical radiological findings) and 3 are
met; 3 is met through 3a, (bones_involved > 1 or clavicle_only) and CRP < 30 mg/L, or
through 3b, (unifocal disease other than the clavicle, or CRP > 30 mg/L) and a biopsy with
inflammatory changes and no bacterial growth. CRP of exactly 30 mg/L is in neither "< 30"
nor "> 30".

Every input is optional: a missing input is unknown. The result is decided by trying every
value the missing inputs could take; when they could change the answer it is "undetermined"
and names the inputs that decide it.

Output (``extra``): ``status`` ("met", "not met", "undetermined"), ``met`` (true, false or
null), ``branch`` (the branch through which criterion 3 is met, "3a" or "3b", also
when criterion 1 or 2 fails; null when criterion 3 is not met or its branch depends on a
missing input), ``criteria`` ({"1", "2", "3", "3a", "3b"} -> true,
false or null where it depends on a missing input), ``missing`` (every missing key) and
``undetermined_by`` (the missing keys that would decide an undetermined result).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cnotrack.errors import InstrumentInputError

from ._definitions import InputType, InstrumentDefinition, load_definition
from ._inputs import check_inputs, exact
from ._result import InstrumentResult, ItemResult, format_number, result_of

__all__ = ["bristol_criteria"]

INSTRUMENT_ID = "bristol"
_CRITERIA = ("1", "2", "3a", "3b", "3")


def definition() -> InstrumentDefinition:
    return load_definition(INSTRUMENT_ID)


def bristol_criteria(
    *,
    typical_clinical: bool | str | None = None,
    typical_radiological: bool | str | None = None,
    bones_involved: int | str | None = None,
    clavicle_only: bool | str | None = None,
    crp_mg_l: float | str | None = None,
    biopsy_inflammatory_sterile: bool | str | None = None,
) -> InstrumentResult:
    """Apply the Bristol criteria; leave an input as ``None`` when it is not known."""
    return score_inputs(
        {
            "typical_clinical": typical_clinical,
            "typical_radiological": typical_radiological,
            "bones_involved": bones_involved,
            "clavicle_only": clavicle_only,
            "crp_mg_l": crp_mg_l,
            "biopsy_inflammatory_sterile": biopsy_inflammatory_sterile,
        }
    )


def score_inputs(inputs: Mapping[str, object]) -> InstrumentResult:
    """Apply the criteria to a mapping of key -> value; missing keys are unknown."""
    spec = definition()
    values = check_inputs(spec, inputs)
    limit = spec.constant("crp_limit_mg_l")
    if values["clavicle_only"] is True and values["bones_involved"] is not None and values["bones_involved"] > 1:
        raise InstrumentInputError(
            f"bristol: clavicle_only=yes with bones_involved={values['bones_involved']} is contradictory: "
            "clavicle_only means the clavicle is the only bone involved. "
            "Fix: give bones_involved=1 with clavicle_only=yes, or clavicle_only=no."
        )
    missing = [k for k in spec.input_keys if values[k] is None]

    outcomes = [_evaluate(v, limit) for v in _completions(spec, values, limit)]
    criteria = {c: _agreed(o[c] for o in outcomes) for c in _CRITERIA}
    met = _agreed(o["met"] for o in outcomes)
    branch = "3a" if criteria["3a"] is True else "3b" if criteria["3b"] is True else None
    undetermined_by = (
        [k for k in missing if _decides(spec, values, k, limit)] if met is None else []
    )
    status = {True: "met", False: "not met", None: "undetermined"}[met]

    interpretation = _interpretation(met, branch, criteria, undetermined_by)
    notes = []
    if values["crp_mg_l"] is not None and exact(values["crp_mg_l"]) == exact(limit):
        notes.append(
            f"CRP is exactly {format_number(limit)} mg/L: neither < {format_number(limit)} (branch 3a) "
            f"nor > {format_number(limit)} (branch 3b), so branch 3a is not met and CRP does not "
            "qualify for branch 3b; 3b can still be met by unifocal disease other than the clavicle "
            "with a typical biopsy."
        )
    if missing:
        notes.append(
            f"Missing inputs (unknown, not 'no'): {', '.join(missing)}."
            + ("" if met is None else " They do not change this result.")
        )
    if spec.scope_note:
        notes.append(spec.scope_note)

    items = [
        ItemResult(input=key, value=values[key], points=None, note=_feeds(key, limit))
        for key in spec.input_keys
    ]
    return result_of(
        spec,
        score=None,
        interpretation=interpretation,
        items=tuple(items),
        extra={
            "status": status,
            "met": met,
            "branch": branch,
            "criteria": criteria,
            "missing": missing,
            "undetermined_by": undetermined_by,
        },
        notes=tuple(notes),
    )


def _evaluate(v: Mapping[str, Any], limit: int | float) -> dict[str, bool]:
    """The criteria on complete inputs."""
    crp, bones, clavicle = exact(v["crp_mg_l"]), v["bones_involved"], v["clavicle_only"]
    crp_low, crp_high = crp < exact(limit), crp > exact(limit)
    multifocal_or_clavicle = bones > 1 or clavicle
    unifocal_not_clavicle = bones == 1 and not clavicle
    c3a = multifocal_or_clavicle and crp_low
    c3b = (unifocal_not_clavicle or crp_high) and v["biopsy_inflammatory_sterile"]
    out = {
        "1": v["typical_clinical"],
        "2": v["typical_radiological"],
        "3a": c3a,
        "3b": c3b,
        "3": c3a or c3b,
    }
    out["met"] = out["1"] and out["2"] and out["3"]
    return out


def _candidates(spec: InstrumentDefinition, key: str, limit: int | float) -> tuple[Any, ...]:
    """Values that cover every case a missing input could fall in."""
    kind = spec.input(key).type
    if kind is InputType.BOOLEAN:
        return (True, False)
    if key == "bones_involved":
        return (1, 2)
    if key == "crp_mg_l":
        return (0, limit, limit + 1)  # below, exactly at, above the limit
    raise AssertionError(f"bristol: no candidates for {key}")  # pragma: no cover


def _completions(
    spec: InstrumentDefinition, values: Mapping[str, Any], limit: int | float
) -> Iterator[dict[str, Any]]:
    missing = [k for k in spec.input_keys if values[k] is None]
    for combo in itertools.product(*(_candidates(spec, k, limit) for k in missing)):
        filled = {**values, **dict(zip(missing, combo))}
        if filled["clavicle_only"] and filled["bones_involved"] > 1:
            continue  # not a possible patient
        yield filled


def _decides(spec: InstrumentDefinition, values: Mapping[str, Any], key: str, limit: int | float) -> bool:
    """Whether the missing ``key`` changes the result for some values of the other missing keys."""
    others = [k for k in spec.input_keys if values[k] is None and k != key]
    for combo in itertools.product(*(_candidates(spec, k, limit) for k in others)):
        base = {**values, **dict(zip(others, combo))}
        results = set()
        for candidate in _candidates(spec, key, limit):
            filled = {**base, key: candidate}
            if filled["clavicle_only"] and filled["bones_involved"] > 1:
                continue
            results.add(_evaluate(filled, limit)["met"])
        if len(results) > 1:
            return True
    return False


def _agreed(outcomes: Iterable[bool]) -> bool | None:
    """The common value of ``outcomes``, or None when they differ."""
    seen = {bool(o) for o in outcomes}
    return seen.pop() if len(seen) == 1 else None


def _interpretation(
    met: bool | None, branch: str | None, criteria: Mapping[str, bool | None], undetermined_by: list[str]
) -> str:
    if met is True:
        via = f"through branch {branch}" if branch else "through branch 3a or 3b (which one depends on missing inputs)"
        return f"Bristol criteria met: criteria 1 and 2 met, criterion 3 met {via}."
    if met is False:
        failed = [f"criterion {c}" for c in ("1", "2") if criteria[c] is False]
        if criteria["3"] is False:
            failed.append("criterion 3 (neither branch 3a nor 3b)")
        return f"Bristol criteria not met: {' and '.join(failed)} not met."
    return (
        "Bristol criteria undetermined: the result depends on missing input"
        f"{'s' if len(undetermined_by) > 1 else ''} {', '.join(undetermined_by)}."
    )


def _feeds(key: str, limit: int | float) -> str:
    crp = format_number(limit)
    return {
        "typical_clinical": "criterion 1",
        "typical_radiological": "criterion 2",
        "bones_involved": "criterion 3a (> 1 bone) / 3b (unifocal)",
        "clavicle_only": "criterion 3a (clavicle alone) / 3b (other than the clavicle)",
        "crp_mg_l": f"criterion 3a (CRP < {crp} mg/L) / 3b (CRP > {crp} mg/L)",
        "biopsy_inflammatory_sterile": "criterion 3b",
    }[key]
