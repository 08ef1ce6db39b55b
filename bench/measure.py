"""Timing whole processes: wall time, CPU time (user + sys) and peak memory of one command.

``run_process(command)`` starts the command in a session of its own and waits for it with
``os.wait4``, which returns the resource usage of that one child (its own and that of the
processes it waited for): ``ru_utime + ru_stime`` is its CPU time on every core, ``ru_maxrss``
its peak resident memory. The benchmark's own process imports nothing heavy, so that a child,
which starts as a copy of it, does not inherit a large high-water mark. A command that outlives
``timeout`` seconds is killed (its whole process group) and reported as timed out.

``best(runs)`` is the best of several runs of one command: the least wall and the least CPU time,
and the largest peak memory (the conservative figure for a memory limit).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Run", "best", "run_process"]


@dataclass
class Run:
    """One run of a command: seconds, megabytes, and how it ended."""

    wall: float
    cpu: float
    peak_mb: float
    returncode: int
    timed_out: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def as_dict(self) -> dict:
        return asdict(self)


def run_process(command: list[str], *, stdout: Path | None = None, stdin_text: str | None = None,
                timeout: float = 600.0, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``command`` to its end (or ``timeout``); standard output to ``stdout`` (else
    discarded), standard error kept for the message of a failure."""
    with tempfile.TemporaryFile() as err, open(stdout or os.devnull, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd,
                                   stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            if stdin_text is not None:
                process.stdin.write(stdin_text.encode())
                process.stdin.close()
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
        except BaseException:  # the benchmark is stopped (Ctrl-C, SIGTERM): stop the command too
            kill()
            raise
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    named = [line for line in lines if "Error" in line] or lines or [f"exit code {process.returncode}"]
    error = "" if process.returncode == 0 else named[-1].strip()
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mb=usage.ru_maxrss / 1024,
               returncode=process.returncode, timed_out=killed.is_set(), error=error[:300])


def best(runs: list[Run]) -> Run | None:
    """The best of the successful runs (least wall, least CPU, largest peak), else the last failure."""
    good = [r for r in runs if r.ok]
    if not good:
        return runs[-1] if runs else None
    return Run(wall=min(r.wall for r in good), cpu=min(r.cpu for r in good),
               peak_mb=max(r.peak_mb for r in good), returncode=0)
