"""Checking that two evaluations of one registry give the same endpoints.

``python bench/check.py CNOTRACK.json OTHER.json`` compares the cohort (n, female, every excluded
patient with its reason) and every endpoint of ``OTHER`` (the pandas baseline's JSON, or a second
``cnotrack evaluate``) with those of ``CNOTRACK``: counts and proportions (``n``, ``of``,
``missing``) exactly, distributions to a relative 1e-12 (Polars divides a column by 365.25 as a
multiplication by its reciprocal, which may differ in the last bit). Keys that only cnotrack
gives (confidence intervals, percentages) are not compared. Exit 0 and a line ``same endpoints``
when they agree, exit 1 and the differences otherwise. It runs as a process of its own so that
the benchmark's process never holds a large JSON (and no child inherits its memory).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

__all__ = ["differences"]


def differences(mine: dict, theirs: dict) -> list[str]:
    """What differs between the cohort and endpoints of ``theirs`` and those of ``mine``."""
    found = []
    for key in ("n", "female"):
        if mine["cohort"][key] != theirs["cohort"][key]:
            found.append(f"cohort.{key}: {mine['cohort'][key]!r} != {theirs['cohort'][key]!r}")
    excluded = [(e["patient_id"], e["reason"]) for e in mine["cohort"]["excluded"]]
    other = [(e["patient_id"], e["reason"]) for e in theirs["cohort"]["excluded"]]
    if excluded != other:
        diff = sorted(set(excluded) ^ set(other))[:3]
        found.append(f"cohort.excluded: {len(excluded)} and {len(other)} patients; e.g. {diff}")
    missing = set(theirs["endpoints"]) - set(mine["endpoints"])
    if missing:
        found.append(f"endpoints missing from the first: {sorted(missing)}")
    for key, value in theirs["endpoints"].items():
        if key in missing:
            continue
        got = mine["endpoints"][key]
        if isinstance(value, dict):
            for stat, expected in value.items():
                if not _same(got.get(stat), expected):
                    found.append(f"{key}.{stat}: {got.get(stat)!r} != {expected!r}")
        elif got != value:
            found.append(f"{key}: {got!r} != {value!r}")
    return found


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return a == b


def main() -> None:
    mine, theirs = (json.loads(Path(p).read_text("utf-8")) for p in sys.argv[1:3])
    found = differences(mine, theirs)
    if found:
        print("\n".join(found))
        raise SystemExit(1)
    print("same endpoints")


if __name__ == "__main__":
    main()
