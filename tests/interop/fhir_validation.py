"""Independent checks that every FHIR R4 Bundle cnotrack exports must pass (issue 13).

Each check is written against something cnotrack's authors did not write, so that the exporter
cannot pass by agreeing with itself:

- ``schema_errors``: the official HL7 FHIR R4 (4.0.1) JSON Schema (draft-06, read from
  ``../shared/reference/fhir/``) with the ``jsonschema`` package: element names, types,
  cardinality of arrays, required values, code value sets, primitive patterns (``uri``, ``id``,
  ``dateTime`` ...).
- ``model_errors``: the ``fhir.resources`` R4B pydantic models (8.x validates R5 by default; R4B's
  elements equal R4's for the resources cnotrack writes, see the reference README), which also
  parse primitives: a date that does not exist (2021-02-30) fits the schema's pattern but not the
  models.
- ``invariant_errors``: the Bundle invariants bdl-1 ... bdl-12 of R4, evaluated with
  ``fhirpathpy``, and reference resolution inside the Bundle.
- ``empty_values``: a walk for ``""``, ``[]``, ``{}`` and ``null`` (FHIR JSON forbids them; a
  ``null`` is allowed only as a gap in a primitive array that has a ``_name`` twin).

Every function returns a list of messages, each ``where: what``, where ``where`` names the
element as a FHIRPath-like path with the resource it is in (``Bundle.entry[2].resource
(Observation/esr-1).valueQuantity.value``): an empty list means the check passed. The functions
are test support, not part of cnotrack: they read the reference folder, and raise
``FileNotFoundError`` when it is absent (tests skip on ``REFERENCE_MISSING``).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUNDLE_INVARIANTS", "REFERENCE", "REFERENCE_MISSING", "SCHEMA_PATH", "Invariant",
    "all_errors", "empty_values", "invariant_errors", "model_errors", "reference_errors",
    "schema_errors",
]

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
SCHEMA_PATH = REFERENCE / "fhir" / "fhir.schema.r4.json.gz"
REFERENCE_MISSING = f"the FHIR R4 JSON Schema is not at {SCHEMA_PATH} (../shared/reference is absent)"

MESSAGE_LIMIT = 240  # a schema message quotes the offending value; a whole resource is noise


# --------------------------------------------------------------------------- where an error is

def _where(bundle: object, path: Sequence[object]) -> str:
    """``Bundle.entry[1].resource (Observation/o1).valueQuantity.value`` for a JSON path."""
    text, node = "Bundle", bundle
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}"
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            node = None
        if step == "resource" and isinstance(node, dict):
            text += f" ({node.get('resourceType')}/{node.get('id')})"
    return text


def _short(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + " ..."


# --------------------------------------------------------------------------- the R4 JSON Schema

# ECMA 262's \\s (JSON Schema patterns are ECMA 262 regexes): WhiteSpace and LineTerminator, i.e.
# tab, LF, VT, FF, CR, the Unicode space separators (Zs) and U+2028/2029, U+FEFF. Python's \\s is
# str.isspace(): it also takes U+001C-001F and U+0085 and leaves out U+FEFF.
ECMA_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema pattern as a Python regex with ECMA 262's meaning: ``\\s`` and ``\\S`` are
    ECMA's whitespace, and a final ``$`` matches only at the very end (Python's ``$`` also matches
    before a final newline, so ``"4537-7\\n"`` would pass as a code). Enough of ECMA for the R4
    schema's patterns: a ``\\S`` inside a class becomes an alternative (``[ \\t\\S]`` ->
    ``(?:[ \\t]|[^space])``), as Python cannot nest a negated class in a class."""
    out, i, in_class, class_start, class_has_not_space = [], 0, False, 0, False
    while i < len(pattern):
        char = pattern[i]
        pair = pattern[i:i + 2]
        if pair in ("\\s", "\\S"):
            if not in_class:
                out.append(f"[{ECMA_SPACE}]" if pair == "\\s" else f"[^{ECMA_SPACE}]")
            elif pair == "\\s":
                out.append(ECMA_SPACE)
            else:
                class_has_not_space = True
            i += 2
            continue
        if char == "\\":
            out.append(pair)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class, class_start, class_has_not_space = True, len(out), False
        elif char == "]" and in_class:
            in_class = False
            if class_has_not_space:
                body = "".join(out[class_start + 1:])
                if body.startswith("^"):
                    raise ValueError(f"a negated class with \\S is not translated: {pattern!r}")
                del out[class_start:]
                out.append(f"(?:[{body}]|[^{ECMA_SPACE}])" if body else f"[^{ECMA_SPACE}]")
                i += 1
                continue
        out.append(char)
        i += 1
    text = "".join(out)
    if text.endswith("$") and not text.endswith("\\$"):
        text = text[:-1] + r"\Z"
    return re.compile(text)


