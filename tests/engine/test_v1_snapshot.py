"""Protocol language v2 is a superset of v1: the built-in v1 protocols give the endpoints and
cohorts they gave before v2, on the demo, a synthetic registry and two adversarial hold-out
cohorts. The snapshots in ``v1_snapshots/`` were written by the last v1 engine (commit 1f6a9f0)
with ``python tests/engine/test_v1_snapshot.py --write``; a snapshot may change only where the
issue-10 settled choices change a result, and that change is then named in docs/protocols.md.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from cnotrack.demo import demo_dataset
from cnotrack.engine import evaluate
from cnotrack.exchange import load_dataset
from cnotrack.protocols import load_protocol
from cnotrack.synth import synthesize_registry

SNAPSHOTS = Path(__file__).parent / "v1_snapshots"
PROTOCOLS = ("pardeo2017", "pedcno")


def _dataset(name: str):
    if name == "demo":
        return demo_dataset()
    if name == "synth300":
        return synthesize_registry(300, 7)
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from reference.holdout import make_holdout_cohort

    folder = Path(tempfile.mkdtemp(prefix="cnotrack-holdout-"))
    make_holdout_cohort(int(name.removeprefix("holdout")), 60, folder)
    return load_dataset(folder)


def _snapshot(dataset, protocol: str) -> dict:
    j = evaluate(dataset, load_protocol(protocol), statistics=False).as_json(detail=False)
    return {"endpoints": j["endpoints"], "cohort": j["cohort"]}


CASES = ("demo", "synth300", "holdout3", "holdout11")


@pytest.mark.parametrize("case", CASES)
def test_v1_protocols_give_the_same_endpoints_as_before_v2(case: str) -> None:
    dataset = _dataset(case)
    for protocol in PROTOCOLS:
        expected = json.loads((SNAPSHOTS / f"{case}.{protocol}.json").read_text("utf-8"))
        assert _snapshot(dataset, protocol) == expected, f"{case} {protocol}"


if __name__ == "__main__" and "--write" in sys.argv:
    for case in CASES:
        dataset = _dataset(case)
        for protocol in PROTOCOLS:
            text = json.dumps(_snapshot(dataset, protocol), indent=1, sort_keys=True) + "\n"
            (SNAPSHOTS / f"{case}.{protocol}.json").write_text(text, "utf-8")
