"""Protocols as data: the model, the loader, and the words that describe them."""

from .describe import describe_criterion, methods_paragraph
from .load import builtin_protocols, load_protocol, parse_protocol
from .model import Protocol

__all__ = ["Protocol", "builtin_protocols", "describe_criterion", "load_protocol", "methods_paragraph",
           "parse_protocol"]
