"""Conformance checks of an OMOP CDM v5.4 export against the official OHDSI files, written
independently of the exporter (``cnotrack.interop.omop``) so that they can catch its mistakes.

Oracles, read at run time from ``../shared/reference/omop`` (never copied into the project): the
field specification (column order, required fields, varchar lengths, foreign keys, the domain of
each concept field), the Data Quality Dashboard's concept-level checks (plausible units and
gender) and the official DDL per dialect (``@cdmDatabaseSchema`` substituted). An export is a
mapping ``table -> polars.DataFrame``; each check returns every :class:`Violation` (table,
column, value, rule) at once, none when the export conforms.

Concepts: the concept fields are foreign keys to CONCEPT, empty until an Athena vocabulary is
loaded; without one an export may hold only the verified ids (``VERIFIED_CONCEPTS``, from
``../shared/reference/README.md``) and 0, so concept keys are checked against that list and each
non-zero concept's domain against the field's ``fkDomain``. For PostgreSQL's foreign-key
constraints (and DuckDB's anti-joins) the vocabulary tables get the minimal rows an Athena load
would hold for those concepts (``vocabulary_rows``; the concepts describing vocabularies, domains
and classes are 0 there): test fixtures, which the exporter never emits.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

__all__ = [
    "OMOP_REFERENCE", "Concept", "Field", "ForeignKey", "VERIFIED_CONCEPTS", "Violation",
    "check_columns", "check_concepts", "check_export", "check_lengths", "check_plausible_gender",
    "check_plausible_units", "check_required", "cdm_frame", "corrupt", "ddl_statements",
    "duckdb_foreign_key_violations",
    "export_tables", "field_spec", "foreign_keys", "load_duckdb", "load_postgres", "report", "rules",
    "vocabulary_rows",
]

OMOP_REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "omop"
PLACEHOLDER = "@cdmDatabaseSchema"
VOCABULARY_TABLES = ("concept", "vocabulary", "domain", "concept_class")


@dataclass(frozen=True)
class Violation:
    """One value that breaks one rule: where it is and which rule."""

    table: str
    column: str
    value: object
    rule: str
    rows: int = 1

    def __str__(self) -> str:
        return f"{self.table}.{self.column} = {self.value!r} ({self.rows} row(s)): {self.rule}"


@dataclass(frozen=True)
class Field:
    """A field of the CDM v5.4 specification (one row of the Field_Level.csv)."""

    table: str
    name: str
    required: bool
    datatype: str
    primary_key: bool
    fk_table: str | None
    fk_field: str | None
    fk_domains: tuple[str, ...]

    @property
    def max_length(self) -> int | None:
        match = re.fullmatch(r"varchar\((\d+)\)", self.datatype.lower())
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ForeignKey:
    """A foreign-key constraint of the official DDL."""

    name: str
    table: str
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class Concept:
    concept_id: int
    concept_name: str
    domain_id: str
    vocabulary_id: str
    concept_class_id: str
    concept_code: str
    standard_concept: str | None = "S"


#: The concepts cnotrack may emit without a vocabulary (reference README: verified from the
#: OHDSI files), with the domain, vocabulary and class Athena gives them, and concept 0.
VERIFIED_CONCEPTS: tuple[Concept, ...] = (
    Concept(0, "No matching concept", "Metadata", "None", "Undefined", "No matching concept", None),
    Concept(8507, "MALE", "Gender", "Gender", "Gender", "M"),
    Concept(8532, "FEMALE", "Gender", "Gender", "Gender", "F"),
    Concept(3013707, "Erythrocyte sedimentation rate by Westergren method", "Measurement", "LOINC",
            "Lab Test", "4537-7"),
    Concept(3020460, "C reactive protein [Mass/volume] in Serum or Plasma", "Measurement", "LOINC",
            "Lab Test", "1988-5"),
    Concept(8752, "millimeter per hour", "Unit", "UCUM", "Unit", "mm/h"),
    Concept(8751, "milligram per liter", "Unit", "UCUM", "Unit", "mg/L"),
    Concept(8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "mg/dL"),
)


def export_tables(export: object) -> dict[str, pl.DataFrame]:
    """The frames of an export: a mapping, or an object with a ``tables`` mapping."""
    tables = export if isinstance(export, Mapping) else getattr(export, "tables")
    return {str(k).lower(): v for k, v in tables.items()}


def _na(value: str) -> str | None:
    return None if value in ("", "NA") else value


def field_spec(reference: Path = OMOP_REFERENCE) -> dict[str, list[Field]]:
    """table -> its fields in the specification's (= the DDL's) order."""
    out: dict[str, list[Field]] = {}
    with open(reference / "OMOP_CDMv5.4_Field_Level.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            domains = _na(row["fkDomain"])
            fk_table = _na(row["fkTableName"])
            fk_field = _na(row["fkFieldName"])
            out.setdefault(row["cdmTableName"].lower(), []).append(Field(
                table=row["cdmTableName"].lower(), name=row["cdmFieldName"].lower(),
                required=row["isRequired"] == "Yes", datatype=row["cdmDatatype"],
                primary_key=row["isPrimaryKey"] == "Yes",
                fk_table=fk_table.lower() if fk_table else None, fk_field=fk_field.lower() if fk_field else None,
                fk_domains=tuple(d.strip() for d in domains.split(",")) if domains else ()))
    return out


def ddl_statements(dialect: str, part: str, schema: str, reference: Path = OMOP_REFERENCE) -> list[str]:
    """The statements of an official DDL file (``part``: ddl, primary_keys, constraints,
    indices) with the schema substituted, comments dropped."""
    text = (reference / dialect / f"OMOPCDM_{dialect}_5.4_{part}.sql").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in text.replace(PLACEHOLDER, schema).split(";") if s.strip()]


_FK = re.compile(r"ALTER TABLE\s+@cdmDatabaseSchema\.(\w+)\s+ADD CONSTRAINT\s+(\w+)\s+FOREIGN KEY\s*"
                 r"\((\w+)\)\s*REFERENCES\s+@cdmDatabaseSchema\.(\w+)\s*\((\w+)\)", re.IGNORECASE)


def foreign_keys(dialect: str = "duckdb", reference: Path = OMOP_REFERENCE) -> list[ForeignKey]:
    """Every foreign-key constraint of the official constraints file."""
    text = (reference / dialect / f"OMOPCDM_{dialect}_5.4_constraints.sql").read_text(encoding="utf-8")
    return [ForeignKey(name, table.lower(), column.lower(), ref_table.lower(), ref_column.lower())
            for table, name, column, ref_table, ref_column in _FK.findall(text)]


_TYPES = {"integer": pl.Int64, "float": pl.Float64, "date": pl.Date, "datetime": pl.Datetime}


def cdm_frame(table: str, rows: list[dict[str, object]], reference: Path = OMOP_REFERENCE) -> pl.DataFrame:
    """``rows`` as a frame of ``table`` with every column of the specification in order (the
    missing ones null), typed from ``cdmDatatype``: hand-made exports for the checks' own tests."""
    fields = field_spec(reference)[table]
    unknown = {k for r in rows for k in r} - {f.name for f in fields}
    if unknown:
        raise KeyError(f"{table} has no columns {sorted(unknown)}")
    schema = {f.name: _TYPES.get(f.datatype.lower(), pl.String) for f in fields}
    return pl.DataFrame([{f.name: r.get(f.name) for f in fields} for r in rows], schema=schema)


