"""What every figure shares: SVG text building, the empty-figure message, matplotlib to SVG.

Every figure is a standalone SVG document (``width``, ``height``, ``viewBox``, a ``<title>``)
with no reference outside itself, and the same input gives the same bytes. For matplotlib
figures that needs a fixed ``svg.hashsalt`` (element ids), ``svg.fonttype = 'none'`` (text
stays text) and the metadata block dropped (it carries the date and outside addresses).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from xml.sax.saxutils import escape, quoteattr

import matplotlib

from ..errors import FigureInputError
from .palette import INK

__all__ = ["FONT", "FigureInputError", "attrs", "document", "figure_style", "figure_svg", "message_svg",
           "modality_label", "num", "pair_labels", "text"]

FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"

_RC = {
    "svg.hashsalt": "cnotrack",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "figure.dpi": 100,
}




_MODALITY_LABELS = {"bone_scintigraphy": "bone scintigraphy", "wb_mri": "whole-body MRI", "mri": "MRI",
                    "xray": "X-ray", "ct": "CT", "pet": "PET"}


def modality_label(modality: str) -> str:
    """An imaging modality of the exchange format as a reader names it (``wb_mri``: whole-body MRI)."""
    return _MODALITY_LABELS.get(modality, modality.replace("_", " "))


def pair_labels(protocol, pair: tuple[str, str], who: str) -> tuple[str, str]:
    """The labels of two timepoints of ``protocol``; an unknown one is an error naming the valid ids."""
    known = {t.id: t.label for t in protocol.timepoints}
    for tid in pair:
        if tid not in known:
            raise FigureInputError(f"{who}: pair names timepoint {tid!r}, which protocol {protocol.id!r} "
                                   f"does not have; use two of {', '.join(known)}")
    return known[pair[0]], known[pair[1]]


def num(value: float) -> str:
    """A coordinate as short, stable text (two decimals at most)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def attrs(**values: object) -> str:
    """Attributes in the order given; ``None`` leaves one out; ``class_`` and ``data_x``
    become ``class`` and ``data-x``; floats are shortened with :func:`num`."""
    out = []
    for key, value in values.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        shown = num(value) if isinstance(value, float) else str(value)
        out.append(f" {name}={quoteattr(shown)}")
    return "".join(out)


def text(x: float, y: float, content: str, *, size: float = 12, anchor: str = "start",
         weight: str | None = None, fill: str = INK, **extra: object) -> str:
    return (f"<text{attrs(x=float(x), y=float(y), font_size=num(size), text_anchor=anchor, font_weight=weight, fill=fill, **extra)}>"
            f"{escape(content)}</text>")


def document(width: float, height: float, title: str, body: Iterable[str], *, desc: str | None = None,
             style: str | None = None, root_class: str = "cnotrack-figure") -> str:
    """A standalone SVG document of ``width`` x ``height`` user units."""
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg"{attrs(width=num(width), height=num(height))} '
        f'viewBox="0 0 {num(width)} {num(height)}"{attrs(class_=root_class, font_family=FONT)}>',
        f"<title>{escape(title)}</title>",
    ]
    if desc:
        head.append(f"<desc>{escape(desc)}</desc>")
    if style:
        head.append(f"<style>{escape(style)}</style>")
    head.append(f'<rect width="{num(width)}" height="{num(height)}" fill="#ffffff"/>')
    return "\n".join([*head, *body, "</svg>"]) + "\n"


def message_svg(title: str, message: str, *, width: float = 520, height: float = 140) -> str:
    """A figure that only says why there is nothing to draw (``no lesions``, ``no patients``)."""
    return document(width, height, title, [
        text(width / 2, 40, title, size=15, anchor="middle", weight="bold"),
        text(width / 2, height / 2 + 20, message, size=14, anchor="middle", fill="#555555",
             class_="empty-message"),
    ])


def figure_style() -> AbstractContextManager:
    """The matplotlib settings of cnotrack figures; draw and save inside it."""
    return matplotlib.rc_context(_RC)


_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>\s*", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)


def figure_svg(figure, title: str, *, desc: str | None = None) -> str:
    """A matplotlib figure as a deterministic standalone SVG document with a ``<title>``."""
    buffer = io.StringIO()
    with figure_style():
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _METADATA.sub("", _DOCTYPE.sub("", buffer.getvalue(), count=1), count=1)
    opening = _SVG_OPEN.search(svg)
    assert opening is not None
    inserted = f"\n <title>{escape(title)}</title>"
    if desc:
        inserted += f"\n <desc>{escape(desc)}</desc>"
    return svg[: opening.end()] + inserted + svg[opening.end():]
