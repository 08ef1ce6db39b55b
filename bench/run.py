"""Benchmark: cnotrack's engine against a vectorised pandas baseline on synthetic registries.

For each size N (1,000, 10,000 and 100,000 patients; ``--quick`` for the first two, ``--sizes``
for others) it writes ``cnotrack.synth.write_registry(N, seed)`` to a temporary CSV folder
(not timed), then, each in a fresh Python process so that its peak memory is its own:

* **engine**: ``load_dataset(folder)`` and ``evaluate(dataset, pardeo2017)``, timed apart;
* **pandas**: the same ``load_dataset`` (not timed), the typed tables converted to pandas (not
  timed), then ``bench/pandas_baseline.py`` (timed).

Each is run ``--repeats`` times (3); the table gives medians of the times and the largest peak
resident memory (``VmHWM`` of the process, so it includes the interpreter and the imports).
The engine's endpoints must equal the baseline's: counts, proportions and the excluded
patients with their reasons exactly, the follow-up distribution to 1e-12 (Polars divides a
column by 365.25 as a multiplication by its reciprocal, which may differ in the last bit).
The results go to ``docs/performance.md``.

Run ``make bench`` or ``.venv/bin/python bench/run.py [--quick | --sizes 1000,20000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = (1_000, 10_000, 100_000)
TARGET_SECONDS, TARGET_MB, TARGET_SPEEDUP = 10.0, 2048.0, 4.0


# --------------------------------------------------------------------------- the measured processes

def engine_endpoints(evaluation) -> dict:
    """The engine's result in the baseline's shape (the JSON of seed-protocol.md, no extras)."""
    full = evaluation.as_json(detail=False)
    endpoints = {}
    for key, value in full["endpoints"].items():
        if isinstance(value, dict) and "of" in value:
            value = {k: value[k] for k in ("n", "of", "missing")}
        elif isinstance(value, dict):
            value = {k: value[k] for k in ("n", "median", "min", "max", "q1", "q3")}
        endpoints[key] = value
    return {"protocol": full["protocol"], "cohort": full["cohort"], "endpoints": endpoints}


def child(kind: str, folder: str, result: str) -> None:
    """Run one measurement in this (fresh) process and write it as JSON to ``result``."""
    from cnotrack import load_dataset
    from cnotrack.engine import evaluate
    from cnotrack.protocols import load_protocol

    protocol = load_protocol("pardeo2017")
    out: dict = {}
    if kind == "engine":
        start = time.perf_counter()
        import cnotrack.analysis  # noqa: F401 - imported by evaluate on first use (lifelines, scipy)

        out["import_statistics"] = time.perf_counter() - start
        start, cpu_start = time.perf_counter(), time.process_time()
        dataset = load_dataset(folder)
        loaded, cpu_loaded = time.perf_counter(), time.process_time()
        evaluation = evaluate(dataset, protocol)
        done, cpu_done = time.perf_counter(), time.process_time()
        out.update(load=loaded - start, evaluate=done - loaded, endpoints=engine_endpoints(evaluation),
                   load_cpu=cpu_loaded - cpu_start, evaluate_cpu=cpu_done - cpu_loaded)
        del evaluation
        start = time.perf_counter()
        evaluate(dataset, protocol, statistics=False)
        out["endpoints_only"] = time.perf_counter() - start
    else:
        sys.path.insert(0, str(HERE))
        from pandas_baseline import evaluate_pardeo2017, to_pandas

        dataset = load_dataset(folder)
        tables = to_pandas(dataset.tables)
        del dataset
        start, cpu_start = time.perf_counter(), time.process_time()
        endpoints = evaluate_pardeo2017(tables)
        out.update(evaluate=time.perf_counter() - start, evaluate_cpu=time.process_time() - cpu_start,
                   endpoints=endpoints)
    out["peak_mb"] = peak_mb()
    Path(result).write_text(json.dumps(out), "utf-8")


def peak_mb() -> float:
    """This process's peak resident memory: ``VmHWM``, the high-water mark of its own address
    space. (``ru_maxrss`` would not do: a process started by ``subprocess`` inherits in it the
    high-water mark of the parent it was forked from, the benchmark with its registry.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write(n: int, seed: int, folder: str, result: str) -> None:
    """Synthesize and write a registry (in its own process, so the benchmark stays small)."""
    from cnotrack.exchange.writer import write_csv_folder
    from cnotrack.synth import synthesize_registry

    start = time.perf_counter()
    dataset = synthesize_registry(n, seed)
    made = time.perf_counter()
    write_csv_folder(dataset, Path(folder))
    out = {"synthesize": made - start, "write": time.perf_counter() - made,
           "rows": {k: v for k, v in dataset.row_counts().items() if v}}
    Path(result).write_text(json.dumps(out), "utf-8")


def measure(kind: str, folder: Path, work: Path, run: int) -> dict:
    result = work / f"{kind}-{run}.json"
    start = time.perf_counter()
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, str(folder), str(result)],
                   check=True)
    out = json.loads(result.read_text("utf-8"))
    out["process_s"] = time.perf_counter() - start
    return out


