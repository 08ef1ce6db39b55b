"""Combining centres' aggregates into pooled endpoints: ``combine(files) -> Combined``.

The files must come from the same protocol definition (the same ``definition_sha256``), from
compatible versions (the same MAJOR of the file format; the same cnotrack MAJOR.MINOR, which
for cnotrack 0.x is where a statistic may change) and with the same bins; the same dataset
twice (the same content fingerprint) is refused, so that no centre is counted twice. The
pooling itself is in ``pooled.py``; each centre's own figures are kept beside the pooled ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .aggregates import (
    FORMAT_VERSION,
    AggregatesError,
    read_aggregates,
    validate_aggregates,
)
from .disclosure import is_suppressed
from .pooled import pool_comparison, pool_endpoint, pool_paired, summed

__all__ = ["Combined", "centre_figure", "combine"]


@dataclass
class Combined:
    """The pooled result of several centres' aggregates (``as_json`` for plain values)."""

    protocol_id: str
    definition_sha256: str
    centres: list[dict[str, Any]]
    cohort: dict[str, Any]
    endpoints: dict[str, dict[str, Any]]
    paired: dict[str, dict[str, Any]]
    survival: dict[str, dict[str, Any]]
    comparisons: dict[str, dict[str, Any]]
    synthetic: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"format": "cnotrack-combined", "format_version": FORMAT_VERSION,
                "protocol": {"id": self.protocol_id, "definition_sha256": self.definition_sha256},
                "centres": self.centres, "cohort": self.cohort, "synthetic": self.synthetic,
                "endpoints": self.endpoints, "paired": self.paired, "survival": self.survival,
                "comparisons": self.comparisons, "notes": self.notes,
                "disclosure": {c["name"]: c["min_cell_count"] for c in self.centres}}


