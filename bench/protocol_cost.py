"""Benchmark: what protocol language v2 costs against ``pardeo2017`` on the same registry.

Issue 10 asks that a protocol with groups and 30 endpoints evaluate on 100,000 synthetic
patients in at most twice the time of ``pardeo2017``. For each size this script writes
``cnotrack.synth.write_registry(N, seed)`` to a temporary CSV folder (not timed), then runs,
alternately and each in a fresh Python process, ``evaluate(dataset, protocol)`` with the
statistics (paired tests, Kaplan-Meier, Table 1, comparisons) for

* ``pardeo2017`` (the seed study's protocol), and
* ``bench/protocols/groups30.yaml`` (30 endpoints of every v2 kind, a comparison by sex,
  declared paired tests, three time-to-event endpoints).

Loading the dataset and importing cnotrack are not timed; the evaluation's wall time
(``time.perf_counter``) and CPU time of the process (``time.process_time``, all threads) are.
The table gives the medians of ``--repeats`` runs and the ratio of the two protocols.

Run ``.venv/bin/python bench/protocol_cost.py [--sizes 1000,100000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOCOLS = {"pardeo2017": "pardeo2017", "groups30": str(HERE / "protocols" / "groups30.yaml")}
LIMIT = 2.0


def child(folder: str, protocol: str, result: str) -> None:
    """One measurement in this fresh process, written as JSON to ``result``."""
    from cnotrack import load_dataset
    from cnotrack.analysis import statistics_for  # noqa: F401  (imported before the clock starts)
    from cnotrack.engine import evaluate
    from cnotrack.protocols import load_protocol

    dataset = load_dataset(Path(folder))
    chosen = load_protocol(protocol)
    wall, cpu = time.perf_counter(), time.process_time()
    evaluation = evaluate(dataset, chosen)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    Path(result).write_text(json.dumps({"wall": wall, "cpu": cpu, "eligible": evaluation.n,
                                        "endpoints": len(evaluation.endpoints),
                                        "comparisons": len(getattr(evaluation, "comparisons", {}) or {})}))


def measure(folder: Path, protocol: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    subprocess.run([sys.executable, __file__, "--child", str(folder), protocol, str(out)], check=True)
    result = json.loads(out.read_text())
    out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()
    from cnotrack.synth import write_registry

    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="cnotrack-bench-") as tmp:
            folder = write_registry(size, args.seed, Path(tmp) / "registry")
            runs: dict[str, list[dict]] = {name: [] for name in PROTOCOLS}
            for _ in range(args.repeats):
                for name, protocol in PROTOCOLS.items():  # alternate, so both see the same machine
                    runs[name].append(measure(folder, protocol))
            medians = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")}
                       for name, rs in runs.items()}
            ratio = {k: medians["groups30"][k] / medians["pardeo2017"][k] for k in ("wall", "cpu")}
            rows.append({"patients": size, "medians": medians, "ratio": ratio,
                         "eligible": {n: rs[0]["eligible"] for n, rs in runs.items()},
                         "endpoints": {n: rs[0]["endpoints"] for n, rs in runs.items()}})
    print("| patients | protocol | eligible | endpoints | evaluate wall (s) | evaluate CPU (s) |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        for name in PROTOCOLS:
            m = row["medians"][name]
            print(f"| {row['patients']:,} | {name} | {row['eligible'][name]:,} | {row['endpoints'][name]} "
                  f"| {m['wall']:.2f} | {m['cpu']:.2f} |")
    for row in rows:
        verdict = "within" if row["ratio"]["wall"] <= LIMIT else "OVER"
        print(f"\n{row['patients']:,} patients: groups30 / pardeo2017 = {row['ratio']['wall']:.2f}x wall, "
              f"{row['ratio']['cpu']:.2f}x CPU ({verdict} the {LIMIT:g}x limit)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
