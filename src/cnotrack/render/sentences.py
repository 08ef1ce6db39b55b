"""Results sentences: a protocol's ``summary`` templates filled with computed values.

A placeholder is ``{endpoint.id}`` (the result in short form: "5 of 9 patients (55.6%)" for a
proportion, the number for a count) or ``{endpoint.id|view}`` with view ``percent`` (a count as
a percentage of the count it is part of), ``median``, ``range`` or ``iqr`` (distributions),
``n`` or ``of``.
"""

from __future__ import annotations

import re

from ..errors import ProtocolError
from ..results import CountResult, DistributionResult, EndpointResult, ProportionResult

__all__ = ["fill_sentence", "summary_sentences"]

_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)(?:\|([a-z]+))?\}")


def _view(result: EndpointResult, view: str | None) -> str:
    if view is None:
        return result.short()
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