def corrupt(tables: Mapping[str, pl.DataFrame], table: str, column: str, value: object, row: int = 0):
    """``tables`` with one cell replaced: seeded errors for the checks' own tests."""
    frame = tables[table]
    values = frame[column].to_list()
    values[row] = value
    return {**tables, table: frame.with_columns(pl.Series(column, values, dtype=frame.schema[column]))}


def rules(violations: list[Violation]) -> set[tuple[str, str, object]]:
    return {(v.table, v.column, v.value) for v in violations}


def report(violations: list[Violation]) -> str:
    return "\n".join(map(str, violations))


# --------------------------------------------------------------------------- checks on frames

def check_columns(tables: Mapping[str, pl.DataFrame], spec: Mapping[str, list[Field]]) -> list[Violation]:
    """Every table is a CDM table and has exactly the specification's columns in its order."""
    out = []
    for name, frame in tables.items():
        if name not in spec:
            out.append(Violation(name, "*", name, "not a table of the CDM v5.4"))
            continue
        expected = [f.name for f in spec[name]]
        if frame.columns != expected:
            out.append(Violation(name, "*", frame.columns, f"columns must be the DDL's, in order: {expected}"))
    return out


def _counts(frame: pl.DataFrame, column: str, mask: pl.Expr) -> list[tuple[object, int]]:
    bad = frame.filter(mask).group_by(column).len().sort(column, nulls_last=True)
    return [(v, int(n)) for v, n in bad.iter_rows()]


def check_required(tables: Mapping[str, pl.DataFrame], spec: Mapping[str, list[Field]]) -> list[Violation]:
    """No null (and no empty text, which a CSV writes as NULL) in a field whose isRequired is Yes."""
    out = []
    for name, frame in tables.items():
        for f in spec.get(name, []):
            if not f.required:
                continue
            if f.name not in frame.columns:
                out.append(Violation(name, f.name, None, "required field (isRequired = Yes) is missing"))
                continue
            col = pl.col(f.name)
            empty = col.is_null() | ((col == "") if frame.schema[f.name] == pl.String else pl.lit(False))
            n = frame.filter(empty).height
            if n:
                out.append(Violation(name, f.name, None, "required field (isRequired = Yes) is null", n))
    return out


