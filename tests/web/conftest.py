"""The web application on a fresh SQLite database, with four users and two centers' patients.

Users (password ``PASSWORD``): ``admin``; ``rome`` and ``genoa``, investigators of the
centers Rome and Genoa; ``viewer``, a viewer of Rome. Each center has a patient with one
record of every table (``R1``, ``G1``: a study ``R1-S1`` with one lesion, a visit with CHAQ
answers and a second visit without) and a bare patient (``R2``, ``G2``).

The login throttle runs on ``web.clock``, which tests advance instead of sleeping; password
hashing uses cheap argon2id parameters (the cost is a parameter, not a different algorithm).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cnotrack import records, users
from cnotrack.store import Store, open_store
from cnotrack.web import create_app
from conftest import migrated_sqlite_url

PASSWORD = "correct horse battery staple"
CENTERS = {"rome": "Rome", "genoa": "Genoa"}


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def full_patient(pid: str, center: str) -> dict[str, list[dict[str, object]]]:
    """One record of every table for patient ``pid``."""
    study = f"{pid}-S1"
    return {
        "patients": [{"patient_id": pid, "sex": "F", "birth_date": "2008-05", "center": center}],
        "treatments": [{"patient_id": pid, "drug": "naproxen", "start_date": "2019-01-01", "stop_date": "2019-06-01"}],
        "assessments": [{"patient_id": pid, "date": "2020-01-01", "pga": "moderate"},
                        {"patient_id": pid, "date": "2020-07-01", "pga": "mild"}],
        "labs": [{"patient_id": pid, "date": "2020-01-01", "test": "CRP", "value": "12", "unit": "mg/L"}],
        "imaging": [{"patient_id": pid, "study_id": study, "date": "2020-01-01", "modality": "bone_scintigraphy"}],
        "lesions": [{"study_id": study, "bone": "femur", "side": "left", "segment": "diaphysis"}],
        "adverse_events": [{"patient_id": pid, "onset_date": "2020-02-01", "term": "rash", "grade": 1}],
        "diagnosis": [{"patient_id": pid, "date": "2019-01-01", "multifocal": True}],
        "chaq": [{"patient_id": pid, "date": "2020-01-01", "dressing_1": "1"}],
        # exchange format 1.1
        "manifestations": [{"patient_id": pid, "condition": "psoriasis", "onset_date": "2019-03-01"}],
        "family_history": [{"patient_id": pid, "condition": "cno", "relative": "mother"}],
        "biopsies": [{"patient_id": pid, "date": "2019-02-01", "bone": "femur", "side": "left",
                      "result": "inflammatory_sterile"}],
        "administrations": [{"patient_id": pid, "drug": "pamidronate", "date": "2020-03-01", "dose": 1,
                             "dose_unit": "mg/kg", "route": "iv"}],
        "complications": [{"patient_id": pid, "complication": "vertebral_fracture", "bone": "T7"}],
    }


def new_values(table: str, full: str, bare: str) -> dict[str, object]:
    """A valid new record of ``table`` whose key no seeded record has (for the patient ``bare``,
    or for ``full`` where the table needs its study or visit)."""
    return {
        "patients": {"patient_id": f"{bare}-new", "sex": "M", "center": None},
        "treatments": {"patient_id": bare, "drug": "anakinra", "start_date": "2021-01-01"},
        "assessments": {"patient_id": bare, "date": "2021-01-01", "pga": "none"},
        "labs": {"patient_id": bare, "date": "2021-01-01", "test": "ESR", "value": 30, "unit": "mm/h"},
        "imaging": {"patient_id": bare, "study_id": f"{bare}-S9", "date": "2021-01-01", "modality": "wb_mri"},
        "lesions": {"study_id": f"{full}-S1", "bone": "tibia", "side": "right", "segment": "distal_metaphysis"},
        "adverse_events": {"patient_id": bare, "onset_date": "2021-01-01", "term": "headache"},
        "diagnosis": {"patient_id": bare, "multifocal": False},
        "chaq": {"patient_id": full, "date": "2020-07-01", "dressing_1": "0"},
        "manifestations": {"patient_id": bare, "condition": "uveitis"},
        "family_history": {"patient_id": bare, "condition": "psoriasis", "relative": "father"},
        "biopsies": {"patient_id": bare, "date": "2021-01-01", "bone": "tibia", "side": "right"},
        "administrations": {"patient_id": bare, "drug": "zoledronic acid", "date": "2021-01-01"},
        "complications": {"patient_id": bare, "complication": "deformity", "bone": "tibia", "side": "left"},
    }[table]


@dataclass
class Web:
    app: object
    store: Store
    clock: Clock
    accounts: dict[str, users.User]
    ids: dict[tuple[str, str], int] = field(default_factory=dict)   # (patient, table) -> record id

    def client(self, username: str | None = None, *, https: bool = False, address: str = "testclient",
               raise_server_exceptions: bool = True) -> TestClient:
        """A client from ``address``, logged in as ``username`` (with its CSRF header set) unless ``None``."""
        client = TestClient(self.app, base_url="https://testserver" if https else "http://testserver",
                            client=(address, 50000), raise_server_exceptions=raise_server_exceptions)
        if username:
            response = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client


def seed(store: Store, admin: users.User) -> dict[tuple[str, str], int]:
    ids = {}
    for pid, center in (("R1", "Rome"), ("G1", "Genoa")):
        for table, rows in full_patient(pid, center).items():
            for row in rows:
                ids.setdefault((pid, table), records.create_record(store, admin, table, row)["id"])
    for pid, center in (("R2", "Rome"), ("G2", "Genoa")):
        ids[(pid, "patients")] = records.create_record(store, admin, "patients",
                                                       {"patient_id": pid, "sex": "M", "center": center})["id"]
    return ids


def add_users(store: Store) -> dict[str, users.User]:
    """The four users of the module's docstring."""
    return {
        "admin": users.add_user(store, "admin", PASSWORD, "admin"),
        "rome": users.add_user(store, "rome", PASSWORD, "investigator", "Rome"),
        "genoa": users.add_user(store, "genoa", PASSWORD, "investigator", "Genoa"),
        "viewer": users.add_user(store, "viewer", PASSWORD, "viewer", "Rome"),
    }


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory) -> tuple[Path, dict, dict]:
    """The users and the two centers' patients, written once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("web-template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with open_store(migrated_sqlite_url(folder)) as store:
            accounts = add_users(store)
            ids = seed(store, accounts["admin"])
    return folder / "cnotrack.db", accounts, ids


@pytest.fixture
def web(tmp_path: Path, seeded_database) -> Web:
    template, accounts, ids = seeded_database
    shutil.copyfile(template, tmp_path / "cnotrack.db")
    store = open_store(f"sqlite:///{tmp_path / 'cnotrack.db'}")
    clock = Clock()
    w = Web(create_app(store=store, clock=clock), store, clock, accounts, dict(ids))
    yield w
    store.close()


def assert_error_shape(response, status: int | None = None) -> dict:
    """The body is the one error shape; returns its ``error``."""
    if status is not None:
        assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}, error
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error