@functools.cache
def _schema_validator():
    """The R4 schema as a Draft6Validator, built once.

    Two keywords are specialised, both to follow the schema's own text:
    - ``oneOf`` over every resource type (the root and ``ResourceList``) follows the schema's
      ``discriminator`` (``resourceType`` -> definition): the plain ``oneOf`` tries all 146
      resource schemas and reports only "is not valid under any of the given schemas".
    - ``pattern`` is read as the ECMA 262 regex it is (``_ecma_pattern``), not as Python's.
    """
    import jsonschema
    from jsonschema import Draft6Validator, ValidationError

    if not SCHEMA_PATH.exists():
        raise FileNotFoundError(REFERENCE_MISSING)
    schema = json.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))
    Draft6Validator.check_schema(schema)
    mapping: dict[str, str] = schema["discriminator"]["mapping"]
    every_resource = schema["oneOf"]
    plain_one_of = Draft6Validator.VALIDATORS["oneOf"]
    patterns = functools.cache(_ecma_pattern)

    def one_of(validator, choices, instance, subschema):
        if choices != every_resource:
            yield from plain_one_of(validator, choices, instance, subschema)
            return
        kind = instance.get("resourceType") if isinstance(instance, dict) else None
        if kind not in mapping:
            yield ValidationError(f"not a resource: resourceType {kind!r} is not an R4 resource type")
            return
        yield from validator.descend(instance, {"$ref": mapping[kind]})

    def pattern(validator, expected, instance, subschema):
        if validator.is_type(instance, "string") and not patterns(expected).search(instance):
            yield ValidationError(f"{instance!r} does not match {expected!r}")

    validator_class = jsonschema.validators.extend(Draft6Validator, {"oneOf": one_of, "pattern": pattern})
    return validator_class(schema)


def schema_errors(bundle: dict) -> list[str]:
    """Every violation of the official R4 JSON Schema, as ``path: message``."""
    validator = _schema_validator()
    errors = []
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        errors.append("Bundle: resourceType is not 'Bundle'")
    for error in validator.iter_errors(bundle):
        errors.append(f"{_where(bundle, list(error.absolute_path))}: {_short(error.message)}")
    return errors


# --------------------------------------------------------------------------- fhir.resources R4B

