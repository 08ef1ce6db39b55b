"""Keys held by another center's records: a create or an edit gets a 409 that tells nothing of
the holder (the same whether it is live or deleted), and an import or upload cannot take over
another center's deleted patient or study. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cnotrack.errors import AccessError
from cnotrack.exchange import read_dataset, validate_dataset
from cnotrack.store.schema import record_table
from cnotrack.web.services import check_import_allowed
from conftest import make_dataset

from .centers_fixtures import GD, GX, centers_web, leaks  # noqa: F401  (centers_web is a fixture)
from .conftest import assert_error_shape


def _swapped(error: dict, genoa: str) -> dict:
    return {**error, "message": error["message"].replace(genoa, "<key>"),
            "details": [{**d, "record": {k: ("<key>" if v == genoa else v) for k, v in d["record"].items()}}
                        for d in error["details"]]}


CASES = {
    "patients": ("patient_id", GX, GD, {"sex": "F"}),
    "imaging": ("study_id", f"{GX}-S1", f"{GD}-S1", {"patient_id": "R2", "date": "2021-03-04", "modality": "mri"}),
}


@pytest.mark.parametrize("table", CASES)
def test_creating_a_record_with_another_centers_key_gets_the_same_409_whether_it_is_live_or_deleted(
        centers_web, table):
    column, live, deleted, rest = CASES[table]
    client = centers_web.client("rome")
    answers = []
    for key in (live, deleted):
        response = client.post(f"/api/v1/{table}", json={column: key, **rest})
        error = assert_error_shape(response, 409)
        assert not leaks(response.text, allowed=(key,)), response.text
        assert all(d["version"] == "submitted" for d in error["details"]), error  # nothing of the holder
        assert "not available" in error["message"]
        answers.append(_swapped(error, key))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("table", CASES)
def test_the_form_for_a_new_record_with_another_centers_key_shows_nothing_of_the_holder(centers_web, table):
    column, live, deleted, rest = CASES[table]
    client = centers_web.client("rome")
    pages = []
    for key in (live, deleted):
        page = client.post(f"/records/{table}/new", data={column: key, **rest})
        assert page.status_code == 409
        assert not leaks(page.text, allowed=(key,), token=client.headers["X-CSRF-Token"]), page.text
        pages.append(page.text.replace(key, "<key>"))
    assert pages[0] == pages[1]


def test_another_centers_deleted_patient_and_study_stay_deleted_and_of_their_center(centers_web):
    client = centers_web.client("rome")
    client.post("/api/v1/patients", json={"patient_id": GD, "sex": "F"})
    client.post("/api/v1/imaging", json={"patient_id": "R2", "study_id": f"{GD}-S1", "date": "2021-03-04",
                                         "modality": "mri"})
    patients, imaging = record_table("patients"), record_table("imaging")
    with centers_web.store.engine.connect() as conn:
        patient = conn.execute(sa.select(patients).where(patients.c.patient_id == GD)).mappings().one()
        study = conn.execute(sa.select(imaging).where(imaging.c.study_id == f"{GD}-S1")).mappings().one()
    assert patient["deleted_at"] is not None and patient["center"] == "Genoa"
    assert study["deleted_at"] is not None and study["patient_id"] == GD


@pytest.mark.parametrize("table", CASES)
def test_editing_a_record_to_another_centers_key_gets_the_same_409_whether_it_is_live_or_deleted(
        centers_web, table):
    column, live, deleted, _ = CASES[table]
    client = centers_web.client("rome")
    rid = centers_web.ids[("R2" if table == "patients" else "R1", table)]
    record = client.get(f"/api/v1/{table}/{rid}").json()
    body = {k: v for k, v in record.items() if k != "id" and v is not None}
    answers = []
    for key in (live, deleted):
        response = client.put(f"/api/v1/{table}/{rid}", json={**body, column: key})
        error = assert_error_shape(response, 409)
        assert not leaks(response.text, allowed=(key,)), response.text
        assert "not available" in error["message"]
        answers.append(_swapped(error, key))
    assert answers[0] == answers[1]


def test_an_own_centers_deleted_patient_is_still_restored_by_creating_it_again(centers_web):
    client = centers_web.client("rome")
    created = client.post("/api/v1/patients", json={"patient_id": "R-GONE", "sex": "F"}).json()
    assert client.delete(f"/api/v1/patients/{created['id']}").status_code == 204
    again = client.post("/api/v1/patients", json={"patient_id": "R-GONE", "sex": "M"})
    assert again.status_code == 201 and again.json()["id"] == created["id"] and again.json()["sex"] == "M"


def _dataset(tmp_path, name, **tables):
    return validate_dataset(read_dataset(make_dataset(tmp_path, name, **tables)))


@pytest.mark.parametrize("holder", [GX, GD])
def test_an_import_cannot_take_over_another_centers_patient_live_or_deleted(centers_web, tmp_path, holder):
    dataset = _dataset(tmp_path, holder, patients=[{"patient_id": holder, "sex": "F", "center": "Rome"}])
    with pytest.raises(AccessError) as refused:
        check_import_allowed(centers_web.store, centers_web.accounts["rome"], dataset)
    assert not leaks(str(refused.value), allowed=(holder,)) and "not available" in str(refused.value)


@pytest.mark.parametrize("study", [f"{GX}-S1", f"{GD}-S1"])
def test_an_import_cannot_take_over_another_centers_study_live_or_deleted(centers_web, tmp_path, study):
    dataset = _dataset(tmp_path, study, patients=[{"patient_id": "R2", "sex": "M", "center": "Rome"}],
                       imaging=[{"patient_id": "R2", "study_id": study, "date": "2021-01-01", "modality": "mri"}])
    with pytest.raises(AccessError) as refused:
        check_import_allowed(centers_web.store, centers_web.accounts["rome"], dataset)
    assert not leaks(str(refused.value), allowed=(study,))


def test_an_import_of_the_own_centers_patients_is_allowed_including_its_deleted_ones(centers_web, tmp_path):
    client = centers_web.client("rome")
    created = client.post("/api/v1/patients", json={"patient_id": "R-GONE", "sex": "F"}).json()
    client.delete(f"/api/v1/patients/{created['id']}")
    dataset = _dataset(tmp_path, "own", patients=[{"patient_id": "R-GONE", "sex": "F", "center": "Rome"},
                                                  {"patient_id": "R1", "sex": "F", "center": "Rome"},
                                                  {"patient_id": "R-NEW", "sex": "M", "center": "Rome"}])
    check_import_allowed(centers_web.store, centers_web.accounts["rome"], dataset)


@pytest.mark.parametrize("holder", [GX, GD])
def test_an_upload_naming_another_centers_patient_is_refused_without_its_data(centers_web, holder):
    client = centers_web.client("rome")
    files = [("files", ("patients.csv", f"patient_id,sex,center\n{holder},F,Rome\n".encode(), "text/csv"))]
    page = client.post("/import", files=files)
    assert page.status_code == 403, page.text
    assert "not available" in page.text
    assert not leaks(page.text, allowed=(holder,), token=client.headers["X-CSRF-Token"])
    assert 'name="token"' not in page.text  # nothing waits for confirmation
