"""Benchmark: cnotrack's whole processes on registries shaped like real ones, against a pandas
implementation of the same protocol and DuckDB's parse of the same files.

``make bench`` (or ``.venv/bin/python bench/run.py``) writes registries of 10,000, 50,000 and
100,000 patients with ``bench/registry.py`` (``cnotrack synth``, then respelt the way centres
spell things: mixed case, brand names, female/male, YYYY-MM birth dates, ``<x``, mg/dL, lesion_ids,
CRLF, quoted fields; kept in ``--cache`` for the next run), then measures, each command a fresh
process timed whole (wall, CPU user + sys, peak memory; ``measure.py``), best of ``--repeats``:

1. ``cnotrack evaluate DIR --format json``, ``pandas_baseline.py DIR`` (checked to give the same
   endpoints) and ``duckdb_floor.py DIR``, side by side at each size;
2. ``cnotrack import`` into a fresh SQLite database at 1,000, 10,000 and 100,000 patients, the
   unchanged re-import, ``evaluate --db`` against the folder;
3. ``cnotrack report DIR --out report.html`` and ``.pdf`` at 1,000 and 10,000 patients;
4. the web dashboard and patient list at 5,000 patients (``web_timing.py``);

and writes the tables, the ratios and the issue's targets to docs/performance.md (between its
markers; the hand-written rest of the file is kept). ``--quick`` measures small sizes once
(1,000 and 10,000; reports and web at 1,000) to try the harness; ``--only`` picks sections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import report_md  # noqa: E402  (bench/ is no package)
import scenarios  # noqa: E402

FULL = {"evaluate": [10_000, 50_000, 100_000], "import": [1_000, 10_000, 100_000], "report": [1_000, 10_000],
        "web": [5_000]}
QUICK = {"evaluate": [1_000, 10_000], "import": [1_000, 10_000], "report": [1_000], "web": [1_000]}
SECTIONS = ("evaluate", "import", "report", "web")
PREAMBLE = """# Performance

How fast cnotrack's commands are on registries of the size and shape of a national registry, and
how that compares with a vectorised pandas implementation of the same protocol and with the time
DuckDB needs merely to parse the same files (the I/O floor). Everything between the markers below
is written by `bench/run.py` (`make bench`); the rest of this file is written by hand.

**Method.** The registries come from `cnotrack synth`, respelt by `bench/registry.py` the way
centres' exports spell things (mixed-case vocabulary, brand names, `female`/`male`, `YYYY-MM`
birth dates, `<x` censored values, CRP in mg/dL and mg/L, lesion_ids on some lesions, CRLF line
ends, quoted fields). Each command is a fresh process timed whole, from start to exit: wall time,
CPU time (user + system of the process and its children, on every core, from `os.wait4`) and
peak resident memory (`ru_maxrss`). Each is run three times, interleaved with the commands it is
compared with, and the best run is shown (least wall, least CPU, largest peak); a command whose
first run took over 150 s is not run again (its noise is small beside its time), and one past
10 minutes is stopped. The pandas
baseline (`bench/pandas_baseline.py`, `bench/pandas_reader.py`) reads the same CSV files with
`pandas.read_csv`, normalises the same spellings (from cnotrack's vocabulary files, read as data)
and computes `pardeo2017` without cnotrack's reader or engine; its endpoints are checked to equal
cnotrack's JSON. The DuckDB floor (`bench/duckdb_floor.py`) reads every CSV file of the folder,
all columns, into a table.

**Machine.** 2 CPU cores shared with other work: wall times are disturbed by whatever else runs
(the load average of each run is given below), CPU times much less so, and the targets' ratios
are measured side by side in one run so that both sides see the same machine.

**Rerun.** `make bench` (every size, best of 3; about 12 minutes on an idle 2-core machine, the registries
written once and kept in `$TMPDIR/cnotrack-bench-registries`); `make bench BENCH_ARGS=--quick`
(1,000 and 10,000 patients, one run each: to try the harness); `bench/run.py --help` for sizes,
sections (`--only import,web`) and the time limit of one command. `bench/protocol_cost.py`
measures what protocol language v2 costs (its section below is written by hand from its output).
"""


# --------------------------------------------------------------------------- registries

def _stamp(seed: int) -> str:
    """What a cached registry depends on: the generator, cnotrack's synth, the seed."""
    digest = hashlib.sha256(str(seed).encode())
    synth = Path(subprocess.run([sys.executable, "-c", "import importlib.util as u; "
                                 "print(u.find_spec('cnotrack').submodule_search_locations[0])"],
                                capture_output=True, text=True, check=True).stdout.strip()) / "synth.py"
    for path in (HERE / "registry.py", synth):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def registry(n: int, seed: int, cache: Path, log) -> tuple[Path, dict]:
    """The varied registry of ``n`` patients (written once per stamp) and its row counts and size."""
    folder = cache / f"registry-{n}-seed{seed}-{_stamp(seed)}"
    info_path = folder.with_name(folder.name + ".json")  # beside it: the folder holds only the CSV files
    if not info_path.exists():
        start = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, str(HERE / "registry.py"), str(folder), "--patients", str(n),
                        "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
        rows = {f.stem: _lines(f) - 1 for f in sorted(folder.glob("*.csv"))}
        info = {"rows": rows, "csv_mb": sum(f.stat().st_size for f in folder.glob("*.csv")) / 1e6,
                "written_s": time.perf_counter() - start}
        info_path.write_text(json.dumps(info), "utf-8")  # last: a folder without it is incomplete
        log(f"N={n:,}: registry written in {info['written_s']:.0f} s to {folder}")
    return folder, json.loads(info_path.read_text("utf-8"))


def _lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b"\n")
    return count


