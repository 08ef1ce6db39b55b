"""OMOP concept ids for cnotrack's values: the verified map, and a user's Athena download.

Without a vocabulary only the ids in ``concepts.yaml`` are written (gender, ESR, CRP and their
units, each checked against an OHDSI file); anything else is concept 0 with the source value
kept. With ``vocabulary=DIR`` (an Athena download: tab-separated ``CONCEPT.csv`` and, when
present, ``CONCEPT_RELATIONSHIP.csv``) a code cnotrack holds (ICD-10 M86.3, a drug's ATC code,
a LOINC code, a UCUM unit, a SNOMED CT body structure) is looked up there: a standard concept
of the field's domain is used as it is; a non-standard one (ICD-10, ATC) is followed by its
``Maps to`` relationship to exactly one standard concept of the domain, else 0. The concept
found for the code itself is the ``*_source_concept_id``. Nothing is matched by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ...datafiles import safe_yaml
from ...errors import VocabularyError

__all__ = ["Concepts", "StubConcept", "verified_concepts"]

_CONCEPT_COLUMNS = ("concept_id", "concept_code", "vocabulary_id", "standard_concept", "domain_id",
                    "invalid_reason")


@dataclass(frozen=True)
class StubConcept:
    """A verified concept: what ``load_omop`` writes as a placeholder row without a vocabulary."""

    concept_id: int
    name: str
    domain: str
    code: str


@cache
def _concepts_file() -> dict[str, Any]:
    text = resources.files("cnotrack.interop.omop").joinpath("concepts.yaml").read_text(encoding="utf-8")
    return safe_yaml(text)


def verified_concepts() -> dict[int, StubConcept]:
    """Every concept id cnotrack may write without a vocabulary download, by id."""
    data = _concepts_file()
    out = {0: StubConcept(0, data["no_match"]["name"], data["no_match"]["domain"], "0")}
    for group in ("gender", "measurement", "unit"):
        for code, entry in data[group].items():
            out[entry["concept_id"]] = StubConcept(entry["concept_id"], entry["name"], entry["domain"], code)
    return out


@dataclass
class Concepts:
    """Concept ids for one export; records every id written (``used``) and where it came from."""

    vocabulary: Path | None = None
    used: set[int] = field(default_factory=lambda: {0})
    _cache: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.vocabulary is not None:
            concept = Path(self.vocabulary) / "CONCEPT.csv"
            if not concept.is_file():
                raise VocabularyError(f"{self.vocabulary}: no CONCEPT.csv; give the folder of an Athena "
                                      "vocabulary download (tab-separated CONCEPT.csv)")
            header = concept.open(encoding="utf-8").readline().rstrip("\r\n").split("\t")
            missing = [c for c in _CONCEPT_COLUMNS if c not in header]
            if missing:
                raise VocabularyError(f"{concept}: missing column(s) {', '.join(missing)}; an Athena "
                                      "CONCEPT.csv is tab-separated with a header row")

    # ---- the verified map
    def gender(self, sex: str | None) -> int:
        entry = _concepts_file()["gender"].get(sex or "")
        return self._use(entry["concept_id"] if entry else 0)

    def measurement(self, test: str, loinc: str | None) -> tuple[int, int]:
        entry = _concepts_file()["measurement"].get(test)
        if entry:
            return self._use(entry["concept_id"]), 0
        return self.lookup(("LOINC",), loinc, "Measurement")

    def unit(self, unit: str | None) -> int:
        entry = _concepts_file()["unit"].get(unit or "")
        if entry:
            return self._use(entry["concept_id"])
        return self.lookup(("UCUM",), unit, "Unit")[0]

    # ---- the user's vocabulary
    def lookup(self, vocabularies: tuple[str, ...], code: str | None, domain: str | None) -> tuple[int, int]:
        """``(concept_id, source_concept_id)`` of ``code`` in the first of ``vocabularies`` that
        has it; ``(0, 0)`` without a vocabulary or when the code is not there. ``domain`` is the
        domain the field takes (``None``: a field whose specification names none)."""
        if self.vocabulary is None or not code:
            return 0, 0
        key = (vocabularies, code, domain)
        if key not in self._cache:
            self._cache[key] = self._resolve(vocabularies, code, domain)
        concept_id, source_id = self._cache[key]
        self._use(concept_id)
        self._use(source_id)
        return concept_id, source_id

    def _resolve(self, vocabularies: tuple[str, ...], code: str, domain: str | None) -> tuple[int, int]:
        rows = (self._scan_concepts()
                .filter(pl.col("concept_code") == code, pl.col("vocabulary_id").is_in(list(vocabularies)),
                        pl.col("invalid_reason").is_null())
                .collect())
        if rows.height == 0:
            return 0, 0
        rows = rows.with_columns(pl.col("vocabulary_id").replace_strict(
            {v: i for i, v in enumerate(vocabularies)}, return_dtype=pl.Int64).alias("_rank"))
        source = rows.sort("_rank", "concept_id").row(0, named=True)
        source_id = int(source["concept_id"])
        if source["standard_concept"] == "S" and domain in (None, source["domain_id"]):
            return source_id, source_id
        targets = self._maps_to(source_id)
        if not targets:
            return 0, source_id
        standard = (self._scan_concepts()
                    .filter(pl.col("concept_id").is_in(targets), pl.col("standard_concept") == "S",
                            pl.lit(domain is None) | (pl.col("domain_id") == (domain or "")),
                            pl.col("invalid_reason").is_null())
                    .select("concept_id").collect()["concept_id"].unique().to_list())
        return (int(standard[0]), source_id) if len(standard) == 1 else (0, source_id)

    def _maps_to(self, concept_id: int) -> list[int]:
        path = Path(self.vocabulary) / "CONCEPT_RELATIONSHIP.csv"
        if not path.is_file():
            return []
        frame = (_scan(path)
                 .filter(pl.col("concept_id_1").cast(pl.Int64) == concept_id,
                         pl.col("relationship_id") == "Maps to", pl.col("invalid_reason").is_null())
                 .select(pl.col("concept_id_2").cast(pl.Int64)).collect())
        return frame["concept_id_2"].to_list()

    def _scan_concepts(self) -> pl.LazyFrame:
        return (_scan(Path(self.vocabulary) / "CONCEPT.csv")
                .select(*_CONCEPT_COLUMNS)
                .with_columns(pl.col("concept_id").cast(pl.Int64),
                              pl.col("invalid_reason").replace("", None),
                              pl.col("standard_concept").replace("", None)))

    def _use(self, concept_id: int) -> int:
        self.used.add(concept_id)
        return concept_id


def _scan(path: Path) -> pl.LazyFrame:
    """An Athena file: tab-separated, no quoting (concept names may hold quote characters)."""
    return pl.scan_csv(path, separator="\t", quote_char=None, infer_schema=False)