# --------------------------------------------------------------------------- comparing results

def assert_same(engine: dict, baseline: dict, n: int) -> None:
    """Counts, proportions and exclusions equal; distribution values equal to 1e-12."""
    assert engine["cohort"] == baseline["cohort"], f"N={n}: the cohorts differ"
    assert engine["endpoints"].keys() == baseline["endpoints"].keys(), f"N={n}: different endpoints"
    for key, mine in engine["endpoints"].items():
        theirs = baseline["endpoints"][key]
        if isinstance(mine, dict) and "median" in mine:
            for stat, value in mine.items():
                other = theirs[stat]
                same = value == other or (value is not None and other is not None
                                          and math.isclose(value, other, rel_tol=1e-12, abs_tol=0.0))
                assert same, f"N={n}: {key}.{stat}: engine {value!r}, pandas {other!r}"
        else:
            assert mine == theirs, f"N={n}: {key}: engine {mine!r}, pandas {theirs!r}"


# --------------------------------------------------------------------------- the report

def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    import numpy
    import pandas
    import polars

    return {
        "nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gb": mem_kb / 1024 / 1024,
        "python": platform.python_version(), "polars": polars.__version__, "pandas": pandas.__version__,
        "numpy": numpy.__version__, "load_average": os.getloadavg(),
    }


def short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.2f}M"
    if count >= 1_000:
        return f"{count / 1_000:.0f}k"
    return str(count)


_ABBREVIATIONS = {"patients": "pat", "treatments": "trt", "assessments": "vis", "labs": "lab",
                  "imaging": "img", "lesions": "les", "adverse_events": "ae"}


