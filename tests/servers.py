"""Sapa's ASGI server as a child process for tests that need real HTTP + WebSocket."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.gateway_server import free_port

ROOT = Path(__file__).resolve().parents[1]

# The running servers' processes by base URL, for fault tests that kill one (SIGKILL).
PROCESSES: dict[str, subprocess.Popen] = {}


@contextlib.contextmanager
def uvicorn_server(env: dict[str, str], port: int | None = None) -> Iterator[tuple[str, Path]]:
    """Start Uvicorn with `env` over the current environment; yield (base URL, log path) once
    /healthz answers; stop it on exit (before the test database is torn down: PostgreSQL
    refuses to drop a database with open connections). `port`: when `env` must name the
    server's own address (PUBLIC_BASE_URL), else a free one."""
    port = port or free_port()
    log = tempfile.NamedTemporaryFile(prefix="sapa-uvicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a bound for slow machines, not a timing assertion
        while True:
            if proc.poll() is not None:
                raise AssertionError(Path(log.name).read_text(errors="replace"))
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("uvicorn did not start")
            time.sleep(0.1)
        PROCESSES[base] = proc
        yield base, Path(log.name)
    finally:
        PROCESSES.pop(base, None)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