# --------------------------------------------------------------------------- the run

def machine(seed: int) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    versions = [f"Python {platform.python_version()}"]
    for package in ("cnotrack", "polars", "pandas", "numpy", "duckdb"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gb": mem_kb / 1024 / 1024,
            "versions": ", ".join(versions), "load_start": os.getloadavg()[0], "seed": seed}


def merge(runs: list[dict]) -> dict:
    """Several runs' results as one: each section from the last run that measured it."""
    out = dict(runs[-1])
    for run in runs:
        for section in SECTIONS:
            if run.get(section):
                out[section] = run[section]
                if section == "evaluate" and run.get("startup"):
                    out["startup"] = run["startup"]
        out["registries"] = {**out.get("registries", {}), **run.get("registries", {})}
    if len(runs) > 1:
        out["mode"] = f"{len(runs)} runs of sections ({', '.join(r['mode'] for r in runs)}) merged"
        out["elapsed_min"] = sum(r["elapsed_min"] for r in runs)
        out["repeats"] = min(r["repeats"] for r in runs)
    return out


def _sizes(text: str | None, default: list[int]) -> list[int]:
    return [int(s.replace("_", "")) for s in text.split(",") if s] if text else default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each: try the harness")
    parser.add_argument("--sizes", help="patients for the side-by-side evaluation (default 10000,50000,100000)")
    parser.add_argument("--import-sizes", help="patients for import (default 1000,10000,100000)")
    parser.add_argument("--report-sizes", help="patients for the reports (default 1000,10000)")
    parser.add_argument("--web-size", help="patients for the web pages (default 5000)")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, help="runs of each command (default 3; 1 with --quick)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a command is stopped")
    parser.add_argument("--long", type=float, default=150.0,
                        help="a command whose first run took longer (wall s) is not repeated")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "cnotrack-bench-registries",
                        help="where the registries are kept between runs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--from-results", type=Path, nargs="+", metavar="JSON",
                        help="measure nothing: write the doc from the results of earlier runs (of "
                             "different sections, e.g. after --only; a later file's section wins)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))  # so the running command is stopped too
    if args.from_results:
        block = report_md.render(merge([json.loads(p.read_text("utf-8")) for p in args.from_results]))
        report_md.write(args.out, block, PREAMBLE)
        print(block)
        return

    plan = dict(QUICK if args.quick else FULL)
    for key, text in (("evaluate", args.sizes), ("import", args.import_sizes), ("report", args.report_sizes),
                      ("web", args.web_size)):
        plan[key] = _sizes(text, plan[key])
    only = args.only.split(",") if args.only else list(SECTIONS)
    repeats = args.repeats or (1 if args.quick else 3)
    started = time.perf_counter()
    args.cache.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {text}", flush=True)

    custom = args.only or args.sizes or args.import_sizes or args.report_sizes or args.web_size or args.repeats
    mode = "quick" if args.quick else "partial" if custom else "full"
    results: dict = {"date": dt.date.today().isoformat(), "mode": mode,
                     "repeats": repeats, "long": args.long, "machine": machine(args.seed), "registries": {}}
    with tempfile.TemporaryDirectory(prefix="cnotrack-bench-") as tmp:
        bench = scenarios.Bench(work=Path(tmp), repeats=repeats, timeout=args.timeout, long=args.long, log=log)
        steps = {"evaluate": scenarios.evaluate_side_by_side, "import": scenarios.import_and_db,
                 "report": scenarios.reports, "web": scenarios.web}
        if "evaluate" in only:
            results["startup"] = scenarios.startup(bench)
        for section in SECTIONS:
            if section not in only:
                continue
            results[section] = {}
            for n in plan[section]:
                folder, info = registry(n, args.seed, args.cache, log)
                results["registries"][str(n)] = info
                log(f"{section} N={n:,} ({sum(info['rows'].values()):,} rows, {info['csv_mb']:.0f} MB of CSV)")
                results[section][str(n)] = steps[section](bench, n, folder)
            if section == "web":
                results["web"] = {"n": plan["web"][0], **results["web"][str(plan["web"][0])]} if plan["web"] else None
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["elapsed_min"] = (time.perf_counter() - started) / 60
    (args.cache / "last-results.json").write_text(json.dumps(results, indent=1), "utf-8")
    block = report_md.render(results)
    report_md.write(args.out, block, PREAMBLE)
    print(block)
    log(f"wrote {args.out} (results in {args.cache / 'last-results.json'})")


if __name__ == "__main__":
    main()
