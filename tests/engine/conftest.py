"""Fixtures of the engine tests.

Every test here runs with ``$CNOTRACK_DB`` (and ``$XDG_DATA_HOME``) pointing into its own
temporary folder, so that no command, in-process or in a subprocess, can reach the user's
default database.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database URL every command of the test falls back to (a fresh SQLite file)."""
    url = f"sqlite:///{tmp_path / 'private.db'}"
    monkeypatch.setenv("CNOTRACK_DB", url)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return url