def _major_minor(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    return tuple(parts[:1]) if parts and parts[0] >= 1 else tuple(parts)


def _load(items: Sequence[Any], names: Sequence[str] | None) -> list[tuple[str, dict[str, Any]]]:
    loaded = []
    for i, item in enumerate(items):
        if isinstance(item, (str, Path)):
            source = str(item)
            data = read_aggregates(item)
        else:
            source = names[i] if names else f"aggregates #{i + 1}"
            validate_aggregates(item, source=source)
            data = item
        loaded.append((source, data))
    return loaded


def _check(loaded: list[tuple[str, dict[str, Any]]]) -> None:
    first_source, first = loaded[0]
    seen: dict[str, str] = {}
    for source, data in loaded:
        if data["format_version"].split(".")[0] != FORMAT_VERSION.split(".")[0]:
            raise AggregatesError(f"{source}: aggregates format {data['format_version']}; this cnotrack combines "
                                  f"format {FORMAT_VERSION.split('.')[0]}.x: write the file again with this cnotrack")
        if data["protocol"]["definition_sha256"] != first["protocol"]["definition_sha256"]:
            raise AggregatesError(
                f"{source}: protocol {data['protocol']['id']!r} with definition {data['protocol']['definition_sha256'][:12]}"
                f" differs from {first_source}'s {first['protocol']['id']!r} definition "
                f"{first['protocol']['definition_sha256'][:12]}: every centre must evaluate the same protocol file")
        if _major_minor(data["cnotrack_version"]) != _major_minor(first["cnotrack_version"]):
            raise AggregatesError(f"{source}: written by cnotrack {data['cnotrack_version']}, {first_source} by "
                                  f"{first['cnotrack_version']}: versions differ in MAJOR.MINOR; every centre must use "
                                  "a compatible cnotrack")
        if data["bins"] != first["bins"]:
            raise AggregatesError(f"{source}: bins {data['bins']} differ from {first_source}'s {first['bins']}")
        if data["dataset_sha256"] in seen:
            raise AggregatesError(f"{source}: the same dataset (fingerprint {data['dataset_sha256'][:12]}) as "
                                  f"{seen[data['dataset_sha256']]}: a centre would be counted twice")
        seen[data["dataset_sha256"]] = source
        _same_layout(source, data, first_source, first)
        _consistent(source, data)


def _same_layout(source: str, data: dict[str, Any], first_source: str, first: dict[str, Any]) -> None:
    """The same endpoints, paired tests, analyses and comparisons as the first file, each of the
    same kind and with the file's bins (a file changed by hand is refused here, not half combined)."""
    for part in ("endpoints", "paired", "survival", "comparisons"):
        if list(data[part]) != list(first[part]):
            odd = sorted(set(data[part]) ^ set(first[part])) or ["(their order)"]
            raise AggregatesError(f"{source}: its {part} differ from {first_source}'s ({', '.join(odd[:5])}) although "
                                  "the protocol definition is the same: the file was changed after cnotrack wrote it; "
                                  "write it again")
    kinds = {k: e["kind"] for k, e in first["endpoints"].items()}
    for where, eid, section, kind in _sections(data, kinds):
        if section["kind"] != kind:
            raise AggregatesError(f"{source}: at {where}: kind {section['kind']!r}, not {kind!r} as in {first_source}: "
                                  "the file was changed after cnotrack wrote it; write it again")
        if kind == "distribution" and section["bin_width"] != data["bins"]["distribution"].get(eid):
            raise AggregatesError(f"{source}: at {where}: bin_width {section['bin_width']} is not the file's bins "
                                  f"({data['bins']['distribution'].get(eid)}): write the file again")
        if kind == "time_to_event" and section["bin_days"] != data["bins"]["time_days"]:
            raise AggregatesError(f"{source}: at {where}: bin_days {section['bin_days']} is not the file's bins "
                                  f"({data['bins']['time_days']}): write the file again")
    for key, p in data["paired"].items():
        if p["test"] != first["paired"][key]["test"]:
            raise AggregatesError(f"{source}: at paired/{key}: test {p['test']!r}, not {first['paired'][key]['test']!r} "
                                  f"as in {first_source}: write the file again")
    for key, c in data["comparisons"].items():
        ids = [g["id"] for g in c["groups"]]
        if list(c["endpoints"]) != list(first["comparisons"][key]["endpoints"]) or not set(c["endpoints"]) <= set(kinds):
            raise AggregatesError(f"{source}: at comparisons/{key}: its endpoints differ from {first_source}'s or the "
                                  "file's endpoints: write the file again")
        for eid, x in c["endpoints"].items():
            if sorted(x["groups"]) != sorted(ids) or ("rank_sum" in x and sorted(x["rank_sum"]["groups"]) != sorted(ids)):
                raise AggregatesError(f"{source}: at comparisons/{key}/endpoints/{eid}: its groups are not the "
                                      f"comparison's ({', '.join(ids)}): write the file again")


def _sections(data: dict[str, Any], kinds: dict[str, str]):
    """(where, endpoint id, section, expected kind) of every endpoint section of ``data``, also per group."""
    for k, e in data["endpoints"].items():
        yield f"endpoints/{k}", k, e, kinds[k]
    for k, e in data["survival"].items():
        yield f"survival/{k}", None, e, "time_to_event"
    for c, comp in data["comparisons"].items():
        for k, e in comp["endpoints"].items():
            for g, x in e["groups"].items():
                yield f"comparisons/{c}/endpoints/{k}/groups/{g}", k, x, kinds.get(k, x["kind"])


def _adds_up(parts: list[Any], total: Any) -> bool:
    """Whether the shown parts add up to the shown total (always true when any is suppressed)."""
    if is_suppressed(total) or any(is_suppressed(p) for p in parts):
        return True
    return sum(parts) == total


def _consistent(source: str, data: dict[str, Any]) -> None:
    """Every total of the file equals the sum of its parts (a file edited by hand, or made up,
    is refused before its bins are expanded)."""
    sections = [(f"endpoints/{k}", e) for k, e in data["endpoints"].items()]
    sections += [(f"survival/{k}", e) for k, e in data["survival"].items()]
    sections += [(f"comparisons/{c}/endpoints/{k}/groups/{g}", x) for c, comp in data["comparisons"].items()
                 for k, e in comp["endpoints"].items() for g, x in e["groups"].items()]
    for where, e in sections:
        kind = e["kind"]
        checks = []
        if kind == "proportion":
            checks = [([e["yes"], e["no"], e["missing"]], e["of"], "yes + no + missing", "of")]
        elif kind == "distribution":
            checks = [(list(e["counts"]), e["n"], "the counts per bin", "n")]
        elif kind == "time_to_event":
            checks = [(list(e["event_bins"]), e["events"], "the event_bins", "events"),
                      (list(e["censored_bins"]), e["censored"], "the censored_bins", "censored"),
                      ([e["events"], e["censored"]], e["n"], "events + censored", "n")]
        for parts, total, words, name in checks:
            if not _adds_up(parts, total):
                raise AggregatesError(f"{source}: at {where}: {words} do not add up to {name} = {total}; "
                                      "the file was changed after cnotrack wrote it: write it again")
    for key, p in data["paired"].items():
        if p["test"] == "mcnemar_exact":
            cells = [p[k] for k in ("both_true", "true_false", "false_true", "both_false")]
            if not _adds_up(cells, p["pairs"]):
                raise AggregatesError(f"{source}: at paired/{key}: the four cells do not add up to pairs = {p['pairs']}; "
                                      "the file was changed after cnotrack wrote it: write it again")
    for key, c in data["comparisons"].items():
        if not _adds_up([g["n"] for g in c["groups"]] + [c["ungrouped"]], data["cohort"]["n"]):
            raise AggregatesError(f"{source}: at comparisons/{key}: the groups and the ungrouped do not add up to the "
                                  f"cohort's n = {data['cohort']['n']}; the file was changed after cnotrack wrote it: "
                                  "write it again")


def centre_figure(kind: str, section: dict[str, Any]) -> dict[str, Any]:
    """A centre's own figure of an endpoint (what the centres table shows), suppressed cells kept."""
    if kind == "proportion":
        return {k: section[k] for k in ("yes", "of", "missing")}
    if kind == "count":
        return {"value": section["value"], "missing": section["missing"]}
    if kind == "distribution":
        return {"n": section["n"], "missing": section["missing"]}
    return {"n": section["n"], "events": section["events"]}


def _names(loaded: list[tuple[str, dict[str, Any]]]) -> list[str]:
    names, used = [], set()
    for source, data in loaded:
        name = data["centre"]
        if name in used:
            name = f"{name} ({Path(source).name})"
        used.add(name)
        names.append(name)
    return names


def combine(aggregates: Sequence[dict[str, Any] | str | Path], *, names: Sequence[str] | None = None) -> Combined:
    """Pool the centres' ``aggregates`` (dicts or file paths), after the checks of the module."""
    if not aggregates:
        raise AggregatesError("combine: give at least one aggregates file")
    loaded = _load(list(aggregates), names)
    _check(loaded)
    centre_names = _names(loaded)
    docs = list(zip(centre_names, (d for _, d in loaded)))
    first = loaded[0][1]
    centres = [{"name": name, "file": source, "dataset_sha256": d["dataset_sha256"],
                "cnotrack_version": d["cnotrack_version"], "min_cell_count": d["disclosure"]["min_cell_count"],
                "suppressed": d["disclosure"]["suppressed"], "n": d["cohort"]["n"]}
               for name, (source, d) in zip(centre_names, loaded)]
    notes = []
    cohort = {}
    for key in ("n", "female"):
        cohort[key], hidden = summed([(n, d["cohort"]) for n, d in docs], key)
        if hidden:
            words = "eligible patients" if key == "n" else "female patients"
            notes.append(f"The pooled number of {words} is not given: {', '.join(hidden)} withheld it (suppressed).")
    synthetic = {}
    for key in ("patients", "of", "eligible", "of_eligible"):
        synthetic[key], _ = summed([(n, d["synthetic"]) for n, d in docs], key)
    endpoints = {}
    for eid, e in first["endpoints"].items():
        sections = [(n, d["endpoints"][eid]) for n, d in docs]
        pooled = pool_endpoint(e["kind"], e.get("label", eid), sections)
        endpoints[eid] = {"kind": e["kind"], "label": e.get("label", eid)} | pooled | {
            "centres": {n: centre_figure(e["kind"], s) for n, s in sections}}
    paired = {k: {"variable": p["variable"], "test": p["test"]} | pool_paired([(n, d["paired"][k]) for n, d in docs])
              for k, p in first["paired"].items()}
    survival = {}
    for k, s in first["survival"].items():
        sections = [(n, d["survival"][k]) for n, d in docs]
        survival[k] = {"label": s.get("label", k)} | pool_endpoint("time_to_event", s.get("label", k), sections) | {
            "centres": {n: centre_figure("time_to_event", x) for n, x in sections}}
    comparisons = {k: _comparison(k, c, docs) for k, c in first["comparisons"].items()}
    return Combined(first["protocol"]["id"], first["protocol"]["definition_sha256"], centres, cohort, endpoints,
                    paired, survival, comparisons, synthetic, notes)


def _comparison(key: str, first: dict[str, Any], docs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    groups: dict[str, str] = {}
    for _, d in docs:
        for g in d["comparisons"][key]["groups"]:
            groups.setdefault(g["id"], g["label"])
    order = list(groups.items())
    sizes = {}
    for gid, _ in order:
        values = [(n, g) for n, d in docs for g in d["comparisons"][key]["groups"] if g["id"] == gid]
        sizes[gid], _ = summed(values, "n")
    ungrouped, _ = summed([(n, d["comparisons"][key]) for n, d in docs], "ungrouped")
    endpoints = {}
    for eid in first["endpoints"]:
        kind = next(iter(first["endpoints"][eid]["groups"].values()), {}).get("kind") or \
            docs[0][1]["endpoints"][eid]["kind"]
        label = docs[0][1]["endpoints"][eid].get("label", eid)
        sections = [(n, d["comparisons"][key]["endpoints"][eid]) for n, d in docs]
        endpoints[eid] = {"kind": kind, "label": label} | pool_comparison(label, kind, order, sections)
    return {"label": first["label"], "by": first["by"],
            "groups": [{"id": g, "label": lab, "n": sizes[g]} for g, lab in order],
            "ungrouped": ungrouped, "endpoints": endpoints}
