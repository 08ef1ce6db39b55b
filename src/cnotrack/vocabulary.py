"""Vocabularies shipped with cnotrack: anatomy, drugs, lines of therapy and laboratory tests.

The definitions are data (``vocabularies/*.yaml``); this module loads them into typed
values and answers the questions the rest of cnotrack asks: what is the canonical name
of this bone or drug, which side and segment rules apply, how is this lab unit converted.

Besides its English ``synonyms``, an entry may carry ``local_names``: the spellings registries
in Italy, Germany, France and Spain write, grouped by a key of the file's
``local_name_sources``, which says the language and what kind of source the spellings follow
(``LocalNameSource``). They are accepted like synonyms, and a spelling never leads to two
entries (``VocabularyError`` on loading).
"""

from __future__ import annotations

from functools import cache, cached_property
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .datafiles import safe_yaml
from .errors import VocabularyError

__all__ = [
    "Anatomy",
    "Bone",
    "Drug",
    "DrugVocabulary",
    "DrugTarget",
    "LabTest",
    "LabVocabulary",
    "LineOfTherapy",
    "LineSelection",
    "LineVocabulary",
    "LocalName",
    "LocalNameSource",
    "anatomy",
    "drugs",
    "lab_tests",
    "lines",
    "local_names",
    "normalise_key",
]


def normalise_key(value: str) -> str:
    """The form in which vocabulary values are compared: trimmed, lower-case, single spaces."""
    return " ".join(value.strip().lower().replace("_", " ").split())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalNameSource(_Frozen):
    """Where the spellings of one group of ``local_names`` come from: the language (ISO 639-1)
    and the kind of source they follow (e.g. the Italian DCI as AIFA's product information
    prints it)."""

    language: str
    source: str


class LocalName(_Frozen):
    """One local spelling of an entry, with its language and source (``local_names``)."""

    canonical: str
    spelling: str
    language: str
    source: str


def _check_local_names(vocabulary: str, entries: list[tuple[str, dict[str, tuple[str, ...]]]],
                       sources: dict[str, LocalNameSource]) -> None:
    for name, groups in entries:
        unknown = [key for key in groups if key not in sources]
        if unknown:
            raise ValueError(f"{vocabulary} {name!r}: local_names {', '.join(unknown)} are not keys of "
                             f"local_name_sources ({', '.join(sources) or 'none defined'})")


class Bone(_Frozen):
    name: str
    label: str
    region: str
    laterality: Literal["paired", "midline", "optional"]
    segments: str
    snomed_ct: str | None = None
    synonyms: tuple[str, ...] = ()
    #: source key (``Anatomy.local_name_sources``) -> spellings in that language
    local_names: dict[str, tuple[str, ...]] = {}


class Anatomy(_Frozen):
    source: str
    regions: dict[str, str]
    segment_sets: dict[str, tuple[str, ...]]
    bones: tuple[Bone, ...]
    region_snomed_ct: dict[str, str] = {}
    laterality_snomed_ct: dict[str, str] = {}
    local_name_sources: dict[str, LocalNameSource] = {}

    @model_validator(mode="after")
    def _local(self) -> "Anatomy":
        _check_local_names("bone", [(b.name, b.local_names) for b in self.bones], self.local_name_sources)
        return self

    def bone(self, name: str) -> Bone:
        return self._by_name()[name]

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (normalised) -> canonical bone name (built once; do not modify)."""
        return self._lookup_table

    @cached_property
    def _lookup_table(self) -> dict[str, str]:
        return _synonym_table("anatomy", [(b.name, (b.name, *b.synonyms, *_all(b.local_names))) for b in self.bones])

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
    #: source key (``DrugVocabulary.local_name_sources``) -> spellings in that language
    local_names: dict[str, tuple[str, ...]] = {}
    note: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DrugTarget(_Frozen):
    label: str
    source: str


class DrugVocabulary(_Frozen):
    """Every drug's ``class`` is a key of ``classes`` and its ``target`` (if any) a key of
    ``targets``."""

    source: str
    targets: dict[str, DrugTarget] = {}
    classes: dict[str, str]
    drugs: tuple[Drug, ...]
    local_name_sources: dict[str, LocalNameSource] = {}

    @model_validator(mode="after")
    def _keys(self) -> "DrugVocabulary":
        _check_local_names("drug", [(d.name, d.local_names) for d in self.drugs], self.local_name_sources)
        for d in self.drugs:
            if d.drug_class not in self.classes:
                raise ValueError(f"drug {d.name!r}: class {d.drug_class!r} is not a key of classes "
                                 f"({', '.join(self.classes)})")
            if d.target is not None and d.target not in self.targets:
                raise ValueError(f"drug {d.name!r}: target {d.target!r} is not a key of targets "
                                 f"({', '.join(self.targets) or 'none defined'})")
        return self

    def drug(self, name: str) -> Drug:
        return {d.name: d for d in self.drugs}[name]

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (normalised) -> generic name (built once; do not modify)."""
        return self._lookup_table

    @cached_property
    def _lookup_table(self) -> dict[str, str]:
        return _synonym_table("drugs", [(d.name, (d.name, *d.synonyms, *_all(d.local_names))) for d in self.drugs])

    def names_of_class(self, drug_class: str) -> tuple[str, ...]:
        return tuple(d.name for d in self.drugs if d.drug_class == drug_class)


