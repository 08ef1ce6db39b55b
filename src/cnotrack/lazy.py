"""Names of a package imported on first use (PEP 562), for packages whose imports are costly.

``cnotrack`` and ``cnotrack.store`` export names whose modules pull in SQLAlchemy and Alembic
(half a second or more), which a command reading a CSV folder never needs. Each package gives
its module ``__getattr__ = lazy_names(__name__, {name: submodule})``: a name is imported the first
time it is read and then kept in the package, as an eager import would have put it there.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_names"]


def lazy_names(package: str, where: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``where`` (name ->
    submodule, relative to ``package``) when it is first read."""

    def __getattr__(name: str) -> object:
        if name in where:
            value = getattr(importlib.import_module(f".{where[name]}", package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
