"""The web pages of the issue's target on a 5,000-patient registry: server time and size.

``python bench/web_5000.py [--patients 5000] [--seed 1] [--repeats 5] [--db PATH]`` builds a
SQLite database of ``cnotrack.synth.synthesize_registry(N, seed)`` (imported with
``cnotrack.store.import_dataset``, as ``cnotrack import`` does), adds an admin ``bench`` and an
investigator ``bench-a`` of the largest center (``Centre A``), then times each page of
``web_timing.PAGES`` for both (``web_timing.page_times``: in process, Starlette's ``TestClient``,
no network) and prints a Markdown table: per user and page the status, the size of the answer,
the first request (which, for the dashboard, fills the evaluation cache of that user's scope)
and the best and median of the later (warm) requests. ``--db PATH`` keeps the database at
PATH and reuses it when it is there (the build takes a while); ``--json`` prints JSON instead.

The target (issue 14): each page under 300 ms server time warm and under 200 KB ("target":
met when the warm median wall time and the size are under it). The CPU column is the process's
CPU time per request: on a machine whose cores other work competes for (load above the number
of cores), wall times grow and the CPU time shows the work itself.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_timing import page_times

__all__ = ["build_database", "markdown_table"]

TARGET_MS, TARGET_KB = 300, 200


def build_database(path: Path, patients: int, seed: int) -> dict[str, str]:
    """Write the registry and the two users to a new SQLite database at ``path``; their passwords."""
    from cnotrack import users
    from cnotrack.store import import_dataset, open_store
    from cnotrack.synth import synthesize_registry

    passwords = {name: "bench-" + secrets.token_urlsafe(18) for name in ("bench", "bench-a")}
    start = time.perf_counter()
    dataset = synthesize_registry(patients, seed)
    with open_store(f"sqlite:///{path}") as store:
        import_dataset(dataset, store)
        users.add_user(store, "bench", passwords["bench"], "admin")
        users.add_user(store, "bench-a", passwords["bench-a"], "investigator", "Centre A")
    print(f"built {path} ({patients} patients) in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return passwords


def _reset_passwords(path: Path) -> dict[str, str]:
    """New passwords for the two users of a kept database (they are never stored in clear)."""
    from cnotrack import users
    from cnotrack.store import open_store

    passwords = {name: "bench-" + secrets.token_urlsafe(18) for name in ("bench", "bench-a")}
    with open_store(f"sqlite:///{path}") as store:
        for name, password in passwords.items():
            users.reset_password(store, name, password)
    return passwords


def markdown_table(results: dict[str, dict[str, dict]]) -> str:
    """The table of :func:`main`: one row per user and page."""
    lines = ["| user | page | status | KB | first ms | warm best ms | warm median ms | warm median CPU ms | target |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for username, pages in results.items():
        for name, p in pages.items():
            ok = p["status"] == 200 and p["median"] * 1000 < TARGET_MS and p["bytes"] / 1000 < TARGET_KB
            lines.append(f"| {username} | {name} (`{p['path']}`) | {p['status']} | {p['bytes'] / 1000:.1f} | "
                         f"{p['first'] * 1000:.0f} | {p['best'] * 1000:.0f} | {p['median'] * 1000:.0f} | "
                         f"{p['cpu_median'] * 1000:.0f} | "
                         f"{'met' if ok else 'MISSED'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", type=Path, help="keep the database here (reused if it exists)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnotrack-web5000-") as scratch:
        path = args.db or Path(scratch) / "web.db"
        passwords = _reset_passwords(path) if path.exists() else build_database(path, args.patients, args.seed)
        url = f"sqlite:///{path}"
        results = {name: page_times(url, name, password, args.repeats) for name, password in passwords.items()}
    print(json.dumps(results, indent=1) if args.json else markdown_table(results))


if __name__ == "__main__":
    main()
