"""Finding and reading protocols: the built-in ones by name, or a user's YAML file."""

from __future__ import annotations

from importlib import resources
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import ProtocolError
from ..vocabulary import drugs, lab_tests, normalise_key
from .model import Count, Distribution, Proportion, Protocol

__all__ = ["builtin_protocols", "load_protocol", "parse_protocol"]


def builtin_protocols() -> list[str]:
    """Names of the protocols shipped with cnotrack."""
    folder = resources.files("cnotrack.protocols").joinpath("builtin")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A built-in protocol by name, or a protocol YAML file by path."""
    text_name = str(name_or_path)
    if text_name in builtin_protocols():
        text = resources.files("cnotrack.protocols").joinpath(f"builtin/{text_name}.yaml").read_text("utf-8")
        return parse_protocol(text, source=f"built-in protocol {text_name}")
    path = Path(name_or_path)
    if path.is_file():
        return parse_protocol(path.read_text("utf-8"), source=str(path))
    raise ProtocolError(f"no protocol {text_name!r}: give a built-in name ({', '.join(builtin_protocols())}) "
                        "or the path of a protocol YAML file")


def parse_protocol(text: str, *, source: str = "protocol") -> Protocol:
    """Read and check a protocol; errors name the key, the problem and the fix."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"{source}: a protocol is a mapping with keys id, title, index_treatment, "
                            "timepoints, endpoints")
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(f"{source}: " + _explain(exc)) from exc
    problems = _reference_problems(protocol)
    if problems:
        raise ProtocolError(f"{source}: " + "; ".join(problems))
    return protocol


def _explain(exc: ValidationError) -> str:
    lines = []
    seen = set()
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("function-", "tagged-union")))
        # criteria are a union: report the shortest path once rather than every alternative
        key = where.split(".PgaCriterion")[0]
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"at {where or 'top level'}: {error['msg']}"
                     + (f" (got {error['input']!r})" if not isinstance(error["input"], dict) else ""))
    return "; ".join(lines[:8]) + ("; ..." if len(lines) > 8 else "")


def _reference_problems(protocol: Protocol) -> list[str]:
    problems = []
    timepoints = {t.id for t in protocol.timepoints}
    if len(timepoints) != len(protocol.timepoints):
        problems.append("timepoint ids must be unique")
    ids = [e.id for e in protocol.endpoints]
    if len(set(ids)) != len(ids):
        problems.append("endpoint ids must be unique")
    classes = set(drugs().classes)
    index = protocol.index_treatment
    if index.drug is not None:
        problems += _drug_problems("index_treatment.drug", index.drug)
    for c in index.classes:
        if c not in classes:
            problems.append(f"index_treatment.classes: {c!r} is not a drug class ({', '.join(sorted(classes))})")
    for i, prior in enumerate(protocol.eligibility.prior_treatments):
        for drug in prior.drugs:
            problems += _drug_problems(f"eligibility.prior_treatments.{i}.drugs", drug)
        for c in prior.classes:
            if c not in classes:
                problems.append(f"eligibility.prior_treatments.{i}.classes: {c!r} is not a drug class "
                                f"({', '.join(sorted(classes))})")
    tests = {t.code for t in lab_tests().tests}
    for code in protocol.reference_limits:
        if code not in tests:
            problems.append(f"reference_limits.{code}: not a lab test ({', '.join(sorted(tests))})")
        elif protocol.reference_limits[code].unit not in lab_tests().test(code).units:
            problems.append(f"reference_limits.{code}.unit: use one of {', '.join(lab_tests().test(code).units)}")
    for endpoint in protocol.endpoints:
        for ref_kind, value in _references(endpoint.model_dump(by_alias=True)):
            if ref_kind == "timepoint" and value not in timepoints:
                problems.append(f"endpoint {endpoint.id}: timepoint {value!r} is not defined "
                                f"(timepoints: {', '.join(sorted(timepoints))})")
            if ref_kind == "test" and value not in tests:
                problems.append(f"endpoint {endpoint.id}: lab test {value!r} is unknown")
        if isinstance(endpoint, Count) and endpoint.of and endpoint.of not in ids:
            problems.append(f"endpoint {endpoint.id}: of {endpoint.of!r} is not an endpoint id")
        if not isinstance(endpoint, (Count, Proportion, Distribution)):
            problems.append(f"endpoint {endpoint.id}: unknown kind")
        if isinstance(endpoint, Distribution) and endpoint.measure.follow_up_years:
            target = endpoint.measure.follow_up_years.to
            if target in timepoints and protocol.timepoint(target).anchor != "last_assessment":
                problems.append(f"endpoint {endpoint.id}: follow_up_years.to {target!r} must be a timepoint "
                                "with anchor: last_assessment (follow-up runs to the latest assessment)")
    for i, sentence in enumerate(protocol.summary):
        for eid, view in _PLACEHOLDER.findall(sentence):
            if eid not in ids:
                problems.append(f"summary.{i}: {{{eid}}} is not an endpoint id")
            elif view and view not in _VIEWS:
                problems.append(f"summary.{i}: view |{view} is not one of {', '.join(sorted(_VIEWS))}")
    return problems


_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)(?:\|([a-z]+))?\}")
_VIEWS = {"percent", "n", "of", "median", "range", "iqr"}


def _drug_problems(key: str, drug: str) -> list[str]:
    names = {d.name for d in drugs().drugs}
    if drug in names:
        return []
    canonical = drugs().lookup().get(normalise_key(drug))
    hint = f"; write {canonical!r}" if canonical else "; see docs/vocabularies.md"
    return [f"{key}: {drug!r} is not a generic name of the drug vocabulary{hint}"]


def _references(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("at", "from", "to") and isinstance(value, str):
                yield "timepoint", value
            elif key == "test" and isinstance(value, str):
                yield "test", value
            else:
                yield from _references(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _references(item)
