"""Two centers' data with telltale values, on SQLite and on PostgreSQL, for the isolation tests.

``centers_web`` (a pytest fixture, parametrised over SQLite and PostgreSQL) is a
:class:`~tests.web.conftest.Web` whose database holds the users of ``tests/web/conftest.py``
(admin, rome, genoa, viewer) and the seeded patients R1, R2, G1, G2, plus two Genoa patients
whose every value is a telltale (:data:`GENOA_VALUES`):

- ``GX-SECRET``: live, one record of every table (two studies, so that the second has a
  previous one), and one deleted lab;
- ``GD-SECRET``: deleted, with its deleted study ``GD-SECRET-S1``, lesion, lab and adverse event.

``web.ids`` maps (patient, table) to a record id as in conftest (``("GX-SECRET", "imaging2")``
is the second study); ``web.deleted`` maps table to the ids of Genoa's deleted records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnotrack import records, users
from cnotrack.store import open_store
from cnotrack.web import create_app
from conftest import fresh_postgres_url, migrated_sqlite_url, postgres_base_url

from .conftest import Clock, Web, add_users, seed

#: Every value of Genoa's telltale patients that must never reach a user of Rome.
GENOA_VALUES = ("GX-SECRET", "GD-SECRET", "Genoa", "2003-09-17", "2011-02-13", "2011-04-29", "2011-05-03",
                "2011-06-07", "2011-05-09", "2004-10-21", "genoa-secret-term", "G1-S1", "G2-S")
#: Genoa's seeded patient ids, as whole words (they are short: ``G1`` may be inside a token).
GENOA_WORDS = re.compile(r"(?<![\w-])G[12](?![\w])")

GX = "GX-SECRET"
GD = "GD-SECRET"


def _gx_records() -> dict[str, list[dict[str, object]]]:
    return {
        "patients": [{"patient_id": GX, "sex": "F", "birth_date": "2003-09-17", "onset_date": "2011-02-13",
                      "diagnosis_date": "2011-04-29", "center": "Genoa"}],
        "treatments": [{"patient_id": GX, "drug": "naproxen", "start_date": "2011-05-03"}],
        "assessments": [{"patient_id": GX, "date": "2011-05-03", "pga": "moderate"},
                        {"patient_id": GX, "date": "2011-06-07", "pga": "mild"}],
        "labs": [{"patient_id": GX, "date": "2011-05-03", "test": "CRP", "value": 47, "unit": "mg/L"}],
        "imaging": [{"patient_id": GX, "study_id": f"{GX}-S1", "date": "2011-05-03", "modality": "wb_mri"},
                    {"patient_id": GX, "study_id": f"{GX}-S2", "date": "2011-06-07", "modality": "wb_mri"}],
        "lesions": [{"study_id": f"{GX}-S1", "bone": "femur", "side": "left", "segment": "diaphysis"},
                    {"study_id": f"{GX}-S2", "bone": "tibia", "side": "right", "segment": "diaphysis"}],
        "adverse_events": [{"patient_id": GX, "onset_date": "2011-05-09", "term": "genoa-secret-term"}],
        "diagnosis": [{"patient_id": GX, "date": "2011-04-29", "multifocal": True}],
        "chaq": [{"patient_id": GX, "date": "2011-05-03", "dressing_1": "1"}],
    }


def seed_genoa_secrets(store, admin: users.User) -> tuple[dict[tuple[str, str], int], dict[str, list[int]]]:
    """Add GX-SECRET and GD-SECRET (see the module's text); their ids, and the deleted ids."""
    ids: dict[tuple[str, str], int] = {}
    deleted: dict[str, list[int]] = {}
    for table, rows in _gx_records().items():
        for i, row in enumerate(rows):
            ids[(GX, table if i == 0 else f"{table}{i + 1}")] = records.create_record(store, admin, table, row)["id"]
    lab = records.create_record(store, admin, "labs", {"patient_id": GX, "date": "2011-06-07", "test": "ESR",
                                                       "value": 33, "unit": "mm/h"})
    records.delete_record(store, admin, "labs", lab["id"])
    deleted["labs"] = [lab["id"]]
    gone = [("patients", {"patient_id": GD, "sex": "M", "birth_date": "2004-10-21", "center": "Genoa"}),
            ("imaging", {"patient_id": GD, "study_id": f"{GD}-S1", "date": "2011-06-07", "modality": "mri"}),
            ("lesions", {"study_id": f"{GD}-S1", "bone": "clavicle", "side": "left", "segment": "medial"}),
            ("labs", {"patient_id": GD, "date": "2011-06-07", "test": "CRP", "value": 9, "unit": "mg/L"}),
            ("adverse_events", {"patient_id": GD, "onset_date": "2011-05-09", "term": "genoa-secret-term"})]
    created = [(table, records.create_record(store, admin, table, row)["id"]) for table, row in gone]
    for table, rid in reversed(created):
        records.delete_record(store, admin, table, rid)
        deleted.setdefault(table, []).append(rid)
        ids[(GD, table)] = rid
    return ids, deleted


def build_centers_web(url: str) -> Web:
    store = open_store(url)
    accounts = add_users(store)
    ids = seed(store, accounts["admin"])
    secret_ids, deleted = seed_genoa_secrets(store, accounts["admin"])
    ids.update(secret_ids)
    web = Web(create_app(store=store, clock=Clock()), store, Clock(), accounts, ids)
    web.deleted = deleted  # type: ignore[attr-defined]
    return web


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def centers_web(request, tmp_path: Path) -> Iterator[Web]:
    """The web app over the two centers' telltale data, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        web = build_centers_web(migrated_sqlite_url(tmp_path))
        yield web
        web.store.close()
    else:
        with fresh_postgres_url(postgres_base_url()) as url:
            web = build_centers_web(url)
            yield web
            web.store.close()


def leaks(text: str, *, allowed: tuple[str, ...] = (), token: str | None = None) -> list[str]:
    """The Genoa values in ``text`` (other than ``allowed``: what the request itself sent)."""
    if token:
        text = text.replace(token, "")
    for value in allowed:
        text = re.sub(re.escape(value) + r"(?![\w-])", "", text)
    found = [v for v in GENOA_VALUES if v in text]
    found += GENOA_WORDS.findall(text)
    return found
