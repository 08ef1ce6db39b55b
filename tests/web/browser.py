"""What every browser test shares: uvicorn serving a fresh database on a free loopback port,
Debian's chromium driven by Playwright, signing in through the login page, screenshots at the
three widths the web app is made for, and an axe-core accessibility scan.

Browser tests are skipped only where there is no /usr/bin/chromium and $CI is unset (CI
installs chromium). The axe-core scan needs the ``axe-core`` npm package: ``make setup``
installs it into ``.venv/npm`` (``$CNOTRACK_AXE_JS`` may name another ``axe.min.js``); without
it the scan is skipped outside CI and fails in CI.

Screenshots go to a temporary folder, or to docs/screenshots/ when
``CNOTRACK_UPDATE_SCREENSHOTS=1`` (so a test run never changes the checkout).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from cnotrack import users
from cnotrack.store import open_store
from cnotrack.web import create_app

from .conftest import PASSWORD

__all__ = ["ARGS", "CHROMIUM", "WIDTHS", "axe_violations", "page", "server", "shot", "sign_in",
           "at_width"]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
DOC_SHOTS = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
#: the widths the web app is made for: a phone, a tablet, a laptop (CSS pixels)
WIDTHS = {"phone": 390, "tablet": 768, "laptop": 1366}
_SHOTS_TMP = Path(os.environ.get("TMPDIR", "/tmp")) / f"cnotrack-web-shots-{os.getpid()}"


def _need_chromium() -> None:
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip("no /usr/bin/chromium (CI installs it; apt-get install chromium)")


@pytest.fixture
def server(tmp_path):
    """(base URL, store) of uvicorn serving a fresh database with the admin ``chief``; its socket
    listens before the server thread starts, so the first request waits for nothing."""
    _need_chromium()
    import uvicorn

    store = open_store(f"sqlite:///{tmp_path / 'e2e.db'}")
    users.add_user(store, "chief", PASSWORD, "admin")
    app = create_app(store=store)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", store
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()
    store.close()


@pytest.fixture
def page():
    """A Playwright page in Debian's chromium, 1280 x 900, 15 s timeout per step."""
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()


def sign_in(page, base: str, username: str = "chief", password: str = PASSWORD) -> None:
    """Sign in through the login page, as a person would."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def at_width(page, width: int, height: int = 900) -> None:
    page.set_viewport_size({"width": width, "height": height})


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot ``web-NAME.png`` (docs/screenshots with CNOTRACK_UPDATE_SCREENSHOTS=1)."""
    folder = DOC_SHOTS if os.environ.get("CNOTRACK_UPDATE_SCREENSHOTS") == "1" else _SHOTS_TMP
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"web-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 1000, f"{path} looks empty"
    return path


def _axe_source() -> str:
    candidates = [os.environ.get("CNOTRACK_AXE_JS", ""),
                  str(ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8")
    if os.environ.get("CI"):
        raise AssertionError("axe-core is not installed: `make setup` puts it in .venv/npm "
                             "(npm install --prefix .venv/npm axe-core@4)")
    pytest.skip("axe-core is not installed (make setup installs it with npm into .venv/npm)")


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """The axe-core violations of the page as it is now (WCAG 2.0/2.1 A and AA rules), only those
    of the given impacts, each as {id, impact, help, nodes: [html target]}."""
    page.evaluate(_axe_source())  # through the DevTools protocol: the page's CSP refuses inline scripts
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                           resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, indent=1)[:4000]
