"""Shared fixtures: datasets written from Python values, and stores on SQLite and PostgreSQL.

``make_dataset(tmp_path, **tables)`` writes a CSV folder; each table is given as

- a list of dicts (the header is the union of their keys, in first-seen order),
- a list of lists (the first list is the header),
- a ``str`` (written as it is, in UTF-8), or ``bytes`` (written as they are).

``None`` and ``""`` are empty cells. Rows are written with the csv module (RFC 4180 quoting,
``\\n`` line ends), the way cnotrack's exporter writes them.

PostgreSQL tests use ``$CNOTRACK_TEST_POSTGRES_URL`` and a fresh schema per test. They skip
when the variable is unset, unless ``$CI`` is set: then a missing server is a failure.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from cnotrack import Store, open_store
from cnotrack.exchange.schema import exchange_format
from cnotrack.store.schema import metadata

POSTGRES_ENV = "CNOTRACK_TEST_POSTGRES_URL"
TABLES = exchange_format().table_names


# --------------------------------------------------------------------------- datasets

def csv_text(rows: list[list[object]]) -> str:
    """Rows as cnotrack writes CSV: RFC 4180 quoting, ``\\n`` line ends, None as empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue()


def table_as_rows(table: list[dict] | list[list]) -> list[list[object]]:
    """A table given as dicts or as lists, as a header row followed by the data rows."""
    if not table:
        return []
    if isinstance(table[0], dict):
        header: list[str] = []
        for record in table:
            header += [k for k in record if k not in header]
        return [header] + [[record.get(k) for k in header] for record in table]
    return [list(row) for row in table]