def model_errors(bundle: dict) -> list[str]:
    """Every error the ``fhir.resources`` R4B Bundle model raises parsing ``bundle``."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        return [f"{_where(bundle, detail['loc'])}: {_short(detail['msg'])} ({detail['type']})"
                for detail in error.errors()]
    except Exception as error:  # fhir_core raises plain errors for some shapes (a wrong resourceType)
        return [f"Bundle: {type(error).__name__}: {_short(str(error))}"]
    return []


# --------------------------------------------------------------------------- Bundle invariants

@dataclass(frozen=True)
class Invariant:
    """A FHIR constraint: its key, the element it is evaluated on, its human text and FHIRPath."""

    key: str
    context: str  # "Bundle" or "Bundle.entry"
    human: str
    expression: str


# The constraints of Bundle in FHIR R4 (4.0.1), https://hl7.org/fhir/R4/bundle.html, section
# 2.36.3.2 "Constraints", expressions as published (R4 has no bdl-6). bdl-3 and bdl-4 use
# %resource: the Bundle.
BUNDLE_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("bdl-1", "Bundle", "total only when a search or history",
              "total.empty() or (type = 'searchset') or (type = 'history')"),
    Invariant("bdl-2", "Bundle", "entry.search only when a search",
              "entry.search.empty() or (type = 'searchset')"),
    Invariant("bdl-3", "Bundle", "entry.request mandatory for batch/transaction/history, otherwise prohibited",
              "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' "
              "or %resource.type = 'history'))"),
    Invariant("bdl-4", "Bundle",
              "entry.response mandatory for batch-response/transaction-response/history, otherwise prohibited",
              "entry.all(response.exists() = (%resource.type = 'batch-response' or "
              "%resource.type = 'transaction-response' or %resource.type = 'history'))"),
    Invariant("bdl-5", "Bundle.entry", "must be a resource unless there's a request or response",
              "resource.exists() or request.exists() or response.exists()"),
    Invariant("bdl-7", "Bundle", "FullUrl must be unique in a bundle, or else entries with the same fullUrl "
              "must have different meta.versionId (except in history bundles)",
              "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
              ".isDistinct()"),
    Invariant("bdl-8", "Bundle.entry", "fullUrl cannot be a version specific reference",
              "fullUrl.contains('/_history/').not()"),
    Invariant("bdl-9", "Bundle", "A document must have an identifier with a system and a value",
              "type = 'document' implies (identifier.system.exists() and identifier.value.exists())"),
    Invariant("bdl-10", "Bundle", "A document must have a date",
              "type = 'document' implies (timestamp.hasValue())"),
    Invariant("bdl-11", "Bundle", "A document must have a Composition as the first resource",
              "type = 'document' implies entry.first().resource.is(Composition)"),
    Invariant("bdl-12", "Bundle", "A message must have a MessageHeader as the first resource",
              "type = 'message' implies entry.first().resource.is(MessageHeader)"),
)


def _has_value(inputs: list) -> list[bool]:
    """FHIRPath ``hasValue()``, which fhirpathpy 2.2 does not implement: one primitive with a
    value (not only an id or extensions in its ``_name`` twin)."""
    return [len(inputs) == 1 and isinstance(inputs[0], (str, int, float, bool))]


@functools.cache
def _compiled(expression: str):
    import fhirpathpy
    from fhirpathpy.models import models

    functions = {"hasValue": {"fn": _has_value, "arity": {0: []}}}
    return fhirpathpy.compile(expression, models["r4"], {"userInvocationTable": functions})


def _holds(expression: str, node: object, bundle: dict) -> bool:
    """A constraint holds when it evaluates to true; an empty result means it does not apply
    (bdl-8 on an entry without fullUrl, which R4 allows on a POST; R4B wrote that guard out)."""
    result = _compiled(expression)(node, {"resource": bundle})
    return result in ([], [True])


def _invariant_violations(bundle: dict) -> list[str]:
    errors = []
    entries = bundle.get("entry") or []
    for invariant in BUNDLE_INVARIANTS:
        if invariant.context == "Bundle":
            places = [((), bundle)]
        else:
            places = [(("entry", i), entry) for i, entry in enumerate(entries)]
        for path, node in places:
            try:
                holds = _holds(invariant.expression, node, bundle)
            except Exception as error:  # a Bundle too broken to evaluate is a failure, not a pass
                errors.append(f"{_where(bundle, path)}: {invariant.key} could not be evaluated: {error}")
                continue
            if not holds:
                errors.append(f"{_where(bundle, path)}: {invariant.key} violated: {invariant.human}")
    return errors


# --------------------------------------------------------------------------- references

_HISTORY = re.compile(r"/_history/[^/]+$")


def _targets(bundle: dict) -> dict[str, list[int]]:
    """Every name an entry answers to -> the entries: its fullUrl, and ``Type/id`` of its
    resource (a relative reference; R4 bundle.html 2.36.4.1 resolves it against a RESTful
    fullUrl's root, and a transaction against the entries' ``request.url``)."""
    names: dict[str, list[int]] = {}
    for i, entry in enumerate(bundle.get("entry") or []):
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource") if isinstance(entry.get("resource"), dict) else {}
        keys = {entry.get("fullUrl")}
        if resource.get("resourceType") and resource.get("id"):
            keys.add(f"{resource['resourceType']}/{resource['id']}")
        for key in keys - {None}:
            names.setdefault(key, []).append(i)
    return names


def reference_errors(bundle: dict) -> list[str]:
    """Every ``Reference.reference`` (found by type with FHIRPath ``descendants().ofType(Reference)``,
    so ``DetectedIssue.reference``, a uri, is not one) that does not resolve to exactly one entry
    of the Bundle: by fullUrl, by ``Type/id``, or by ``#id`` to a resource it contains."""
    names = _targets(bundle)
    find = _compiled("descendants().ofType(Reference).reference")
    errors = []
    for i, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        contained = {c.get("id") for c in resource.get("contained") or [] if isinstance(c, dict)}
        for reference in find(resource, {}):
            where = _where(bundle, ("entry", i, "resource"))
            if not isinstance(reference, str):
                continue  # a wrong type: the schema's and the models' error
            if reference.startswith("#"):
                if reference != "#" and reference[1:] not in contained:
                    errors.append(f"{where}: reference {reference!r} names no contained resource")
                continue
            unversioned = _HISTORY.sub("", reference)
            found = names.get(unversioned, [])
            if not found:
                errors.append(f"{where}: reference {reference!r} does not resolve inside the Bundle")
            elif len(set(found)) > 1:
                errors.append(f"{where}: reference {reference!r} is ambiguous: entries {sorted(set(found))}")
    return errors


