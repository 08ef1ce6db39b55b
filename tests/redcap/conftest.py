"""Where the real REDCap files written by others are: ``../shared/reference/redcap`` next to the
repository (see its README for origin and licence). Tests read them in place, never copy them.

``reference_dir()`` returns that folder, or skips the calling test with the reason when it is
absent; ``reference_file(*parts)`` does the same for one file in it. Import them with
``from .conftest import reference_dir, reference_file`` from a test module in ``tests/redcap``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["REFERENCE_REDCAP", "reference_dir", "reference_file"]

#: ``tests/redcap/conftest.py`` -> the repository -> ``../shared/reference/redcap``
REFERENCE_REDCAP = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "redcap"


def reference_dir() -> Path:
    """The folder of real REDCap fixture projects, or skip: they live outside the repository."""
    if not REFERENCE_REDCAP.is_dir():
        pytest.skip(f"the REDCap reference files are not here: {REFERENCE_REDCAP.resolve()} "
                    "(they live next to the repository, in ../shared/reference/redcap)")
    return REFERENCE_REDCAP.resolve()


def reference_file(*parts: str) -> Path:
    """One file of the REDCap reference folder, e.g. ``reference_file("rarelink-cdm", "x.csv")``,
    or skip when it is absent."""
    path = reference_dir().joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"the REDCap reference file is not here: {path}")
    return path


@pytest.fixture
def redcap_reference() -> Path:
    """``reference_dir()`` as a fixture."""
    return reference_dir()
