"""The verified code table of the FHIR export, loaded from ``codes.yaml``.

Every code the export writes is an entry of this table, with the source that confirms it.
A value without an entry is written as text only (``CodeableConcept.text``, ``Quantity.unit``):
cnotrack never codes a value by guess. The table is data, so that adding a confirmed code is a
one-line change with its citation, and a test can check it against the vocabularies.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ...datafiles import safe_yaml
from ...errors import VocabularyError

__all__ = ["CodeTable", "Group", "SystemSpec", "VerifiedCode", "code_table", "codings"]

Group = Literal["conditions", "labs", "drugs", "bones", "laterality", "seriousness", "units", "absent"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SystemSpec(_Frozen):
    """A code system: its canonical URI in FHIR R4 and where that URI is defined."""

    uri: str
    citation: str


class VerifiedCode(_Frozen):
    """One confirmed code: the code system's key in ``systems``, the code and its source."""

    system: str
    code: str
    citation: str


class CodeTable(_Frozen):
    """The confirmed codes, by group (``drugs``, ``bones``...) and cnotrack value."""

    systems: dict[str, SystemSpec]
    conditions: dict[str, tuple[VerifiedCode, ...]]
    labs: dict[str, tuple[VerifiedCode, ...]]
    drugs: dict[str, tuple[VerifiedCode, ...]]
    bones: dict[str, tuple[VerifiedCode, ...]]
    laterality: dict[str, tuple[VerifiedCode, ...]]
    seriousness: dict[str, tuple[VerifiedCode, ...]]
    units: dict[str, tuple[VerifiedCode, ...]]
    absent: dict[str, tuple[VerifiedCode, ...]] = {}

    @model_validator(mode="after")
    def _known_systems(self) -> "CodeTable":
        for group in Group.__args__:
            for key, codes in getattr(self, group).items():
                for code in codes:
                    if code.system not in self.systems:
                        raise ValueError(f"{group}.{key}: system {code.system!r} is not a key of systems "
                                         f"({', '.join(self.systems)})")
        return self

    def codes(self, group: Group, key: str | None) -> tuple[VerifiedCode, ...]:
        """The confirmed codes of ``key`` in ``group`` (none for an unknown or empty key)."""
        if key is None:
            return ()
        return getattr(self, group).get(key, ())

    def uri(self, system: str) -> str:
        return self.systems[system].uri


@cache
def code_table() -> CodeTable:
    """The code table shipped with cnotrack (``interop/fhir/codes.yaml``)."""
    text = resources.files("cnotrack.interop.fhir").joinpath("codes.yaml").read_text("utf-8")
    try:
        return CodeTable.model_validate(safe_yaml(text))
    except ValidationError as error:
        raise VocabularyError(f"interop/fhir/codes.yaml is malformed: {error}") from error


def codings(group: Group, key: str | None) -> list[dict[str, str]]:
    """FHIR ``Coding`` objects (system and code) of the confirmed codes of ``key``; no display,
    because the sources confirm codes, not their display strings."""
    table = code_table()
    return [{"system": table.uri(c.system), "code": c.code} for c in table.codes(group, key)]
