"""The result of scoring an instrument, and its JSON and text renderings."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from ._definitions import Certainty

__all__ = ["InstrumentResult", "ItemResult", "format_number", "format_value", "result_of"]

#: Top-level keys of ``InstrumentResult.as_json()`` that an instrument's extras may not reuse.
RESERVED_KEYS = frozenset(
    {"instrument", "name", "score", "interpretation", "items", "citation", "doi", "certainty", "notes"}
)


class ItemResult(BaseModel):
    """One line of the explanation: an input (or a domain, or a core variable), its value,
    the points it contributed (``None`` where the instrument does not add points) and a note."""

    model_config = ConfigDict(frozen=True)

    input: str
    value: Any
    points: int | float | None = None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"input": self.input, "value": copy.deepcopy(self.value), "points": self.points, "note": self.note}


class InstrumentResult(BaseModel):
    """What an instrument says about one set of inputs, with its method and source.

    ``score`` is ``None`` where the instrument has no single number (PedCNO response,
    Bristol criteria, an ordinal PGA) or could not compute one (CHAQ with too few domains);
    the ``interpretation`` sentence then says why. ``extra`` holds instrument-specific
    outputs (e.g. PedCNO's ``improved``, ``worsened``, ``pedcno30``..``pedcno90``) and is
    flattened into the top level of :meth:`as_json`.
    """

    model_config = ConfigDict(frozen=True)

    instrument: str
    name: str
    score: int | float | None
    interpretation: str
    items: tuple[ItemResult, ...]
    extra: dict[str, Any] = {}
    notes: tuple[str, ...] = ()
    citation: str
    doi: str | None = None
    certainty: Certainty

    @model_validator(mode="after")
    def _extras_do_not_shadow(self) -> InstrumentResult:
        clash = sorted(RESERVED_KEYS & set(self.extra))
        if clash:
            raise ValueError(f"extra keys {clash} would shadow the result's own keys")
        return self

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``instrument``, ``name``, ``score``, ``interpretation``, ``items``,
        ``citation``, ``doi``, ``certainty``, ``notes``, then the instrument's extra keys."""
        out: dict[str, Any] = {
            "instrument": self.instrument,
            "name": self.name,
            "score": self.score,
            "interpretation": self.interpretation,
            "items": [item.as_json() for item in self.items],
            "citation": self.citation,
            "doi": self.doi,
            "certainty": self.certainty.value,
            "notes": list(self.notes),
        }
        out.update(copy.deepcopy(self.extra))
        return out

    def to_text(self) -> str:
        """A readable explanation: the interpretation, each item, the notes and the source."""
        lines = [
            f"{self.name} ({self.instrument})",
            f"Score: {format_value(self.score) if self.score is not None else 'none'}",
            self.interpretation,
            "",
        ]
        if self.items:
            lines.append("Items:")
            width = max(len(f"{i.input} = {format_value(i.value)}") for i in self.items)
            for item in self.items:
                left = f"{item.input} = {format_value(item.value)}"
                points = "" if item.points is None else format_value(item.points)
                lines.append(f"  {left:<{width}}  {points:>4}  {item.note}".rstrip())
            lines.append("")
        if self.extra:
            lines.append("Details:")
            for key, value in self.extra.items():
                lines.append(f"  {key}: {format_value(value, none='n/a')}")
            lines.append("")
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {note}" for note in self.notes)
            lines.append("")
        lines.append(f"Certainty: {self.certainty.value}.")
        doi = f" doi:{self.doi}" if self.doi else ""
        lines.append(f"Source: {self.citation}{doi}")
        return "\n".join(lines)


def format_number(x: int | float) -> str:
    """12.0 -> '12', 0.875 -> '0.875', 1/6 -> '0.167' (at most 3 decimals)."""
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.3f}".rstrip("0").rstrip(".")


def format_value(value: Any, none: str = "missing") -> str:
    """A value as the text rendering shows it: yes/no, 12, 0.875, 'missing' for None."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(v, 'n/a')}" for k, v in value.items()) or "(none)"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v, none) for v in value) if value else "(none)"
    return str(value)


def result_of(definition: Any, **fields: Any) -> InstrumentResult:
    """An ``InstrumentResult`` whose identity and source (id, name, citation, DOI, certainty) come
    from the instrument's definition; ``fields`` give the rest and may override the source."""
    source = {"instrument": definition.id, "name": definition.name, "citation": definition.citation,
              "doi": definition.doi, "certainty": definition.certainty}
    return InstrumentResult(**(source | fields))

