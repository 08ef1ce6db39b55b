"""Instrument definitions: typed models and the loader of the YAML files.

Each instrument cnotrack ships is described by one YAML file in ``definitions/``:
its citation, how sure we are of each part (``certainty``, ``confirmed``,
``not_checked``), its inputs with type, unit and allowed range, its scored items
and its cut-offs with their interpretation text. The modules beside this one
compute from these definitions; no point value or threshold is written in code.

This module only describes and loads; computing lives in the instrument modules
and ``_scoring.py``, rendering in ``_result.py``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from importlib import resources

import yaml

from ..datafiles import safe_yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cnotrack.errors import CnotrackError

__all__ = [
    "Certainty",
    "Comparison",
    "Constant",
    "CutOff",
    "Domain",
    "InputDefinition",
    "InputType",
    "InstrumentDefinition",
    "Reference",
    "ScoringItem",
    "SHIPPED_INSTRUMENTS",
    "load_definition",
]

#: The instruments cnotrack ships, in the order the documentation presents them.
SHIPPED_INSTRUMENTS: tuple[str, ...] = ("jansson", "nbods", "bristol", "pedcno", "chaq", "pga")

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


class Certainty(StrEnum):
    """How sure cnotrack is of a definition (see docs/instruments.md).

    ``confirmed``: read in published text. ``reproduced``: widely reproduced, but the
    primary table was not read; the parts not checked are listed in ``not_checked``.
    Nothing of unknown certainty is shipped.
    """

    CONFIRMED = "confirmed"
    REPRODUCED = "reproduced"


class InputType(StrEnum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"
    CHOICE = "choice"
    #: a CHAQ answer: 0, 1, 2, 3, or "na" (not applicable)
    CHAQ_RESPONSE = "chaq_response"
    #: free text checked by the instrument itself (the PGA value, whose type depends on its scale)
    TEXT = "text"


class Comparison(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    IS_TRUE = "is_true"
    OTHERWISE = "otherwise"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Model):
    """A further source, and what it supports."""

    citation: str
    doi: str | None = None
    pmid: str | None = None
    supports: str


class InputDefinition(_Model):
    """One input key: its type, unit, allowed range and how to fix a bad value."""

    key: str
    label: str
    type: InputType
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    required: bool = True
    default: bool | int | float | str | None = None
    hint: str | None = None
    example: str | None = None

    @model_validator(mode="after")
    def _check(self) -> InputDefinition:
        if self.type is InputType.CHOICE and not self.choices:
            raise ValueError(f"input {self.key!r} is a choice but lists no choices")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"input {self.key!r}: minimum {self.minimum} > maximum {self.maximum}")
        if self.required and self.default is not None:
            raise ValueError(f"input {self.key!r} is required, so it cannot have a default")
        return self

    def allowed(self) -> str:
        """The allowed values in words, e.g. 'a number from 0 to 10 (VAS 0-10)'."""
        unit = f" {self.unit}" if self.unit else ""
        if self.type is InputType.BOOLEAN:
            return "yes or no (also y/n, true/false, 1/0)"
        if self.type is InputType.CHAQ_RESPONSE:
            return "0 (no difficulty), 1 (some), 2 (much), 3 (unable) or na (not applicable)"
        if self.type is InputType.CHOICE:
            return "one of: " + ", ".join(self.choices or ())
        if self.type is InputType.TEXT:
            return self.hint or "text"
        noun = "a whole number" if self.type is InputType.INTEGER else "a number"
        lo, hi = _plain(self.minimum), _plain(self.maximum)
        if lo is not None and hi is not None:
            return f"{noun} from {lo} to {hi}{unit}"
        if lo is not None:
            return f"{noun} >= {lo}{unit}"
        if hi is not None:
            return f"{noun} <= {hi}{unit}"
        return f"{noun}{unit}"


class ScoringItem(_Model):
    """One scored item: the points it adds when its input meets its condition."""

    id: str
    label: str
    input: str
    condition: Comparison
    threshold: float | None = None
    points: int
    odds_ratio: float | None = None
    certainty: Certainty

    @model_validator(mode="after")
    def _check(self) -> ScoringItem:
        if self.condition is Comparison.OTHERWISE:
            raise ValueError(f"item {self.id!r}: 'otherwise' is for cut-offs, not items")
        needs_threshold = self.condition is not Comparison.IS_TRUE
        if needs_threshold != (self.threshold is not None):
            raise ValueError(f"item {self.id!r}: condition {self.condition.value!r} and threshold do not fit")
        return self

    def rule(self) -> str:
        """The condition in words, e.g. 'crp_mg_l >= 10'."""
        if self.condition is Comparison.IS_TRUE:
            return f"{self.input} = yes"
        return f"{self.input} {self.condition.value} {_plain(self.threshold)}"


class CutOff(_Model):
    """A cut-off on the total and its interpretation; the first that applies wins."""

    id: str
    comparison: Comparison
    threshold: float | None = None
    interpretation: str
    certainty: Certainty
    applies_to: str | None = None

    @model_validator(mode="after")
    def _check(self) -> CutOff:
        if self.comparison is Comparison.IS_TRUE:
            raise ValueError(f"cut-off {self.id!r}: 'is_true' is for items")
        if (self.comparison is Comparison.OTHERWISE) != (self.threshold is None):
            raise ValueError(f"cut-off {self.id!r}: comparison and threshold do not fit")
        return self

    def rule(self) -> str:
        if self.comparison is Comparison.OTHERWISE:
            return "otherwise"
        return f"{self.comparison.value} {_plain(self.threshold)}"


class Domain(_Model):
    """A questionnaire domain (CHAQ): its items and the key of its aid/help flag."""

    id: str
    label: str
    items: tuple[str, ...]
    aid_key: str


class Constant(_Model):
    """A fixed number of the instrument's rule, with what it means."""

    key: str
    value: int | float | str | tuple[int, ...] | tuple[str, ...]
    description: str
    certainty: Certainty


