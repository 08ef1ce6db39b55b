"""Markdown escaping: any text (an identifier, a center, a term, a protocol's title, a dataset's
label) shows as itself, literally, wherever a Markdown report puts it.

Text from a dataset or a protocol file is data, not Markdown. Unescaped, ``P|01`` would split a
table cell, ``<img src=x onerror=...>`` would become HTML, a backtick would open a code span,
``[x](javascript:...)`` would become a link, ``*a*`` emphasis, and a line break, a leading
``#``, ``-``, ``>`` or ``1.`` would end a table row or start a heading, a list or a quote.

:func:`markdown_text` escapes with backslashes, which CommonMark and GitHub Flavored Markdown
read as "this character, literally": every character that can start or close an inline
construct or end a heading (``\\ ` * _ [ ] < > & | ~ #``) everywhere, and a character that could
start a block (``- + = >``, ``1.``/``1)``) at the start of the text. A line break (CR, LF or both)
becomes a space (a Markdown table row is one line), and spaces around the text are dropped (as
Markdown drops them; four would start a code block). :func:`markdown_code` is the same for text shown as
code. ``tests/report/test_markdown_escaping*.py`` checks the result with a real Markdown parser.
"""

from __future__ import annotations

import re

__all__ = ["markdown_code", "markdown_text"]

_INLINE = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>&|~#"})
_LINE_BREAK = re.compile(r"\r\n?|\n")
_BLOCK_START = re.compile(r"^(\s*)([+=>-])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def markdown_text(value: object) -> str:
    """``value`` as Markdown source that renders as exactly its text (a line break as a
    space), safe in a paragraph, a list item, a heading and a table cell; ``None`` is empty."""
    if value is None:
        return ""
    text = _LINE_BREAK.sub(" ", str(value)).strip(" \t").translate(_INLINE)
    text = _BLOCK_START.sub(r"\1\\\2", text, count=1)
    return _ORDERED.sub(r"\1\\\2", text, count=1)


def markdown_code(value: object) -> str:
    """``value`` as inline code (`` `pardeo2017` ``) when that is safe (no backtick, pipe or
    line break, no surrounding space), else as escaped text."""
    text = "" if value is None else str(value)
    if text and not re.search(r"[`|\r\n]", text) and text == text.strip():
        return f"`{text}`"
    return markdown_text(text)
