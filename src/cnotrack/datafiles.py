"""Reading cnotrack's own data files (vocabularies, the exchange format, instruments, measures).

They are YAML read with a safe loader: libyaml's when PyYAML was built with it (the same
result, several times faster: a vocabulary is read on every start), else PyYAML's own.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["safe_yaml"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(text: str) -> Any:
    """The value of the YAML document ``text``, read with a safe loader (no Python objects)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
