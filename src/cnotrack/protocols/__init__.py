"""Protocols as data: the model, the loader, and the words that describe them."""

from .describe import describe_criterion, methods_paragraph
from .copies import copy_warnings, without_copied_published
from .load import ProtocolWarning, builtin_protocols, load_protocol, load_protocol_with_warnings, parse_protocol
from .model import Protocol

__all__ = ["Protocol", "ProtocolWarning", "builtin_protocols", "copy_warnings", "describe_criterion",
           "load_protocol", "load_protocol_with_warnings", "methods_paragraph", "parse_protocol",
           "without_copied_published"]
