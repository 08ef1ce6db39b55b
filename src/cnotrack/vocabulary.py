"""Vocabularies shipped with cnotrack: anatomy, drugs and laboratory tests.

The definitions are data (``vocabularies/*.yaml``); this module loads them into typed
values and answers the questions the rest of cnotrack asks: what is the canonical name
of this bone or drug, which side and segment rules apply, how is this lab unit converted.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import VocabularyError

__all__ = [
    "Anatomy",
    "Bone",
    "Drug",
    "DrugVocabulary",
    "LabTest",
    "LabVocabulary",
    "anatomy",
    "drugs",
    "lab_tests",
    "normalise_key",
]


def normalise_key(value: str) -> str:
    """The form in which vocabulary values are compared: trimmed, lower-case, single spaces."""
    return " ".join(value.strip().lower().replace("_", " ").split())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Bone(_Frozen):
    name: str
    label: str
    region: str
    laterality: Literal["paired", "midline", "optional"]
    segments: str
    snomed_ct: str | None = None
    synonyms: tuple[str, ...] = ()


class Anatomy(_Frozen):
    source: str
    regions: dict[str, str]
    segment_sets: dict[str, tuple[str, ...]]
    bones: tuple[Bone, ...]
    region_snomed_ct: dict[str, str] = {}
    laterality_snomed_ct: dict[str, str] = {}

    def bone(self, name: str) -> Bone:
        return self._by_name()[name]

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (normalised) -> canonical bone name."""
        return _synonym_table(
            "anatomy", [(b.name, (b.name, *b.synonyms)) for b in self.bones]
        )

    def allowed_segments(self, bone: str) -> tuple[str, ...]:
        return self.segment_sets[self.bone(bone).segments]

    def _by_name(self) -> dict[str, Bone]:
        return {b.name: b for b in self.bones}


class Drug(_Frozen):
    name: str
    drug_class: str = Field(alias="class")
    atc: str | None = None
    snomed_ct: str | None = None
    target: str | None = None
    synonyms: tuple[str, ...] = ()
    note: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DrugVocabulary(_Frozen):
    source: str
    classes: dict[str, str]
    drugs: tuple[Drug, ...]

    def drug(self, name: str) -> Drug:
        return {d.name: d for d in self.drugs}[name]

    def lookup(self) -> dict[str, str]:
        return _synonym_table("drugs", [(d.name, (d.name, *d.synonyms)) for d in self.drugs])

    def names_of_class(self, drug_class: str) -> tuple[str, ...]:
        return tuple(d.name for d in self.drugs if d.drug_class == drug_class)


class LabTest(_Frozen):
    code: str
    label: str
    loinc: str | None = None
    canonical_unit: str
    units: dict[str, float]
    unit_synonyms: dict[str, str] = {}
    default_ref_high: float | None = None
    synonyms: tuple[str, ...] = ()

    def unit_lookup(self) -> dict[str, str]:
        table = {normalise_unit(u): u for u in self.units}
        for spelling, unit in self.unit_synonyms.items():
            table[normalise_unit(spelling)] = unit
        return table


class LabVocabulary(_Frozen):
    source: str
    tests: tuple[LabTest, ...]

    def test(self, code: str) -> LabTest:
        return {t.code: t for t in self.tests}[code]

    def lookup(self) -> dict[str, str]:
        return _synonym_table("labs", [(t.code, (t.code, *t.synonyms)) for t in self.tests])


def normalise_unit(unit: str) -> str:
    return "".join(unit.strip().lower().split())


def _synonym_table(vocabulary: str, entries: list[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, spellings in entries:
        for spelling in spellings:
            key = normalise_key(spelling)
            if table.get(key, canonical) != canonical:
                raise VocabularyError(
                    f"{vocabulary} vocabulary: {spelling!r} names both {table[key]!r} and "
                    f"{canonical!r}; remove it from one of them"
                )
            table[key] = canonical
    return table


def _load(filename: str, model: type[BaseModel]) -> BaseModel:
    text = resources.files("cnotrack.vocabularies").joinpath(filename).read_text("utf-8")
    try:
        return model.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise VocabularyError(f"vocabularies/{filename} is malformed: {exc}") from exc


@cache
def anatomy() -> Anatomy:
    """The site vocabulary: every bone with its region, laterality, segments and codes."""
    return _load("anatomy.yaml", Anatomy)  # type: ignore[return-value]


@cache
def drugs() -> DrugVocabulary:
    """The drug vocabulary: generic names, classes, ATC codes, brand names."""
    return _load("drugs.yaml", DrugVocabulary)  # type: ignore[return-value]


@cache
def lab_tests() -> LabVocabulary:
    """The laboratory tests: units, conversions and default reference limits."""
    return _load("labs.yaml", LabVocabulary)  # type: ignore[return-value]
