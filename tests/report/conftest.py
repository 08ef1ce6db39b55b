"""Fixtures of the report tests: one demo evaluation per test session, its report with the
synthetic-data banner and a fixed date, and that report written once in every format.

The browser and PDF-page tests need Debian's ``chromium`` and poppler's ``pdftoppm``,
``pdftotext`` and ``pdfinfo`` (``.ci/run`` installs them). Without them a test skips on a
developer's machine, but fails when ``$CI`` is set, so that CI never passes by skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cnotrack.demo import DEMO_BANNER
from cnotrack.report import build_report, write_report

GENERATED_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def require_tool(name: str) -> str:
    """The path of the command ``name``; skip without it, or fail when ``$CI`` is set."""
    path = shutil.which(name)
    if path:
        return path
    message = (f"{name} is not installed (Debian: apt-get install chromium poppler-utils; "
               ".ci/run installs both)")
    if os.environ.get("CI"):
        pytest.fail(f"CI: {message}")
    pytest.skip(message)


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}"
    return done


def words(text: str) -> str:
    """Whitespace runs as one space (line wrapping undone)."""
    return " ".join(text.split())


class _Text(HTMLParser):
    """The text a reader sees: no tags, no CSS, no SVG titles or descriptions."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title", "desc", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title", "desc", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return words(" ".join(parser.parts))


@pytest.fixture(scope="session")
def report(evaluation, demo):
    return build_report(evaluation, demo, banner=DEMO_BANNER, generated_at=GENERATED_AT)


@pytest.fixture(scope="session")
def out_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="session")
def html_path(report, out_dir) -> Path:
    return write_report(report, out_dir / "demo.html")


@pytest.fixture(scope="session")
def html(html_path) -> str:
    return html_path.read_text("utf-8")


@pytest.fixture(scope="session")
def html_text(html) -> str:
    return visible_text(html)


@pytest.fixture(scope="session")
def pdf_path(report, out_dir) -> Path:
    return write_report(report, out_dir / "demo.pdf")


@pytest.fixture(scope="session")
def docx_path(report, out_dir) -> Path:
    return write_report(report, out_dir / "demo.docx")


@pytest.fixture(scope="session")
def markdown(report, out_dir) -> str:
    return write_report(report, out_dir / "demo.md").read_text("utf-8")


def svg_titles(html: str) -> list[str]:
    """The ``<title>`` of every inline ``<svg>``, in order."""
    return re.findall(r"<svg\b[^>]*>\s*<title>([^<]*)</title>", html)
