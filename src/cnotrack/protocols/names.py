"""Checking the names a protocol uses: every timepoint, variable, region, bone, flare definition,
course measure and group it names must exist.

Each problem names the key (``endpoints.3.criterion.change.of``, or the endpoint's id), the bad
value and the valid choices. Eligibility (``require``, ``exclude``) is decided before any timepoint
exists, so a criterion there that names a timepoint is refused with that reason.
"""

from __future__ import annotations

from typing import Iterator

from pydantic import BaseModel

from ..vocabulary import anatomy, drugs, lab_tests
from .criteria import LesionFilter, _AgeArgs, _ChangeArgs, _CourseArgs
from .model import VARIABLES, Comparison, Protocol, _Age, _Change, _CourseMeasure, _FlareRef, _ValueAt

__all__ = ["named_problems", "shipped_flare_definitions", "walk_models"]

_TIMEPOINT_FIELDS = ("at", "from_", "to")
_SEXES = ("F", "M", "U")


def shipped_flare_definitions() -> set[str] | None:
    """The flare definitions ``cnotrack.courses`` ships, or ``None`` when it is not installed."""
    try:
        from ..courses.registry import flare_definitions  # lazily: cnotrack.courses builds on protocols
    except ImportError:
        return None
    return set(flare_definitions())


def walk_models(node: object, where: str = "") -> Iterator[tuple[str, BaseModel]]:
    """Every model inside ``node`` with its path in the file's own keys (aliases, not field names)."""
    if isinstance(node, BaseModel):
        yield where, node
        for name, field in type(node).model_fields.items():
            yield from walk_models(getattr(node, name), f"{where}.{field.alias or name}".lstrip("."))
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from walk_models(item, f"{where}.{i}")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from walk_models(item, f"{where}.{key}")


