"""A copied protocol is not compared with the study it was copied from.

A user's protocol file often starts as a copy of a built-in one. Its ``published`` values are that
study's figures; they mean something only for that study's definition. The rule:

- a user file (not a built-in) that keeps a built-in protocol's ``id`` while anything of its
  definition differs is warned about (give it an id of its own);
- a ``published`` value equal to the built-in's, on an endpoint of the same id, is dropped when
  the protocol's index treatment, eligibility, timepoints, imaging modality or reference limits
  differ from the built-in's, or when that endpoint's own definition differs (anything but its
  ``label``); the warning names what differs and what to change.

An unchanged copy keeps its published values; a protocol of one's own with its own published
values (different from every built-in's) keeps them: only values carried over are dropped.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .describe import describe_index
from .model import Protocol

__all__ = ["COHORT_PARTS", "copy_warnings", "without_copied_published"]

#: the parts of a protocol that define who is counted and when, with the words for each
COHORT_PARTS = {"index_treatment": "index treatment", "eligibility": "eligibility", "timepoints": "timepoints",
                "imaging_modality": "imaging modality", "reference_limits": "reference limits"}
_NOT_DEFINITION = {"label", "published"}


@cache
def _builtins() -> tuple[Protocol, ...]:
    from .load import builtin_protocols, load_protocol

    return tuple(load_protocol(name) for name in builtin_protocols())


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value


def _cohort_differences(protocol: Protocol, builtin: Protocol) -> list[str]:
    """The cohort parts that differ, in words (the index treatment and modality with their values)."""
    out = []
    for key, words in COHORT_PARTS.items():
        mine, theirs = getattr(protocol, key), getattr(builtin, key)
        if _dump(mine) == _dump(theirs):
            continue
        if key == "index_treatment":
            out.append(f"index treatment ({describe_index(mine)} here, {describe_index(theirs)} in {builtin.id})")
        elif key == "imaging_modality":
            out.append(f"imaging modality ({mine} here, {theirs} in {builtin.id})")
        else:
            out.append(words)
    return out


def _endpoint_differs(endpoint: Any, builtin: Protocol) -> bool:
    theirs = builtin.endpoint(endpoint.id)
    strip = lambda e: {k: v for k, v in _dump(e).items() if k not in _NOT_DEFINITION}  # noqa: E731
    return strip(endpoint) != strip(theirs)


def _copied(protocol: Protocol, builtin: Protocol) -> list[str]:
    """Ids of the endpoints whose published value equals the built-in's on an endpoint of that id."""
    theirs = {e.id: e.published for e in builtin.endpoints if e.published is not None}
    return [e.id for e in protocol.endpoints if e.published is not None and theirs.get(e.id) == e.published]


def _check(protocol: Protocol, source: str) -> tuple[list[str], set[str]]:
    """The warnings and the endpoint ids whose published values are to be dropped."""
    warnings: list[str] = []
    drop: set[str] = set()
    for builtin in _builtins():
        copied = _copied(protocol, builtin)
        if protocol.id != builtin.id and not copied:
            continue
        cohort = _cohort_differences(protocol, builtin)
        changed = [eid for eid in copied if _endpoint_differs(protocol.endpoint(eid), builtin)]
        gone = copied if cohort else changed
        if protocol.id == builtin.id and _dump(protocol) != _dump(builtin):
            what = _and(cohort) if cohort else "endpoints, texts or settings"
            warnings.append(f"{source}: keeps the id {builtin.id!r} of the built-in protocol, but its {what} "
                            f"{_verb(cohort)}; give it an id, title and citation of its own (see 'Copying a "
                            "protocol: what to change' in docs/protocols.md)")
        if gone:
            why = (f"this protocol's {_and(cohort)} {_verb(cohort)}") if cohort else \
                f"the definition of {'this endpoint' if len(gone) == 1 else 'these endpoints'} differs from {builtin.id}'s"
            named = ", ".join(gone[:5]) + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
            count = "1 published value" if len(gone) == 1 else f"{len(gone)} published values"
            warnings.append(f"{source}: {count} ({named}) {'is' if len(gone) == 1 else 'are'} those of the "
                            f"built-in protocol {builtin.id}, but {why}; they are not shown. Remove them, or "
                            "replace them with the published values of the study this protocol follows")
            drop |= set(gone)
    return warnings, drop


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _verb(words: list[str]) -> str:
    return "differs" if len(words) == 1 else "differ"


def copy_warnings(protocol: Protocol, source: str = "protocol") -> list[str]:
    """What a copied protocol kept of a built-in one that no longer fits it (empty when nothing)."""
    return _check(protocol, source)[0]


def without_copied_published(protocol: Protocol, source: str = "protocol") -> tuple[Protocol, list[str]]:
    """The protocol with the published values carried over from a built-in one (whose cohort or
    endpoint definition this one changed) removed, and the warnings saying so."""
    warnings, drop = _check(protocol, source)
    if not drop:
        return protocol, warnings
    endpoints = tuple(e.model_copy(update={"published": None}) if e.id in drop else e for e in protocol.endpoints)
    return protocol.model_copy(update={"endpoints": endpoints}), warnings