def report(rows: list[dict], info: dict, seed: int, repeats: int) -> str:
    lines = [
        "# Performance",
        "",
        "How long cnotrack takes to load a dataset and evaluate the built-in protocol `pardeo2017` on",
        "synthetic registries (`cnotrack synth`), against a vectorised pandas implementation of the same",
        "protocol (`bench/pandas_baseline.py`). Generated by `bench/run.py`; do not edit by hand.",
        "",
        "| N patients | rows per table | load s | evaluate s | total s | peak MB | pandas s | speed-up |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        counts = " / ".join(f"{_ABBREVIATIONS[k]} {short(v)}" for k, v in r["rows"].items() if k in _ABBREVIATIONS)
        lines.append(f"| {r['n']:,} | {counts} | {r['load']:.2f} | {r['evaluate']:.2f} | {r['total']:.2f} | "
                     f"{r['peak_mb']:.0f} | {r['pandas']:.2f} | {r['pandas'] / r['evaluate']:.1f}x |")
    lines += [
        "",
        "Rows: pat = patients, trt = treatments, vis = assessments (visits), lab = labs, img = imaging",
        "studies, les = lesions, ae = adverse events. *load* is `load_dataset` (reading and validating",
        "the CSV folder), *evaluate* is `evaluate(dataset, pardeo2017)`, *total* both; *peak MB* is the",
        "peak resident memory (VmHWM) of the engine's process, interpreter and imports included; *pandas* is",
        "the baseline's evaluation of the same typed tables (loading and conversion not timed); *speed-up*",
        f"is pandas s / evaluate s. Times are medians of {repeats} runs, each in a fresh process; every",
        "run's endpoints were checked to equal the baseline's.",
        "",
        "`evaluate` computes the endpoints and, by default, the statistics that go with them (Table 1,",
        "paired baseline-versus-6-month tests, Kaplan-Meier analyses). The pandas baseline computes the",
        "endpoints only, so the like-for-like comparison is with `evaluate(..., statistics=False)`:",
        "",
        "| N patients | endpoints only s | statistics s | speed-up, endpoints only |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['endpoints_only']:.2f} | {max(r['evaluate'] - r['endpoints_only'], 0):.2f} | "
                     f"{r['pandas'] / r['endpoints_only']:.1f}x |")
    lines += [
        "",
        "CPU time of the same steps (user + system, all threads; less disturbed by other work on the",
        "machine than the wall times above; Polars uses both cores, so its CPU time may exceed its wall time):",
        "",
        "| N patients | load CPU s | evaluate CPU s | pandas CPU s |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['load_cpu']:.2f} | {r['evaluate_cpu']:.2f} | {r['pandas_cpu']:.2f} |")
    imports = statistics.median(r["import_statistics"] for r in rows)
    lines += [
        "",
        f"Not in *evaluate*: importing `cnotrack.analysis` (lifelines, scipy), {imports:.1f} s once per",
        "process, which the first `evaluate` of a process pays (the `cnotrack evaluate` command too).",
        "",
    ]
    eligible = "; ".join(f"{r['n']:,}: {r['cohort']:,} ({100 * r['cohort'] / r['n']:.0f}%)" for r in rows)
    lines += [f"Patients eligible for `pardeo2017` (the evaluated cohort): {eligible}.", ""]
    per = "; ".join(f"{r['n']:,}: evaluate {1e6 * r['evaluate'] / r['n']:.1f} µs, "
                    f"load {1e6 * r['load'] / r['n']:.0f} µs" for r in rows)
    lines += [f"**Linearity.** Time per patient at each N ({per}).", ""]
    big = max(rows, key=lambda r: r["n"])
    steps = sorted(rows, key=lambda r: r["n"])
    growth = [f"from {a['n']:,} to {b['n']:,} patients ({b['n'] / a['n']:.0f} times as many), evaluate takes "
              f"{b['evaluate'] / a['evaluate']:.1f} and load {b['load'] / a['load']:.1f} times as long"
              for a, b in zip(steps, steps[1:])]
    if growth:
        lines += ["Time grows linearly with the number of patients, or a little less where fixed costs (reading the "
                  "vocabularies and the protocol, starting Polars' threads) still weigh: " + "; ".join(growth) + ".",
                  ""]
    checks = [
        (f"evaluate {big['n']:,} patients in < {TARGET_SECONDS:.0f} s", big["evaluate"] < TARGET_SECONDS,
         f"{big['evaluate']:.2f} s"),
        (f"load + evaluate {big['n']:,} patients in < {TARGET_SECONDS:.0f} s", big["total"] < TARGET_SECONDS,
         f"{big['total']:.2f} s"),
        (f"peak memory < {TARGET_MB / 1024:.0f} GB", big["peak_mb"] < TARGET_MB, f"{big['peak_mb']:.0f} MB"),
        (f">= {TARGET_SPEEDUP:.0f}x faster than pandas at {big['n']:,}, endpoints and statistics",
         big["pandas"] / big["evaluate"] >= TARGET_SPEEDUP, f"{big['pandas'] / big['evaluate']:.1f}x"),
        (f">= {TARGET_SPEEDUP:.0f}x faster than pandas at {big['n']:,}, endpoints only",
         big["pandas"] / big["endpoints_only"] >= TARGET_SPEEDUP, f"{big['pandas'] / big['endpoints_only']:.1f}x"),
    ]
    lines += ["**Targets** (on 2 cores):", ""]
    lines += [f"- {what}: {'met' if ok else 'missed'} ({value})" for what, ok, value in checks]
    load1, load5, load15 = info["load_average"]
    end1, end5, end15 = os.getloadavg()
    lines += [
        "",
        "## Machine",
        "",
        f"- {info['nproc']} CPU cores available ({info['cpu']}), {info['ram_gb']:.1f} GB RAM",
        f"- Python {info['python']}, polars {info['polars']}, pandas {info['pandas']}, numpy {info['numpy']}",
        f"- load average (1, 5, 15 min) when the benchmark started: {load1:.2f}, {load5:.2f}, {load15:.2f}; "
        f"when it ended: {end1:.2f}, {end5:.2f}, {end15:.2f} (a load above the number of cores means other "
        "work competed for them and the wall times are longer than on an idle machine)",
        f"- run on {dt.date.today().isoformat()}, registries drawn with seed {seed}",
        "",
        "## Rerun",
        "",
        "```",
        "make bench                                   # all sizes; writes this file",
        ".venv/bin/python bench/run.py --quick        # 1,000 and 10,000 only",
        ".venv/bin/python bench/run.py --sizes 1000,50000 --repeats 5",
        "```",
        "",
    ]
    return "\n".join(lines)


def keep_measured_sections(text: str, out: Path) -> str:
    """``text`` with the sections of ``out`` that other measurements wrote by hand (those from the
    first "## What" heading up to "## Machine") kept before its own "## Machine" section."""
    if not out.exists():
        return text
    old = out.read_text("utf-8")
    start, end = old.find("\n## What"), old.find("\n## Machine")
    if start < 0 or end < start or "\n## Machine" not in text:
        return text
    at = text.index("\n## Machine")
    return text[:at] + old[start:end] + text[at:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated numbers of patients (default 1000,10000,100000)")
    parser.add_argument("--quick", action="store_true", help="only 1,000 and 10,000 patients")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FOLDER", "RESULT"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=4, metavar=("N", "SEED", "FOLDER", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.write:
        write(int(args.write[0]), int(args.write[1]), *args.write[2:])
        return

    sizes = [int(s.replace("_", "").replace(",", "")) for s in args.sizes.split(",")] if args.sizes else \
        list(SIZES[:2] if args.quick else SIZES)
    info = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cnotrack-bench-") as tmp:
        work = Path(tmp)
        for n in sizes:
            folder, made = work / f"registry-{n}", work / f"registry-{n}.json"
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--write", str(n), str(args.seed),
                            str(folder), str(made)], check=True)
            made = json.loads(made.read_text("utf-8"))
            counts = made["rows"]
            print(f"N={n:,}: synthesized in {made['synthesize']:.1f} s, written in {made['write']:.1f} s "
                  f"({sum(counts.values()):,} rows)", flush=True)
            engine, pandas = [], []
            for run in range(args.repeats):
                engine.append(measure("engine", folder, work, run))
                pandas.append(measure("pandas", folder, work, run))
                assert_same(engine[-1]["endpoints"], pandas[-1]["endpoints"], n)
                print(f"  run {run + 1}: load {engine[-1]['load']:.2f} s, evaluate {engine[-1]['evaluate']:.2f} s, "
                      f"peak {engine[-1]['peak_mb']:.0f} MB; pandas {pandas[-1]['evaluate']:.2f} s; same endpoints",
                      flush=True)
            rows.append({
                "n": n, "rows": counts,
                "load": statistics.median(r["load"] for r in engine),
                "evaluate": statistics.median(r["evaluate"] for r in engine),
                "total": statistics.median(r["load"] + r["evaluate"] for r in engine),
                "peak_mb": max(r["peak_mb"] for r in engine),
                "pandas": statistics.median(r["evaluate"] for r in pandas),
                "endpoints_only": statistics.median(r["endpoints_only"] for r in engine),
                "import_statistics": statistics.median(r["import_statistics"] for r in engine),
                "load_cpu": statistics.median(r["load_cpu"] for r in engine),
                "evaluate_cpu": statistics.median(r["evaluate_cpu"] for r in engine),
                "pandas_cpu": statistics.median(r["evaluate_cpu"] for r in pandas),
                "cohort": engine[0]["endpoints"]["cohort"]["n"],
            })
            for folder_file in folder.iterdir():
                folder_file.unlink()
            folder.rmdir()
    text = keep_measured_sections(report(rows, info, args.seed, args.repeats), args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, "utf-8")
    print(text)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
