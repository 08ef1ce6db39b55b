"""What a vantage6 node gives cnotrack's algorithm, read without vantage6: the centre's cnotrack
data, its name and its disclosure threshold.

A vantage6 4.x node hands an algorithm its databases as environment variables: the labels the
task asked for in ``USER_REQUESTED_DATABASE_LABELS``; for every database of the node's
configuration ``<LABEL>_DATABASE_URI`` (a file-based database is copied into the task's data
volume, and the URI is its path there, ``/mnt/data/<label><suffix>``; any other URI, such as a
``postgresql://`` URL, is passed as written) and ``<LABEL>_DATABASE_TYPE`` (the configured type);
and each key of the database's ``env`` as ``<LABEL>_DB_PARAM_<KEY>``. The node's
``algorithm_env`` is passed as it is.

The requested database is the centre's **source table** ``cnotrack-source.csv`` (type ``csv``, so
that vantage6's ``@data`` reads it, and vantage6's ``MockAlgorithmClient`` can pass it as a
DataFrame). Its one row names, in column ``source``, the cnotrack data to evaluate: the label
of another database of the node (typically a cnotrack SQLite file of type ``other``), a database
URL (``postgresql://...``, ``sqlite:///...``), or an absolute path to a SQLite file or an
exchange-format folder. Optional columns: ``centre`` (the centre's name in the results) and
``min_cell_count`` (the centre's disclosure threshold).

The threshold is the centre's: the largest of the source table's ``min_cell_count``,
``CNOTRACK_MIN_CELL_COUNT`` (``algorithm_env``) and ``<LABEL>_DB_PARAM_MIN_CELL_COUNT`` (the
database's ``env``), or 5 when none is set. A task may ask for a larger threshold, never a
smaller one (``effective_min_cell_count``). ``CNOTRACK_ALLOWED_PROTOCOLS`` names the protocols the
centre agreed to run (``allow_protocol``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import CnotrackError

__all__ = ["DEFAULT_MIN_CELL_COUNT", "NodeError", "NodeSettings", "SOURCE_FILE", "allow_protocol",
           "effective_min_cell_count", "node_settings", "open_source", "requested_labels", "task_protocol"]

SOURCE_FILE = "cnotrack-source.csv"
DEFAULT_MIN_CELL_COUNT = 5
_COLUMNS = ("source", "centre", "min_cell_count")


class NodeError(CnotrackError):
    """The node's configuration or a task's input cannot be used (the message names the setting)."""


@dataclass(frozen=True)
class NodeSettings:
    """The centre's settings as its node gives them."""

    source: str            # a database URL, or a path to a SQLite file or an exchange-format folder
    centre: str            # the centre's name in the results
    min_cell_count: int    # the centre's own disclosure threshold


def requested_labels(environ: Mapping[str, str] | None = None) -> list[str]:
    """The database labels the task asked for (``USER_REQUESTED_DATABASE_LABELS``); empty
    outside a node."""
    env = os.environ if environ is None else environ
    return [label for label in env.get("USER_REQUESTED_DATABASE_LABELS", "").split(",") if label]


