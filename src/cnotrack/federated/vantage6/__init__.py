"""cnotrack's algorithm for vantage6 4.x (``docs/federated.md``): the module a node's
``wrap_algorithm`` imports (``PKG_NAME=cnotrack.federated.vantage6``) with its two methods,
``partial`` (a centre's aggregates, at its node) and ``central`` (the pooled result).

Needs the ``federated`` extra (``pip install 'cnotrack[federated]'``); ``Dockerfile`` beside this
file builds the image a node runs.
"""

from .algorithm import RESULT_FORMAT, central, partial
from .node import SOURCE_FILE, NodeError

__all__ = ["RESULT_FORMAT", "SOURCE_FILE", "NodeError", "central", "partial"]
