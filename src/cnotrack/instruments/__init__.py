"""Clinical instruments for CNO: scores, criteria and response definitions.

Each instrument is defined by data (``definitions/<id>.yaml``: citation, certainty, inputs
with unit and range, items, cut-offs) and computed by its own module. Use the instrument's
typed function, or :func:`score` with the strings a command line gives::

    >>> from cnotrack.instruments import score
    >>> score("nbods", {"crp_mg_l": "20", "multifocal": "yes", "femur": "no",
    ...                 "band_neutrophils_per_ul": "150"}).score
    98

Instruments shipped (see docs/instruments.md for each definition, its source and what could
not be checked): jansson, nbods, bristol, pedcno, chaq, pga.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cnotrack.errors import InstrumentInputError

from . import bristol, chaq, jansson, nbods, pedcno, pga
from ._definitions import SHIPPED_INSTRUMENTS, Certainty, InstrumentDefinition, load_definition
from ._inputs import parse_key_value_args
from ._result import InstrumentResult, ItemResult
from .bristol import bristol_criteria
from .chaq import chaq_disability_index
from .jansson import jansson_score
from .nbods import nbods_score
from .pedcno import PedcnoCoreSet, pedcno_response
from .pga import pga_assessment

__all__ = [
    "Certainty",
    "InstrumentDefinition",
    "InstrumentResult",
    "ItemResult",
    "PedcnoCoreSet",
    "bristol_criteria",
    "chaq_disability_index",
    "get_instrument",
    "jansson_score",
    "list_instruments",
    "nbods_score",
    "parse_key_value_args",
    "pedcno_response",
    "pga_assessment",
    "score",
]

InputValue = str | float | int | bool | None

_SCORERS: dict[str, Callable[[Mapping[str, InputValue]], InstrumentResult]] = {
    "jansson": jansson.score_inputs,
    "nbods": nbods.score_inputs,
    "bristol": bristol.score_inputs,
    "pedcno": pedcno.score_inputs,
    "chaq": chaq.score_inputs,
    "pga": pga.score_inputs,
}
assert tuple(_SCORERS) == SHIPPED_INSTRUMENTS


def score(name: str, inputs: Mapping[str, InputValue]) -> InstrumentResult:
    """Score instrument ``name`` on ``inputs`` (key -> value).

    Values may be typed or strings as a command line gives them (``key=value``): booleans
    as yes/no/y/n/true/false/1/0 in any case, numbers as text. An unknown instrument, an
    unknown key (the valid keys are listed), a missing required key or a bad value raises
    :class:`~cnotrack.errors.InstrumentInputError`.
    """
    return _scorer(name)(inputs)


def list_instruments() -> list[InstrumentDefinition]:
    """The definitions of every instrument cnotrack ships, in documentation order."""
    return [load_definition(name) for name in SHIPPED_INSTRUMENTS]


def get_instrument(name: str) -> InstrumentDefinition:
    """The definition of instrument ``name`` (e.g. ``"jansson"``)."""
    _scorer(name)
    return load_definition(name.strip().lower())


def _scorer(name: str) -> Callable[[Mapping[str, InputValue]], InstrumentResult]:
    key = name.strip().lower() if isinstance(name, str) else name
    try:
        return _SCORERS[key]
    except (KeyError, TypeError):
        raise InstrumentInputError(
            f"Unknown instrument {name!r}. Instruments: {', '.join(SHIPPED_INSTRUMENTS)}. "
            "Fix: e.g. cnotrack score jansson key=value ..."
        ) from None
