"""Small builders of FHIR R4 data types, shared by the resource modules.

``compact`` removes every empty value (``None``, ``""``, ``[]``, ``{}``) recursively: FHIR
forbids empty elements (ele-1), so each builder can list every field and let ``compact`` keep
those that hold a value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .codes import Group, codings
from .ids import extension_url, identifier_system

__all__ = [
    "codeable",
    "compact",
    "date_text",
    "extension",
    "extension_value",
    "identifier",
    "quantity",
    "site",
    "site_of",
    "text_of",
]


def compact(value: Any) -> Any:
    """``value`` without empty elements (``False`` and ``0`` are values and stay)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = compact(item)
            if not _empty(item):
                out[key] = item
        return out
    if isinstance(value, list):
        return [item for item in map(compact, value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def date_text(value: dt.date | str | None) -> str | None:
    """A date as FHIR writes it (ISO 8601); a partial date (YYYY-MM) stays as it is."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def codeable(text: str | None, group: Group | None = None, key: str | None = None) -> dict | None:
    """A ``CodeableConcept``: the confirmed codes of ``key`` in ``group`` (if any) and the text."""
    if text is None:
        return None
    return compact({"coding": codings(group, key) if group else [], "text": text})


def text_of(concept: dict | None) -> str | None:
    """The text of a ``CodeableConcept`` (what the import reads back)."""
    return None if concept is None else concept.get("text")


def identifier(column: str, value: str | None) -> dict | None:
    """An ``Identifier`` holding a cnotrack id of ``column`` (``patient_id``, ``study_id``, ``lesion_id``)."""
    return None if value is None else {"system": identifier_system(column), "value": value}


def extension(name: str, kind: str, value: object) -> dict | None:
    """An extension ``value<kind>`` (``Boolean``, ``String``, ``Integer``), or nothing for ``None``."""
    return None if value is None else {"url": extension_url(name), f"value{kind}": value}


def extension_value(resource: dict, name: str, kind: str) -> object:
    """The value of the cnotrack extension ``name`` of ``resource`` (``None`` when absent)."""
    for item in resource.get("extension", []):
        if item.get("url") == extension_url(name):
            return item.get(f"value{kind}")
    return None


def quantity(value: float | None, unit: str | None, *, comparator: str | None = None,
             ucum: bool = False) -> dict | None:
    """A ``Quantity``; with ``ucum`` the unit is also coded when the code table confirms its
    UCUM expression (``10^9/L`` -> ``10*9/L``), else it stays ``unit`` text only."""
    if value is None and unit is None:
        return None
    coded = codings("units", unit) if ucum else []
    return compact({"value": value, "comparator": comparator, "unit": unit,
                    "system": coded[0]["system"] if coded else None, "code": coded[0]["code"] if coded else None})


def site(bone: str | None, side: str | None) -> list[dict]:
    """A site as ``bodySite`` concepts: the bone (SNOMED CT where confirmed) and its side
    (the SNOMED CT laterality qualifier), each with the cnotrack name as text."""
    return compact([codeable(bone, "bones", bone), codeable(side, "laterality", side)])


def site_of(concepts: list[dict]) -> tuple[str | None, str | None]:
    """(bone, side) of ``site``'s concepts."""
    texts = [c.get("text") for c in concepts]
    side = next((t for t in texts if t in ("left", "right")), None)
    bone = next((t for t in texts if t not in ("left", "right")), None)
    return bone, side