class InstrumentDefinition(_Model):
    """Everything cnotrack knows about one instrument, and how sure it is."""

    id: str
    name: str
    purpose: str
    citation: str
    doi: str | None
    pmid: str | None = None
    references: tuple[Reference, ...] = ()
    certainty: Certainty
    certainty_note: str
    confirmed: tuple[str, ...]
    not_checked: tuple[str, ...]
    rules: tuple[str, ...]
    scope_note: str | None = None
    inputs: tuple[InputDefinition, ...]
    items: tuple[ScoringItem, ...] = ()
    cutoffs: tuple[CutOff, ...] = ()
    domains: tuple[Domain, ...] = ()
    constants: tuple[Constant, ...] = Field(default=())

    @model_validator(mode="after")
    def _check(self) -> InstrumentDefinition:
        keys = [i.key for i in self.inputs]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"duplicate input keys: {dupes}")
        known = set(keys)
        for item in self.items:
            if item.input not in known:
                raise ValueError(f"item {item.id!r} scores unknown input {item.input!r}")
        for domain in self.domains:
            for key in (*domain.items, domain.aid_key):
                if key not in known:
                    raise ValueError(f"domain {domain.id!r} names unknown input {key!r}")
        for doi in [self.doi, *(r.doi for r in self.references)]:
            if doi is not None and not _DOI.match(doi):
                raise ValueError(f"{doi!r} is not a DOI (10.NNNN/...)")
        groups: dict[str | None, list[CutOff]] = {}
        for cut in self.cutoffs:
            groups.setdefault(cut.applies_to, []).append(cut)
        for group in groups.values():
            if any(c.comparison is Comparison.OTHERWISE for c in group[:-1]):
                raise ValueError("an 'otherwise' cut-off must come last")
        return self

    @property
    def input_keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.inputs)

    def input(self, key: str) -> InputDefinition:
        for spec in self.inputs:
            if spec.key == key:
                return spec
        raise KeyError(key)

    def constant(self, key: str):  # noqa: ANN201 - the value's type depends on the key
        for c in self.constants:
            if c.key == key:
                return c.value
        raise KeyError(f"{self.id}: no constant {key!r}")

    def cutoffs_for(self, applies_to: str | None = None) -> tuple[CutOff, ...]:
        return tuple(c for c in self.cutoffs if c.applies_to == applies_to)

    @property
    def max_points(self) -> int:
        return sum(item.points for item in self.items)


@lru_cache(maxsize=None)
def load_definition(instrument_id: str) -> InstrumentDefinition:
    """Load and check ``definitions/<instrument_id>.yaml`` shipped with cnotrack."""
    name = f"{instrument_id}.yaml"
    resource = resources.files("cnotrack.instruments").joinpath("definitions", name)
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CnotrackError(
            f"No instrument definition file definitions/{name} in cnotrack.instruments; "
            f"shipped instruments: {', '.join(SHIPPED_INSTRUMENTS)}."
        ) from None
    try:
        data = safe_yaml(text)
        definition = InstrumentDefinition.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise CnotrackError(f"Instrument definition definitions/{name} is malformed:\n{exc}") from exc
    if definition.id != instrument_id:
        raise CnotrackError(
            f"Instrument definition definitions/{name} has id {definition.id!r}; "
            f"it must match the file name ({instrument_id!r})."
        )
    return definition


def _plain(x: float | None) -> str | None:
    """10.0 -> '10', 0.5 -> '0.5'; None stays None."""
    if x is None:
        return None
    return str(int(x)) if float(x).is_integer() else repr(float(x))
