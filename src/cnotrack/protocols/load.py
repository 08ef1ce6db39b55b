"""Finding and reading protocols: the built-in ones by name, or a user's YAML file."""

from __future__ import annotations

from difflib import get_close_matches
from importlib import resources
import re
import warnings
from pathlib import Path
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ProtocolError
from ..vocabulary import drugs, lab_tests, lines, normalise_key
from .criteria import TreatmentSelection, key_of
from .model import Count, Distribution, Proportion, Protocol, TimeToEvent
from .names import named_problems, walk_models

__all__ = ["ProtocolWarning", "builtin_protocols", "load_protocol", "load_protocol_with_warnings", "parse_protocol"]


def builtin_protocols() -> list[str]:
    """Names of the protocols shipped with cnotrack."""
    folder = resources.files("cnotrack.protocols").joinpath("builtin")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


class ProtocolWarning(UserWarning):
    """A protocol loaded, but something in it needs the user's attention (a copied protocol's
    published values that no longer fit it: ``copies.py``)."""


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A built-in protocol by name, or a protocol YAML file by path.

    A file copied from a built-in protocol loses the published values that no longer fit it
    (``cnotrack.protocols.copies``); each such warning is emitted as a ``ProtocolWarning`` through
    Python's ``warnings`` module. ``load_protocol_with_warnings`` returns them instead."""
    protocol, found = load_protocol_with_warnings(name_or_path)
    for message in found:
        warnings.warn(message, ProtocolWarning, stacklevel=2)
    return protocol


def load_protocol_with_warnings(name_or_path: str | Path) -> tuple[Protocol, list[str]]:
    """``load_protocol`` with its warnings returned (the CLI prints them as ``Warning: ...`` and
    an evaluation's notes carry them) rather than emitted."""
    text_name = str(name_or_path)
    if text_name in builtin_protocols():
        text = resources.files("cnotrack.protocols").joinpath(f"builtin/{text_name}.yaml").read_text("utf-8")
        return parse_protocol(text, source=f"built-in protocol {text_name}"), []
    path = Path(name_or_path)
    if path.is_file():
        from .copies import without_copied_published

        return without_copied_published(parse_protocol(path.read_text("utf-8"), source=str(path)), str(path))
    raise ProtocolError(f"no protocol {text_name!r}: give a built-in name ({', '.join(builtin_protocols())}) "
                        "or the path of a protocol YAML file")


def parse_protocol(text: str, *, source: str = "protocol") -> Protocol:
    """Read and check a protocol; errors name the key, the problem and the fix. (Whether it is a
    copy of a built-in protocol is checked by ``load_protocol``, which knows it read a file.)"""
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
        raise ProtocolError(f"{source}: " + _explain(exc, data)) from exc
    problems = _reference_problems(protocol)
    if problems:
        raise ProtocolError(f"{source}: " + "; ".join(problems))
    return protocol


def _explain(exc: ValidationError, data: object = None) -> str:
    """The validation errors in a user's words: each names its key (``endpoints.3.criterion``,
    never pydantic's union tags), an unknown kind or key names the nearest valid ones, and the
    errors a misspelt key causes (the key it was meant to be, now missing) are said once."""
    lines: list[str] = []
    seen: set[str] = set()
    errors = exc.errors()
    extra = {_clean(e["loc"], data, e["type"]): e for e in errors if e["type"] == "extra_forbidden"}
    meant = {_meant_key(where, data) for where in extra} - {None}
    for error in errors:
        where = _clean(error["loc"], data, error["type"])
        if error["type"] == "missing" and where in meant:
            continue  # said by the misspelt key
        if error["type"] == "literal_error" and (isinstance(error["input"], dict)
                                                 or _kind_error_at(errors, data, where)):
            continue  # a name or a criterion (compare.by, patients): said once, by the criterion's message
        message = _message(error, where, data)
        if where in seen or message in lines:
            continue
        seen.add(where)
        lines.append(message)
    return "; ".join(lines[:8]) + ("; ..." if len(lines) > 8 else "")