def make_dataset(tmp_path: Path, name: str = "dataset", **tables: object) -> Path:
    """Write a CSV folder ``tmp_path/name`` with one file per keyword argument."""
    folder = Path(tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    for table, content in tables.items():
        path = folder / f"{table}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(csv_text(table_as_rows(content)).encode("utf-8"))  # type: ignore[arg-type]
    return folder


def write_tables(folder: Path, **tables: str) -> Path:
    """Write ``folder/<table>.csv`` for each keyword: the CSV text given in the test, stripped of
    its surrounding blank lines and ending in one newline."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text.strip() + "\n", "utf-8")
    return folder


def make_workbook(path: Path, **sheets: object) -> Path:
    """Write an .xlsx workbook with one sheet per keyword argument (same forms as make_dataset,
    except ``str``/``bytes``); a ``None`` row is left blank. Cells keep their Python types, so
    dates, numbers and booleans become Excel date, number and boolean cells."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, content in sheets.items():
        sheet = book.create_sheet(name)
        for row in table_as_rows(content):  # type: ignore[arg-type]
            sheet.append([] if row is None else row)
    book.save(path)
    return path


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a folder, by name."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# The good dataset: every table filled, every column used, values varied; written in the
# canonical form cnotrack exports (columns in format order, rows sorted by each table's key),
# so that importing and exporting it gives back the same bytes.
GOOD_TABLES: dict[str, list[dict[str, object]]] = {
    "patients": [
        {"patient_id": "P01", "sex": "F", "birth_date": "2005-03-14", "onset_date": "2012-01-10",
         "diagnosis_date": "2012-06-01", "center": "Rome", "synthetic": "no"},
        {"patient_id": "P02", "sex": "M", "birth_date": "2008-07", "onset_date": "2014-02-01",
         "diagnosis_date": None, "center": "Genoa, Gaslini"},
        {"patient_id": "P03", "sex": "U", "birth_date": None, "onset_date": None,
         "diagnosis_date": "2016-05-20", "center": 'Zürich "Kinderspital"'},
        {"patient_id": "P04", "sex": "F", "birth_date": "2010-11-30", "onset_date": "2017-09-09",
         "diagnosis_date": "2018-01-15", "center": None, "synthetic": None},
        {"patient_id": "p01", "sex": "M", "birth_date": "2011-01", "onset_date": "2018-03-03",
         "diagnosis_date": "2018-04-04", "center": "Lyon\nHôpital Femme Mère Enfant"},
    ],
    "treatments": [
        {"patient_id": "P01", "drug": "anakinra", "start_date": "2013-07-01", "stop_date": None,
         "dose": "2", "dose_unit": "mg/kg/day", "route": "sc", "stop_reason": None},
        {"patient_id": "P01", "drug": "naproxen", "start_date": "2012-06-01", "stop_date": "2012-12-01",
         "dose": "15", "dose_unit": "mg/kg/day", "route": "oral", "stop_reason": "inefficacy"},
        {"patient_id": "P01", "drug": "pamidronate", "start_date": "2012-12-10", "stop_date": "2013-06-10",
         "dose": "1", "dose_unit": "mg/kg", "route": "iv", "stop_reason": "remission"},
        {"patient_id": "P02", "drug": "ibuprofen", "start_date": "2014-03-01", "stop_date": "2014-03-01",
         "dose": "30", "dose_unit": "mg/kg/day", "route": "oral", "stop_reason": "adverse_event"},
        {"patient_id": "P02", "drug": "prednisone", "start_date": "2014-04-01", "stop_date": "2014-05-01",
         "dose": None, "dose_unit": None, "route": "topical", "stop_reason": "other"},
        {"patient_id": "P03", "drug": "methotrexate", "start_date": "2016-06-01", "stop_date": None,
         "dose": "0.4", "dose_unit": "mg/kg/week", "route": "sc", "stop_reason": None},
        {"patient_id": "P04", "drug": "adalimumab", "start_date": "2018-02-01", "stop_date": None,
         "dose": "40", "dose_unit": "mg", "route": "sc", "stop_reason": None},
        {"patient_id": "P04", "drug": "zoledronic acid", "start_date": "2018-03-01", "stop_date": "2018-03-01",
         "dose": "0.0125", "dose_unit": "mg/kg", "route": "iv", "stop_reason": None},
        {"patient_id": "p01", "drug": "infliximab", "start_date": "2018-05-01", "stop_date": None,
         "dose": "5", "dose_unit": "mg/kg", "route": "im", "stop_reason": None},
    ],
    "assessments": [
        {"patient_id": "P01", "date": "2012-06-01", "pga": "severe", "pga_vas": "8.5",
         "patient_global_vas": "9", "pain_vas": "7.5", "chaq_di": "1.625", "bone_pain": "yes",
         "local_swelling": "yes", "functional_impairment": "yes", "fever": "no"},
        {"patient_id": "P01", "date": "2013-01-10", "pga": "mild", "pga_vas": "2",
         "patient_global_vas": "1.5", "pain_vas": "0", "chaq_di": "0.125", "bone_pain": "no",
         "local_swelling": "no", "functional_impairment": "no", "fever": "no"},
        {"patient_id": "P01", "date": "2014-01-10", "pga": "none", "pga_vas": "0",
         "patient_global_vas": "0", "pain_vas": "0", "chaq_di": "0", "bone_pain": "no",
         "local_swelling": "no", "functional_impairment": "no", "fever": "no"},
        {"patient_id": "P02", "date": "2014-03-01", "pga": "moderate", "pga_vas": "5",
         "patient_global_vas": None, "pain_vas": "6", "chaq_di": None, "bone_pain": "yes",
         "local_swelling": None, "functional_impairment": "no", "fever": "yes"},
        {"patient_id": "P03", "date": "2016-06-01", "pga": None, "pga_vas": "3.3",
         "patient_global_vas": "10", "pain_vas": "10", "chaq_di": "3", "bone_pain": None,
         "local_swelling": None, "functional_impairment": None, "fever": None},
        {"patient_id": "P04", "date": "2018-02-01", "pga": "minimal", "pga_vas": "0.5",
         "patient_global_vas": "1", "pain_vas": "1", "chaq_di": "0.25", "bone_pain": "no",
         "local_swelling": "yes", "functional_impairment": "no", "fever": "no"},
    ],
    "labs": [
        {"patient_id": "P01", "date": "2012-06-01", "test": "CRP", "value": "2.7", "unit": "mg/dL",
         "ref_high": "0.5", "ref_low": None},
        {"patient_id": "P01", "date": "2012-06-01", "test": "ESR", "value": "38", "unit": "mm/h",
         "ref_high": "20", "ref_low": "2"},
        {"patient_id": "P01", "date": "2012-06-01", "test": "WBC", "value": "9.8", "unit": "10^9/L",
         "ref_high": "11", "ref_low": "4"},
        {"patient_id": "P01", "date": "2013-01-10", "test": "CRP", "value": "<0.5", "unit": "mg/dL",
         "ref_high": "0.5", "ref_low": None},
        {"patient_id": "P01", "date": "2013-01-10", "test": "ESR", "value": "12", "unit": "mm/h",
         "ref_high": None, "ref_low": None},
        {"patient_id": "P02", "date": "2014-03-01", "test": "ALP", "value": "250", "unit": "U/L",
         "ref_high": "300", "ref_low": "100"},
        {"patient_id": "P02", "date": "2014-03-01", "test": "ANC", "value": "1500", "unit": "cells/uL",
         "ref_high": None, "ref_low": None},
        {"patient_id": "P02", "date": "2014-03-01", "test": "HB", "value": "12.1", "unit": "g/dL",
         "ref_high": "15.5", "ref_low": "11.5"},
        {"patient_id": "P02", "date": "2014-03-01", "test": "PLT", "value": "450", "unit": "10^9/L",
         "ref_high": "400", "ref_low": "150"},
        {"patient_id": "P02", "date": "2014-03-01", "test": "SAA", "value": "120", "unit": "mg/L",
         "ref_high": "10", "ref_low": None},
        {"patient_id": "P03", "date": "2016-06-01", "test": "CRP", "value": ">200", "unit": "mg/L",
         "ref_high": "5", "ref_low": None},
    ],
    "imaging": [
        {"patient_id": "P01", "study_id": "P01-S1", "date": "2012-06-01", "modality": "bone_scintigraphy"},
        {"patient_id": "P01", "study_id": "P01-S2", "date": "2013-01-10", "modality": "wb_mri"},
        {"patient_id": "P02", "study_id": "P02-S1", "date": "2014-03-01", "modality": "mri"},
        {"patient_id": "P03", "study_id": "P03-S1", "date": "2016-06-01", "modality": "xray"},
        {"patient_id": "P04", "study_id": "P04-S1", "date": "2018-02-01", "modality": "ct"},
        {"patient_id": "P04", "study_id": "P04-S2", "date": "2018-08-01", "modality": "pet"},
    ],
    "lesions": [
        {"study_id": "P01-S1", "bone": "T7", "side": None, "segment": "body", "activity": None,
         "grade": "1", "symptomatic": "yes", "lesion_id": None},
        {"study_id": "P01-S1", "bone": "clavicle", "side": "left", "segment": "medial", "activity": "active",
         "grade": None, "symptomatic": None, "lesion_id": "L3"},
        {"study_id": "P01-S1", "bone": "femur", "side": "right", "segment": None, "activity": None,
         "grade": "3", "symptomatic": "no", "lesion_id": "L2"},
        {"study_id": "P01-S1", "bone": "mandible", "side": None, "segment": None, "activity": None,
         "grade": None, "symptomatic": None, "lesion_id": None},
        {"study_id": "P01-S1", "bone": "sacrum", "side": None, "segment": None, "activity": None,
         "grade": "2", "symptomatic": None, "lesion_id": None},
        {"study_id": "P01-S1", "bone": "tibia", "side": "left", "segment": "distal_metaphysis",
         "activity": "active", "grade": "2", "symptomatic": "yes", "lesion_id": "L1"},
        {"study_id": "P01-S2", "bone": "tibia", "side": "left", "segment": "distal_metaphysis",
         "activity": "inactive", "grade": "1", "symptomatic": "no", "lesion_id": "L1"},
        {"study_id": "P02-S1", "bone": "mandible", "side": "left", "segment": None, "activity": None,
         "grade": None, "symptomatic": "yes", "lesion_id": None},
        {"study_id": "P02-S1", "bone": "metatarsal_1", "side": "right", "segment": None, "activity": None,
         "grade": "2", "symptomatic": None, "lesion_id": None},
        {"study_id": "P03-S1", "bone": "rib_4", "side": "left", "segment": None, "activity": None,
         "grade": None, "symptomatic": None, "lesion_id": None},
        {"study_id": "P04-S1", "bone": "L3", "side": None, "segment": "posterior_elements",
         "activity": None, "grade": "3", "symptomatic": "yes", "lesion_id": "x"},
    ],
    "adverse_events": [
        {"patient_id": "P01", "onset_date": "2013-08-01", "term": "injection site reaction", "grade": "1",
         "serious": "no", "drug": "anakinra", "outcome": "recovered"},
        {"patient_id": "P01", "onset_date": "2013-09-15", "term": "infection, upper respiratory",
         "grade": "2", "serious": "no", "drug": None, "outcome": "recovering"},
        {"patient_id": "P03", "onset_date": "2016-07-01", "term": "neutropenia", "grade": "3",
         "serious": "yes", "drug": "methotrexate", "outcome": "not_recovered"},
        {"patient_id": "P04", "onset_date": "2018-04-01", "term": 'rash "mild"\nthen itching',
         "grade": None, "serious": None, "drug": "adalimumab", "outcome": "unknown"},
        {"patient_id": "P04", "onset_date": "2018-09-01", "term": "death, unrelated", "grade": "5",
         "serious": "yes", "drug": None, "outcome": "fatal"},
    ],
}


def number_text(value: float) -> str:
    """How cnotrack writes a number: the shortest text that reads back as the same float."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def generic_rows(table: str, patient_ids: list[str]) -> list[dict[str, object]]:
    """One canonical row per patient for a table this file does not spell out (tables the
    project added to the format), each column filled from its type, values varied by row."""
    spec = exchange_format().table(table)
    rows = []
    for i, pid in enumerate(patient_ids):
        row: dict[str, object] = {}
        for column in spec.columns:
            kind = column.type
            if column.references == "patients":
                value: object = pid
            elif kind == "id":
                value = f"{table[:2].upper()}{i + 1}"
            elif kind in ("date",):
                value = f"202{i}-0{i + 1}-1{i}"
            elif kind == "partial_date":
                value = f"200{i}-0{i + 1}"
            elif kind == "boolean":
                value = ("yes", "no", None, "no")[i % 4]
            elif kind in ("integer", "number"):
                low = column.min if column.min is not None else 0
                high = column.max if column.max is not None else low + 10
                step = 1 if kind == "integer" else 0.25
                value = number_text(float(min(high, low + step * (i + 1))))
            elif kind == "choice":
                value = column.choices[i % len(column.choices)]
            elif kind == "text":
                value = f"{table} note {i + 1}, \"quoted\""
            elif kind == "drug":
                value = ("naproxen", "anakinra", "pamidronate", "methotrexate")[i % 4]
            elif kind == "bone":  # a side, when the table has one, is left, right, left: paired bones
                value = ("femur", "tibia", "clavicle", "T7")[i % 4]
            else:
                value = None
            if not column.required and i == 3:
                value = None  # and one row with its optional cells left empty
            row[column.name] = value
        rows.append(row)
    return rows


@pytest.fixture
def good_tables() -> dict[str, list[dict[str, object]]]:
    """The good dataset's rows (a fresh copy each time, to change freely): every table of the
    format, the ones added beyond version 1 filled by ``generic_rows``."""
    tables = {name: [dict(row) for row in rows] for name, rows in GOOD_TABLES.items()}
    patients = [p["patient_id"] for p in GOOD_TABLES["patients"]][:4]
    for name in TABLES:
        if name not in tables:
            tables[name] = generic_rows(name, patients)  # type: ignore[arg-type]
    # CHAQ answers belong to a visit: give each row the date of one of its patient's assessments
    visits = {}
    for row in tables["assessments"]:
        visits.setdefault(row["patient_id"], row["date"])
    tables["chaq"] = [dict(row, date=visits[row["patient_id"]]) for row in tables["chaq"]
                      if row["patient_id"] in visits]
    # a vertebral fracture or collapse (format 1.1) is of a vertebra, a midline bone: no side
    for row in tables.get("complications", []):
        if str(row["complication"]).startswith("vertebral"):
            row.update(bone="T7", side=None)
    return tables


@pytest.fixture
def good_dataset(tmp_path: Path, good_tables) -> Path:
    """A valid CSV folder with every table filled and varied."""
    return make_dataset(tmp_path, "good", **good_tables)


# --------------------------------------------------------------------------- stores

def sqlite_url(folder: Path, name: str = "cnotrack.db") -> str:
    return f"sqlite:///{Path(folder) / name}"


_MIGRATED: list[Path] = []


def migrated_sqlite_url(folder: Path, name: str = "cnotrack.db") -> str:
    """A new SQLite database already at the newest schema (a copy of one migrated once per
    process: for tests that open many databases)."""
    if not _MIGRATED:
        import tempfile

        template = Path(tempfile.mkdtemp(prefix="cnotrack-template-")) / "template.db"
        atexit.register(shutil.rmtree, template.parent, True)
        open_store(sqlite_url(template.parent, template.name)).close()
        _MIGRATED.append(template)
    target = Path(folder) / name
    shutil.copyfile(_MIGRATED[0], target)
    return sqlite_url(folder, name)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite database in the test's temporary folder."""
    with open_store(sqlite_url(tmp_path)) as store:
        yield store


def postgres_base_url() -> str:
    """The server given by CI, or skip (fail under CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {POSTGRES_ENV} is not: the PostgreSQL tests must run in CI")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return url


@contextlib.contextmanager
def fresh_postgres_url(base: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(_sa_url(base))
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _sa_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own (dropped after the test)."""
    with fresh_postgres_url(postgres_base_url()) as url:
        yield url


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    with open_store(postgres_url) as store:
        assert store.engine.dialect.name == "postgresql"
        yield store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path: Path) -> Iterator[Store]:
    """A fresh store, on SQLite and (where a server is available) on PostgreSQL."""
    if request.param == "sqlite":
        with open_store(sqlite_url(tmp_path)) as s:
            yield s
    else:
        with fresh_postgres_url(postgres_base_url()) as url, open_store(url) as s:
            yield s


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table of the database (records, imports, audit trail), in id order."""
    out: dict[str, list[tuple]] = {}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    return out


@pytest.fixture(scope="session")
def demo():
    """The synthetic demo cohort, as a typed dataset."""
    from cnotrack.demo import demo_dataset

    return demo_dataset()


@pytest.fixture(scope="session")
def evaluation(demo):
    """The demo cohort evaluated with pardeo2017 (statistics included)."""
    from cnotrack.engine import evaluate
    from cnotrack.protocols import load_protocol

    return evaluate(demo, load_protocol("pardeo2017"))


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    """Move the database at ``url`` up (or ``down``) to the migration ``revision`` with Alembic
    alone, as an older (or newer) cnotrack left it, without cnotrack's own checks."""
    from alembic import command

    from cnotrack.store import database

    engine = sa.create_engine(database.resolve_database_url(url))
    config = database._alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()