def _named_timepoints(model: BaseModel, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(model, (_AgeArgs, _Age)):  # at: index/onset/diagnosis, not a timepoint
        return
    for name in _TIMEPOINT_FIELDS:
        value = getattr(model, name, None) if name in type(model).model_fields else None
        if isinstance(value, str):
            yield f"{where}.{type(model).model_fields[name].alias or name}", value


def _variables() -> tuple[str, ...]:
    return (*VARIABLES, *sorted(t.code for t in lab_tests().tests))


def _model_problems(where: str, model: BaseModel, protocol: Protocol) -> list[str]:
    """Problems of one model's names other than timepoints."""
    problems = []
    if isinstance(model, LesionFilter):
        regions, bones = anatomy().regions, {b.name for b in anatomy().bones}
        problems += [f"{where}.regions: {r!r} is not a region ({', '.join(regions)})"
                     for r in model.regions if r not in regions]
        problems += [f"{where}.bones: {b!r} is not a bone of the site vocabulary (see docs/vocabularies.md)"
                     for b in model.bones if b not in bones]
    of = model.of if isinstance(model, (_ChangeArgs, _Change, _ValueAt)) else None
    if of is not None and of not in _variables():
        problems.append(f"{where}.of: {of!r} is neither a lab test nor a variable ({', '.join(_variables())})")
    if isinstance(model, _FlareRef):
        known = set(protocol.flare_definitions) | (shipped_flare_definitions() or set())
        if model.definition not in known:
            problems.append(f"{where}.definition: no flare definition {model.definition!r} "
                            f"({', '.join(sorted(known)) or 'none: declare one under flare_definitions'})")
    if isinstance(model, (_CourseArgs, _CourseMeasure)):
        problems += _course_problems(where, model, protocol)
    return problems


def _course_problems(where: str, model: BaseModel, protocol: Protocol) -> list[str]:
    """A course measure must exist (the nearest names otherwise), take ``at`` only when it is read
    on a study, and be a number when a distribution takes it."""
    from ..courses.registry import course_measure  # lazily: cnotrack.courses builds on protocols
    from ..errors import ProtocolError

    try:
        info = course_measure(model.measure, protocol.flare_definitions)
    except ProtocolError as exc:
        return [f"{where}.measure: {exc}"]
    problems = []
    if model.at is not None and not info.per_study:
        problems.append(f"{where}.at: course measure {model.measure!r} is not read on a study and takes no at "
                        "(only regions_affected, regions_list, bones_affected, symmetric, unifocal, multifocal do)")
    if isinstance(model, _CourseMeasure) and not info.numeric:
        problems.append(f"{where}: course measure {model.measure!r} is a {info.type} measure and a distribution "
                        f"takes numbers; use it as a criterion in a proportion: {{kind: proportion, criterion: "
                        f"{{course: {{measure: {model.measure}, op: '==', value: ...}}}}}}")
    return problems


def _group_problems(where: str, comparison: Comparison) -> list[str]:
    """The groups a comparison names must be values of its ``by``."""
    by = comparison.by
    choices: tuple[str, ...] | None
    if not isinstance(by, str):
        choices = ("yes", "no")
    elif by == "sex":
        choices = _SEXES
    elif by == "index_drug":
        choices = tuple(sorted(d.name for d in drugs().drugs))
    elif by == "index_class":
        choices = tuple(sorted(drugs().classes))
    elif by == "index_target":
        choices = tuple(sorted(drugs().targets))
    else:
        choices = None  # center: any name the data uses
    problems = []
    if choices is not None:
        problems += [f"{where}.groups: {g!r} is not a group of {by if isinstance(by, str) else 'a criterion'} "
                     f"({', '.join(choices)})" for g in comparison.groups if g not in choices]
    named = set(comparison.groups) or set(choices or ())
    if named:
        problems += [f"{where}.group_labels: {g!r} is not one of the groups ({', '.join(sorted(named))})"
                     for g in comparison.group_labels if g not in named]
    if len(set(comparison.groups)) != len(comparison.groups):
        problems.append(f"{where}.groups: a group is named twice")
    return problems


def named_problems(protocol: Protocol) -> list[str]:
    """Every name the protocol uses that does not exist, as messages naming key, value and choices."""
    timepoints = [t.id for t in protocol.timepoints]
    listed = ", ".join(timepoints)
    problems: list[str] = []
    for i, endpoint in enumerate(protocol.endpoints):
        for where, model in walk_models(endpoint, ""):
            for key, value in _named_timepoints(model, where):
                if value not in timepoints:
                    problems.append(f"endpoint {endpoint.id} ({key}): timepoint {value!r} is not defined "
                                    f"(timepoints: {listed})")
            problems += [f"endpoint {endpoint.id}: {p}" for p in _model_problems(where, model, protocol)]
    for part in ("require", "exclude"):
        for where, model in walk_models(getattr(protocol.eligibility, part), f"eligibility.{part}"):
            for key, value in _named_timepoints(model, where):
                problems.append(f"{key}: {value!r} names a timepoint, but eligibility is decided before "
                                "timepoints exist (from the index course and the patient's data); use "
                                "sex, center, age, treatment, diagnosis or a course measure without at, or "
                                "put the criterion in an endpoint's among or in compare")
            problems += _model_problems(where, model, protocol)
    keys = [c.key for c in protocol.compare]
    if len(set(keys)) != len(keys):
        problems.append(f"compare: two comparisons have one id ({', '.join(keys)}); give each its own id")
    for i, comparison in enumerate(protocol.compare):
        for where, model in walk_models(comparison.by, f"compare.{i}.by"):
            for key, value in _named_timepoints(model, where):
                if value not in timepoints:
                    problems.append(f"{key}: timepoint {value!r} is not defined (timepoints: {listed})")
            problems += _model_problems(where, model, protocol)
        problems += _group_problems(f"compare.{i}", comparison)
    for i, pair in enumerate(protocol.paired_tests or ()):
        for value in pair:
            if value not in timepoints:
                problems.append(f"paired_tests.{i}: timepoint {value!r} is not defined (timepoints: {listed})")
        if pair[0] == pair[1]:
            problems.append(f"paired_tests.{i}: a pair names two different timepoints (got {pair[0]!r} twice)")
    for name, definition in protocol.flare_definitions.items():
        problems += _model_problems(f"flare_definitions.{name}", definition, protocol)
    return problems
