"""Renderers: the same evaluation as terminal text, JSON, Markdown."""

from .markdown import evaluation_markdown
from .sentences import fill_sentence, summary_sentences
from .text import print_evaluation

__all__ = ["evaluation_markdown", "fill_sentence", "print_evaluation", "summary_sentences"]
