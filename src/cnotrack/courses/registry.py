"""The registry of course measures and flare definitions, read from ``measures.yaml``.

A measure is a named, documented definition (``CourseMeasure``); ``flares.<definition>`` is a
measure for each flare definition, the shipped ones (``measures.yaml``) with a protocol's own
``flare_definitions`` added or overriding them by name. Unknown names raise ``ProtocolError``
with the nearest known names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, Mapping

from ..datafiles import safe_yaml
from ..errors import ProtocolError
from ..protocols.model import FlareDefinition

__all__ = ["CourseMeasure", "column_name", "course_measure", "course_measures_registry", "describe_course", "flare_definitions",
           "measure_names"]

MeasureType = Literal["integer", "number", "boolean", "text"]


@dataclass(frozen=True)
class CourseMeasure:
    """One measure: its name, label, type, unit, whether it is read on a study, the rule, the source."""

    name: str
    label: str
    type: MeasureType
    definition: str
    source: str
    unit: str = ""
    per_study: bool = False

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")


@cache
def _data() -> dict:
    text = resources.files("cnotrack.courses").joinpath("measures.yaml").read_text("utf-8")
    return safe_yaml(text)


@cache
def course_measures_registry() -> dict[str, CourseMeasure]:
    """The shipped measures by name (the flare counts are added per definition by ``course_measure``)."""
    return {m["name"]: CourseMeasure(**m) for m in _data()["measures"]}


def flare_definitions(extra: Mapping[str, FlareDefinition] | None = None) -> dict[str, FlareDefinition]:
    """The shipped flare definitions, with ``extra`` (a protocol's) added or overriding by name."""
    shipped = {k: FlareDefinition.model_validate(v) for k, v in _data()["flares"].items()}
    return {**shipped, **dict(extra or {})}


def measure_names(extra_flares: Mapping[str, FlareDefinition] | None = None) -> list[str]:
    """Every measure name: the registry's and ``flares.<definition>`` for each flare definition."""
    return [*course_measures_registry(), *(f"flares.{k}" for k in flare_definitions(extra_flares))]


def course_measure(name: str, extra_flares: Mapping[str, FlareDefinition] | None = None) -> CourseMeasure:
    """The measure called ``name``; ``ProtocolError`` naming the nearest names when there is none."""
    registry = course_measures_registry()
    if name in registry:
        return registry[name]
    flares = flare_definitions(extra_flares)
    if name.startswith("flares.") and name.removeprefix("flares.") in flares:
        d = flares[name.removeprefix("flares.")]
        return CourseMeasure(name, f"Flares ({d.label})", "integer",
                             f"Number of courses of the selection started more than {d.gap_days} days after "
                             "the end of the patient's previous course of it.",
                             d.citation or "cnotrack definition", unit="flares")
    names = measure_names(extra_flares)
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ProtocolError(f"course measure {name!r} is unknown{hint} (measures: {', '.join(names)}; "
                        "see docs/courses.md)")


def column_name(measure: str, at: str | None = None) -> str:
    """The per-patient column of a measure: ``course.<measure>`` or ``course.<measure>@<at>``."""
    return f"course.{measure}" + (f"@{at}" if at else "")


_OP_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "", "!=": "not"}


def describe_course(measure: str, at: str | None, protocol=None, op: str | None = None, value=None) -> str:
    """A phrase for a methods sentence: "multifocal (two or more active lesions on the study) on
    the patient's earliest study", "NSAIDs tried at least 2"; ``op``/``value`` only for a criterion."""
    info = course_measure(measure, getattr(protocol, "flare_definitions", None))
    study = ""
    if info.per_study:
        name = protocol.timepoint(at).label if (at and protocol is not None) else at
        study = f" on the {name} study" if at else " on the patient's earliest study"
    rule = info.definition[:1].lower() + info.definition[1:].rstrip(".")
    if op is None:
        return f"{info.label} ({rule}){study}"
    label = info.label if info.label[1:2].isupper() else info.label[:1].lower() + info.label[1:]
    if isinstance(value, bool):
        return f"{'' if (value == (op == '==')) else 'not '}{label} ({rule}){study}"
    number = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    return f"{label}{study} {(_OP_WORDS[op] + ' ') if _OP_WORDS[op] else 'equal to '}{number}"
