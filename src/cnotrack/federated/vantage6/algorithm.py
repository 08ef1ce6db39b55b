"""The two methods of cnotrack's vantage6 algorithm (``docs/federated.md``).

``partial`` runs at each centre's node on that centre's data and returns only its aggregates
(``cnotrack.federated.centre_aggregates``, after the disclosure rule at the centre's threshold);
``central`` asks every chosen organization's node for them and pools them with
``cnotrack.federated.combine``. Both return plain JSON values: vantage6 serializes them as JSON.
"""

from __future__ import annotations

from typing import Any

try:
    from vantage6.algorithm.tools.decorators import algorithm_client, data
except ImportError as exc:  # the optional extra is missing
    raise ImportError("cnotrack.federated.vantage6 needs vantage6-algorithm-tools: pip install 'cnotrack[federated]' "
                      f"({exc})") from exc

from ..aggregates import centre_aggregates
from ..combine import combine
from .node import NodeError, allow_protocol, effective_min_cell_count, node_settings, open_source, task_protocol

__all__ = ["RESULT_FORMAT", "central", "partial"]

RESULT_FORMAT = "cnotrack-vantage6-result"


@data(1)
def partial(source_table: Any, protocol: str = "pardeo2017", protocol_yaml: str | None = None,
            min_cell_count: int | None = None) -> dict[str, Any]:
    """One centre's aggregates of ``protocol`` (a built-in name, or ``protocol_yaml``: the
    definition's YAML text) on the cnotrack data that the node's source table names.

    ``min_cell_count`` is the task's request; the centre's own threshold (``node.py``) wins when
    it is larger. The result is the aggregates document, which holds no patient row, id or date.
    """
    settings = node_settings(source_table)
    definition = task_protocol(protocol, protocol_yaml)
    allow_protocol(definition, sent_as_yaml=protocol_yaml is not None)
    threshold = effective_min_cell_count(min_cell_count, settings.min_cell_count)
    dataset = open_source(settings.source)
    return centre_aggregates(dataset, definition, min_cell_count=threshold, centre=settings.centre)


def _organizations(client: Any, organizations: Any) -> list[int]:
    if organizations is None:
        return [int(o["id"]) for o in client.organization.list()]
    if (not isinstance(organizations, list) or not organizations
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in organizations)):
        raise NodeError(f"organizations {organizations!r}: give a non-empty list of organization ids, or leave it out "
                        "for every organization of the collaboration")
    if len(set(organizations)) != len(organizations):
        raise NodeError(f"organizations {organizations!r}: an organization is named twice; its centre would be "
                        "counted twice")
    return list(organizations)


@algorithm_client
def central(client: Any, protocol: str = "pardeo2017", protocol_yaml: str | None = None,
            min_cell_count: int | None = None, organizations: list[int] | None = None) -> dict[str, Any]:
    """Run ``partial`` at every organization in ``organizations`` (default: all of the
    collaboration), wait for their aggregates and pool them.

    Returns ``{"format", "organizations", "requested_min_cell_count", "combined", "centres"}``:
    ``combined`` is ``Combined.as_json()`` of the centres' aggregates and ``centres`` the
    aggregates themselves (each with the threshold its centre applied), never a row.
    """
    task_protocol(protocol, protocol_yaml)            # a wrong protocol fails here, before any node works
    effective_min_cell_count(min_cell_count, 0)
    orgs = _organizations(client, organizations)
    kwargs = {"protocol": protocol, "protocol_yaml": protocol_yaml, "min_cell_count": min_cell_count}
    task = client.task.create(input_={"method": "partial", "kwargs": kwargs}, organizations=orgs,
                              name="cnotrack partial", description="cnotrack: a centre's aggregates")
    results = client.wait_for_results(task_id=task.get("id"))
    returned = [r for r in results if isinstance(r, dict)]
    if len(returned) != len(orgs):
        raise NodeError(f"{len(returned)} of {len(orgs)} organizations returned aggregates; the pooled result "
                        "needs every centre (see the failed runs' logs at the nodes)")
    combined = combine(returned, names=[f"vantage6 result {i + 1}" for i in range(len(returned))])
    return {"format": RESULT_FORMAT, "organizations": orgs, "requested_min_cell_count": min_cell_count,
            "combined": combined.as_json(), "centres": returned}
