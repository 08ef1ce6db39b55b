"""What the benchmark measures, section by section; each whole process timed by ``measure``.

* :func:`evaluate_side_by_side`: ``cnotrack evaluate DIR --format json`` (standard output to a
  file), the pandas baseline (``pandas_baseline.py DIR``) and DuckDB's parse of the same files
  (``duckdb_floor.py DIR``), interleaved run by run so that all three see the same machine; the
  first run's endpoints checked against the baseline's (``check.py``).
* :func:`import_and_db`: ``cnotrack import DIR`` into a fresh SQLite database, the same import
  again (unchanged data), ``cnotrack evaluate --db`` (checked to give the folder's endpoints).
* :func:`reports`: ``cnotrack report DIR --out report.html`` and ``.pdf``.
* :func:`web`: the dashboard and the patient list of the web application over an imported
  database (``web_timing.py``, after ``cnotrack users add``).

Every function returns plain dicts (``Run.as_dict`` for each measured command) that
``report_md`` turns into docs/performance.md. A command that fails or times out is recorded as
such and the benchmark goes on.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from measure import Run, best, run_process

__all__ = ["Bench", "evaluate_side_by_side", "import_and_db", "reports", "startup", "web"]

HERE = Path(__file__).resolve().parent


@dataclass
class Bench:
    """Where and how to run: the scratch folder, the executables, repeats and the time limit."""

    work: Path
    repeats: int = 3
    timeout: float = 600.0
    python: str = sys.executable
    cnotrack: str = str(Path(sys.executable).with_name("cnotrack"))
    log: Callable[[str], None] = print
    long: float = 150.0   # a command whose first run took longer than this (wall s) is not run again
    folder_json: dict[int, Path] = field(default_factory=dict)   # N -> a kept `evaluate DIR` JSON

    @property
    def env(self) -> dict[str, str]:
        # a database of the benchmark's own, so that no command touches the user's default one
        return {"CNOTRACK_DB": f"sqlite:///{self.work / 'scratch.db'}"}

    def again(self, runs: list[Run]) -> bool:
        """Run the command once more: the first time, or while it succeeds within ``long``."""
        return not runs or (runs[-1].ok and runs[0].wall <= self.long)

    def run(self, command: list[str], stdout: Path | None = None, **kwargs) -> Run:
        return run_process(command, stdout=stdout, timeout=self.timeout, env={**self.env, **kwargs.pop("env", {})},
                           **kwargs)


def _line(label: str, run: Run) -> str:
    if run.timed_out:
        return f"{label} timed out"
    if not run.ok:
        return f"{label} FAILED ({run.error})"
    return f"{label} {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, {run.peak_mb:.0f} MB"


def _summary(runs: list[Run]) -> dict:
    chosen = best(runs)
    return {"best": chosen.as_dict() if chosen else None, "runs": [r.as_dict() for r in runs]}


def check(bench: Bench, mine: Path, theirs: Path) -> dict:
    """``check.py`` as a process: {"same": bool, "detail": its output}."""
    out = bench.work / "check.txt"
    run = bench.run([bench.python, str(HERE / "check.py"), str(mine), str(theirs)], stdout=out)
    return {"same": run.ok, "detail": out.read_text("utf-8").strip()[:2000] or run.error}


def startup(bench: Bench) -> dict:
    """The fixed cost of each process before any work: ``cnotrack --version`` (the CLI's imports),
    ``import pandas, yaml`` and ``import duckdb``."""
    commands = {"cnotrack": [bench.cnotrack, "--version"],
                "pandas": [bench.python, "-c", "import pandas, yaml"],
                "duckdb": [bench.python, "-c", "import duckdb"]}
    runs: dict[str, list[Run]] = {k: [] for k in commands}
    for _ in range(bench.repeats):
        for kind, command in commands.items():
            runs[kind].append(bench.run(command))
    for kind, r in runs.items():
        bench.log(_line(f"  start-up of {kind}:", best(r)))
    return {kind: _summary(r) for kind, r in runs.items()}


def evaluate_side_by_side(bench: Bench, n: int, folder: Path) -> dict:
    """cnotrack, pandas and DuckDB on the registry ``folder`` of ``n`` patients."""
    commands = {
        "cnotrack": [bench.cnotrack, "evaluate", str(folder), "--format", "json"],
        "pandas": [bench.python, str(HERE / "pandas_baseline.py"), str(folder)],
        "duckdb": [bench.python, str(HERE / "duckdb_floor.py"), str(folder)],
    }
    runs: dict[str, list[Run]] = {k: [] for k in commands}
    for attempt in range(bench.repeats):
        for kind, command in commands.items():
            if not bench.again(runs[kind]):
                continue
            out = bench.work / f"{kind}-{n}-{attempt}.json"
            run = bench.run(command, stdout=out)
            runs[kind].append(run)
            bench.log(f"  run {attempt + 1}: " + _line(kind, run))
            if attempt and kind != "duckdb":
                out.unlink(missing_ok=True)
    first = {k: bench.work / f"{k}-{n}-0.json" for k in ("cnotrack", "pandas")}
    result = {kind: _summary(r) for kind, r in runs.items()}
    result["json_mb"] = first["cnotrack"].stat().st_size / 1e6 if runs["cnotrack"][0].ok else None
    if runs["cnotrack"][0].ok and runs["pandas"][0].ok:
        result["check"] = check(bench, first["cnotrack"], first["pandas"])
        bench.log(f"  endpoints: {result['check']['detail'].splitlines()[0]}")
        bench.folder_json[n] = first["cnotrack"]
    else:
        result["check"] = {"same": False, "detail": "not compared: a run failed"}
    first["pandas"].unlink(missing_ok=True)
    return result


def import_and_db(bench: Bench, n: int, folder: Path) -> dict:
    """Fresh import, unchanged re-import, evaluate --db and evaluate DIR, ``repeats`` times (each
    attempt a new database, unless the import is not repeated: see ``Bench.long``)."""
    db = bench.work / f"import-{n}.db"
    url = f"sqlite:///{db}"
    runs: dict[str, list[Run]] = {k: [] for k in ("import", "reimport", "evaluate_db", "evaluate_dir")}
    db_json = bench.work / f"evaluate-db-{n}.json"
    dir_json = bench.folder_json.get(n) or bench.work / f"evaluate-dir-{n}.json"
    for attempt in range(bench.repeats):
        if bench.again(runs["import"]):  # a fresh import into a new database; else re-import into the last
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        steps = {
            "import": ([bench.cnotrack, "import", str(folder), "--db", url], None),
            "reimport": ([bench.cnotrack, "import", str(folder), "--db", url], None),
            "evaluate_db": ([bench.cnotrack, "evaluate", "--db", url, "--format", "json"], db_json),
        }
        if n not in bench.folder_json:
            steps["evaluate_dir"] = ([bench.cnotrack, "evaluate", str(folder), "--format", "json"], dir_json)
        for step, (command, out) in steps.items():
            if not bench.again(runs[step]):
                continue
            run = bench.run(command, stdout=out)
            runs[step].append(run)
            bench.log(f"  run {attempt + 1}: " + _line(step, run))
            if step == "import" and not run.ok:
                break
        if not runs["import"][-1].ok:
            break
    result = {step: _summary(r) for step, r in runs.items() if r}
    result["db_mb"] = db.stat().st_size / 1e6 if db.exists() else None
    if db_json.exists() and dir_json.exists() and runs["evaluate_db"] and runs["evaluate_db"][0].ok:
        result["check"] = check(bench, dir_json, db_json)
        bench.log(f"  evaluate --db vs DIR: {result['check']['detail'].splitlines()[0]}")
    db_json.unlink(missing_ok=True)
    db.unlink(missing_ok=True)
    return result


def reports(bench: Bench, n: int, folder: Path) -> dict:
    """``cnotrack report DIR --out report.html`` and ``.pdf``; a timed-out one is not repeated."""
    result = {}
    for fmt in ("html", "pdf"):
        out = bench.work / f"report-{n}.{fmt}"
        runs = []
        for attempt in range(bench.repeats):
            if not bench.again(runs):
                break
            out.unlink(missing_ok=True)
            run = bench.run([bench.cnotrack, "report", str(folder), "--out", str(out)])
            runs.append(run)
            bench.log(f"  run {attempt + 1}: " + _line(fmt, run))
        result[fmt] = _summary(runs)
        result[fmt]["mb"] = out.stat().st_size / 1e6 if out.exists() else None
        out.unlink(missing_ok=True)
    return result


def web(bench: Bench, n: int, folder: Path) -> dict:
    """Import the registry, add an admin, time the pages (``web_timing.py``) in a process of its own."""
    db = bench.work / f"web-{n}.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    imported = bench.run([bench.cnotrack, "import", str(folder), "--db", url])
    bench.log("  " + _line("import", imported))
    if not imported.ok:
        return {"error": f"import failed: {imported.error}"}
    password = "bench-" + secrets.token_urlsafe(18)
    added = bench.run([bench.cnotrack, "users", "add", "bench", "--role", "admin", "--password-stdin", "--db", url],
                      stdin_text=password + "\n")
    if not added.ok:
        return {"error": f"cnotrack users add failed: {added.error}"}
    out = bench.work / "web.json"
    timed = bench.run([bench.python, str(HERE / "web_timing.py"), url, "bench", "--repeats", str(max(bench.repeats, 5))],
                      stdout=out, env={"CNOTRACK_BENCH_PASSWORD": password})
    if not timed.ok:
        return {"error": f"web_timing.py failed: {timed.error}", "process": timed.as_dict()}
    pages = json.loads(out.read_text("utf-8"))
    for name, page in pages.items():
        bench.log(f"  {name} {page['path']}: {page['status']}, first {1000 * page['first']:.0f} ms, "
                  f"then median {1000 * page['median']:.0f} ms")
    db.unlink(missing_ok=True)
    return {"pages": pages, "process": timed.as_dict()}
