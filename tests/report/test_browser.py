"""The report as a reader sees it: the HTML page in headless Chromium and the PDF's pages
rasterised by pdftoppm, each checked to be a real, non-blank picture."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .conftest import require_tool, run


def _not_blank(path: Path, *, min_colours: int, min_ink: float) -> None:
    """``path`` is a PNG with at least ``min_colours`` colours and a share ``min_ink`` of
    pixels that are not white."""
    image = Image.open(path).convert("RGB")
    small = image.resize((image.width // 2 or 1, image.height // 2 or 1))
    colours = small.getcolors(maxcolors=1 << 20) or []
    ink = sum(count for count, rgb in colours if min(rgb) < 235) / (small.width * small.height)
    assert len(colours) >= min_colours, f"{path.name}: only {len(colours)} colours"
    assert ink >= min_ink, f"{path.name}: only {ink:.1%} of the pixels are not white"


def test_chromium_draws_the_html_report(html_path, tmp_path):
    chromium = require_tool("chromium")
    shot = tmp_path / "page.png"
    run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,4000",
        html_path.resolve().as_uri())
    assert shot.is_file()
    assert Image.open(shot).size == (1280, 4000)
    _not_blank(shot, min_colours=64, min_ink=0.05)


def test_pdftoppm_draws_every_page_of_the_pdf(pdf_path, tmp_path):
    pdftoppm = require_tool("pdftoppm")
    run(pdftoppm, "-png", "-r", "50", str(pdf_path), str(tmp_path / "page"))
    pages = sorted(tmp_path.glob("page-*.png"))
    info = run(require_tool("pdfinfo"), str(pdf_path)).stdout
    assert len(pages) == int(info.split("Pages:")[1].split()[0]) >= 5
    for page in pages:
        _not_blank(page, min_colours=8, min_ink=0.004)
