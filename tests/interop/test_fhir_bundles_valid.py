"""Every Bundle cnotrack exports passes the independent checks of fhir_validation.py: the R4
JSON Schema, the fhir.resources R4B models, the Bundle invariants with reference resolution, and
the walk for empty values (issue 13, first "Done when"): the demo cohort's Bundle and the Bundles
of hypothesis-generated datasets, as a collection and as a transaction.

That the checks catch what they are for is shown in test_fhir_validation.py.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from .fhir_validation import (REFERENCE_MISSING, SCHEMA_PATH, all_errors, empty_values, invariant_errors,
                              model_errors, schema_errors)

if importlib.util.find_spec("cnotrack.interop.fhir") is None:  # the exporter is being written
    pytest.skip("cnotrack.interop.fhir (the FHIR exporter) is not there yet", allow_module_level=True)

from conftest import make_dataset  # noqa: E402
from test_roundtrip import datasets  # noqa: E402

from cnotrack.demo import demo_dataset  # noqa: E402
from cnotrack.exchange import load_dataset  # noqa: E402
from cnotrack.interop.fhir import fhir_bundle  # noqa: E402

pytestmark = pytest.mark.skipif(not SCHEMA_PATH.exists(), reason=REFERENCE_MISSING)

BUNDLE_TYPES = ("collection", "transaction")
SHOWN = 40  # errors listed in a failure; the rest are counted


def as_json(bundle: object) -> dict:
    """The Bundle as the JSON a receiver reads (a str/bytes export is parsed; a dict goes through
    json so that a value JSON cannot carry, a date object or NaN, fails here and not silently)."""
    text = bundle if isinstance(bundle, (str, bytes)) else json.dumps(bundle, allow_nan=False)
    return json.loads(text)


def assert_valid(bundle: dict, what: str) -> None:
    errors = all_errors(bundle)
    shown = "\n".join(errors[:SHOWN]) + (f"\n... and {len(errors) - SHOWN} more" if len(errors) > SHOWN else "")
    assert errors == [], f"{what}: {len(errors)} errors\n{shown}"


@pytest.mark.parametrize("bundle_type", BUNDLE_TYPES)
def test_the_demo_cohorts_bundle_passes_every_check(bundle_type):
    bundle = as_json(fhir_bundle(demo_dataset(), bundle_type=bundle_type))
    assert bundle["type"] == bundle_type
    assert len(bundle.get("entry", [])) > 9  # nine patients and their records, not an empty shell
    assert_valid(bundle, f"the demo cohort as a {bundle_type}")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets())
def test_the_bundle_of_a_random_valid_dataset_passes_every_check(case):
    written, _expected = case
    with tempfile.TemporaryDirectory() as work:
        dataset = load_dataset(make_dataset(Path(work), "source", **written))
        for bundle_type in BUNDLE_TYPES:
            assert_valid(as_json(fhir_bundle(dataset, bundle_type=bundle_type)), f"a random dataset as a {bundle_type}")


@functools.cache
def demo_bundle(bundle_type: str) -> str:
    return json.dumps(as_json(fhir_bundle(demo_dataset(), bundle_type=bundle_type)))


def first(bundle: dict, kind: str) -> dict:
    return next(e for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def drop_the_first_patient(bundle):
    bundle["entry"].remove(first(bundle, "Patient"))


def repeat_an_entry(bundle):
    bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))


SEEDED = {  # a defect planted in the exported demo Bundle -> the check that must report it
    "a number as a string": (lambda b: first(b, "Patient")["resource"].update(birthDate=2001), schema_errors),
    "an unknown element": (lambda b: first(b, "Condition")["resource"].update(stage_text="x"), model_errors),
    "a missing Patient": (drop_the_first_patient, invariant_errors),
    "a repeated entry": (repeat_an_entry, invariant_errors),
    "a transaction entry without request": (lambda b: b["entry"][-1].pop("request", None), invariant_errors),
    "an empty string": (lambda b: first(b, "Observation")["resource"].update(status=""), empty_values),
}


@pytest.mark.parametrize("defect", sorted(SEEDED))
def test_a_defect_planted_in_the_exported_demo_bundle_is_caught_by_its_check(defect):
    change, check = SEEDED[defect]
    bundle = json.loads(demo_bundle("transaction"))
    assert check(bundle) == []
    change(bundle)
    assert check(bundle), f"{check.__name__} missed {defect}"
