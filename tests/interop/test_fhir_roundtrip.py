"""dataset -> FHIR Bundle -> dataset is the identity for every field FHIR carries.

Identity is checked where it is defined: the exchange-format export of the dataset read back is
byte for byte the export of the dataset written, for the demo, a synthetic registry and random
datasets of every table and column type (``datasets()`` of tests/test_roundtrip.py). What a
Bundle does not carry is left out of the comparison on purpose: ``_row`` (the spreadsheet row
of an import) and ``_extra`` (extra columns kept at import), see docs/interoperability.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from cnotrack.demo import demo_dataset
from cnotrack.errors import DatasetError
from cnotrack.exchange import Dataset, export_dataset, load_dataset
from cnotrack.exchange.dataset import EXTRA, ROW
from cnotrack.interop.fhir import dataset_from_fhir, fhir_bundle, write_fhir
from cnotrack.synth import synthesize_registry

from conftest import folder_bytes, make_dataset
from test_roundtrip import datasets

from .fhir_validation import SCHEMA_PATH, all_errors


def restricted(dataset: Dataset) -> Dataset:
    """The dataset without what a FHIR Bundle does not carry (``_row``, ``_extra``)."""
    return Dataset({name: frame.drop([c for c in (ROW, EXTRA) if c in frame.columns])
                    for name, frame in dataset.tables.items()})


def assert_round_trip(dataset: Dataset, work: Path, *, bundle_type: str = "collection") -> dict:
    bundle = fhir_bundle(dataset, bundle_type=bundle_type)
    back = dataset_from_fhir(bundle)
    expected = folder_bytes(export_dataset(restricted(dataset), work / "expected"))
    assert folder_bytes(export_dataset(back, work / "back")) == expected
    assert fhir_bundle(back, bundle_type=bundle_type) == bundle
    return bundle


def test_the_demo_survives_a_fhir_round_trip_through_a_file(tmp_path):
    path = write_fhir(demo_dataset(), tmp_path / "demo.json", bundle_type="transaction")
    back = dataset_from_fhir(path)
    assert folder_bytes(export_dataset(back, tmp_path / "back")) == \
        folder_bytes(export_dataset(restricted(demo_dataset()), tmp_path / "expected"))


def test_a_synthetic_registry_survives_a_fhir_round_trip(tmp_path):
    assert_round_trip(synthesize_registry(30, seed=7), tmp_path)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets(keep_extra=True))
def test_a_random_dataset_survives_a_fhir_round_trip_and_its_bundle_is_valid(case):
    written, _ = case
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        dataset = load_dataset(make_dataset(work, "source", **written), keep_extra=True)
        bundle = assert_round_trip(dataset, work)
        if SCHEMA_PATH.exists():
            assert all_errors(bundle) == []


def test_a_bundle_with_a_dangling_reference_is_refused_naming_the_entry():
    bundle = fhir_bundle(demo_dataset())
    statement = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationStatement")
    statement["resource"]["subject"] = {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}
    with pytest.raises(DatasetError, match="does not resolve inside the Bundle") as caught:
        dataset_from_fhir(bundle)
    assert caught.value.problems[0].column == "subject"


def test_an_empty_dataset_is_an_empty_collection_and_reads_back_empty():
    bundle = fhir_bundle(Dataset({}))
    assert bundle == {"resourceType": "Bundle", "type": "collection"}
    assert all(frame.height == 0 for frame in dataset_from_fhir(bundle).tables.values())
