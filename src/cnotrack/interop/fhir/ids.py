"""Stable FHIR ids derived from cnotrack keys.

A resource's id is ``uuid5(NAMESPACE, "cnotrack/<table>/<key>")``, the key being the row's key
columns as a JSON list (so that no two keys, however their ids are spelled, give one name). The
same data gives the same ids on every export, on every machine; nothing else enters them.
Each entry's ``fullUrl`` is ``urn:uuid:<id>`` and references point there, so that every
reference resolves inside the Bundle whatever server it is sent to.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

__all__ = ["NAMESPACE", "URI", "extension_url", "full_url", "identifier_system", "reference", "resource_id"]

#: the namespace of cnotrack's resource ids (uuid5 of the URL namespace and "cnotrack")
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "cnotrack")
#: the base of cnotrack's own identifier systems and extension URLs (a URN: cnotrack publishes
#: no StructureDefinitions, and a URL would promise a page that does not exist)
URI = "urn:cnotrack"


def _part(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def resource_id(table: str, *key: object) -> str:
    """The id of the resource made from the row of ``table`` whose key is ``key``."""
    name = f"cnotrack/{table}/{json.dumps([_part(k) for k in key], ensure_ascii=False)}"
    return str(uuid.uuid5(NAMESPACE, name))


def full_url(resource_id_: str) -> str:
    """The ``fullUrl`` of the entry whose resource has this id."""
    return f"urn:uuid:{resource_id_}"


def reference(resource_id_: str) -> dict[str, str]:
    """A ``Reference`` to the entry with this id, inside the Bundle."""
    return {"reference": full_url(resource_id_)}


def identifier_system(column: str) -> str:
    """The system of an identifier that holds a cnotrack id (``patient_id``, ``study_id``...)."""
    return f"{URI}:identifier:{column}"


def extension_url(name: str) -> str:
    """The URL of a cnotrack extension (a field FHIR R4 has no element for)."""
    return f"{URI}:extension:{name}"
