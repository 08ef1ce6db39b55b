"""Multi-centre evaluation without moving patient rows: each centre shares aggregates, a
coordinator combines them (``docs/federated.md``).

- ``aggregates``: a centre's aggregates of a protocol's evaluation (``centre_aggregates``), the
  JSON Schema check (``validate_aggregates``), writing and reading the file;
- ``disclosure``: the ``min_cell_count`` rule with complementary suppression;
- ``combine``: the pooled endpoints of several centres (``combine`` -> ``Combined``), exact where
  the mathematics allows, centre-stratified or approximate (labelled) where not;
- ``sections`` and ``pooled``: the sufficient statistics of each kind of endpoint, and how they
  are pooled with the single-centre statistics functions;
- ``render`` and ``report``: the combined result as text, JSON, Markdown and an HTML or PDF report;
- ``vantage6``: the same functions as a vantage6 algorithm (its own package docstring).
"""

from .aggregates import (
    FORMAT,
    FORMAT_VERSION,
    AggregatesError,
    aggregates_of,
    centre_aggregates,
    protocol_definition_sha256,
    read_aggregates,
    validate_aggregates,
    write_aggregates,
)
from .combine import Combined, combine
from .disclosure import RULE, is_suppressed

__all__ = ["FORMAT", "FORMAT_VERSION", "RULE", "AggregatesError", "Combined", "aggregates_of", "centre_aggregates",
           "combine", "is_suppressed", "protocol_definition_sha256", "read_aggregates", "validate_aggregates",
           "write_aggregates"]
