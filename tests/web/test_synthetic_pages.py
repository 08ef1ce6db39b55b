"""Issue 9, item 12, on the web: every page shows the synthetic-data banner when the user may
see a patient marked synthetic (one COUNT query per page, no evaluation), and every download
and ``/api/v1/evaluation`` carries the label; a user who sees none gets no banner."""

from __future__ import annotations

import io
import zipfile

import sqlalchemy as sa

from cnotrack.demo import demo_folder
from cnotrack.exchange import load_dataset
from cnotrack.store import import_dataset


def words(text: str) -> str:
    return " ".join(text.split())


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))


def _demo_in(web) -> int:
    """Import the demo into the web fixture's database; the record id of SYN-P01."""
    import_dataset(load_dataset(demo_folder()), web.store)
    patients = sa.table("patients", sa.column("id"), sa.column("patient_id"))
    with web.store.engine.connect() as conn:
        return conn.execute(sa.select(patients.c.id).where(patients.c.patient_id == "SYN-P01")).scalar_one()


def test_every_web_page_and_download_of_synthetic_patients_carries_the_banner(web):
    record_id = _demo_in(web)
    admin = web.client("admin")
    pages = {path: admin.get(path) for path in ("/", f"/patients/{record_id}", "/evaluation")}
    for fmt in ("json", "markdown", "html", "docx"):
        pages[f"download {fmt}"] = admin.get("/evaluation/download", params={"format": fmt})
    pages["/api/v1/evaluation"] = admin.get("/api/v1/evaluation")
    for where, response in pages.items():
        assert response.status_code == 200, (where, response.text)
        text = docx_text(response.content) if where.endswith("docx") else response.text
        assert "SYNTHETIC DATA: 9 of 13 patients are synthetic" in words(text), f"{where} is not labelled"
    assert 'id="synthetic-banner"' in pages["/"].text
    assert pages["/api/v1/evaluation"].json()["synthetic"]["patients"] == 9


def test_a_user_who_sees_no_synthetic_patient_gets_no_banner(web):
    _demo_in(web)  # the demo's patients are of the center "Rome (synthetic)", not "Rome"
    rome = web.client("rome")
    for path in ("/", "/evaluation"):
        response = rome.get(path)
        assert response.status_code == 200
        assert "SYNTHETIC" not in response.text and 'id="synthetic-banner"' not in response.text
    assert "notice" not in rome.get("/api/v1/evaluation").json()
