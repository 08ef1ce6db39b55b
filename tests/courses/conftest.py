"""A hand-made registry of four patients whose every course measure is worked out by hand in
the tests; each test runs with its own private database (as the engine tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnotrack
from conftest import write_tables
from engine.conftest import private_database  # noqa: F401  (autouse: a fresh SQLite file per test)




TABLES = {
    "patients": """patient_id,sex,diagnosis_date
P1,F,2020-01-01
P2,M,
P3,F,2019-06-01
P4,M,2020-01-01""",
    "treatments": """patient_id,drug,start_date,stop_date,route
P1,naproxen,2020-01-10,2020-03-10,oral
P1,ibuprofen,2020-03-01,2020-04-30,oral
P1,pamidronate,2020-04-01,2020-06-30,iv
P1,diclofenac,2020-07-01,2020-07-05,topical
P1,naproxen,2020-09-01,,oral
P1,amoxicillin,2020-09-10,2020-09-20,oral
P2,ibuprofen,2021-01-01,2021-02-01,oral
P2,adalimumab,2021-01-15,,sc
P3,naproxen,2019-06-01,2019-08-01,oral
P3,naproxen,2019-08-20,2019-09-20,oral""",
    "assessments": """patient_id,date,pga
P1,2020-01-10,moderate
P1,2020-07-10,mild
P1,2020-12-01,
P2,2021-01-01,severe
P2,2021-07-15,none
P3,2019-06-01,mild
P3,2019-12-01,minimal""",
    "imaging": """patient_id,study_id,date,modality
P1,M0,2019-12-01,mri
P1,S1,2020-01-05,bone_scintigraphy
P1,S2,2020-07-05,bone_scintigraphy
P2,S3,2021-01-10,bone_scintigraphy
P3,S4,2019-06-10,bone_scintigraphy""",
    "lesions": """study_id,bone,side,segment,activity
M0,skull,,,active
S1,femur,left,,active
S1,femur,right,,active
S1,tibia,left,,
S1,sacrum,,,active
S1,clavicle,right,,inactive
S2,clavicle,right,,active
S4,tibia,left,distal_metaphysis,active
S4,tibia,left,proximal_metaphysis,active""",
}


@pytest.fixture
def registry(tmp_path: Path) -> cnotrack.Dataset:
    return cnotrack.load_dataset(write_tables(tmp_path / "registry", **TABLES))