def _message(error: dict, where: str, data: object) -> str:
    kind, value = error["type"], error["input"]
    at = f"at {where or 'top level'}: "
    if kind in ("criterion_kind", "event_kind"):
        return at + _kind_message(kind.removesuffix("_kind"), value, _literal_choices(where, data))
    if kind == "extra_forbidden":
        key = where.rsplit(".", 1)[-1]
        model = _model_at(where.rsplit(".", 1)[0] if "." in where else "", data)
        keys = _keys_of(model)
        near = get_close_matches(key, keys, n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(k) for k in near)}?" if near else ""
        return f"at {where}: unknown key {key!r}{hint} (keys: {', '.join(keys)})" if keys else \
            f"at {where}: unknown key {key!r}"
    if kind == "missing":
        parent, _, key = where.rpartition(".")
        return f"at {parent or 'top level'}: missing key {key!r}"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        near = get_close_matches(tag, tags, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"at {where}.kind: unknown endpoint kind {tag!r}{hint} (kinds: {', '.join(tags)})"
    if kind == "union_tag_not_found":
        return f"at {where}: give the endpoint a kind (proportion, count, distribution, time_to_event)"
    if kind == "string_type" and isinstance(value, bool):
        return at + ("YAML reads an unquoted yes, no, on or off as true or false: write it in quotes, "
                     "such as 'yes'")
    return at + error["msg"] + (f" (got {value!r})" if not isinstance(value, dict) else "")


def _kind_message(what: str, value: object, literals: tuple[str, ...]) -> str:
    """An unknown criterion or event kind, or a mapping of more than one key."""
    from .criteria import CRITERION_KINDS
    from .model import _EVENTS

    kinds = list(CRITERION_KINDS) if what == "criterion" else list(_EVENTS)
    plural = "criteria" if what == "criterion" else "events"
    if isinstance(value, dict) and len(value) > 1:
        keys = ", ".join(str(k) for k in value)
        return (f"{_article(what)} {what} has exactly one key naming its kind (got {len(value)}: {keys}); "
                f"write several as the items of all: [...] or any: [...]" if what == "criterion" else
                f"an event has exactly one key naming its kind (got {len(value)}: {keys})")
    if isinstance(value, dict) and len(value) == 1:
        key = str(next(iter(value)))
        near = get_close_matches(key, kinds, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"unknown {what} {key!r}{hint} ({plural}: {', '.join(kinds)})"
    if isinstance(value, str) and literals:
        near = get_close_matches(value, list(literals), n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        names = literals[0] if len(literals) == 1 else "one of " + ", ".join(literals)
        return f"{value!r} is neither {names} nor a criterion{hint}"
    return (f"{_article(what)} {what} is a mapping with one key naming its kind, such as "
            f"{{{kinds[0]}: {{...}}}} (got {value!r}; {plural}: {', '.join(kinds)})")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _clean(loc: tuple, data: object, kind: str) -> str:
    """The path of an error as the user wrote it: pydantic's union tags and validator names
    (parts of ``loc`` that are no key or index of the data) are left out."""
    node, parts = data, []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif last and kind in ("missing", "extra_forbidden") and isinstance(part, str) \
                and not part.startswith(("function-", "tagged-union", "literal[")):
            pass
        else:
            continue
        parts.append(str(part))
    return ".".join(parts)


def _node(where: str, data: object) -> object:
    node = data
    for part in where.split(".") if where else []:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _meant_key(where: str, data: object) -> str | None:
    """For a misspelt key at ``where``, the path of the valid key it was meant to be."""
    parent, _, key = where.rpartition(".")
    near = get_close_matches(key, _keys_of(_model_at(parent, data)), n=1, cutoff=0.6)
    return f"{parent}.{near[0]}" if near and parent else (near[0] if near else None)


def _kind_error_at(errors: list, data: object, where: str) -> bool:
    return any(e["type"] == "criterion_kind" and _clean(e["loc"], data, e["type"]) == where for e in errors)


def _literal_choices(where: str, data: object) -> tuple[str, ...]:
    """The names a field takes besides a criterion (``compare.by``: index_drug, sex, ...)."""
    parent, _, key = where.rpartition(".")
    model = _model_at(parent, data)
    field = next((f for n, f in getattr(model, "model_fields", {}).items() if (f.alias or n) == key), None)
    if field is None:
        return ()
    return tuple(str(a) for t in _flatten(field.annotation) if get_origin(t) is Literal for a in get_args(t))


def _flatten(annotation: object) -> list:
    """The alternatives of a type: Optional, Union and Annotated unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _flatten(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [t for a in get_args(annotation) for t in _flatten(a)]
    return [annotation]


def _model_at(where: str, data: object):
    """The pydantic model that reads the mapping at ``where`` of the protocol (or ``None``)."""
    model: object = Protocol
    node = data
    for part in where.split(".") if where else []:
        node = node.get(part) if isinstance(node, dict) else (
            node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            model = field.annotation if field is not None else None
        elif get_origin(model) in (tuple, list):
            model = get_args(model)[0]
        elif get_origin(model) is dict:
            model = get_args(model)[1]
        else:
            return None
        model = _choose(model, node)
        if get_origin(model) in (tuple, list) and isinstance(node, dict):  # one item for a list
            model = _choose(get_args(model)[0], node)
    return _choose(model, node)


def _choose(annotation: object, node: object):
    """The one model of a union that reads ``node``: by its kind key, else the only model."""
    options = _flatten(annotation)
    if len(options) == 1 and get_origin(options[0]) in (tuple, list, dict):
        return options[0]
    models = [t for t in options if isinstance(t, type) and issubclass(t, BaseModel)]
    if len(models) <= 1:
        return models[0] if models else (options[0] if len(options) == 1 else None)
    if isinstance(node, dict):
        kind = node.get("kind")
        for m in models:
            field = m.model_fields.get("kind")
            if kind is not None and field is not None and kind in get_args(field.annotation):
                return m
        key = key_of(node)
        for m in models:
            if key is not None and key in {f.alias or n for n, f in m.model_fields.items()} and \
                    len(m.model_fields) == 1:
                return m
    return None


def _keys_of(model: object) -> list[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


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
    for drug in index.drugs:
        problems += _drug_problems("index_treatment.drugs", drug)
    problems += _target_line_problems("index_treatment", index.targets, index.line)
    for i, prior in enumerate(protocol.eligibility.prior_treatments):
        for drug in prior.drugs:
            problems += _drug_problems(f"eligibility.prior_treatments.{i}.drugs", drug)
        for c in prior.classes:
            if c not in classes:
                problems.append(f"eligibility.prior_treatments.{i}.classes: {c!r} is not a drug class "
                                f"({', '.join(sorted(classes))})")
        problems += _target_line_problems(f"eligibility.prior_treatments.{i}", prior.targets, None)
    for where, selection in ((w, n) for w, n in walk_models(protocol) if isinstance(n, TreatmentSelection)):
        for drug in selection.drugs:
            problems += _drug_problems(f"{where}.drugs", drug)
        problems += [f"{where}.classes: {c!r} is not a drug class ({', '.join(sorted(classes))})"
                     for c in selection.classes if c not in classes]
        problems += _target_line_problems(where, selection.targets, selection.line)
    tests = {t.code for t in lab_tests().tests}
    for code in protocol.reference_limits:
        if code not in tests:
            problems.append(f"reference_limits.{code}: not a lab test ({', '.join(sorted(tests))})")
        elif protocol.reference_limits[code].unit not in lab_tests().test(code).units:
            problems.append(f"reference_limits.{code}.unit: use one of {', '.join(lab_tests().test(code).units)}")
    for endpoint in protocol.endpoints:
        for ref_kind, value in _references(endpoint.model_dump(by_alias=True)):
            if ref_kind == "test" and value not in tests:
                problems.append(f"endpoint {endpoint.id}: lab test {value!r} is unknown")
        if isinstance(endpoint, Count) and endpoint.of and endpoint.of not in ids:
            problems.append(f"endpoint {endpoint.id}: of {endpoint.of!r} is not an endpoint id")
        if not isinstance(endpoint, (Count, Proportion, Distribution, TimeToEvent)):
            problems.append(f"endpoint {endpoint.id}: unknown kind")
        if isinstance(endpoint, Distribution) and endpoint.measure.follow_up_years:
            target = endpoint.measure.follow_up_years.to
            if target in timepoints and protocol.timepoint(target).anchor != "last_assessment":
                problems.append(f"endpoint {endpoint.id}: follow_up_years.to {target!r} must be a timepoint "
                                "with anchor: last_assessment (follow-up runs to the latest assessment)")
    problems += named_problems(protocol)
    for i, sentence in enumerate(protocol.summary):
        for eid, view in _PLACEHOLDER.findall(sentence):
            if eid not in ids:
                problems.append(f"summary.{i}: {{{eid}}} is not an endpoint id")
            elif view and view not in _VIEWS:
                problems.append(f"summary.{i}: view |{view} is not one of {', '.join(sorted(_VIEWS))}")
    return problems


_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)(?:\|([a-z_]+))?\}")
_VIEWS = {"percent", "n", "of", "median", "range", "iqr",
          # words that agree with the number (cnotrack.render.sentences.VIEWS; a test keeps both equal)
          "s", "of_patients", "was", "were", "has", "have", "is", "are", "patients", "lesions", "pairs",
          "events", "years", "values", "studies", "visits", "courses", "groups"}


def _target_line_problems(key: str, targets: tuple[str, ...], line: str | None) -> list[str]:
    known = drugs().targets
    problems = [f"{key}.targets: {t!r} is not a drug target ({', '.join(known)})" for t in targets
                if t not in known]
    if line is not None and line not in lines().lines:
        problems.append(f"{key}.line: {line!r} is not a line of therapy ({', '.join(lines().lines)}; "
                        "see vocabularies/lines.yaml)")
    return problems


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
