"""The web application as a real server process: ``cnotrack serve`` (uvicorn) on loopback.

``live_server(db_url, *extra_args)`` starts ``cnotrack serve --db URL --port P`` in a child
process on 127.0.0.1, waits (reading its log, no sleeping) until uvicorn says it is running,
and yields a :class:`LiveServer` with its base URL and every log line the process wrote so far.
The process is stopped when the block ends. Tests that need what only a real server does (its
proxy-header handling, its log lines, chunked request bodies, concurrent connections) use it
beside the in-process ``TestClient``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

_READY = "Uvicorn running on"
_START_TIMEOUT = 60.0


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    written: threading.Condition = field(default_factory=threading.Condition)

    @property
    def log(self) -> str:
        """Everything the server wrote to its log (stderr and stdout) so far."""
        with self.written:
            return "\n".join(self.lines)

    def add_line(self, line: str) -> None:
        with self.written:
            self.lines.append(line)
            self.written.notify_all()

    def wait_for_log(self, text: str, timeout: float = 30.0) -> str:
        """The log once ``text`` is in it (woken by each new line, not by polling); fails after
        ``timeout`` seconds without it. The log is read by a thread, so a line may arrive just
        after the response that caused it."""
        with self.written:
            found = self.written.wait_for(lambda: text in "\n".join(self.lines), timeout)
            log = "\n".join(self.lines)
        assert found, f"{text!r} never appeared in the server's log:\n{log}"
        return log

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0, **kwargs)

    def login(self, username: str, password: str, **kwargs) -> httpx.Client:
        """A client logged in as ``username`` with its CSRF header set."""
        client = self.client(**kwargs)
        response = client.post("/api/v1/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cnotrack() -> list[str]:
    script = Path(sys.executable).parent / "cnotrack"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnotrack.cli"]


@contextlib.contextmanager
def live_server(db_url: str, *extra_args: str, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """``cnotrack serve`` over ``db_url`` on a free loopback port, for the duration of the block."""
    port = free_port()
    command = [*_cnotrack(), "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port), *extra_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.add_line(line.rstrip("\n"))
            if _READY in line:
                ready.set()
        ready.set()  # the process ended: stop waiting

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        if not ready.wait(_START_TIMEOUT) or process.poll() is not None:
            raise AssertionError(f"cnotrack serve did not start:\n{server.log}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