def check_lengths(tables: Mapping[str, pl.DataFrame], spec: Mapping[str, list[Field]]) -> list[Violation]:
    """No text longer than its varchar(n) (DuckDB does not enforce the length; PostgreSQL does)."""
    out = []
    for name, frame in tables.items():
        for f in spec.get(name, []):
            if f.max_length is None or f.name not in frame.columns:
                continue
            too_long = frame.filter(pl.col(f.name).cast(pl.String).str.len_chars() > f.max_length)[f.name]
            out += [Violation(name, f.name, v, f"longer than {f.datatype}") for v in too_long.unique().sort()]
    return out


def check_concepts(tables: Mapping[str, pl.DataFrame], spec: Mapping[str, list[Field]],
                   concepts: Iterable[Concept] = VERIFIED_CONCEPTS) -> list[Violation]:
    """Every concept id is a known concept (the concept foreign key, CONCEPT being empty without
    a vocabulary), and every non-zero one is of its field's domain (``fkDomain``)."""
    known = {c.concept_id: c for c in concepts}
    out = []
    for name, frame in tables.items():
        for f in spec.get(name, []):
            if f.fk_table != "concept" or f.name not in frame.columns:
                continue
            values = frame[f.name].drop_nulls().cast(pl.Int64)
            for value, n in values.value_counts(sort=False).sort(f.name).iter_rows():
                concept = known.get(value)
                if concept is None:
                    out.append(Violation(name, f.name, value, "concept id neither verified nor 0 "
                                         "(concept foreign key; CONCEPT holds no vocabulary)", n))
                elif f.fk_domains and value != 0 and concept.domain_id not in f.fk_domains:
                    out.append(Violation(name, f.name, value, f"concept of domain {concept.domain_id!r}, "
                                         f"the field's domain is {' or '.join(f.fk_domains)!r}", n))
    return out


