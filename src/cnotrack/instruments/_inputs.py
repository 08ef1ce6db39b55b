"""Checking instrument inputs against their definition.

Inputs come either from a typed function (``jansson_score(crp_mg_l=12, ...)``) or as the
strings a command line gives (``crp_mg_l=12``); both go through :func:`check_inputs`, which
coerces each value to its declared type and collects every problem into one
:class:`~cnotrack.errors.InstrumentInputError` naming the key, the bad value, what is
allowed and how to fix it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from cnotrack.errors import InstrumentInputError

from ._definitions import InputDefinition, InputType, InstrumentDefinition

__all__ = ["NOT_APPLICABLE", "check_inputs", "exact", "parse_key_value_args", "parse_boolean"]

#: A CHAQ item answered "not applicable".
NOT_APPLICABLE = "na"

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}
_NA = {"na", "n/a", "not applicable"}


def exact(x: int | float) -> Fraction:
    """The number as the user wrote it, for exact comparison at cut-offs (0.1 is 1/10)."""
    if isinstance(x, float):
        return Fraction(repr(x))
    return Fraction(x)


def parse_key_value_args(args: Iterable[str]) -> dict[str, str]:
    """Turn command-line arguments ``["crp_mg_l=12", "femur=no"]`` into a dict of strings.

    An argument without ``=`` or a key given twice is an error naming it.
    """
    out: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InstrumentInputError(
                f"Argument {arg!r} is not of the form key=value; write it as e.g. crp_mg_l=12."
            )
        if key in out:
            raise InstrumentInputError(
                f"Key {key!r} is given twice ({key}={out[key]} and {key}={value}); give it once."
            )
        out[key] = value.strip()
    return out


def parse_boolean(raw: object) -> bool:
    """yes/no/y/n/true/false/1/0 (any case), True/False or 1/0; anything else raises ValueError."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError


def check_inputs(definition: InstrumentDefinition, raw: Mapping[str, object]) -> dict[str, Any]:
    """Coerce and check ``raw`` against ``definition``; return every declared key.

    Missing optional keys take their default (or ``None``); ``None`` and ``""`` count as
    missing. Unknown keys, missing required keys and bad values are reported together.
    """
    name = definition.id
    valid = definition.input_keys
    unknown = [k for k in raw if k not in valid]
    if unknown:
        lines = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            lines.append(f"  - {key!r}{hint}")
        raise InstrumentInputError(
            f"{name}: unknown input key{'s' if len(unknown) > 1 else ''}:\n"
            + "\n".join(lines)
            + f"\nValid keys for {name}: {', '.join(valid)}."
        )

    values: dict[str, Any] = {}
    problems: list[str] = []
    missing: list[str] = []
    for spec in definition.inputs:
        given = raw.get(spec.key)
        if _is_missing(given):
            if spec.required:
                missing.append(spec.key)
            # a default goes through the same coercion as a given value (30 -> 30.0 for a number)
            values[spec.key] = None if spec.default is None else _coerce(spec, spec.default)
            continue
        try:
            values[spec.key] = _coerce(spec, given)
        except ValueError:
            problems.append(_problem(name, spec, given))
    if missing:
        problems.insert(
            0,
            f"{name}: missing required input{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"Give {'each' if len(missing) > 1 else 'it'} as key=value, e.g. "
            + " ".join(f"{k}={definition.input(k).example or '...'}" for k in missing)
            + ".",
        )
    if problems:
        raise InstrumentInputError("\n".join(problems))
    return values


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _coerce(spec: InputDefinition, raw: object) -> Any:
    """The value in its declared type, or ValueError."""
    if spec.type is InputType.BOOLEAN:
        return parse_boolean(raw)
    if spec.type is InputType.CHOICE:
        word = str(raw).strip().lower()
        if word not in (spec.choices or ()):
            raise ValueError
        return word
    if spec.type is InputType.TEXT:
        if isinstance(raw, bool):
            raise ValueError
        return raw.strip() if isinstance(raw, str) else raw
    if spec.type is InputType.CHAQ_RESPONSE:
        if isinstance(raw, str) and raw.strip().lower() in _NA:
            return NOT_APPLICABLE
        answer = _integer(raw)
        if not 0 <= answer <= 3:
            raise ValueError
        return answer
    number: int | float = _integer(raw) if spec.type is InputType.INTEGER else _number(raw)
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError
    return number


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        value = float(raw.strip())
    else:
        raise ValueError
    if not math.isfinite(value):
        raise ValueError
    return value


def _integer(raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        return raw
    value = _number(raw)
    if not value.is_integer():
        raise ValueError
    return int(value)


def _problem(name: str, spec: InputDefinition, given: object) -> str:
    shown = given if isinstance(given, str) else repr(given)
    fix = spec.hint if spec.hint and spec.type is not InputType.TEXT else f"give {spec.allowed()}"
    example = f"{spec.key}={spec.example}" if spec.example else f"{spec.key}=..."
    return (
        f"{name}: {spec.key}={shown} is not allowed: {spec.label} must be {spec.allowed()}. "
        f"Fix: {fix}, e.g. {example}."
    )
