"""A dataset as one FHIR R4 (4.0.1) Bundle, and the Bundle written as JSON.

Entries are sorted by resource type (``names.RESOURCE_ORDER``) and id; ids are derived from
cnotrack keys (``ids``), every reference is an entry's ``fullUrl``, and the JSON is written with
sorted keys and no environment-dependent field (no timestamp, path or user), so the same data
gives the same bytes. A ``transaction`` Bundle gives each entry ``request: PUT <Type>/<id>``, so
that sending it twice updates rather than duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from ...errors import DatasetError, Problem
from ...exchange import Dataset
from . import events, imaging, medication, observations, patient
from .ids import full_url
from .names import RESOURCE_ORDER

__all__ = ["BundleType", "fhir_bundle", "fhir_resources", "write_fhir"]

BundleType = Literal["collection", "transaction"]


def fhir_resources(dataset: Dataset) -> list[dict]:
    """Every resource of ``dataset``, in Bundle order."""
    resources = [
        *patient.organizations(dataset), *patient.patients(dataset), *patient.cno_conditions(dataset),
        *events.manifestations(dataset), *events.complications(dataset),
        *medication.medications(dataset), *medication.medication_statements(dataset),
        *medication.administrations(dataset),
        *observations.assessment_observations(dataset), *observations.lab_observations(dataset),
        *observations.row_observations(dataset, "chaq"), *observations.row_observations(dataset, "diagnosis"),
        *imaging.imaging_studies(dataset), *imaging.body_structures(dataset), *imaging.lesion_findings(dataset),
        *events.biopsies(dataset), *events.family_history(dataset), *events.adverse_events(dataset),
    ]
    return sorted(resources, key=lambda r: (RESOURCE_ORDER.index(r["resourceType"]), r["id"]))


def fhir_bundle(dataset: Dataset, *, bundle_type: BundleType = "collection") -> dict:
    """``dataset`` as a FHIR R4 Bundle of type ``collection`` or ``transaction``."""
    if bundle_type not in ("collection", "transaction"):
        raise DatasetError([Problem("fhir", None, "bundle_type", str(bundle_type),
                                    "a FHIR export is a collection or a transaction Bundle; "
                                    "use bundle_type='collection' or 'transaction'")])
    entries = []
    for resource in fhir_resources(dataset):
        entry: dict = {"fullUrl": full_url(resource["id"]), "resource": resource}
        if bundle_type == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        entries.append(entry)
    bundle: dict = {"resourceType": "Bundle", "type": bundle_type}
    if entries:
        bundle["entry"] = entries
    return bundle


def bundle_json(bundle: dict) -> str:
    """The Bundle as cnotrack writes it: sorted keys, UTF-8 text (not escaped), one final newline."""
    return json.dumps(bundle, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def write_fhir(dataset: Dataset, target: str | Path, *, bundle_type: BundleType = "collection") -> Path:
    """Write ``dataset`` as a FHIR R4 Bundle in JSON (UTF-8) to ``target``; returns the path."""
    target = Path(target)
    text = bundle_json(fhir_bundle(dataset, bundle_type=bundle_type))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8"))
    return target