class LineSelection(_Frozen):
    """The courses that can start a line: a drug of ``drugs``, of ``classes`` or with a target
    of ``targets`` (the union); ``systemic_only`` leaves topical courses out."""

    drugs: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    systemic_only: bool = False


class LineOfTherapy(_Frozen):
    """A line starts with the first course of the ``order``-th distinct drug of ``selection``,
    the drugs ranked by their first start date."""

    label: str
    selection: LineSelection
    order: int = Field(1, ge=1)
    step: int | None = Field(None, ge=1, description="the line's step on the treatment ladder (1 first line, 2 second line); markers such as first_biologic have none")
    note: str | None = None


class LineVocabulary(_Frozen):
    source: str
    lines: dict[str, LineOfTherapy]

    def line(self, name: str) -> LineOfTherapy:
        return self.lines[name]

    def check_against(self, known: DrugVocabulary) -> None:
        """Raise ``VocabularyError`` unless every line selects drugs, classes or targets that the
        drug vocabulary has."""
        names = {d.name for d in known.drugs}
        for key, line in self.lines.items():
            s = line.selection
            wrong = ([f"drug {d!r}" for d in s.drugs if d not in names]
                     + [f"class {c!r}" for c in s.classes if c not in known.classes]
                     + [f"target {t!r}" for t in s.targets if t not in known.targets])
            if wrong:
                raise VocabularyError(f"vocabularies/lines.yaml: line {key!r} names {', '.join(wrong)}, "
                                      "not in vocabularies/drugs.yaml")
            if not (s.drugs or s.classes or s.targets):
                raise VocabularyError(f"vocabularies/lines.yaml: line {key!r} selects no drug; give "
                                      "drugs, classes or targets")


class LabTest(_Frozen):
    code: str
    label: str
    loinc: str | None = None
    canonical_unit: str
    units: dict[str, float]
    unit_synonyms: dict[str, str] = {}
    default_ref_high: float | None = None
    synonyms: tuple[str, ...] = ()
    #: source key (``LabVocabulary.local_name_sources``) -> names in that language
    local_names: dict[str, tuple[str, ...]] = {}

    def unit_lookup(self) -> dict[str, str]:
        table = {normalise_unit(u): u for u in self.units}
        for spelling, unit in self.unit_synonyms.items():
            table[normalise_unit(spelling)] = unit
        return table


class LabVocabulary(_Frozen):
    source: str
    tests: tuple[LabTest, ...]
    local_name_sources: dict[str, LocalNameSource] = {}

    @model_validator(mode="after")
    def _local(self) -> "LabVocabulary":
        _check_local_names("lab test", [(t.code, t.local_names) for t in self.tests], self.local_name_sources)
        return self

    def test(self, code: str) -> LabTest:
        return {t.code: t for t in self.tests}[code]

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (normalised) -> test code (built once; do not modify)."""
        return self._lookup_table

    @cached_property
    def _lookup_table(self) -> dict[str, str]:
        return _synonym_table("labs", [(t.code, (t.code, *t.synonyms, *_all(t.local_names))) for t in self.tests])


def _all(groups: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(spelling for spellings in groups.values() for spelling in spellings)


def local_names(vocabulary: Anatomy | DrugVocabulary | LabVocabulary) -> list[LocalName]:
    """Every local spelling of ``vocabulary`` with its canonical value, language and source, in
    the file's order (for the docs and for a data manager's review)."""
    if isinstance(vocabulary, Anatomy):
        entries = [(b.name, b.local_names) for b in vocabulary.bones]
    elif isinstance(vocabulary, DrugVocabulary):
        entries = [(d.name, d.local_names) for d in vocabulary.drugs]
    else:
        entries = [(t.code, t.local_names) for t in vocabulary.tests]
    sources = vocabulary.local_name_sources
    return [LocalName(canonical=name, spelling=spelling, language=sources[key].language, source=sources[key].source)
            for name, groups in entries for key, spellings in groups.items() for spelling in spellings]


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
        return model.model_validate(safe_yaml(text))
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


@cache
def lines() -> LineVocabulary:
    """The lines of therapy (``vocabularies/lines.yaml``), each checked against the drug
    vocabulary: its drugs, classes and targets must exist there."""
    vocabulary: LineVocabulary = _load("lines.yaml", LineVocabulary)  # type: ignore[assignment]
    vocabulary.check_against(drugs())
    return vocabulary