def _dqd_rows(reference: Path) -> list[dict[str, str]]:
    with open(reference / "DQD_OMOP_CDMv5.4_Concept_Level.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def check_plausible_units(tables: Mapping[str, pl.DataFrame], reference: Path = OMOP_REFERENCE) -> list[Violation]:
    """Every measurement of a concept the DQD lists (``plausibleUnitConceptIds``) with a value
    has one of its plausible units (stricter than the DQD's 5% threshold: none may fail)."""
    measurement = tables.get("measurement")
    if measurement is None or measurement.is_empty():
        return []
    out = []
    for row in _dqd_rows(reference):
        units = row["plausibleUnitConceptIds"].strip()
        if row["cdmTableName"].upper() != "MEASUREMENT" or not units:
            continue
        allowed = [int(u) for u in units.split(",")]
        mask = ((pl.col("measurement_concept_id") == int(row["conceptId"]))
                & pl.col("value_as_number").is_not_null()
                & (pl.col("unit_concept_id").is_null() | ~pl.col("unit_concept_id").is_in(allowed)))
        out += [Violation("measurement", "unit_concept_id", unit,
                          f"not a plausible unit of concept {row['conceptId']} ({row['conceptName']}): {allowed}", n)
                for unit, n in _counts(measurement, "unit_concept_id", mask)]
    return out


_GENDER = {"Male": 8507, "Female": 8532}


def check_plausible_gender(tables: Mapping[str, pl.DataFrame], reference: Path = OMOP_REFERENCE) -> list[Violation]:
    """Every record of a gender-specific concept (DQD ``plausibleGender``) is of a person of
    that gender."""
    person = tables.get("person")
    if person is None:
        return []
    genders = person.select("person_id", "gender_concept_id")
    out = []
    for row in _dqd_rows(reference):
        table, column = row["cdmTableName"].lower(), row["cdmFieldName"].lower()
        wanted = _GENDER.get(row["plausibleGender"])
        frame = tables.get(table)
        if wanted is None or frame is None or column not in frame.columns:
            continue
        records = frame.filter(pl.col(column) == int(row["conceptId"])).join(genders, on="person_id", how="left")
        for gender, n in _counts(records, "gender_concept_id", pl.col("gender_concept_id").ne_missing(wanted)):
            out.append(Violation(table, column, int(row["conceptId"]), f"concept plausible for "
                                 f"{row['plausibleGender']} only, person's gender is {gender}", n))
    return out


def check_export(tables: Mapping[str, pl.DataFrame], *, concepts: Iterable[Concept] = VERIFIED_CONCEPTS,
                 reference: Path = OMOP_REFERENCE) -> list[Violation]:
    """Every check on frames at once: columns, required fields, lengths, concepts and domains,
    plausible units and gender."""
    spec = field_spec(reference)
    return [*check_columns(tables, spec), *check_required(tables, spec), *check_lengths(tables, spec),
            *check_concepts(tables, spec, concepts), *check_plausible_units(tables, reference),
            *check_plausible_gender(tables, reference)]


# --------------------------------------------------------------------------- databases

def vocabulary_rows(concepts: Iterable[Concept] = VERIFIED_CONCEPTS) -> dict[str, pl.DataFrame]:
    """The minimal CONCEPT, VOCABULARY, DOMAIN and CONCEPT_CLASS rows an Athena load would hold
    for ``concepts`` (their own describing concepts are 0: a fixture, not a vocabulary)."""
    concepts = list(concepts)
    start, end = dt.date(1970, 1, 1), dt.date(2099, 12, 31)
    concept = cdm_frame("concept", [{
        "concept_id": c.concept_id, "concept_name": c.concept_name, "domain_id": c.domain_id,
        "vocabulary_id": c.vocabulary_id, "concept_class_id": c.concept_class_id,
        "standard_concept": c.standard_concept, "concept_code": c.concept_code,
        "valid_start_date": start, "valid_end_date": end} for c in concepts])
    described = {key: sorted({getattr(c, f"{key}_id") for c in concepts})
                 for key in ("vocabulary", "domain", "concept_class")}
    return {"concept": concept, **{
        key: cdm_frame(key, [{f"{key}_id": v, f"{key}_name": v, f"{key}_concept_id": 0} for v in values])
        for key, values in described.items()}}


def load_duckdb(con, tables: Mapping[str, pl.DataFrame | Path], schema: str = "cdm", *,
                concepts: Iterable[Concept] = VERIFIED_CONCEPTS) -> None:
    """Create the CDM with the official DuckDB DDL, load the vocabulary fixture and ``tables``
    (frames, or CSV files with a header as ``write_omop`` writes them: empty = NULL), then add
    the official primary keys (a duplicate key raises ``duckdb.ConstraintException``)."""
    con.execute(f'CREATE SCHEMA "{schema}"')
    for statement in ddl_statements("duckdb", "ddl", schema):
        con.execute(statement)
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in {**vocabulary_rows(concepts), **tables}.items():
            if isinstance(source, pl.DataFrame):
                path = Path(tmp) / f"{name}.csv"
                source.write_csv(path, null_value="")
                columns = source.columns
            else:
                path = Path(source)
                columns = path.read_text(encoding="utf-8").splitlines()[0].split(",")
            listed = ", ".join(f'"{c}"' for c in columns)
            con.execute(f"COPY \"{schema}\".{name} ({listed}) FROM '{path}' (HEADER, NULLSTR '')")
    for statement in ddl_statements("duckdb", "primary_keys", schema):
        con.execute(statement)


def duckdb_foreign_key_violations(con, schema: str = "cdm") -> list[Violation]:
    """The official foreign-key constraints as anti-joins: every non-null value exists in the
    table it references (DuckDB cannot add the constraints to loaded tables)."""
    out = []
    for fk in foreign_keys("duckdb"):
        rows = con.execute(
            f'SELECT t.{fk.column}, count(*) FROM "{schema}".{fk.table} t WHERE t.{fk.column} IS NOT NULL '
            f'AND NOT EXISTS (SELECT 1 FROM "{schema}".{fk.ref_table} r WHERE r.{fk.ref_column} = t.{fk.column}) '
            f'GROUP BY 1 ORDER BY 1').fetchall()
        out += [Violation(fk.table, fk.column, value, f"dangling foreign key {fk.name}: no "
                          f"{fk.ref_table}.{fk.ref_column} = {value!r}", n) for value, n in rows]
    return out


def load_postgres(conn, tables: Mapping[str, pl.DataFrame], schema: str, *,
                  concepts: Iterable[Concept] = VERIFIED_CONCEPTS) -> None:
    """Create the CDM in the (new) ``schema`` with the official PostgreSQL DDL, load the
    vocabulary fixture and ``tables`` with COPY, then add the official primary keys and ALL
    foreign-key constraints (PostgreSQL checks them against the loaded rows and raises
    ``psycopg.errors.IntegrityError`` subclasses for a dangling key or a duplicate)."""
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
        for statement in ddl_statements("postgresql", "ddl", schema):
            cur.execute(statement)
        for name, frame in {**vocabulary_rows(concepts), **tables}.items():
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            with cur.copy(f'COPY "{schema}".{name} ({columns}) FROM STDIN') as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
        for part in ("primary_keys", "constraints"):
            for statement in ddl_statements("postgresql", part, schema):
                cur.execute(statement)
    conn.commit()