def _whole(value: Any, where: str) -> int | None:
    """``value`` as a whole number of 0 or more, None when not given (empty cell, unset)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or number != int(number) or number < 0 or isinstance(value, bool):
        raise NodeError(f"{where}: {value!r} is not a whole number of 0 or more; give the centre's minimum "
                        f"cell count (default {DEFAULT_MIN_CELL_COUNT})")
    return int(number)


def _resolve(source: str, environ: Mapping[str, str]) -> str:
    """A label of the node's databases becomes that database's URI; a URL or an absolute path is
    kept; anything else is refused (the algorithm runs in a container with no working folder of
    the centre's)."""
    uri = environ.get(f"{source.upper()}_DATABASE_URI")
    if uri:
        return uri
    if "://" in source or Path(source).is_absolute():
        return source
    known = sorted(k.removesuffix("_DATABASE_URI").lower() for k in environ if k.endswith("_DATABASE_URI"))
    raise NodeError(f"{SOURCE_FILE}, column source: {source!r} is neither a database label of this node "
                    f"(known: {', '.join(known) or 'none'}) nor a database URL nor an absolute path; give one of them")


def node_settings(table: Any, environ: Mapping[str, str] | None = None) -> NodeSettings:
    """The centre's settings from its source table (a pandas DataFrame of ``cnotrack-source.csv``)
    and the node's environment (module docstring)."""
    env = os.environ if environ is None else environ
    columns = [str(c).strip() for c in table.columns]
    if "source" not in columns:
        raise NodeError(f"{SOURCE_FILE}: no column 'source' (columns: {', '.join(columns) or 'none'}); the file has "
                        f"the header {','.join(_COLUMNS)} and one row naming the centre's cnotrack database or folder")
    if len(table) != 1:
        raise NodeError(f"{SOURCE_FILE}: {len(table)} rows; give exactly one row (the centre's cnotrack data)")
    row = {c: v for c, v in zip(columns, table.iloc[0].tolist())}
    source = str(row["source"]).strip() if row["source"] is not None else ""
    if not source or source.lower() == "nan":
        raise NodeError(f"{SOURCE_FILE}, column source: empty; name the centre's cnotrack database or folder")
    centre = row.get("centre")
    centre = env.get("CNOTRACK_CENTRE", "") if centre is None or str(centre).strip() in ("", "nan") else str(centre).strip()
    found = [_whole(row.get("min_cell_count"), f"{SOURCE_FILE}, column min_cell_count"),
             _whole(env.get("CNOTRACK_MIN_CELL_COUNT"), "CNOTRACK_MIN_CELL_COUNT (the node's algorithm_env)")]
    for label in requested_labels(env):
        key = f"{label.upper()}_DB_PARAM_MIN_CELL_COUNT"
        found.append(_whole(env.get(key), f"{key} (the env of database {label!r} in the node's configuration)"))
    given = [n for n in found if n is not None]
    return NodeSettings(source=_resolve(source, env), centre=centre or "centre",
                        min_cell_count=max(given) if given else DEFAULT_MIN_CELL_COUNT)


def effective_min_cell_count(requested: Any, node: int) -> int:
    """The threshold a centre applies: the task's request raised to the centre's own."""
    asked = _whole(requested, "min_cell_count (the task's input)")
    return max(node, asked if asked is not None else 0)


def open_source(source: str) -> Any:
    """The centre's data as a ``Dataset``: an exchange-format folder (or workbook) is read with
    ``load_dataset``; anything else is a cnotrack database, opened without creating or migrating
    it (the algorithm never changes the centre's database)."""
    from ...exchange import load_dataset
    from ...store import open_store, read_store

    path = Path(source)
    if "://" not in source and (path.is_dir() or path.suffix.lower() == ".xlsx"):
        return load_dataset(path)
    if "://" not in source and not path.exists():
        raise NodeError(f"{SOURCE_FILE}, column source: {source} does not exist in the algorithm's container; "
                        "a file-based database is copied to /mnt/data/<label><suffix>: name it by its label")
    with open_store(source, create=False, upgrade=False) as store:
        return read_store(store)


def allow_protocol(definition: Any, *, sent_as_yaml: bool, environ: Mapping[str, str] | None = None) -> None:
    """Refuse a protocol this centre has not agreed to run.

    ``CNOTRACK_ALLOWED_PROTOCOLS`` (the node's ``algorithm_env``) lists, comma-separated, built-in
    protocol names and definition SHA-256s (``protocol_definition_sha256``). Unset, the centre runs
    every built-in protocol and no definition sent as YAML text (a task could otherwise send a
    protocol written to single out a patient)."""
    from ...protocols import builtin_protocols, load_protocol_with_warnings
    from ..aggregates import protocol_definition_sha256

    env = os.environ if environ is None else environ
    digest = protocol_definition_sha256(definition)
    listed = [entry.strip() for entry in env.get("CNOTRACK_ALLOWED_PROTOCOLS", "").split(",") if entry.strip()]
    names = builtin_protocols()
    if not listed:
        if not sent_as_yaml:
            return
        raise NodeError(f"protocol_yaml: this centre runs only the built-in protocols; to run this definition the "
                        f"centre adds its SHA-256 {digest} to CNOTRACK_ALLOWED_PROTOCOLS in the node's algorithm_env")
    allowed = {entry.lower() for entry in listed if re.fullmatch(r"[0-9a-fA-F]{64}", entry)}
    allowed |= {protocol_definition_sha256(load_protocol_with_warnings(entry)[0]) for entry in listed if entry in names}
    if digest not in allowed:
        raise NodeError(f"protocol {definition.id!r} (definition SHA-256 {digest}): not in this centre's "
                        f"CNOTRACK_ALLOWED_PROTOCOLS ({', '.join(listed)}); the centre adds its name or SHA-256 to run it")


def task_protocol(protocol: Any = "pardeo2017", protocol_yaml: Any = None) -> Any:
    """The protocol a task asks for: a built-in protocol by name, or a protocol definition given
    as YAML text. A path is refused: a task must not make the node read a file of its choosing."""
    from ...protocols import builtin_protocols, load_protocol_with_warnings, parse_protocol

    if protocol_yaml is not None:
        if not isinstance(protocol_yaml, str):
            raise NodeError("protocol_yaml: give the protocol definition as YAML text")
        return parse_protocol(protocol_yaml, source="protocol_yaml (the task's input)")
    names = builtin_protocols()
    if not isinstance(protocol, str) or protocol not in names:
        raise NodeError(f"protocol {protocol!r}: not a built-in protocol ({', '.join(names)}); give one of them, or "
                        "the definition itself as protocol_yaml")
    return load_protocol_with_warnings(protocol)[0]
