"""Results sentences: a protocol's ``summary`` templates filled with computed values.

A placeholder is ``{endpoint.id}`` (the result in short form: "5 of 9 patients (55.6%)" for a
proportion, the number for a count) or ``{endpoint.id|view}`` with view ``percent`` (a count as
a percentage of the count it is part of), ``median``, ``range`` or ``iqr`` (distributions),
``n`` or ``of``.

Views that make a sentence read right for any n (the number is a count's value, a proportion's
``n`` or a distribution's ``n``): a plural noun (``patients``, ``lesions``, ``pairs``, ...) gives
the number with its noun ("1 patient", "9 patients"); ``s`` gives "s" unless the number is 1
("{x} new lesion{x|s}"); a verb (``was``/``were``, ``has``/``have``, ``is``/``are``) agrees with
the number; ``of_patients`` is a proportion's (or a count's) denominator with its noun ("1 of
these {x|of_patients}" -> "1 of these 2 patients").
"""

from __future__ import annotations

import re

from ..errors import ProtocolError
from ..results import CountResult, DistributionResult, EndpointResult, ProportionResult
from ..words import NOUNS, VERBS, counted, noun, verb

__all__ = ["VIEWS", "fill_sentence", "summary_sentences"]

_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)(?:\|([a-z_]+))?\}")
_PLURALS = {plural: singular for singular, plural in NOUNS.items()}
_VERB_FORMS = {*VERBS, *VERBS.values()}

#: Every view a summary placeholder may name.
VIEWS = frozenset({"percent", "n", "of", "median", "range", "iqr", "s", "of_patients", *_PLURALS, *_VERB_FORMS})


def _number(result: EndpointResult) -> int:
    """The number a word agrees with: a count's value, a proportion's or a distribution's n."""
    return result.value if isinstance(result, CountResult) else result.n


def _word_view(result: EndpointResult, view: str) -> str | None:
    if view in _PLURALS:
        return counted(_number(result), _PLURALS[view])
    if view == "s":
        return "" if _number(result) == 1 else "s"
    if view in _VERB_FORMS:
        return verb(_number(result), view)
    if view == "of_patients":
        of = result.of if isinstance(result, ProportionResult) else getattr(result, "of_value", None)
        if of is not None:
            return f"{of} {noun(of, 'patient')}"
    return None


def _view(result: EndpointResult, view: str | None) -> str:
    if view is None:
        return result.short()
    word = _word_view(result, view)
    if word is not None:
        return word
    if view == "percent" and isinstance(result, CountResult):
        return result.percent()
    if view == "percent" and isinstance(result, ProportionResult):
        return "n/a" if result.of == 0 else f"{100 * result.n / result.of:.1f}%"
    if view in ("n", "of") and isinstance(result, ProportionResult):
        return str(getattr(result, view))
    if isinstance(result, DistributionResult) and result.n:
        if view == "median":
            return f"{result.median:.1f}"
        if view == "range":
            return f"{result.minimum:.1f} to {result.maximum:.1f}"
        if view == "iqr":
            return f"{result.q1:.1f} to {result.q3:.1f}"
    if isinstance(result, DistributionResult):
        return "n/a"
    raise ProtocolError(f"summary: {{{result.id}|{view}}} is not a view of a {result.kind}")


def fill_sentence(template: str, results: dict[str, EndpointResult]) -> str:
    def replace(match: re.Match) -> str:
        eid, view = match.group(1), match.group(2)
        if eid not in results:
            raise ProtocolError(f"summary: {{{eid}}} is not an endpoint of the protocol")
        return _view(results[eid], view)

    return _PLACEHOLDER.sub(replace, template)


def summary_sentences(templates: tuple[str, ...], results: dict[str, EndpointResult]) -> list[str]:
    return [fill_sentence(t, results) for t in templates]