def invariant_errors(bundle: dict) -> list[str]:
    """The R4 Bundle invariants (bdl-1 ... bdl-12) and reference resolution inside the Bundle."""
    return _invariant_violations(bundle) + reference_errors(bundle)


# --------------------------------------------------------------------------- empty values

def _empties(node: object, path: tuple, siblings: dict | None = None) -> Iterator[tuple]:
    if isinstance(node, dict):
        if not node:
            yield path, "{}"
        for key, value in node.items():
            yield from _empties(value, (*path, key), node)
    elif isinstance(node, list):
        if not node:
            yield path, "[]"
        name = path[-1] if path else ""
        twin = (siblings or {}).get(name[1:] if name.startswith("_") else f"_{name}")
        for i, value in enumerate(node):
            if value is None and isinstance(twin, list) and i < len(twin) and twin[i] is not None:
                continue  # a gap in a primitive array whose _twin holds this item's id/extension
            yield from _empties(value, (*path, i), None)
    elif node is None:
        yield path, "null"
    elif node == "":
        yield path, '""'


def empty_values(bundle: object) -> list[str]:
    """Every empty value in the Bundle: ``""``, ``[]``, ``{}`` or ``null`` (FHIR R4 JSON,
    json.html: "empty values are not allowed"; ``null`` only pairs a primitive array with its
    ``_name`` array)."""
    return [f"{_where(bundle, path)}: empty value {shown}" for path, shown in _empties(bundle, ())]


# --------------------------------------------------------------------------- everything

def all_errors(bundle: dict) -> list[str]:
    """Every check above, each message prefixed with the check that found it."""
    return ([f"schema: {e}" for e in schema_errors(bundle)]
            + [f"model: {e}" for e in model_errors(bundle)]
            + [f"invariant: {e}" for e in invariant_errors(bundle)]
            + [f"empty: {e}" for e in empty_values(bundle)])
